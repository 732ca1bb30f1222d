#pragma once

// Contracts for events: members create them from a template and send them; the client reads
// and e-signs through the secret link without an account.

#include "http/node_services.hpp"
#include "http/route_table.hpp"

namespace djdash::http {

/// Registers GET/POST /api/contracts, GET /api/contracts/{id}, POST /api/contracts/{id}/send,
/// POST /api/contracts/{id}/void, GET /api/public/contracts/{token} and
/// POST /api/public/contracts/{token}/sign (rate limited per IP).
void add_contract_routes(route_table& routes, node_services svc);

} // namespace djdash::http
