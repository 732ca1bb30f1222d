#pragma once

// Contacts and the lead pipeline (the same resource under two paths).

#include "http/node_services.hpp"
#include "http/route_table.hpp"

namespace djdash::http {

/// Registers GET/POST /api/contacts and /api/leads and GET/PATCH/DELETE /api/contacts/{id} and
/// /api/leads/{id} (member). Deleting a contact keeps its tasks and events and clears their
/// contact_id; it is 409 while quotes, invoices or contracts still reference it.
void add_contact_routes(route_table& routes, node_services svc);

} // namespace djdash::http
