#include "protocols/stripe.hpp"

#include <algorithm>
#include <cctype>
#include <limits>

#include "protocols/app_errc.hpp"
#include "protocols/crypto.hpp"

namespace djdash::stripe {

using nlohmann::json;

namespace {

// stripe-node's messages, so logs and tests name the same reasons as the SDK.
constexpr const char* no_header = "No stripe-signature header value was provided.";
constexpr const char* unparsable = "Unable to extract timestamp and signatures from header";
constexpr const char* no_scheme = "No signatures found with expected scheme";
constexpr const char* no_match = "No signatures found matching the expected signature for "
                                 "payload. Are you passing the raw request body you received "
                                 "from Stripe?";
constexpr const char* too_old = "Timestamp outside the tolerance zone";

// Stripe's largest single charge (999,999.99 in a two-decimal currency).
constexpr int64_t max_amount_cents = 99'999'999;

struct parsed_header {
  std::optional<int64_t> timestamp;
  std::vector<std::string_view> signatures;
};

// Like JS parseInt(x, 10) on the digits we accept: leading digits only, nullopt when none or
// when they overflow.
std::optional<int64_t> parse_leading_int(std::string_view s) {
  bool negative = !s.empty() && (s.front() == '-' || s.front() == '+');
  bool minus = negative && s.front() == '-';
  if (negative)
    s.remove_prefix(1);
  int64_t v = 0;
  std::size_t n = 0;
  for (; n < s.size() && std::isdigit(static_cast<unsigned char>(s[n])); ++n) {
    if (v > (std::numeric_limits<int64_t>::max() - (s[n] - '0')) / 10)
      return std::nullopt;
    v = v * 10 + (s[n] - '0');
  }
  if (n == 0)
    return std::nullopt;
  return minus ? -v : v;
}

// Splits on ',' then on '=' with no trimming, as stripe-node's parseHeader does: the value is
// the text between the first and the second '='.
parsed_header parse_header(std::string_view header) {
  parsed_header out;
  while (true) {
    auto comma = header.find(',');
    auto item = header.substr(0, comma);
    auto eq = item.find('=');
    auto key = item.substr(0, eq);
    std::string_view value;
    if (eq != std::string_view::npos) {
      value = item.substr(eq + 1);
      value = value.substr(0, value.find('='));
    }
    if (key == "t")
      out.timestamp = eq == std::string_view::npos ? std::nullopt : parse_leading_int(value);
    else if (key == "v1" && eq != std::string_view::npos)
      out.signatures.push_back(value);
    if (comma == std::string_view::npos)
      break;
    header.remove_prefix(comma + 1);
  }
  return out;
}

caf::error bad(std::string message) {
  return make_app_error(app_errc::bad_request, std::move(message));
}

bool is_http_url(const std::string& u) {
  return (u.rfind("https://", 0) == 0 || u.rfind("http://", 0) == 0) && u.size() > 8
         && u.find_first_of(" \t\r\n") == std::string::npos;
}

std::string str(const json& o, const char* key) {
  auto i = o.find(key);
  return i != o.end() && i->is_string() ? i->get<std::string>() : std::string{};
}

int64_t num(const json& o, const char* key) {
  auto i = o.find(key);
  return i != o.end() && i->is_number_integer() ? i->get<int64_t>() : 0;
}

bool flag(const json& o, const char* key) {
  auto i = o.find(key);
  return i != o.end() && i->is_boolean() && i->get<bool>();
}

json object_of(const json& o, const char* key) {
  auto i = o.find(key);
  return i != o.end() && i->is_object() ? *i : json::object();
}

caf::error require_object(const json& o, const char* kind, const char* prefix) {
  if (!o.is_object() || str(o, "object") != kind || !valid_id(str(o, "id"), prefix))
    return bad(std::string("not a Stripe ") + kind + " object");
  return {};
}

} // namespace

// --- signatures --------------------------------------------------------------

caf::expected<int64_t> verify_webhook(std::string_view signature_header, std::string_view payload,
                                      std::string_view secret, int64_t now, int64_t tolerance_s) {
  if (secret.empty())
    return make_app_error(app_errc::internal, "the Stripe webhook secret is not configured");
  if (signature_header.empty())
    return make_app_error(app_errc::bad_signature, no_header);
  auto h = parse_header(signature_header);
  if (!h.timestamp || *h.timestamp == -1)
    return make_app_error(app_errc::bad_signature, unparsable);
  if (h.signatures.empty())
    return make_app_error(app_errc::bad_signature, no_scheme);
  std::string signed_payload = std::to_string(*h.timestamp);
  signed_payload += '.';
  signed_payload.append(payload.data(), payload.size());
  auto expected = crypto::hex(crypto::hmac_sha256(secret, signed_payload));
  bool found = false;
  for (auto sig : h.signatures)
    found = crypto::constant_time_equal(sig, expected) || found;  // no early exit
  if (!found)
    return make_app_error(app_errc::bad_signature, no_match);
  if (tolerance_s > 0 && now - *h.timestamp > tolerance_s)
    return make_app_error(app_errc::bad_signature, too_old);
  return *h.timestamp;
}

std::string sign_webhook(std::string_view payload, std::string_view secret, int64_t timestamp) {
  auto t = std::to_string(timestamp);
  std::string signed_payload = t + ".";
  signed_payload.append(payload.data(), payload.size());
  return "t=" + t + ",v1=" + crypto::hex(crypto::hmac_sha256(secret, signed_payload));
}

// --- fee ---------------------------------------------------------------------

int64_t platform_fee_cents(int64_t amount_cents) {
  if (amount_cents <= 0)
    return 0;
  if (amount_cents > std::numeric_limits<int64_t>::max() / 35 - 500)
    return amount_cents;  // beyond any real charge; never overflow
  int64_t fee = (amount_cents * 35 + 500) / 1000 + 30;
  return std::min(fee, amount_cents);
}

// --- forms -------------------------------------------------------------------

bool valid_id(std::string_view id, std::string_view prefix) {
  if (id.size() <= prefix.size() || id.size() > prefix.size() + 250
      || id.substr(0, prefix.size()) != prefix)
    return false;
  return std::all_of(id.begin() + prefix.size(), id.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '_';
  });
}

caf::expected<form::fields> checkout_session_form(const checkout_request& r) {
  if (r.amount_cents < 1 || r.amount_cents > max_amount_cents)
    return bad("amount must be between 1 and 99999999");
  if (r.quantity < 1 || r.quantity > 1000)
    return bad("quantity must be between 1 and 1000");
  if (r.application_fee_cents < 0 || r.application_fee_cents > r.amount_cents * r.quantity)
    return bad("application fee must be between 0 and the amount");
  if (r.currency.size() != 3
      || !std::all_of(r.currency.begin(), r.currency.end(),
                      [](unsigned char c) { return c >= 'a' && c <= 'z'; }))
    return bad("currency must be a lower-case ISO 4217 code");
  if (r.product_name.empty())
    return bad("product name is required");
  if (!r.destination_account.empty() && !valid_id(r.destination_account, "acct_"))
    return bad("destination account is not an account id");
  if (!r.on_behalf_of.empty() && !valid_id(r.on_behalf_of, "acct_"))
    return bad("on_behalf_of is not an account id");
  if (!is_http_url(r.success_url) || !is_http_url(r.cancel_url))
    return bad("success and cancel URLs must be http(s) URLs");
  form::fields f{
    {"mode", "payment"},
    {"line_items[0][price_data][currency]", r.currency},
    {"line_items[0][price_data][product_data][name]", r.product_name},
    {"line_items[0][price_data][unit_amount]", std::to_string(r.amount_cents)},
    {"line_items[0][quantity]", std::to_string(r.quantity)},
  };
  if (r.application_fee_cents > 0 || !r.destination_account.empty())
    f.emplace_back("payment_intent_data[application_fee_amount]",
                   std::to_string(r.application_fee_cents));
  if (!r.destination_account.empty())
    f.emplace_back("payment_intent_data[transfer_data][destination]", r.destination_account);
  if (!r.on_behalf_of.empty())
    f.emplace_back("payment_intent_data[on_behalf_of]", r.on_behalf_of);
  if (r.manual_capture)
    f.emplace_back("payment_intent_data[capture_method]", "manual");
  for (const auto& [k, v] : r.metadata)
    f.emplace_back("payment_intent_data[metadata][" + k + "]", v);
  if (!r.client_reference_id.empty())
    f.emplace_back("client_reference_id", r.client_reference_id);
  for (const auto& [k, v] : r.metadata)
    f.emplace_back("metadata[" + k + "]", v);
  if (!r.customer_email.empty())
    f.emplace_back("customer_email", r.customer_email);
  f.emplace_back("success_url", r.success_url);
  f.emplace_back("cancel_url", r.cancel_url);
  return f;
}

caf::expected<form::fields> express_account_form(const std::string& country,
                                                 const std::string& email,
                                                 const form::fields& metadata) {
  if (country.size() != 2 || !std::isupper(static_cast<unsigned char>(country[0]))
      || !std::isupper(static_cast<unsigned char>(country[1])))
    return bad("country must be an ISO 3166-1 alpha-2 code");
  form::fields f{{"type", "express"}, {"country", country}};
  if (!email.empty())
    f.emplace_back("email", email);
  f.emplace_back("capabilities[card_payments][requested]", "true");
  f.emplace_back("capabilities[transfers][requested]", "true");
  for (const auto& [k, v] : metadata)
    f.emplace_back("metadata[" + k + "]", v);
  return f;
}

caf::expected<form::fields> account_link_form(const std::string& account,
                                              const std::string& refresh_url,
                                              const std::string& return_url) {
  if (!valid_id(account, "acct_"))
    return bad("account is not an account id");
  if (!is_http_url(refresh_url) || !is_http_url(return_url))
    return bad("refresh and return URLs must be http(s) URLs");
  return form::fields{{"account", account},
                      {"refresh_url", refresh_url},
                      {"return_url", return_url},
                      {"type", "account_onboarding"}};
}

caf::expected<std::string> payment_intent_path(const std::string& id, const std::string& action) {
  if (!valid_id(id, "pi_"))
    return bad("not a PaymentIntent id");
  if (action != "capture" && action != "cancel")
    return bad("unknown PaymentIntent action");
  return "/v1/payment_intents/" + id + "/" + action;
}

form::fields capture_form(std::optional<int64_t> amount_to_capture) {
  if (!amount_to_capture)
    return {};
  return {{"amount_to_capture", std::to_string(*amount_to_capture)}};
}

caf::expected<form::fields> cancel_form(const std::string& reason) {
  if (reason.empty())
    return form::fields{};
  if (reason != "duplicate" && reason != "fraudulent" && reason != "requested_by_customer"
      && reason != "abandoned")
    return bad("unknown cancellation reason");
  return form::fields{{"cancellation_reason", reason}};
}

// --- parsers -----------------------------------------------------------------

caf::expected<event> parse_event(std::string_view payload) {
  auto j = json::parse(payload, nullptr, false);
  if (!j.is_object() || str(j, "object") != "event" || !valid_id(str(j, "id"), "evt_")
      || str(j, "type").empty())
    return bad("not a Stripe event");
  auto data = object_of(j, "data");
  auto obj = data.find("object");
  if (obj == data.end() || !obj->is_object())
    return bad("Stripe event without data.object");
  event e;
  e.id = str(j, "id");
  e.type = str(j, "type");
  e.account = str(j, "account");
  e.livemode = flag(j, "livemode");
  e.created = num(j, "created");
  e.object = *obj;
  return e;
}

caf::expected<checkout_session> parse_checkout_session(const json& o) {
  if (auto err = require_object(o, "checkout.session", "cs_"))
    return err;
  checkout_session s;
  s.id = str(o, "id");
  s.status = str(o, "status");
  s.payment_status = str(o, "payment_status");
  s.payment_intent = str(o, "payment_intent");
  if (s.payment_intent.empty() && o.contains("payment_intent") && o["payment_intent"].is_object())
    s.payment_intent = str(o["payment_intent"], "id");  // expanded
  s.client_reference_id = str(o, "client_reference_id");
  s.currency = str(o, "currency");
  s.amount_total = num(o, "amount_total");
  s.customer_email = str(object_of(o, "customer_details"), "email");
  if (s.customer_email.empty())
    s.customer_email = str(o, "customer_email");
  s.metadata = object_of(o, "metadata");
  return s;
}

caf::expected<payment_intent> parse_payment_intent(const json& o) {
  if (auto err = require_object(o, "payment_intent", "pi_"))
    return err;
  payment_intent p;
  p.id = str(o, "id");
  p.status = str(o, "status");
  p.amount = num(o, "amount");
  p.amount_received = num(o, "amount_received");
  p.latest_charge = str(o, "latest_charge");
  p.metadata = object_of(o, "metadata");
  return p;
}

caf::expected<account> parse_account(const json& o) {
  if (auto err = require_object(o, "account", "acct_"))
    return err;
  account a;
  a.id = str(o, "id");
  a.charges_enabled = flag(o, "charges_enabled");
  a.payouts_enabled = flag(o, "payouts_enabled");
  a.details_submitted = flag(o, "details_submitted");
  return a;
}

std::string error_message_of(std::string_view body, int status) {
  auto j = json::parse(body, nullptr, false);
  if (j.is_object() && j.contains("error") && j["error"].is_object()) {
    auto msg = str(j["error"], "message");
    if (!msg.empty())
      return msg;
    auto code = str(j["error"], "code");
    if (!code.empty())
      return "Stripe error: " + code;
  }
  return "Stripe answered HTTP " + std::to_string(status);
}

} // namespace djdash::stripe
