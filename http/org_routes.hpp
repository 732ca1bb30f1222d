#pragma once

// The caller's organization, its members, and the platform admin's list of organizations.

#include "http/node_services.hpp"
#include "http/route_table.hpp"

namespace djdash::http {

/// Registers GET/PATCH /api/organizations/current, GET/POST .../current/members,
/// PATCH/DELETE .../current/members/{user_id} and GET /api/admin/organizations.
void add_org_routes(route_table& routes, node_services svc);

} // namespace djdash::http
