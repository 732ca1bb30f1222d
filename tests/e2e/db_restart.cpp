#define CAF_SUITE e2e.db_restart

// Stopping PostgreSQL under a running node: /readyz and DB-backed routes answer 503, the node
// keeps running, and once PostgreSQL is back it recovers without a restart.

#include <csignal>

#include "node_harness.hpp"
#include "support/caf_test.hpp"

using namespace djdash;
using namespace std::chrono_literals;

CAF_TEST(the node survives a database restart and recovers by itself) {
  test::private_cluster pg;
  CAF_REQUIRE_EQUAL(test::djdash_command({"seed-demo"}, pg.app_url(), pg.owner_url()).first, 0);
  test::node n{pg.app_url(), pg.owner_url()};
  CAF_REQUIRE(n.wait_listening());
  CAF_REQUIRE_EQUAL(n.wait_for_status("/readyz", 200, 10s), 200);
  auto before = n.get("/api/public/orgs/demo-m10dj");  // CAF's checks keep references: no temporaries
  CAF_REQUIRE(before);
  CAF_REQUIRE_EQUAL(before->status, 200);
  CAF_REQUIRE(pg.stop());
  auto ready = n.get("/readyz");
  CAF_REQUIRE(ready);
  CAF_CHECK_EQUAL(ready->status, 503);
  CAF_CHECK_EQUAL(ready->error_code(), "db_unavailable");
  auto route = n.get("/api/public/orgs/demo-djdash");
  CAF_REQUIRE(route);
  CAF_CHECK_EQUAL(route->status, 503);
  auto health = n.get("/healthz");  // the process itself is fine
  CAF_REQUIRE(health);
  CAF_CHECK_EQUAL(health->status, 200);
  CAF_CHECK(n.process().running());
  CAF_REQUIRE(pg.start());
  CAF_CHECK_EQUAL(n.wait_for_status("/readyz", 200, 10s), 200);
  CAF_CHECK_EQUAL(n.wait_for_status("/api/public/orgs/demo-djdash", 200, 10s), 200);
  n.process().signal(SIGTERM);
  CAF_CHECK_EQUAL(n.process().wait(20s), std::optional<int>{0});
}
