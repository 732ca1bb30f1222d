#define CAF_SUITE http.stripe_connector

#include "http/client/stripe_connector.hpp"

#include <atomic>
#include <string>

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>

#include "config/app_config.hpp"
#include "config/settings.hpp"
#include "protocols/app_errc.hpp"
#include "protocols/stripe.hpp"
#include "support/caf_test.hpp"
#include "support/fake_http_server.hpp"

using namespace djdash;
using namespace std::chrono_literals;
using djdash::test::fake_http_server;
using djdash::test::fake_request;
using djdash::test::fake_response;

namespace {

constexpr auto secret_key = "sk_test_51DummyPlatformKey";

/// Small bounds so exhausted retries end quickly; the test waits longer than worst_case().
http::stripe_connector_options quick() {
  http::stripe_connector_options o;
  o.workers = 2;
  o.max_attempts = 3;
  o.connect_timeout = 1s;
  o.attempt_timeout = 400ms;
  o.backoff = 20ms;
  o.max_backoff = 50ms;
  return o;
}

fake_response json_reply(int status, std::string body) {
  fake_response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

struct fixture {
  app_config cfg;
  caf::actor_system sys{cfg};
  std::vector<stripe_actor> spawned;

  ~fixture() {
    for (auto& a : spawned)
      caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  }

  stripe_actor connector(const std::string& base, const std::string& key = secret_key,
                         http::stripe_connector_options opts = quick()) {
    settings s;
    s.services.stripe_api_base = base;
    s.secrets.stripe_secret_key = key;
    auto h = http::spawn_stripe_connector(sys, s, opts);
    spawned.push_back(h);
    return h;
  }

  /// Returns the reply text, or "<app_errc>: <message>".
  std::string call(const stripe_actor& h, const std::string& method, const std::string& path,
                   const std::string& form, const std::string& key) {
    caf::scoped_actor self{sys};
    std::string out;
    self->request(h, quick().worst_case() + 10s, stripe_atom_v, method, path, form, key)
      .receive([&](const std::string& body) { out = body; },
               [&](const caf::error& err) {
                 out = to_string(app_code(err)) + ": " + error_message(err);
               });
    return out;
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(stripe_connector_tests, fixture)

CAF_TEST(a POST carries auth version idempotency key and the form body) {
  fake_http_server srv{[](const fake_request&) {
    return json_reply(200, R"({"id":"cs_test_1","object":"checkout.session","url":"https://x"})");
  }};
  auto h = connector(srv.base_url());
  auto form = "mode=payment&line_items[0][price_data][unit_amount]=5000&metadata[order_id]=ord_1";
  auto out = call(h, "POST", "/v1/checkout/sessions", form, "checkout-ord_1-v1");
  CAF_CHECK_EQUAL(out, R"({"id":"cs_test_1","object":"checkout.session","url":"https://x"})");
  auto reqs = srv.requests();
  CAF_REQUIRE_EQUAL(reqs.size(), 1u);
  const auto& r = reqs[0];
  CAF_CHECK_EQUAL(r.method, "POST");
  CAF_CHECK_EQUAL(r.path, "/v1/checkout/sessions");
  CAF_CHECK_EQUAL(r.body, form);
  auto amount = r.form_value("line_items[0][price_data][unit_amount]").value_or("-");
  CAF_CHECK_EQUAL(amount, "5000");
  auto key = r.header("idempotency-key");
  CAF_CHECK_EQUAL(key, "checkout-ord_1-v1");
  auto auth = r.header("authorization");
  CAF_CHECK_EQUAL(auth, std::string{"Bearer "} + secret_key);
  auto version = r.header("stripe-version");
  CAF_CHECK_EQUAL(version, stripe::api_version);
  auto type = r.header("content-type");
  CAF_CHECK_EQUAL(type, "application/x-www-form-urlencoded");
}

CAF_TEST(a POST without a key gets one and a GET sends its form as the query) {
  fake_http_server srv{[](const fake_request&) { return json_reply(200, R"({"ok":true})"); }};
  auto h = connector(srv.base_url());
  auto posted = call(h, "POST", "/v1/accounts/acct_1/login_links", "", "");
  auto got = call(h, "GET", "/v1/accounts/acct_1", "expand[]=capabilities", "");
  CAF_CHECK_EQUAL(posted, R"({"ok":true})");
  CAF_CHECK_EQUAL(got, R"({"ok":true})");
  auto reqs = srv.requests();
  CAF_REQUIRE_EQUAL(reqs.size(), 2u);
  auto generated = reqs[0].header("idempotency-key");
  CAF_CHECK_GREATER(generated.size(), 10u);
  CAF_CHECK_EQUAL(reqs[1].method, "GET");
  CAF_CHECK_EQUAL(reqs[1].query, "expand[]=capabilities");
  auto no_key = reqs[1].header("idempotency-key");
  CAF_CHECK_EQUAL(no_key, "");
}

CAF_TEST(a 500 then a 200 is retried under the same idempotency key) {
  std::atomic<int> calls{0};
  fake_http_server srv{[&calls](const fake_request&) {
    if (calls++ == 0)
      return json_reply(500, R"({"error":{"type":"api_error","message":"An error occurred"}})");
    return json_reply(200, R"({"id":"pi_1","object":"payment_intent","status":"succeeded"})");
  }};
  auto h = connector(srv.base_url());
  auto out = call(h, "POST", "/v1/payment_intents/pi_1/capture", "", "capture-pi_1");
  CAF_CHECK_EQUAL(out, R"({"id":"pi_1","object":"payment_intent","status":"succeeded"})");
  auto reqs = srv.requests();
  CAF_REQUIRE_EQUAL(reqs.size(), 2u);
  auto first = reqs[0].header("idempotency-key");
  auto second = reqs[1].header("idempotency-key");
  CAF_CHECK_EQUAL(first, "capture-pi_1");
  CAF_CHECK_EQUAL(second, "capture-pi_1");
  // A generated key is also reused across the retries of one call.
  calls = 0;
  auto again = call(h, "POST", "/v1/payment_intents/pi_1/capture", "", "");
  CAF_CHECK_EQUAL(again, R"({"id":"pi_1","object":"payment_intent","status":"succeeded"})");
  reqs = srv.requests();
  CAF_REQUIRE_EQUAL(reqs.size(), 4u);
  auto third = reqs[2].header("idempotency-key");
  auto fourth = reqs[3].header("idempotency-key");
  CAF_CHECK_EQUAL(third, fourth);
  CAF_CHECK_NOT_EQUAL(third, "capture-pi_1");
}

CAF_TEST(stripe 4xx errors become upstream_error with the message stripe sent and are not retried) {
  fake_http_server srv{[](const fake_request& r) {
    if (r.path == "/v1/payment_intents/pi_declined/capture")
      return json_reply(402, R"({"error":{"type":"card_error","code":"card_declined",)"
                             R"("message":"Your card was declined."}})");
    if (r.path == "/v1/locked") {
      auto res = json_reply(409, R"({"error":{"type":"invalid_request_error",)"
                                 R"("message":"Keys for idempotent requests can only be used with the same parameters"}})");
      res.headers.emplace_back("Stripe-Should-Retry", "false");
      return res;
    }
    return json_reply(400, R"({"error":{"type":"invalid_request_error",)"
                           R"("message":"Missing required param: line_items."}})");
  }};
  auto h = connector(srv.base_url());
  auto declined = call(h, "POST", "/v1/payment_intents/pi_declined/capture", "", "k1");
  CAF_CHECK_EQUAL(declined, "upstream_error: Your card was declined.");
  auto missing = call(h, "POST", "/v1/checkout/sessions", "mode=payment", "k2");
  CAF_CHECK_EQUAL(missing, "upstream_error: Missing required param: line_items.");
  auto locked = call(h, "POST", "/v1/locked", "", "k3");
  CAF_CHECK_EQUAL(locked, "upstream_error: Keys for idempotent requests can only be used with "
                          "the same parameters");
  auto reqs = srv.requests();
  CAF_CHECK_EQUAL(reqs.size(), 3u);
}

CAF_TEST(a hanging stripe becomes upstream_timeout after the configured attempts) {
  fake_http_server srv{[](const fake_request&) {
    fake_response r;
    r.delay = 10min;  // cut short when the server stops
    return r;
  }};
  auto h = connector(srv.base_url());
  auto out = call(h, "POST", "/v1/checkout/sessions", "mode=payment", "checkout-ord_9-v1");
  CAF_CHECK_EQUAL(out.substr(0, out.find(':')), "upstream_timeout");
  auto reqs = srv.requests();
  CAF_REQUIRE_EQUAL(reqs.size(), 3u);
  for (const auto& r : reqs) {
    auto key = r.header("idempotency-key");
    CAF_CHECK_EQUAL(key, "checkout-ord_9-v1");
  }
}

CAF_TEST(an unreachable stripe becomes upstream_timeout) {
  std::string base;
  {
    fake_http_server gone{[](const fake_request&) { return json_reply(200, "{}"); }};
    base = gone.base_url();
  }
  auto h = connector(base);
  auto out = call(h, "POST", "/v1/checkout/sessions", "mode=payment", "k");
  CAF_CHECK_EQUAL(out.substr(0, out.find(':')), "upstream_timeout");
}

CAF_TEST(without a secret key payments are not configured and nothing is sent) {
  fake_http_server srv{[](const fake_request&) { return json_reply(200, "{}"); }};
  auto h = connector(srv.base_url(), "");
  auto out = call(h, "POST", "/v1/checkout/sessions", "mode=payment", "k");
  CAF_CHECK_EQUAL(out, "unprocessable: payments are not configured");
  auto reqs = srv.requests();
  CAF_CHECK_EQUAL(reqs.size(), 0u);
}

CAF_TEST(malformed calls are refused before anything is sent) {
  fake_http_server srv{[](const fake_request&) { return json_reply(200, "{}"); }};
  auto h = connector(srv.base_url());
  auto method = call(h, "PATCH", "/v1/accounts", "", "k");
  CAF_CHECK_EQUAL(method, "internal: malformed Stripe call");
  auto path = call(h, "POST", "/v1/accounts?x=1 HTTP/1.1\r\nX: y", "", "k");
  CAF_CHECK_EQUAL(path, "internal: malformed Stripe call");
  auto outside = call(h, "GET", "/v2/core/accounts", "", "");
  CAF_CHECK_EQUAL(outside, "internal: malformed Stripe call");
  auto key = call(h, "POST", "/v1/accounts", "", "k\r\nX-Injected: 1");
  CAF_CHECK_EQUAL(key, "internal: malformed Stripe call");
  auto reqs = srv.requests();
  CAF_CHECK_EQUAL(reqs.size(), 0u);
}

CAF_TEST_FIXTURE_SCOPE_END()
