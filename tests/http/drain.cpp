#define CAF_SUITE http.drain

#include "http/server.hpp"

#include "support/caf_test.hpp"

#include <atomic>
#include <csignal>
#include <optional>
#include <thread>

#include "tests/http/server_fixture.hpp"

using namespace djdash::http;
using namespace djdash::http::testing;
using djdash::test::http_client;
using djdash::test::http_reply;

namespace {

struct fixture {
  delayer later;
  std::atomic<bool> slow_started{false};
  std::unique_ptr<server> srv;

  route_table routes() {
    route_table rt;
    rt.add("GET", "/hello", [](request&, const responder& rsp) { rsp(text(200, "hello")); });
    rt.add("GET", "/slow", [this](request&, const responder& rsp) {
      slow_started = true;
      later.after(300ms, [rsp] { rsp(text(200, "slow")); });
    });
    rt.add("GET", "/never", [this](request&, const responder&) { slow_started = true; });
    return rt;
  }
};

using clock_type = std::chrono::steady_clock;

} // namespace

CAF_TEST_FIXTURE_SCOPE(drain_tests, fixture)

CAF_TEST(SIGTERM lets the request in flight finish and refuses new connections) {
  srv = std::make_unique<server>(test_settings(), routes());
  std::atomic<bool> signalled{false};
  srv->stop_on_signals([&] { signalled = true; });
  CAF_REQUIRE(!srv->start());
  auto port = srv->port();
  http_client idle{port};
  CAF_REQUIRE(idle.get("/hello"));
  std::optional<http_reply> slow_reply;
  std::thread client{[&] {
    http_client c{port};
    slow_reply = c.get("/slow");
  }};
  CAF_REQUIRE(eventually([&] { return slow_started.load(); }));
  std::raise(SIGTERM);
  CAF_CHECK(eventually([&] { return signalled.load(); }));
  CAF_CHECK(srv->draining());
  CAF_CHECK(eventually([&] { return !http_client::can_connect(port); }, 3s));
  CAF_CHECK(idle.wait_closed(3s));  // long before its 10 s idle timeout
  client.join();
  CAF_REQUIRE(slow_reply);
  CAF_CHECK_EQUAL(slow_reply->status, 200);
  CAF_CHECK_EQUAL(slow_reply->body, "slow");
  CAF_CHECK_EQUAL(slow_reply->header("connection"), "close");
  auto t0 = clock_type::now();
  srv->wait();
  CAF_CHECK(clock_type::now() - t0 < 5s);
  CAF_CHECK_EQUAL(srv->connections(), 0);
}

CAF_TEST(a request sent just before the drain starts is answered and not reset) {
  srv = std::make_unique<server>(test_settings(), routes());
  CAF_REQUIRE(!srv->start());
  auto port = srv->port();
  // Connections the server has not served yet, each with its request on the wire: whether the
  // listener already accepted them or they still wait in the kernel's queue, the drain must
  // answer them (a load balancer has no way to tell a reset from a failed request).
  std::vector<std::unique_ptr<http_client>> clients;
  for (int i = 0; i < 8; ++i) {
    clients.push_back(std::make_unique<http_client>(port));
    CAF_REQUIRE(clients.back()->send_raw("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n"));
  }
  srv->drain();
  for (auto& c : clients) {
    auto reply = c->read_reply();
    CAF_REQUIRE(reply);
    CAF_CHECK_EQUAL(reply->status, 200);
    CAF_CHECK(c->wait_closed(3s));  // then the connection goes: no second request on it
  }
  srv->wait();
  CAF_CHECK_EQUAL(srv->connections(), 0);
}

CAF_TEST(drain gives up on stuck requests after drain_timeout_ms) {
  auto cfg = test_settings();
  cfg.drain_timeout_ms = 300;
  srv = start_server(cfg, routes());
  auto port = srv->port();
  std::optional<http_reply> reply;
  std::thread client{[&] {
    http_client c{port};
    reply = c.get("/never");
  }};
  CAF_REQUIRE(eventually([&] { return slow_started.load(); }));
  auto t0 = clock_type::now();
  srv->drain();
  srv->wait();
  auto elapsed = clock_type::now() - t0;
  client.join();
  CAF_CHECK(!reply);  // closed without an answer
  CAF_CHECK(elapsed >= 250ms);
  CAF_CHECK(elapsed < 5s);
}

CAF_TEST(drain without connections stops at once and is idempotent) {
  srv = start_server(test_settings(), routes());
  {
    http_client c{srv->port()};
    CAF_REQUIRE(c.get("/hello"));
  }
  srv->drain();
  srv->drain();
  auto t0 = clock_type::now();
  srv->wait();
  CAF_CHECK(clock_type::now() - t0 < 3s);
  CAF_CHECK(srv->draining());
  CAF_CHECK(srv->start());  // a drained server does not start again
}

CAF_TEST_FIXTURE_SCOPE_END()
