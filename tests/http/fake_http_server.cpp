#define CAF_SUITE http.fake_http_server

#include "support/fake_http_server.hpp"

#include <string>

#include "support/caf_test.hpp"
#include "support/http_client.hpp"

using namespace djdash::test;

namespace {

fake_response echo(const fake_request& r) {
  fake_response res;
  res.status = r.path == "/missing" ? 404 : 200;
  res.body = R"({"path":")" + r.path + R"("})";
  res.headers.emplace_back("request-id", "req_" + std::to_string(r.connection));
  return res;
}

} // namespace

CAF_TEST(records a form post with bracket keys and answers it) {
  fake_http_server srv{echo};
  auto url = srv.base_url();
  CAF_CHECK_EQUAL(url, "http://127.0.0.1:" + std::to_string(srv.port()));
  http_client c{srv.port()};
  auto r = c.request("POST", "/v1/checkout/sessions?expand%5B%5D=x&a=b+c",
                     "mode=payment&line_items[0][price_data][unit_amount]=5000"
                     "&line_items%5B0%5D%5Bquantity%5D=1&name=Coaching%20session%20%2860%29",
                     {{"Content-Type", "application/x-www-form-urlencoded"},
                      {"Idempotency-Key", "checkout-ord_1-v1"}});
  CAF_REQUIRE(r.has_value());
  CAF_CHECK_EQUAL(r->status, 200);
  CAF_CHECK_EQUAL(r->body, R"({"path":"/v1/checkout/sessions"})");
  CAF_CHECK_EQUAL(r->header("request-id"), "req_1");
  auto reqs = srv.requests();
  CAF_REQUIRE_EQUAL(reqs.size(), 1u);
  const auto& q = reqs[0];
  CAF_CHECK_EQUAL(q.method, "POST");
  CAF_CHECK_EQUAL(q.path, "/v1/checkout/sessions");
  CAF_CHECK_EQUAL(q.query, "expand%5B%5D=x&a=b+c");
  CAF_REQUIRE_EQUAL(q.query_params.size(), 2u);
  CAF_CHECK_EQUAL(q.query_params[0].first, "expand[]");
  CAF_CHECK_EQUAL(q.query_params[1].second, "b c");
  auto key = q.header("idempotency-key");
  CAF_CHECK_EQUAL(key, "checkout-ord_1-v1");
  CAF_REQUIRE_EQUAL(q.form.size(), 4u);
  CAF_CHECK_EQUAL(q.form[0].first, "mode");
  auto amount = q.form_value("line_items[0][price_data][unit_amount]").value_or("-");
  CAF_CHECK_EQUAL(amount, "5000");
  auto quantity = q.form_value("line_items[0][quantity]").value_or("-");
  CAF_CHECK_EQUAL(quantity, "1");
  auto name = q.form_value("name").value_or("-");
  CAF_CHECK_EQUAL(name, "Coaching session (60)");
}

CAF_TEST(keeps a connection alive across requests and closes it on request) {
  fake_http_server srv{[](const fake_request& r) {
    auto res = echo(r);
    res.close = r.path == "/last";
    return res;
  }};
  http_client c{srv.port()};
  auto a = c.get("/one");
  auto b = c.request("GET", "/missing");
  auto last = c.get("/last");
  CAF_REQUIRE(a && b && last);
  CAF_CHECK_EQUAL(b->status, 404);
  CAF_CHECK_EQUAL(last->header("connection"), "close");
  CAF_CHECK(c.wait_closed(std::chrono::seconds(5)));
  auto reqs = srv.requests();
  CAF_REQUIRE_EQUAL(reqs.size(), 3u);
  CAF_CHECK_EQUAL(reqs[0].connection, reqs[2].connection);
  CAF_CHECK_EQUAL(srv.connections(), 1);
}

CAF_TEST(a dropped request gets no answer and stop interrupts a hanging one) {
  fake_http_server srv{[](const fake_request& r) {
    fake_response res;
    res.drop = r.path == "/drop";
    res.delay = r.path == "/hang" ? std::chrono::minutes(10) : std::chrono::milliseconds(0);
    return res;
  }};
  http_client dropped{srv.port()};
  auto d = dropped.get("/drop");
  CAF_CHECK(!d.has_value());
  http_client hanging{srv.port(), std::chrono::milliseconds(300)};
  auto h = hanging.get("/hang");
  CAF_CHECK(!h.has_value());
  srv.stop();  // returns although the handler's delay has minutes left
  auto reqs = srv.requests();
  CAF_CHECK_EQUAL(reqs.size(), 2u);
  CAF_CHECK(!http_client::can_connect(srv.port()));
}

CAF_TEST(a throwing handler becomes a 500) {
  fake_http_server srv{[](const fake_request&) -> fake_response {
    throw std::runtime_error("boom");
  }};
  http_client c{srv.port()};
  auto r = c.get("/x");
  CAF_REQUIRE(r.has_value());
  CAF_CHECK_EQUAL(r->status, 500);
}
