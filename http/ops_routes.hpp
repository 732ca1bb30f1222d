#pragma once

// Operations endpoints: /healthz, /readyz, /metrics, /openapi.json (API.md, Operations).

#include <string>
#include <vector>

#include "http/node_services.hpp"
#include "http/request.hpp"
#include "http/route_table.hpp"

namespace djdash::http {

/// Registers the operations routes. /openapi.json documents whatever `routes` holds when it is
/// first requested, including routes added after this call.
void add_ops_routes(route_table& routes, node_services svc);

/// The OpenAPI entry of an operations route (tag "operations"), shared by the ops route files.
route_doc ops_doc(std::string summary, std::vector<int> responses);

/// Returns the /readyz answer for a `schema_status` reply (`{"current":N,"expected":M}`).
response readiness(const std::string& schema_status_json, bool draining);

} // namespace djdash::http
