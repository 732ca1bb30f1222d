#define CAF_SUITE http.ops_routes

#include "http/ops_routes.hpp"

#include "support/caf_test.hpp"

#include <caf/actor_system.hpp>
#include <caf/send.hpp>

#include "config/app_config.hpp"
#include "http/error_response.hpp"
#include "protocols/app_errc.hpp"
#include "protocols/messages.hpp"
#include "tests/http/server_fixture.hpp"

using namespace djdash;
using namespace djdash::http;
using namespace djdash::http::testing;
using djdash::test::http_client;

namespace {

/// Answers `schema_status` like the real pool, or fails every call with `db_unavailable`.
db_actor::behavior_type schema_stub(int current, int expected, bool fail) {
  return {
    [=](const db_call& call) -> caf::result<std::string> {
      if (fail)
        return make_app_error(app_errc::db_unavailable, "connection refused");
      if (call.op != "schema_status")
        return make_app_error(app_errc::bad_request, "unexpected op " + call.op);
      return nlohmann::json{{"current", current}, {"expected", expected}}.dump();
    },
  };
}

struct fixture {
  app_config cfg;
  caf::actor_system sys{cfg};
  djdash::settings node_cfg;
  std::atomic<bool> draining{false};
  std::vector<db_actor> stubs;
  std::unique_ptr<server> srv;

  fixture() {
    node_cfg.node_id = "node-a";
  }

  ~fixture() {
    srv.reset();
    // The actor system's destructor waits for every actor: stop the stubs first.
    for (auto& stub : stubs)
      caf::anon_send_exit(stub, caf::exit_reason::user_shutdown);
  }

  db_actor stub(int current, int expected, bool fail = false) {
    auto hdl = sys.spawn(schema_stub, current, expected, fail);
    stubs.push_back(hdl);
    return hdl;
  }

  node_services services(db_actor db) {
    node_services svc;
    svc.sys = &sys;
    svc.db = std::move(db);
    svc.cfg = &node_cfg;
    svc.draining = [this] { return draining.load(); };
    return svc;
  }

  uint16_t start(db_actor db) {
    route_table rt;
    add_ops_routes(rt, services(std::move(db)));
    rt.add("GET", "/x", [](request&, const responder& rsp) { rsp(text(200, "x")); });
    route_doc doc;
    doc.summary = "Public profile of a DJ";
    doc.tag = "public";
    doc.auth = true;
    doc.responses = {200, 404};
    doc.response_schema_json = R"({"type":"object","properties":{"name":{"type":"string"}}})";
    rt.add("GET", "/api/public/orgs/{slug}",
           [](request&, const responder& rsp) { rsp(text(200, "{}")); }, doc);
    srv = start_server(test_settings(), std::move(rt));
    return srv->port();
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(ops_routes_tests, fixture)

CAF_TEST(healthz answers without the database) {
  http_client c{start(db_actor{})};
  auto r = c.get("/healthz");
  CAF_REQUIRE(r);
  CAF_CHECK_EQUAL(r->status, 200);
  auto j = r->json();
  CAF_CHECK_EQUAL(j["status"], "ok");
  CAF_CHECK_EQUAL(j["node_id"], "node-a");
}

CAF_TEST(readyz is ready when the schema is current) {
  http_client c{start(stub(1, 1))};
  auto r = c.get("/readyz");
  CAF_REQUIRE(r);
  CAF_CHECK_EQUAL(r->status, 200);
  auto j = r->json();
  CAF_CHECK_EQUAL(j["status"], "ready");
  CAF_CHECK_EQUAL(j["schema_version"], 1);
}

CAF_TEST(readyz reports pending migrations) {
  http_client c{start(stub(0, 1))};
  auto r = c.get("/readyz");
  CAF_REQUIRE(r);
  CAF_CHECK_EQUAL(r->status, 503);
  CAF_CHECK_EQUAL(r->error_code(), "migrations_pending");
  CAF_CHECK_EQUAL(r->header("retry-after"), "1");
  auto msg = r->json()["error"]["message"].get<std::string>();
  CAF_CHECK(msg.find("djdash migrate") != std::string::npos);
}

CAF_TEST(readyz fails when the database call fails or there is no database) {
  {
    http_client c{start(stub(1, 1, true))};
    auto r = c.get("/readyz");
    CAF_REQUIRE(r);
    CAF_CHECK_EQUAL(r->status, 503);
    CAF_CHECK_EQUAL(r->error_code(), "db_unavailable");
  }
  http_client c{start(db_actor{})};
  auto r = c.get("/readyz");
  CAF_REQUIRE(r);
  CAF_CHECK_EQUAL(r->status, 503);
  CAF_CHECK_EQUAL(r->error_code(), "db_unavailable");
}

CAF_TEST(readyz maps an unreachable database to 503 db_unavailable) {
  auto dead = stub(1, 1);
  caf::anon_send_exit(dead, caf::exit_reason::user_shutdown);
  std::this_thread::sleep_for(50ms);
  http_client c{start(dead)};
  auto r = c.get("/readyz");
  CAF_REQUIRE(r);
  CAF_CHECK_EQUAL(r->status, 503);
  CAF_CHECK_EQUAL(r->error_code(), "db_unavailable");
}

CAF_TEST(readyz reports shutting_down while draining) {
  http_client c{start(stub(1, 1))};
  draining = true;
  auto r = c.get("/readyz");
  CAF_REQUIRE(r);
  CAF_CHECK_EQUAL(r->status, 503);
  CAF_CHECK_EQUAL(r->error_code(), "shutting_down");
}

CAF_TEST(readiness maps schema status replies) {
  CAF_CHECK_EQUAL(readiness(R"({"current":3,"expected":3})", false).status, 200);
  CAF_CHECK_EQUAL(readiness(R"({"current":3,"expected":3})", true).status, 503);
  CAF_CHECK_EQUAL(readiness(R"({"current":2,"expected":3})", false).status, 503);
  CAF_CHECK_EQUAL(readiness(R"({"current":4,"expected":3})", false).status, 503);
  CAF_CHECK_EQUAL(readiness("not json", false).status, 500);
}

CAF_TEST(metrics count requests by route pattern method and status) {
  http_client c{start(db_actor{})};
  for (int i = 0; i < 3; ++i)
    CAF_REQUIRE(c.get("/x"));
  CAF_REQUIRE(c.get("/no/such/thing"));
  auto r = c.get("/metrics");
  CAF_REQUIRE(r);
  CAF_CHECK_EQUAL(r->status, 200);
  CAF_CHECK_EQUAL(r->header("content-type"), "text/plain; version=0.0.4");
  auto has = [&](const std::string& line) { return r->body.find(line) != std::string::npos; };
  CAF_CHECK(has("djdash_http_requests_total{route=\"/x\",method=\"GET\",status=\"200\"} 3\n"));
  CAF_CHECK(has("djdash_http_request_duration_seconds_count{route=\"/x\"} 3\n"));
  CAF_CHECK(has("djdash_http_requests_total{route=\"unmatched\",method=\"GET\",status=\"404\"}"));
  CAF_CHECK(!has("/no/such/thing"));
  CAF_CHECK(has("djdash_http_connections 1\n"));
}

CAF_TEST(openapi lists every route with its path parameters) {
  http_client c{start(db_actor{})};
  auto r = c.get("/openapi.json");
  CAF_REQUIRE(r);
  CAF_REQUIRE_EQUAL(r->status, 200);
  auto doc = r->json();
  CAF_REQUIRE(doc.is_object());
  CAF_CHECK_EQUAL(doc["openapi"], "3.0.3");
  for (auto path : {"/healthz", "/readyz", "/metrics", "/openapi.json", "/x"})
    CAF_CHECK(doc["paths"].contains(path));
  auto op = doc["paths"]["/api/public/orgs/{slug}"]["get"];  // added after add_ops_routes
  CAF_REQUIRE(op.is_object());
  CAF_CHECK_EQUAL(op["summary"], "Public profile of a DJ");
  CAF_CHECK_EQUAL(op["tags"][0], "public");
  CAF_CHECK_EQUAL(op["parameters"][0]["name"], "slug");
  CAF_CHECK_EQUAL(op["parameters"][0]["in"], "path");
  CAF_CHECK_EQUAL(op["parameters"][0]["required"], true);
  CAF_CHECK(op["security"][0].contains("bearer"));
  CAF_CHECK_EQUAL(op["responses"]["404"]["content"]["application/json"]["schema"]["$ref"],
                  "#/components/schemas/Error");
  CAF_CHECK_EQUAL(
    op["responses"]["200"]["content"]["application/json"]["schema"]["properties"]["name"]["type"],
    "string");
  CAF_CHECK(doc["components"]["schemas"]["Error"]["properties"].contains("error"));
  CAF_CHECK_EQUAL(doc["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
  CAF_CHECK(!doc["paths"]["/healthz"]["get"].contains("security"));
  auto again = c.get("/openapi.json");
  CAF_REQUIRE(again);
  CAF_CHECK_EQUAL(again->body, r->body);
}

CAF_TEST_FIXTURE_SCOPE_END()
