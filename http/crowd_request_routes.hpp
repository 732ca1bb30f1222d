#pragma once

#include "http/node_services.hpp"
#include "http/route_table.hpp"

namespace djdash::http {

/// TipJar crowd requests: POST /api/crowd-request/submit (public, rate limited per IP),
/// GET /api/crowd-request/{id} (public, by the request's id), GET /api/crowd-requests (the
/// DJ's queue) and PATCH /api/crowd-requests/{id} (status, position; through the organization
/// entity). A paid submit starts a Stripe Checkout (http/checkout.hpp); when it cannot start,
/// the request is cancelled before the answer, so the queue never shows it.
void add_crowd_request_routes(route_table& routes, node_services svc);

} // namespace djdash::http
