#pragma once

// Quotes priced from the organization's pricing rules (settings.pricing).

#include "http/node_services.hpp"
#include "http/route_table.hpp"

namespace djdash::http {

/// Registers GET, POST /api/quotes and GET /api/quotes/{id} (members).
void add_quote_routes(route_table& routes, node_services svc);

} // namespace djdash::http
