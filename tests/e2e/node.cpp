#define CAF_SUITE e2e.node

// The real binary, over real sockets, against the throwaway PostgreSQL.

#include <csignal>

#include <pqxx/pqxx>

#include "node_harness.hpp"
#include "support/caf_test.hpp"

using namespace djdash;
using namespace std::chrono_literals;

namespace {

void exec_admin(const std::string& url, const std::string& sql) {
  pqxx::connection conn{url};
  pqxx::nontransaction tx{conn};
  tx.exec0(sql);
}

struct fixture {
  test::pg_database db;  // fresh and migrated
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(node_tests, fixture)

CAF_TEST(a migrated and seeded node is healthy and ready and serves the demo orgs) {
  auto [seed_rc, seed_out] = test::djdash_command({"seed-demo"}, db.app_url(), db.owner_url());
  CAF_REQUIRE_EQUAL(seed_rc, 0);
  CAF_CHECK(seed_out.find("demo@demo-tipjar.example") != std::string::npos);
  // Seeding twice changes nothing and still succeeds.
  CAF_CHECK_EQUAL(test::djdash_command({"seed-demo"}, db.app_url(), db.owner_url()).first, 0);
  test::node n{db.app_url(), db.owner_url()};
  CAF_REQUIRE(n.wait_listening());
  CAF_CHECK_EQUAL(n.wait_for_status("/readyz", 200, 10s), 200);
  for (auto slug : {"demo-tipjar", "demo-djdash", "demo-m10dj"}) {
    auto r = n.get(std::string{"/api/public/orgs/"} + slug);
    CAF_REQUIRE(r);
    CAF_CHECK_EQUAL(r->status, 200);
    auto body = r->json();  // CAF's check macros keep references: no temporaries in them
    CAF_CHECK_EQUAL(body["slug"], slug);
  }
  auto tipjar = n.get("/api/public/orgs/demo-tipjar");
  CAF_REQUIRE(tipjar);
  auto profile = tipjar->json();
  CAF_CHECK_EQUAL(profile["product_context"], "tipjar");
  CAF_CHECK_EQUAL(profile["minimum_amounts"]["song"], 500);
  auto missing = n.get("/api/public/orgs/no-such-dj");
  CAF_REQUIRE(missing);
  CAF_CHECK_EQUAL(missing->status, 404);
  CAF_CHECK_EQUAL(missing->error_code(), "not_found");
  auto metrics = n.get("/metrics");
  CAF_REQUIRE(metrics);
  CAF_CHECK(metrics->body.find("djdash_actors_active{kind=\"organization\"}") != std::string::npos);
  CAF_CHECK(metrics->body.find("djdash_db_pool_queue_depth") != std::string::npos);
  auto openapi = n.get("/openapi.json");
  CAF_REQUIRE(openapi);
  auto doc = openapi->json();
  CAF_CHECK(doc["paths"].contains("/api/public/orgs/{slug}"));
  n.process().signal(SIGTERM);
  CAF_CHECK_EQUAL(n.process().wait(20s), std::optional<int>{0});
}

CAF_TEST(a node refuses to serve an unmigrated database) {
  // A database with no schema at all.
  auto admin = test::with_database(test::required_env("DJDASH_TEST_OWNER_URL"), "postgres");
  auto name = "djdash_unmigrated_" + std::to_string(test::free_port());
  exec_admin(admin, "create database " + name);
  auto owner = test::with_database(test::required_env("DJDASH_TEST_OWNER_URL"), name);
  auto app = test::with_database(test::required_env("DJDASH_TEST_DATABASE_URL"), name);
  test::node n{app, owner};
  auto rc = n.process().wait(30s);
  CAF_CHECK_EQUAL(rc, std::optional<int>{1});
  CAF_CHECK(n.process().output().find("djdash migrate") != std::string::npos);
  // After `djdash migrate` the same database is served.
  auto [mrc, mout] = test::djdash_command({"migrate"}, app, owner);
  CAF_CHECK_EQUAL(mrc, 0);
  test::node again{app, owner};
  CAF_REQUIRE(again.wait_listening());
  CAF_CHECK_EQUAL(again.wait_for_status("/readyz", 200, 10s), 200);
  again.process().signal(SIGTERM);
  again.process().wait(20s);
  exec_admin(admin, "drop database " + name + " with (force)");
}

CAF_TEST(a bad configuration value stops the start naming the value) {
  auto [rc, out] = test::run_to_end(DJDASH_BINARY, {}, {{"DJDASH_DATABASE_URL", db.app_url()},
                                                        {"DJDASH_HTTP_PORT", "99999"}});
  CAF_CHECK_EQUAL(rc, 2);
  CAF_CHECK(out.find("DJDASH_HTTP_PORT") != std::string::npos);
}

CAF_TEST_FIXTURE_SCOPE_END()
