#pragma once

// The payments an organization has taken (Stripe), with the platform fee and what it nets.

#include "http/node_services.hpp"
#include "http/route_table.hpp"

namespace djdash::http {

/// Registers GET /api/payments (member): newest first, `limit` and `cursor`.
void add_payment_routes(route_table& routes, node_services svc);

} // namespace djdash::http
