#pragma once

// Stripe Checkout for anything an organization gets paid for (a crowd request, an invoice): a
// destination charge to the org's connected account with the platform fee, recorded so the
// webhook maps the session back to the org and the row it pays.

#include <cstdint>
#include <functional>
#include <string>

#include <caf/expected.hpp>

#include "http/node_services.hpp"

namespace djdash::http {

struct checkout_args {
  std::string org_id;
  std::string kind;         // "crowd_request" | "invoice"
  std::string ref_id;       // the crowd request's or invoice's id
  int64_t amount_cents = 0;
  std::string currency;     // lower-case ISO 4217
  bool manual_capture = false;  // authorize now, capture when played (charge on play)
  std::string description;  // the line item's name the payer sees
  std::string return_url;   // where Stripe sends the payer back (success and cancel)
};

struct checkout_result {
  std::string url;         // redirect the payer here
  std::string session_id;  // cs_...
};

/// Creates (or, for the same kind, ref, amount and capture mode, finds again through Stripe's
/// idempotency) the Checkout Session and records it. Fails with `conflict` when Stripe is not
/// configured on this node or the organization's account cannot take charges yet, `bad_request`
/// for invalid arguments, and Stripe's own errors (`upstream_error`, `upstream_timeout`).
/// `done` runs once, on an actor thread. Runs in the org without a user (RLS applies); callers
/// check the caller's rights on the row first.
void start_checkout(const node_services& svc, const checkout_args& a,
                    std::function<void(caf::expected<checkout_result>)> done);

/// Returns the UUID our records give the checkout of `a` (stable for the same arguments, so a
/// retried creation finds its row and Stripe's idempotent replay again).
std::string checkout_id_of(const checkout_args& a);

} // namespace djdash::http
