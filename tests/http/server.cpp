#define CAF_SUITE http.server

#include "http/server.hpp"

#include "support/caf_test.hpp"

#include <atomic>
#include <stdexcept>
#include <string>

#include "http/error_response.hpp"
#include "tests/http/server_fixture.hpp"

using namespace djdash::http;
using namespace djdash::http::testing;
using djdash::test::http_client;

namespace {

struct fixture {
  delayer later;
  std::atomic<int> body_calls{0};
  std::unique_ptr<server> srv;

  route_table routes() {
    route_table rt;
    rt.add("GET", "/hello", [](request&, const responder& rsp) { rsp(text(200, "hello")); });
    rt.add("GET", "/echo/{name}", [](request& req, const responder& rsp) {
      nlohmann::json q = req.query;
      rsp(json_response(200, {{"name", req.params["name"]}, {"path", req.path}, {"query", q}}));
    });
    rt.add("POST", "/body", [this](request& req, const responder& rsp) {
      ++body_calls;
      rsp(text(200, std::to_string(req.body.size())));
    });
    rt.add("GET", "/items", [](request&, const responder& rsp) { rsp(text(200, "[]")); });
    rt.add("POST", "/items", [](request&, const responder& rsp) { rsp(text(201, "{}")); });
    rt.add("GET", "/never", [](request&, const responder&) {});
    rt.add("GET", "/late", [this](request&, const responder& rsp) {
      later.after(600ms, [rsp] { rsp(text(200, "late")); });
    });
    rt.add("GET", "/slow", [this](request&, const responder& rsp) {
      later.after(300ms, [rsp] { rsp(text(200, "slow")); });
    });
    rt.add("GET", "/boom", [](request&, const responder&) { throw std::runtime_error("boom"); });
    return rt;
  }

  uint16_t start(const djdash::http_settings& cfg = test_settings()) {
    srv = start_server(cfg, routes());
    return srv->port();
  }
};

using clock_type = std::chrono::steady_clock;

} // namespace

CAF_TEST_FIXTURE_SCOPE(server_tests, fixture)

CAF_TEST(two requests share one keep-alive connection) {
  http_client c{start()};
  CAF_REQUIRE(c.connected());
  auto r1 = c.get("/hello");
  auto r2 = c.get("/hello");
  CAF_REQUIRE(r1 && r2);
  CAF_CHECK_EQUAL(r1->status, 200);
  CAF_CHECK_EQUAL(r2->body, "hello");
  CAF_CHECK_EQUAL(r2->header("server"), "djdash");
  CAF_CHECK_EQUAL(r2->header("content-type"), "text/plain");
  CAF_CHECK_EQUAL(r2->header("content-length"), "5");
  CAF_CHECK_NOT_EQUAL(r2->header("connection"), "close");
  CAF_CHECK_EQUAL(srv->connections(), 1);
}

CAF_TEST(unknown paths and methods get JSON errors) {
  http_client c{start()};
  auto nf = c.get("/nope");
  CAF_REQUIRE(nf);
  CAF_CHECK_EQUAL(nf->status, 404);
  CAF_CHECK_EQUAL(nf->error_code(), "not_found");
  CAF_CHECK_EQUAL(nf->header("content-type"), "application/json; charset=utf-8");
  auto na = c.request("DELETE", "/items");
  CAF_REQUIRE(na);
  CAF_CHECK_EQUAL(na->status, 405);
  CAF_CHECK_EQUAL(na->error_code(), "method_not_allowed");
  CAF_CHECK_EQUAL(na->header("allow"), "GET, POST");
  auto created = c.request("POST", "/items", "{}");
  CAF_REQUIRE(created);
  CAF_CHECK_EQUAL(created->status, 201);
}

CAF_TEST(websocket upgrades to unknown targets get a plain 404) {
  http_client c{start()};
  auto r = c.get("/api/nowhere", {{"Connection", "Upgrade"},
                                  {"Upgrade", "websocket"},
                                  {"Sec-WebSocket-Version", "13"},
                                  {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="}});
  CAF_REQUIRE(r);
  CAF_CHECK_EQUAL(r->status, 404);
  CAF_CHECK_EQUAL(r->error_code(), "not_found");
}

CAF_TEST(request ids are echoed when valid and generated otherwise) {
  http_client c{start()};
  auto echoed = c.get("/hello", {{"X-Request-Id", "abc-123_x.Y"}});
  CAF_REQUIRE(echoed);
  CAF_CHECK_EQUAL(echoed->header("x-request-id"), "abc-123_x.Y");
  auto bad = c.get("/hello", {{"X-Request-Id", "has space"}});
  auto too_long = c.get("/hello", {{"X-Request-Id", std::string(65, 'a')}});
  auto none1 = c.get("/hello");
  auto none2 = c.get("/nope");
  CAF_REQUIRE(bad && too_long && none1 && none2);
  CAF_CHECK_EQUAL(bad->header("x-request-id").size(), 36u);
  CAF_CHECK_EQUAL(too_long->header("x-request-id").size(), 36u);
  CAF_CHECK_EQUAL(none1->header("x-request-id").size(), 36u);
  CAF_CHECK_NOT_EQUAL(none1->header("x-request-id"), none2->header("x-request-id"));
}

CAF_TEST(path parameters and query strings are decoded) {
  http_client c{start()};
  auto r = c.get("/echo/J%C3%BCrgen%2Fx?q=a+b%26c&flag&x=1&x=2");
  CAF_REQUIRE(r);
  CAF_REQUIRE_EQUAL(r->status, 200);
  auto j = r->json();
  CAF_CHECK_EQUAL(j["name"], "J\xC3\xBCrgen/x");
  CAF_CHECK_EQUAL(j["path"], "/echo/J\xC3\xBCrgen/x");
  CAF_CHECK_EQUAL(j["query"]["q"], "a b&c");
  CAF_CHECK_EQUAL(j["query"]["flag"], "");
  CAF_CHECK_EQUAL(j["query"]["x"], "2");
  auto bad_path = c.get("/echo/%zz");
  auto bad_query = c.get("/hello?x=%4");
  CAF_REQUIRE(bad_path && bad_query);
  CAF_CHECK_EQUAL(bad_path->status, 400);
  CAF_CHECK_EQUAL(bad_query->status, 400);
  CAF_CHECK_EQUAL(bad_query->error_code(), "bad_request");
}

CAF_TEST(a body over the limit gets 413 and never reaches the handler) {
  auto cfg = test_settings();
  cfg.body_limit = 1024;
  auto port = start(cfg);
  {
    http_client c{port};
    auto ok = c.request("POST", "/body", std::string(1000, 'x'));
    CAF_REQUIRE(ok);
    CAF_CHECK_EQUAL(ok->body, "1000");
    auto big = c.request("POST", "/body", std::string(4096, 'x'));
    CAF_REQUIRE(big);
    CAF_CHECK_EQUAL(big->status, 413);
    CAF_CHECK_EQUAL(big->error_code(), "payload_too_large");
    CAF_CHECK_EQUAL(big->header("connection"), "close");
    CAF_CHECK(c.wait_closed(3s));
  }
  // Announced length over the limit: rejected before the body is even sent.
  http_client raw{port};
  CAF_REQUIRE(raw.send_raw("POST /body HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\nabc"));
  auto r = raw.read_reply();
  CAF_REQUIRE(r);
  CAF_CHECK_EQUAL(r->status, 413);
  CAF_CHECK_EQUAL(body_calls.load(), 1);
}

CAF_TEST(expect 100-continue gets an interim answer before the body is sent) {
  http_client c{start()};
  CAF_REQUIRE(c.send_raw("POST /body HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                         "Expect: 100-continue\r\n\r\n"));
  auto interim = c.read_reply();
  CAF_REQUIRE(interim);
  CAF_CHECK_EQUAL(interim->status, 100);
  CAF_REQUIRE(c.send_raw("hello"));
  auto r = c.read_reply();
  CAF_REQUIRE(r);
  CAF_CHECK_EQUAL(r->status, 200);
  CAF_CHECK_EQUAL(r->body, "5");
}

CAF_TEST(oversized headers get 431 and garbage gets 400 and both close) {
  auto cfg = test_settings();
  cfg.header_limit = 2048;
  auto port = start(cfg);
  http_client big{port};
  auto r = big.get("/hello", {{"X-Big", std::string(4096, 'h')}});
  CAF_REQUIRE(r);
  CAF_CHECK_EQUAL(r->status, 431);
  CAF_CHECK_EQUAL(r->error_code(), "bad_request");
  CAF_CHECK_EQUAL(r->header("connection"), "close");
  CAF_CHECK(big.wait_closed(3s));
  http_client junk{port};
  CAF_REQUIRE(junk.send_raw("THIS IS NOT HTTP\r\n\r\n"));
  auto g = junk.read_reply();
  CAF_REQUIRE(g);
  CAF_CHECK_EQUAL(g->status, 400);
  CAF_CHECK_EQUAL(g->error_code(), "bad_request");
  CAF_CHECK_EQUAL(g->header("x-request-id").size(), 36u);
  CAF_CHECK(junk.wait_closed(3s));
}

CAF_TEST(a client trickling its headers is dropped at the read timeout) {
  auto cfg = test_settings();
  cfg.read_timeout_ms = 300;
  http_client c{start(cfg)};
  auto t0 = clock_type::now();
  CAF_REQUIRE(c.send_raw("GET /hello HTTP/1.1\r\nHost: x\r\n"));
  // Keep sending a byte every 50 ms: activity must not extend the deadline.
  bool write_failed = false;
  while (clock_type::now() - t0 < 4s) {
    std::this_thread::sleep_for(50ms);
    if (!c.send_raw("X")) {
      write_failed = true;
      break;
    }
  }
  CAF_CHECK(write_failed || c.wait_closed(1s));
  auto elapsed = clock_type::now() - t0;
  CAF_CHECK(elapsed >= 250ms);
  CAF_CHECK(elapsed < 4s);
}

CAF_TEST(a client that stops mid-request is dropped at the read timeout) {
  auto cfg = test_settings();
  cfg.read_timeout_ms = 300;
  http_client c{start(cfg)};
  auto t0 = clock_type::now();
  CAF_REQUIRE(c.send_raw("GET /hello HTTP/1.1\r\nHo"));
  CAF_CHECK(c.wait_closed(5s));
  CAF_CHECK(clock_type::now() - t0 >= 250ms);
}

CAF_TEST(an idle keep-alive connection is closed after the idle timeout) {
  auto cfg = test_settings();
  cfg.idle_timeout_ms = 300;
  auto port = start(cfg);
  http_client c{port};
  auto r = c.get("/hello");
  CAF_REQUIRE(r);
  auto t0 = clock_type::now();
  CAF_CHECK(c.wait_closed(5s));
  CAF_CHECK(clock_type::now() - t0 >= 250ms);
  http_client silent{port};  // never sends a byte
  CAF_CHECK(silent.wait_closed(5s));
  CAF_CHECK(eventually([&] { return srv->connections() == 0; }));
}

CAF_TEST(a handler that never answers gets 504 and the connection lives on) {
  auto cfg = test_settings();
  cfg.request_deadline_ms = 300;
  http_client c{start(cfg)};
  auto r = c.get("/never");
  CAF_REQUIRE(r);
  CAF_CHECK_EQUAL(r->status, 504);
  CAF_CHECK_EQUAL(r->error_code(), "upstream_timeout");
  auto next = c.get("/hello");
  CAF_REQUIRE(next);
  CAF_CHECK_EQUAL(next->body, "hello");
}

CAF_TEST(a late answer after the deadline is dropped) {
  auto cfg = test_settings();
  cfg.request_deadline_ms = 300;
  http_client c{start(cfg)};
  auto r = c.get("/late");  // answers at 600 ms
  CAF_REQUIRE(r);
  CAF_CHECK_EQUAL(r->status, 504);
  std::this_thread::sleep_for(500ms);  // let the late answer arrive and be dropped
  auto next = c.get("/hello");
  CAF_REQUIRE(next);
  CAF_CHECK_EQUAL(next->body, "hello");
}

CAF_TEST(answers from other threads arrive) {
  http_client c{start()};
  auto r = c.get("/slow");
  CAF_REQUIRE(r);
  CAF_CHECK_EQUAL(r->status, 200);
  CAF_CHECK_EQUAL(r->body, "slow");
}

CAF_TEST(a throwing handler gets a generic 500) {
  http_client c{start()};
  auto r = c.get("/boom");
  CAF_REQUIRE(r);
  CAF_CHECK_EQUAL(r->status, 500);
  CAF_CHECK_EQUAL(r->error_code(), "internal");
  auto j = r->json();
  CAF_CHECK_EQUAL(j["error"]["message"], "internal error");
}

CAF_TEST(connections beyond max_connections get 503) {
  auto cfg = test_settings();
  cfg.max_connections = 2;
  auto port = start(cfg);
  auto c1 = std::make_unique<http_client>(port);
  http_client c2{port};
  CAF_REQUIRE(c1->get("/hello") && c2.get("/hello"));
  http_client c3{port};
  auto r = c3.get("/hello");
  CAF_REQUIRE(r);
  CAF_CHECK_EQUAL(r->status, 503);
  CAF_CHECK_EQUAL(r->error_code(), "unavailable");
  CAF_CHECK_EQUAL(r->header("retry-after"), "1");
  CAF_CHECK_EQUAL(r->header("connection"), "close");
  CAF_CHECK_EQUAL(srv->connections(), 2);
  c1.reset();  // frees a slot
  CAF_CHECK(eventually([&] {
    http_client c4{port};
    auto ok = c4.get("/hello");
    return ok && ok->status == 200;
  }));
}

CAF_TEST(start fails cleanly on a port in use) {
  auto port = start();
  auto cfg = test_settings();
  cfg.port = port;
  server second{cfg, route_table{}};
  auto err = second.start();
  CAF_CHECK(err);
}

CAF_TEST_FIXTURE_SCOPE_END()
