#pragma once

// Stripe's wire rules (PROTOCOLS.md §2), pure: webhook signature verification exactly as
// stripe-node does it, the platform fee, the form bodies of the calls the backend makes, and
// parsers for the event fields it needs. No I/O; http/client/stripe_connector sends the forms.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <caf/expected.hpp>
#include <nlohmann/json.hpp>

#include "protocols/form_encoding.hpp"

namespace djdash::stripe {

/// The API version pinned on every request (`Stripe-Version`), as stripe-node 23.1.0 sends it.
constexpr const char* api_version = "2026-10-28.endive";

/// stripe-node's default webhook tolerance.
constexpr int64_t default_tolerance_s = 300;

// --- webhook signatures (§2.5) ------------------------------------------------

/// Checks a `Stripe-Signature` header against the raw `payload` under `secret` (the whole
/// `whsec_...` string) at unix time `now`: HMAC-SHA256 over `t + "." + payload`, accepted when
/// any `v1` matches (constant-time), and `now - t <= tolerance_s` (0 disables the age check;
/// future timestamps pass, as in the SDK). Returns the header's timestamp, or
/// `app_errc::bad_signature` with stripe-node's message for the reason. An empty `secret` is a
/// server misconfiguration: `app_errc::internal`.
caf::expected<int64_t> verify_webhook(std::string_view signature_header, std::string_view payload,
                                      std::string_view secret, int64_t now,
                                      int64_t tolerance_s = default_tolerance_s);

/// Returns a `Stripe-Signature` header value for `payload` signed at `timestamp` (for tests and
/// fakes that play Stripe).
std::string sign_webhook(std::string_view payload, std::string_view secret, int64_t timestamp);

// --- platform fee (§2.2) -----------------------------------------------------

/// Returns the platform's application fee for `amount_cents`: 3.5% rounded half up, plus 30
/// cents, in integer arithmetic, capped at the amount (Stripe never collects more than the
/// charge). Negative amounts give 0.
int64_t platform_fee_cents(int64_t amount_cents);

// --- request forms (§2.3, §2.4) ----------------------------------------------

/// A Checkout Session for one line item, charged on the platform and transferred to
/// `destination_account` minus `application_fee_cents` (a destination charge, §2.3 A). With an
/// empty destination there is no transfer_data: the body of a direct charge (§2.3 B), which the
/// caller sends on the connected account.
struct checkout_request {
  int64_t amount_cents = 0;        // unit amount, smallest currency unit
  int64_t quantity = 1;
  std::string currency = "usd";
  std::string product_name;
  int64_t application_fee_cents = 0;
  std::string destination_account;  // acct_...
  std::string on_behalf_of;         // optional acct_... (settlement merchant)
  bool manual_capture = false;      // authorize now, capture later (charge on play)
  std::string client_reference_id;
  form::fields metadata;            // copied to the session and to the PaymentIntent
  std::string customer_email;       // optional prefill
  std::string success_url;          // may contain the literal {CHECKOUT_SESSION_ID}
  std::string cancel_url;
};

/// Returns the form for `POST /v1/checkout/sessions`, field order as stripe-node sends it, or
/// `app_errc::bad_request` naming the first invalid field (amount outside 1..99999999, quantity
/// outside 1..1000, fee outside 0..total, currency not 3 lower-case letters, empty product name,
/// URLs that are not http(s), bad account ids).
caf::expected<form::fields> checkout_session_form(const checkout_request& req);

/// Returns the form for `POST /v1/accounts` creating an Express account (`type=express`, card
/// payments and transfers requested), or `bad_request` for a country that is not two upper-case
/// letters. `email` may be empty; `metadata` is appended as `metadata[k]`.
caf::expected<form::fields> express_account_form(const std::string& country,
                                                 const std::string& email,
                                                 const form::fields& metadata = {});

/// Returns the form for `POST /v1/account_links` (type=account_onboarding), or `bad_request`.
caf::expected<form::fields> account_link_form(const std::string& account,
                                              const std::string& refresh_url,
                                              const std::string& return_url);

/// Returns `/v1/payment_intents/{id}/capture` or `.../cancel`, or `bad_request` when `id` is not
/// a PaymentIntent id (`pi_` + letters, digits, '_').
caf::expected<std::string> payment_intent_path(const std::string& id, const std::string& action);

/// Returns the capture form: `amount_to_capture` when given (partial capture), else empty.
form::fields capture_form(std::optional<int64_t> amount_to_capture = std::nullopt);

/// Returns the cancel form with an optional `cancellation_reason` (duplicate, fraudulent,
/// requested_by_customer, abandoned), or `bad_request` for another reason.
caf::expected<form::fields> cancel_form(const std::string& reason = {});

/// Returns whether `id` looks like a Stripe object id with `prefix` ("acct_", "cs_", "pi_"):
/// the prefix followed by 1..250 letters, digits or '_'.
bool valid_id(std::string_view id, std::string_view prefix);

// --- responses and events (§2.6) ---------------------------------------------

/// The fields of an event envelope the backend uses.
struct event {
  std::string id;        // evt_... (dedup key)
  std::string type;      // "checkout.session.completed"
  std::string account;   // Connect events only
  bool livemode = false;
  int64_t created = 0;
  nlohmann::json object; // data.object
};

/// Parses a (signature-checked) event body; `bad_request` when it is not a Stripe event.
caf::expected<event> parse_event(std::string_view payload);

struct checkout_session {
  std::string id;                // cs_...
  std::string status;            // open | complete | expired
  std::string payment_status;    // paid | unpaid | no_payment_required
  std::string payment_intent;    // pi_... or empty
  std::string client_reference_id;
  std::string currency;
  int64_t amount_total = 0;
  std::string customer_email;    // customer_details.email, else customer_email
  nlohmann::json metadata = nlohmann::json::object();

  /// Returns whether the goods may be delivered (`paid` or `no_payment_required`).
  bool settled() const {
    return payment_status == "paid" || payment_status == "no_payment_required";
  }
};

/// Reads a Checkout Session object (an event's data.object or an API response).
caf::expected<checkout_session> parse_checkout_session(const nlohmann::json& object);

struct payment_intent {
  std::string id;
  std::string status;  // requires_capture | succeeded | canceled | ...
  int64_t amount = 0;
  int64_t amount_received = 0;
  std::string latest_charge;
  nlohmann::json metadata = nlohmann::json::object();
};

caf::expected<payment_intent> parse_payment_intent(const nlohmann::json& object);

struct account {
  std::string id;
  bool charges_enabled = false;
  bool payouts_enabled = false;
  bool details_submitted = false;
};

caf::expected<account> parse_account(const nlohmann::json& object);

/// Returns `error.message` of a Stripe error body, or a generic text naming `status`.
std::string error_message_of(std::string_view body, int status);

} // namespace djdash::stripe
