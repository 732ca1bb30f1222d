#pragma once

// Follow-up tasks for the DJ.

#include "http/node_services.hpp"
#include "http/route_table.hpp"

namespace djdash::http {

/// Registers GET/POST /api/tasks and PATCH /api/tasks/{id} (member).
void add_task_routes(route_table& routes, node_services svc);

} // namespace djdash::http
