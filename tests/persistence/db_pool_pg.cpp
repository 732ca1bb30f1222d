#define CAF_SUITE persistence.db_pool_pg

#include "persistence/db_pool.hpp"

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "config/app_config.hpp"
#include "persistence/operations.hpp"
#include "support/caf_test.hpp"
#include "support/pg_fixture.hpp"

using namespace djdash;
using json = nlohmann::json;

namespace {

// Test probes, registered before any pool serves calls.
const bool probes_registered = [] {
  persistence::register_operation(
    "test.sleep", [](pqxx::transaction_base& tx, const db_scope&, const json& args) {
      tx.exec_params("select pg_sleep($1)", args.at("seconds").get<double>());
      return json::object();
    });
  persistence::register_operation(
    "test.scope", [](pqxx::transaction_base& tx, const db_scope&, const json&) {
      auto r = tx.exec1("select coalesce(current_setting('app.org_id', true), ''),"
                        " coalesce(current_setting('app.platform_admin', true), '')");
      return json{{"org_id", r[0].as<std::string>()}, {"admin", r[1].as<std::string>()}};
    });
  return true;
}();

struct fixture {
  app_config cfg;
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  std::vector<caf::actor> pools;

  ~fixture() {
    for (auto& p : pools)
      caf::anon_send_exit(p, caf::exit_reason::user_shutdown);
  }

  db_actor make_pool(const std::string& url, int size, int queue_limit) {
    db_settings s;
    s.url = url;
    s.pool_size = size;
    s.queue_limit = queue_limit;
    s.connect_timeout_s = 2;
    auto pool = persistence::spawn_db_pool(sys, s, true);
    pools.push_back(caf::actor_cast<caf::actor>(pool));
    return pool;
  }

  caf::expected<json> call(const db_actor& pool, db_call c) {
    caf::expected<json> out = caf::error{};
    self->request(pool, std::chrono::seconds(30), std::move(c))
      .receive([&](const std::string& s) { out = json::parse(s); },
               [&](caf::error& err) { out = std::move(err); });
    return out;
  }
};

std::string insert_org(const std::string& owner_url, const std::string& slug) {
  pqxx::connection conn{owner_url};
  pqxx::work tx{conn};
  tx.exec("select set_config('app.platform_admin', 'on', true)");
  auto id = tx.exec_params1("insert into organizations (product_context, name, slug)"
                            " values ('m10dj', $1, $1) returning id",
                            slug)[0]
              .as<std::string>();
  tx.commit();
  return id;
}

} // namespace

CAF_TEST_FIXTURE_SCOPE(db_pool_tests, fixture)

CAF_TEST(every call runs under its own tenant scope and nothing carries over) {
  test::pg_database db;
  auto pool = make_pool(db.app_url(), 1, 16);  // one connection: calls share it
  auto a = call(pool, db_call{"test.scope", db_scope{"11111111-1111-4111-8111-111111111111", "", false, ""}, "{}"});
  CAF_REQUIRE(a);
  CAF_CHECK_EQUAL((*a)["org_id"], "11111111-1111-4111-8111-111111111111");
  CAF_CHECK_EQUAL((*a)["admin"], "off");
  auto b = call(pool, db_call{"test.scope", db_scope{}, "{}"});
  CAF_REQUIRE(b);
  CAF_CHECK_EQUAL((*b)["org_id"], "");
}

CAF_TEST(organization rows are reachable only under their own scope) {
  test::pg_database db;
  auto a = insert_org(db.owner_url(), "alpha");
  auto b = insert_org(db.owner_url(), "bravo");
  auto pool = make_pool(db.app_url(), 2, 16);
  auto own = call(pool, db_call{"org.load", db_scope{a, "", false, ""}, json{{"id", a}}.dump()});
  CAF_REQUIRE(own);
  CAF_CHECK_EQUAL((*own)["slug"], "alpha");
  auto other = call(pool, db_call{"org.load", db_scope{a, "", false, ""}, json{{"id", b}}.dump()});
  CAF_REQUIRE(!other);
  CAF_CHECK_EQUAL(app_code(other.error()), app_errc::not_found);
}

CAF_TEST(bad input is a client error and unknown operations are refused) {
  test::pg_database db;
  auto pool = make_pool(db.app_url(), 1, 16);
  auto bad_id = call(pool, db_call{"org.load", db_scope{}, R"({"id":"not-a-uuid"})"});
  CAF_REQUIRE(!bad_id);
  CAF_CHECK_EQUAL(app_code(bad_id.error()), app_errc::bad_request);
  auto missing_arg = call(pool, db_call{"org.load", db_scope{}, "{}"});
  CAF_REQUIRE(!missing_arg);
  CAF_CHECK_EQUAL(app_code(missing_arg.error()), app_errc::bad_request);
  auto unknown = call(pool, db_call{"no.such.op", db_scope{}, "{}"});
  CAF_REQUIRE(!unknown);
  CAF_CHECK_EQUAL(app_code(unknown.error()), app_errc::internal);
  // The connection survived all of that.
  CAF_CHECK(call(pool, db_call{"schema_status", db_scope{}, "{}"}));
}

CAF_TEST(a full queue refuses new calls at once instead of growing) {
  test::pg_database db;
  auto pool = make_pool(db.app_url(), 1, 1);
  // One call occupies the only connection, one waits in the queue, the third is refused.
  self->send(pool, db_call{"test.sleep", db_scope{}, R"({"seconds":0.5})"});
  self->send(pool, db_call{"test.sleep", db_scope{}, R"({"seconds":0})"});
  auto refused = call(pool, db_call{"schema_status", db_scope{}, "{}"});
  CAF_REQUIRE(!refused);
  CAF_CHECK_EQUAL(app_code(refused.error()), app_errc::db_overloaded);
  // Once the backlog clears, calls go through again.
  self->receive([](const std::string&) {});
  self->receive([](const std::string&) {});
  CAF_CHECK(call(pool, db_call{"schema_status", db_scope{}, "{}"}));
}

CAF_TEST(the pool recovers by itself after PostgreSQL restarts) {
  test::private_cluster pg;
  auto pool = make_pool(pg.app_url(), 2, 16);
  CAF_REQUIRE(call(pool, db_call{"schema_status", db_scope{}, "{}"}));
  CAF_REQUIRE(pg.stop());
  for (int i = 0; i < 3; ++i) {
    auto down = call(pool, db_call{"schema_status", db_scope{}, "{}"});
    CAF_REQUIRE(!down);
    CAF_CHECK_EQUAL(app_code(down.error()), app_errc::db_unavailable);
  }
  CAF_REQUIRE(pg.start());
  auto back = call(pool, db_call{"schema_status", db_scope{}, "{}"});
  CAF_REQUIRE(back);
  CAF_CHECK_EQUAL((*back)["current"], (*back)["expected"]);
}

CAF_TEST_FIXTURE_SCOPE_END()
