#pragma once

#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "persistence/operations.hpp"

namespace djdash::persistence {

/// One step of a payment, learned from a Stripe webhook or from our own capture / cancel.
struct payment_step {
  std::string checkout_id;     // our checkout_sessions.id (UUID) the payment came from
  std::string payment_intent;  // pi_...
  std::string state;           // authorized | paid | released | refunded
};

/// Applies `step` inside the current organization (app.org_id is set): upserts the payment row by
/// PaymentIntent, moves the crowd request's payment_status (and a pending_payment request into
/// the queue) or the invoice's paid amount forward, and writes one notification the first time
/// the payment succeeds. Never moves anything backwards, so duplicates and out-of-order steps
/// are harmless. Returns {"changed": bool, "events": [{topic, event, payload}]} — what to publish
/// once the transaction has committed.
nlohmann::json apply_payment_step(pqxx::transaction_base& tx, const payment_step& step);

/// Registers the payment operations:
/// - `payments.list` (member) {limit?, cursor?} → {items, next_cursor}, newest first; a payment
///   is {id, organization_id, amount_cents, platform_fee_cents, net_cents, currency, status
///   (authorized | succeeded | canceled | refunded), crowd_request_id, invoice_id,
///   stripe_checkout_session_id, stripe_payment_intent_id, created_at, updated_at, version}.
/// - `stripe.account` (any role) {} → {connected, stripe_account_id, charges_enabled,
///   payouts_enabled, details_submitted}.
/// - `stripe.account_save` (admin) {stripe_account_id} → the account status; keeps an account
///   already stored (onboarding twice never swaps the org's account).
/// - `checkout.record` {id, kind, ref_id, stripe_checkout_session_id, stripe_account_id,
///   amount_cents, platform_fee_cents, currency, manual_capture, url} → {id}; records a session
///   we created (idempotent by id), so its webhook maps back to the org and the row it pays.
/// - `payments.timer_plan` {timer_id, kind (payment_capture | payment_release),
///   crowd_request_id} → {action: capture | cancel | none, payment_intent}; completes the timer
///   when there is nothing (left) to do.
/// - `payments.timer_done` {timer_id, crowd_request_id, payment_intent, state (paid | released)}
///   → {events}; records the outcome and completes the timer.
/// - `payments.expire_authorizations` {timer_id} → {released}: the night is over for
///   authorizations older than `authorization_hold_hours` whose request was not played: each
///   gets a `payment_release` timer; the sweep timer re-arms for the next oldest one.
void add_payment_operations(std::map<std::string, operation>& ops);

/// Hours a charge-on-play authorization may wait for its request to be played before it is
/// released (the event is considered over).
constexpr int authorization_hold_hours = 12;

} // namespace djdash::persistence
