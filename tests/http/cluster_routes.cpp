#define CAF_SUITE http.cluster_routes

#include "http/cluster_routes.hpp"

#include "support/caf_test.hpp"

#include <atomic>
#include <memory>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>

#include "config/app_config.hpp"
#include "config/settings.hpp"
#include "http/ops_routes.hpp"
#include "protocols/type_ids.hpp"
#include "tests/http/server_fixture.hpp"

using namespace djdash;
using namespace djdash::http;
using namespace djdash::http::testing;
using djdash::test::http_client;

namespace {

/// Stands in for the membership actor: answers its status query.
caf::behavior membership_stub() {
  return {[](caf::get_atom, status_atom) {
    return std::string{R"({"node_id":"node-a","joined":true,"view":["node-a","node-b"]})"};
  }};
}

struct fixture {
  app_config cfg;
  caf::actor_system sys{cfg};
  djdash::settings node_cfg;
  caf::actor membership;
  std::atomic<bool> joined{true};
  std::unique_ptr<server> srv;

  fixture() {
    node_cfg.node_id = "node-a";
    node_cfg.secrets.ops_token = "ops-token-0123456789abcdef";
    membership = sys.spawn(membership_stub);
  }

  ~fixture() {
    srv.reset();
    caf::anon_send_exit(membership, caf::exit_reason::user_shutdown);
  }

  uint16_t start() {
    node_services svc;
    svc.sys = &sys;
    svc.cfg = &node_cfg;
    svc.membership = membership;
    svc.draining = [] { return false; };
    svc.cluster_joined = [this] { return joined.load(); };
    route_table rt;
    add_ops_routes(rt, svc);
    add_cluster_routes(rt, svc);
    srv = start_server(test_settings(), std::move(rt));
    return srv->port();
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(cluster_routes_tests, fixture)

CAF_TEST(loopback callers see the cluster) {
  http_client c{start()};
  auto r = c.get("/debug/cluster");
  CAF_REQUIRE(r);
  CAF_CHECK_EQUAL(r->status, 200);
  auto j = r->json();
  CAF_CHECK_EQUAL(j["node_id"], "node-a");
  CAF_CHECK_EQUAL(j["view"].size(), 2u);
}

CAF_TEST(a request forwarded by a proxy needs the ops token) {
  http_client c{start()};
  auto proxied = c.get("/debug/cluster", {{"X-Forwarded-For", "203.0.113.9"}});
  CAF_REQUIRE(proxied);
  CAF_CHECK_EQUAL(proxied->status, 403);
  auto wrong = c.get("/debug/cluster", {{"Forwarded", "for=203.0.113.9"},
                                        {"Authorization", "Bearer ops-token-wrong-0000000000"}});
  CAF_REQUIRE(wrong);
  CAF_CHECK_EQUAL(wrong->status, 403);
  auto right = c.get("/debug/cluster", {{"X-Real-IP", "203.0.113.9"},
                                        {"Authorization", "Bearer ops-token-0123456789abcdef"}});
  CAF_REQUIRE(right);
  CAF_CHECK_EQUAL(right->status, 200);
}

CAF_TEST(malformed entity parameters are a 400) {
  http_client c{start()};
  for (auto target : {"/debug/cluster/owner?kind=organization&key=not-a-uuid",
                      "/debug/cluster/owner?kind=Org!&key=x", "/debug/cluster/owner?kind=organization",
                      "/debug/cluster/ping?kind=&key=x", "/debug/cluster/entities"}) {
    auto r = c.get(target);
    CAF_REQUIRE(r);
    CAF_CHECK_EQUAL(r->status, 400);
  }
}

CAF_TEST(readyz is 503 until the node joined the cluster) {
  joined = false;
  http_client c{start()};
  auto before = c.get("/readyz");
  CAF_REQUIRE(before);
  CAF_CHECK_EQUAL(before->status, 503);
  auto code = before->error_code();
  CAF_CHECK_EQUAL(code, "cluster_unavailable");
}

CAF_TEST_FIXTURE_SCOPE_END()
