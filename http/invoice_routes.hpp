#pragma once

// Invoices: gapless per-organization numbers, line items, deposit and balance, statuses.

#include "http/node_services.hpp"
#include "http/route_table.hpp"

namespace djdash::http {

/// Registers GET, POST /api/invoices, GET, PATCH /api/invoices/{id} and
/// POST /api/invoices/{id}/checkout (members).
void add_invoice_routes(route_table& routes, node_services svc);

} // namespace djdash::http
