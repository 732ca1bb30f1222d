#pragma once

#include <nlohmann/json_fwd.hpp>

#include "http/node_services.hpp"
#include "http/route_table.hpp"

namespace djdash::http {

/// Stripe Connect and Stripe's webhook:
/// - POST /api/stripe/connect/onboard (admin) {return_url?, refresh_url?, country?} → {url,
///   stripe_account_id}: creates the org's Express account once (idempotent per org), then a
///   fresh single-use onboarding link.
/// - GET /api/stripe/connect/status (member) → {connected, stripe_account_id, charges_enabled,
///   payouts_enabled, details_submitted}.
/// - POST /api/webhooks/stripe (Stripe, signed): raw-body signature check against
///   STRIPE_WEBHOOK_SECRET (400 when it fails), then the event is recorded and applied in one
///   transaction (duplicates: 200, no effect); what changed is published on the org's topics.
void add_stripe_routes(route_table& routes, node_services svc);

/// Publishes `events` ([{topic, event, payload}], an operation's result) on the realtime hub.
void publish_events(const node_services& svc, const nlohmann::json& events);

} // namespace djdash::http
