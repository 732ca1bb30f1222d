#define CAF_SUITE protocols.stripe

#include "protocols/stripe.hpp"

#include <fstream>
#include <sstream>
#include <string>

#include "protocols/app_errc.hpp"
#include "protocols/form_encoding.hpp"
#include "support/caf_test.hpp"

using namespace djdash;
using nlohmann::json;

namespace {

json load_vectors() {
  std::ifstream in(DJDASH_SHARED_DIR "/vectors/stripe.json", std::ios::binary);
  if (!in)
    return json(json::value_t::discarded);
  std::stringstream buf;
  buf << in.rdbuf();
  return json::parse(buf.str(), nullptr, false);
}

const json& vectors() {
  static const json v = load_vectors();
  return v;
}

/// Returns "<name>: accepted" or "<name>: <reason>", for the case as run and as expected.
std::string run_case(const json& c, const std::string& base_payload) {
  const auto& in = c.at("inputs");
  auto payload = in.at("payload").get<std::string>();
  if (payload == "<<payload_base>>")
    payload = base_payload;
  int64_t tolerance = stripe::default_tolerance_s;
  if (in.at("tolerance_seconds").is_number())
    tolerance = in.at("tolerance_seconds").get<int64_t>();
  auto r = stripe::verify_webhook(in.at("stripe_signature_header").get<std::string>(), payload,
                                  in.at("secret").get<std::string>(),
                                  in.at("received_at_unix").get<int64_t>(), tolerance);
  auto name = c.at("name").get<std::string>() + ": ";
  if (!r)
    return name + error_message(r.error());
  auto ev = stripe::parse_event(payload);
  return name + "accepted " + (ev ? ev->id : "(unparsable event)");
}

std::string expected_case(const json& c) {
  const auto& e = c.at("expected");
  auto name = c.at("name").get<std::string>() + ": ";
  if (e.at("accepted").get<bool>())
    return name + "accepted " + e.at("event_id").get<std::string>();
  return name + e.at("error_message").get<std::string>();
}

const json& capture(const std::string& label) {
  for (const auto& r : vectors().at("wire_captures").at("requests"))
    if (r.at("label") == label)
      return r;
  static const json none = json::object();
  return none;
}

/// The checkout request behind capture A (destination charge).
stripe::checkout_request coaching_session() {
  stripe::checkout_request r;
  r.amount_cents = 5000;
  r.product_name = "Coaching session (60 min)";
  r.application_fee_cents = stripe::platform_fee_cents(5000);
  r.destination_account = "acct_1ExpressTest000001";
  r.client_reference_id = "ord_123";
  r.metadata = {{"order_id", "ord_123"}};
  r.success_url = "https://app.example.com/checkout/success?session_id={CHECKOUT_SESSION_ID}";
  r.cancel_url = "https://app.example.com/checkout/cancel";
  return r;
}

std::string encoded(const caf::expected<form::fields>& f) {
  return f ? form::encode(*f) : "error: " + error_message(f.error());
}

std::string text_of(const caf::expected<std::string>& x) {
  return x ? *x : "error: " + error_message(x.error());
}

} // namespace

CAF_TEST(the vectors load) {
  CAF_REQUIRE(vectors().is_object());
  auto version = vectors().at("library_default_api_version").get<std::string>();
  CAF_CHECK_EQUAL(version, stripe::api_version);
}

CAF_TEST(every webhook signature case is accepted or rejected as stripe-node does) {
  const auto& ws = vectors().at("webhook_signature");
  auto base = ws.at("base_case").at("payload").get<std::string>();
  std::size_t n = 0;
  for (const auto& c : ws.at("cases")) {
    auto got = run_case(c, base);
    auto want = expected_case(c);
    CAF_CHECK_EQUAL(got, want);
    ++n;
  }
  CAF_CHECK_EQUAL(n, 19u);
}

CAF_TEST(rejections carry bad_signature and the header timestamp comes back) {
  const auto& b = vectors().at("webhook_signature").at("base_case");
  auto payload = b.at("payload").get<std::string>();
  auto secret = b.at("secret").get<std::string>();
  auto header = b.at("expected_header").get<std::string>();
  auto ok = stripe::verify_webhook(header, payload, secret, 1767225600);
  CAF_REQUIRE(static_cast<bool>(ok));
  CAF_CHECK_EQUAL(*ok, 1767225600);
  auto signed_header = stripe::sign_webhook(payload, secret, 1767225600);
  CAF_CHECK_EQUAL(signed_header, header);
  auto bad = stripe::verify_webhook(header, payload + " ", secret, 1767225600);
  CAF_REQUIRE(!static_cast<bool>(bad));
  auto code = app_code(bad.error());
  CAF_CHECK_EQUAL(code, app_errc::bad_signature);
  auto unconfigured = stripe::verify_webhook(header, payload, "", 1767225600);
  CAF_REQUIRE(!static_cast<bool>(unconfigured));
  auto internal = app_code(unconfigured.error());
  CAF_CHECK_EQUAL(internal, app_errc::internal);
  // Garbage headers never crash and are rejected.
  for (auto h : {"t=", "t=abc,v1=00", ",,,", "t=1767225600,v1", "t=-1,v1=00", "=,=,=",
                 "t=99999999999999999999999,v1=00"}) {
    auto r = stripe::verify_webhook(h, payload, secret, 1767225600);
    CAF_CHECK(!static_cast<bool>(r));
  }
}

CAF_TEST(the platform fee matches the vectors fee table and never exceeds the amount) {
  std::size_t n = 0;
  for (const auto& row : vectors().at("fee_rule").at("table")) {
    auto amount = row.at("amount_cents").get<int64_t>();
    auto want = row.at("fee_exceeds_amount").get<bool>()
                  ? amount
                  : row.at("fee_cents_half_up").get<int64_t>();
    auto got = stripe::platform_fee_cents(amount);
    CAF_CHECK_EQUAL(got, want);
    ++n;
  }
  CAF_CHECK_GREATER_OR_EQUAL(n, 12u);
  auto zero = stripe::platform_fee_cents(0);
  CAF_CHECK_EQUAL(zero, 0);
  auto negative = stripe::platform_fee_cents(-500);
  CAF_CHECK_EQUAL(negative, 0);
  auto half_up = stripe::platform_fee_cents(92300);  // doubles give 3260
  CAF_CHECK_EQUAL(half_up, 3261);
}

CAF_TEST(checkout forms are byte for byte what stripe-node sends) {
  auto a = encoded(stripe::checkout_session_form(coaching_session()));
  auto want_a = capture("A_checkout_destination_charge").at("body").get<std::string>();
  CAF_CHECK_EQUAL(a, want_a);

  auto direct = coaching_session();
  direct.destination_account.clear();
  direct.metadata.clear();
  direct.client_reference_id = "ord_124";
  auto b = encoded(stripe::checkout_session_form(direct));
  auto want_b = capture("B_checkout_direct_charge_on_connected_account").at("body").get<std::string>();
  CAF_CHECK_EQUAL(b, want_b);

  auto plain = direct;
  plain.application_fee_cents = 0;
  plain.client_reference_id.clear();
  plain.success_url = "https://x.example/s";
  plain.cancel_url = "https://x.example/c";
  auto f = encoded(stripe::checkout_session_form(plain));
  auto want_f = capture("F_no_idempotency_key_given").at("body").get<std::string>();
  CAF_CHECK_EQUAL(f, want_f);

  // The decoded pairs equal the capture's, in order.
  auto pairs = form::decode(want_a);
  CAF_REQUIRE(static_cast<bool>(pairs));
  std::size_t i = 0;
  for (const auto& p : capture("A_checkout_destination_charge").at("body_decoded_pairs")) {
    CAF_REQUIRE(i < pairs->size());
    auto joined = (*pairs)[i].first + "=" + (*pairs)[i].second;
    CAF_CHECK_EQUAL(joined, p.get<std::string>());
    ++i;
  }
}

CAF_TEST(charge on play authorizes only and bad checkout input is refused) {
  auto held = coaching_session();
  held.manual_capture = true;
  auto f = stripe::checkout_session_form(held);
  CAF_REQUIRE(static_cast<bool>(f));
  auto method = form::find(*f, "payment_intent_data[capture_method]").value_or("-");
  CAF_CHECK_EQUAL(method, "manual");
  auto dest = form::find(*f, "payment_intent_data[transfer_data][destination]").value_or("-");
  CAF_CHECK_EQUAL(dest, "acct_1ExpressTest000001");

  auto expect_bad = [](stripe::checkout_request r) {
    auto res = stripe::checkout_session_form(r);
    if (res)
      return std::string{"accepted"};
    return to_string(app_code(res.error()));
  };
  auto r = coaching_session();
  r.amount_cents = 0;
  CAF_CHECK_EQUAL(expect_bad(r), "bad_request");
  r = coaching_session();
  r.application_fee_cents = 5001;
  CAF_CHECK_EQUAL(expect_bad(r), "bad_request");
  r = coaching_session();
  r.currency = "USD";
  CAF_CHECK_EQUAL(expect_bad(r), "bad_request");
  r = coaching_session();
  r.destination_account = "acct_1&transfer_data=x";
  CAF_CHECK_EQUAL(expect_bad(r), "bad_request");
  r = coaching_session();
  r.success_url = "javascript:alert(1)";
  CAF_CHECK_EQUAL(expect_bad(r), "bad_request");
  r = coaching_session();
  r.product_name.clear();
  CAF_CHECK_EQUAL(expect_bad(r), "bad_request");
}

CAF_TEST(express onboarding forms match the captures) {
  auto c = encoded(stripe::express_account_form("US", "coach@example.com", {{"user_id", "u_42"}}));
  auto want_c = capture("C_account_create_type_express").at("body").get<std::string>();
  CAF_CHECK_EQUAL(c, want_c);
  auto d = encoded(stripe::account_link_form(
    "acct_1ExpressTest000001",
    "https://app.example.com/connect/refresh?acct=acct_1ExpressTest000001",
    "https://app.example.com/connect/return?acct=acct_1ExpressTest000001"));
  auto want_d = capture("D_account_link_onboarding").at("body").get<std::string>();
  CAF_CHECK_EQUAL(d, want_d);
  auto bad_country = stripe::express_account_form("usa", "");
  CAF_CHECK(!static_cast<bool>(bad_country));
  auto bad_account = stripe::account_link_form("cus_1", "https://a.example/r", "https://a.example/x");
  CAF_CHECK(!static_cast<bool>(bad_account));
}

CAF_TEST(payment intent capture and cancel) {
  auto cap = text_of(stripe::payment_intent_path("pi_3TestPaymentIntent0001", "capture"));
  CAF_CHECK_EQUAL(cap, "/v1/payment_intents/pi_3TestPaymentIntent0001/capture");
  auto cancel = text_of(stripe::payment_intent_path("pi_3TestPaymentIntent0001", "cancel"));
  CAF_CHECK_EQUAL(cancel, "/v1/payment_intents/pi_3TestPaymentIntent0001/cancel");
  auto traversal = stripe::payment_intent_path("pi_1/../../v1/refunds", "capture");
  CAF_CHECK(!static_cast<bool>(traversal));
  auto other = stripe::payment_intent_path("pi_1", "refund");
  CAF_CHECK(!static_cast<bool>(other));
  auto partial = form::encode(stripe::capture_form(1500));
  CAF_CHECK_EQUAL(partial, "amount_to_capture=1500");
  auto full = form::encode(stripe::capture_form());
  CAF_CHECK_EQUAL(full, "");
  auto reason = encoded(stripe::cancel_form("requested_by_customer"));
  CAF_CHECK_EQUAL(reason, "cancellation_reason=requested_by_customer");
  auto bad_reason = stripe::cancel_form("because");
  CAF_CHECK(!static_cast<bool>(bad_reason));
}

CAF_TEST(the completed checkout event yields the fields the backend needs) {
  auto payload = vectors().at("webhook_signature").at("base_case").at("payload").get<std::string>();
  auto ev = stripe::parse_event(payload);
  CAF_REQUIRE(static_cast<bool>(ev));
  CAF_CHECK_EQUAL(ev->id, "evt_1TestCheckoutCompleted000001");
  CAF_CHECK_EQUAL(ev->type, "checkout.session.completed");
  CAF_CHECK_EQUAL(ev->account, "");
  CAF_CHECK(!ev->livemode);
  CAF_CHECK_EQUAL(ev->created, 1767225598);
  auto s = stripe::parse_checkout_session(ev->object);
  CAF_REQUIRE(static_cast<bool>(s));
  CAF_CHECK_EQUAL(s->id, "cs_test_a1B2c3D4e5F6g7H8i9J0");
  CAF_CHECK_EQUAL(s->payment_status, "paid");
  CAF_CHECK(s->settled());
  CAF_CHECK_EQUAL(s->payment_intent, "pi_3TestPaymentIntent0001");
  CAF_CHECK_EQUAL(s->client_reference_id, "ord_123");
  CAF_CHECK_EQUAL(s->amount_total, 5000);
  CAF_CHECK_EQUAL(s->currency, "usd");
  CAF_CHECK_EQUAL(s->customer_email, "buyer@example.com");
  auto order = s->metadata.value("order_id", "");
  CAF_CHECK_EQUAL(order, "ord_123");
  auto not_event = stripe::parse_event(R"({"object":"charge","id":"ch_1"})");
  CAF_CHECK(!static_cast<bool>(not_event));
  auto garbage = stripe::parse_event("not json");
  CAF_CHECK(!static_cast<bool>(garbage));
  auto pi = stripe::parse_payment_intent(json{{"object", "payment_intent"},
                                              {"id", "pi_1"},
                                              {"status", "requires_capture"},
                                              {"amount", 2500}});
  CAF_REQUIRE(static_cast<bool>(pi));
  CAF_CHECK_EQUAL(pi->status, "requires_capture");
  CAF_CHECK_EQUAL(pi->amount, 2500);
  auto acct = stripe::parse_account(json{{"object", "account"},
                                         {"id", "acct_1"},
                                         {"charges_enabled", true},
                                         {"details_submitted", true}});
  CAF_REQUIRE(static_cast<bool>(acct));
  CAF_CHECK(acct->charges_enabled);
  CAF_CHECK(!acct->payouts_enabled);
}

CAF_TEST(stripe error bodies give their message) {
  auto m = stripe::error_message_of(
    R"({"error":{"type":"card_error","code":"card_declined","message":"Your card was declined."}})",
    402);
  CAF_CHECK_EQUAL(m, "Your card was declined.");
  auto generic = stripe::error_message_of("<html>", 400);
  CAF_CHECK_EQUAL(generic, "Stripe answered HTTP 400");
}

CAF_TEST(form encoding follows RFC 3986) {
  auto e = form::percent_encode("a b+c/é~._-!*()'");
  CAF_CHECK_EQUAL(e, "a%20b%2Bc%2F%C3%A9~._-%21%2A%28%29%27");
  auto d = form::decode("To=%2B14155550199&Body=a+b%20c&flag&&x=");
  CAF_REQUIRE(static_cast<bool>(d));
  CAF_REQUIRE_EQUAL(d->size(), 4u);
  CAF_CHECK_EQUAL((*d)[0].second, "+14155550199");
  CAF_CHECK_EQUAL((*d)[1].second, "a b c");
  CAF_CHECK_EQUAL((*d)[2].first, "flag");
  CAF_CHECK_EQUAL((*d)[3].second, "");
  for (auto bad : {"a=%", "a=%2", "a=%zz", "%G1=1"}) {
    auto r = form::decode(bad);
    CAF_CHECK(!static_cast<bool>(r));
  }
}
