#define CAF_SUITE persistence.migrations_pg

#include "persistence/migrations.hpp"

#include <future>

#include <pqxx/pqxx>

#include "protocols/app_errc.hpp"
#include "support/caf_test.hpp"
#include "support/pg_fixture.hpp"

using namespace djdash;

namespace {

/// An empty database (no migrations applied), dropped afterwards.
struct empty_database {
  std::string admin = test::with_database(test::required_env("DJDASH_TEST_OWNER_URL"), "postgres");
  std::string name = "djdash_empty_" + std::to_string(test::free_port());
  std::string owner_url;
  std::string app_url;

  empty_database() {
    pqxx::connection conn{admin};
    pqxx::nontransaction tx{conn};
    tx.exec0("create database " + tx.quote_name(name));
    owner_url = test::with_database(test::required_env("DJDASH_TEST_OWNER_URL"), name);
    app_url = test::with_database(test::required_env("DJDASH_TEST_DATABASE_URL"), name);
  }

  ~empty_database() {
    pqxx::connection conn{admin};
    pqxx::nontransaction tx{conn};
    tx.exec0("drop database if exists " + tx.quote_name(name) + " with (force)");
  }

  int recorded_versions() {
    pqxx::connection conn{owner_url};
    pqxx::work tx{conn};
    return tx.exec1("select count(*) from schema_migrations")[0].as<int>();
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(migration_tests, empty_database)

CAF_TEST(migrations apply in order once and are recorded) {
  auto total = static_cast<int>(persistence::embedded_migrations().size());
  CAF_REQUIRE(total > 0);
  auto first = persistence::run_migrations(owner_url, app_url);
  CAF_REQUIRE(first);
  CAF_CHECK_EQUAL(*first, total);
  CAF_CHECK_EQUAL(recorded_versions(), total);
  auto again = persistence::run_migrations(owner_url, app_url);
  CAF_REQUIRE(again);
  CAF_CHECK_EQUAL(*again, 0);
  CAF_CHECK_EQUAL(recorded_versions(), total);
}

CAF_TEST(nodes migrating at the same time apply each migration once) {
  auto a = std::async(std::launch::async, [&] { return persistence::run_migrations(owner_url, app_url); });
  auto b = std::async(std::launch::async, [&] { return persistence::run_migrations(owner_url, app_url); });
  auto ra = a.get();
  auto rb = b.get();
  CAF_REQUIRE(ra && rb);
  CAF_CHECK_EQUAL(*ra + *rb, static_cast<int>(persistence::embedded_migrations().size()));
}

CAF_TEST(the application role reads the schema version but cannot rewrite it) {
  CAF_REQUIRE(persistence::run_migrations(owner_url, app_url));
  pqxx::connection conn{app_url};
  {
    pqxx::work tx{conn};
    CAF_CHECK(tx.exec1("select max(version) from schema_migrations")[0].as<int>()
              == persistence::expected_schema_version());
  }
  bool refused = false;
  try {
    pqxx::work tx{conn};
    tx.exec("delete from schema_migrations");
  } catch (const pqxx::insufficient_privilege&) {
    refused = true;
  }
  CAF_CHECK(refused);
}

CAF_TEST(an unreachable database is reported as unavailable) {
  auto r = persistence::run_migrations(
    "postgresql://nobody:x@127.0.0.1:" + std::to_string(test::free_port()) + "/none", app_url);
  CAF_REQUIRE(!r);
  CAF_CHECK_EQUAL(app_code(r.error()), app_errc::db_unavailable);
}

CAF_TEST_FIXTURE_SCOPE_END()
