#define CAF_SUITE persistence.rls_pg

// Row-level security holds on its own, with no WHERE clause from the API: the database is what
// isolates organizations.

#include <pqxx/pqxx>

#include "support/caf_test.hpp"
#include "support/pg_fixture.hpp"

using namespace djdash;

namespace {

struct two_orgs {
  std::string org_a, org_b, user_a, user_b;
};

/// Creates orgs A and B with one owner each, as the owner role acting as platform admin.
two_orgs seed(const std::string& owner_url) {
  pqxx::connection conn{owner_url};
  pqxx::work tx{conn};
  tx.exec("select set_config('app.platform_admin', 'on', true)");
  two_orgs out;
  auto user = [&](const char* email) {
    return tx.exec_params1("insert into users (email, password_hash) values ($1, 'x') returning id",
                           email)[0]
      .as<std::string>();
  };
  auto org = [&](const char* slug) {
    return tx.exec_params1("insert into organizations (product_context, name, slug)"
                           " values ('tipjar', $1, $1) returning id",
                           slug)[0]
      .as<std::string>();
  };
  out.user_a = user("a@example.com");
  out.user_b = user("b@example.com");
  out.org_a = org("org-a");
  out.org_b = org("org-b");
  for (auto [o, u] : {std::pair{out.org_a, out.user_a}, std::pair{out.org_b, out.user_b}})
    tx.exec_params("insert into organization_members (organization_id, user_id, role)"
                   " values ($1::uuid, $2::uuid, 'owner')",
                   o, u);
  tx.commit();
  return out;
}

struct fixture {
  test::pg_database db;
  two_orgs ids = seed(db.owner_url());
  pqxx::connection app{db.app_url()};

  /// Counts rows of `table` as the application role under org `org_id` ("" = no tenant).
  int count_as(const std::string& org_id, const std::string& table) {
    pqxx::work tx{app};
    tx.exec_params("select set_config('app.org_id', $1, true)", org_id);
    return tx.exec1("select count(*) from " + table)[0].as<int>();
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(rls_tests, fixture)

CAF_TEST(the application role can neither bypass RLS nor act as superuser) {
  pqxx::work tx{app};
  auto row = tx.exec1("select rolsuper, rolbypassrls from pg_roles where rolname = current_user");
  CAF_CHECK_EQUAL(row[0].as<bool>(), false);
  CAF_CHECK_EQUAL(row[1].as<bool>(), false);
}

CAF_TEST(under org A a query without WHERE sees only A rows) {
  CAF_CHECK_EQUAL(count_as(ids.org_a, "organizations"), 1);
  CAF_CHECK_EQUAL(count_as(ids.org_a, "organization_members"), 1);
  pqxx::work tx{app};
  tx.exec_params("select set_config('app.org_id', $1, true)", ids.org_a);
  auto orgs = tx.exec("select id from organizations");
  CAF_REQUIRE_EQUAL(orgs.size(), 1u);
  CAF_CHECK_EQUAL(orgs[0][0].as<std::string>(), ids.org_a);
  // Asking for B's row by id is the same as asking for a row that does not exist.
  auto b = tx.exec_params("select id from organizations where id = $1::uuid", ids.org_b);
  CAF_CHECK_EQUAL(b.size(), 0u);
}

CAF_TEST(with no tenant context nothing is visible) {
  CAF_CHECK_EQUAL(count_as("", "organizations"), 0);
  CAF_CHECK_EQUAL(count_as("", "organization_members"), 0);
  CAF_CHECK_EQUAL(count_as("", "users"), 0);
}

CAF_TEST(inserting a row for B under A context fails and writes nothing) {
  bool refused = false;
  try {
    pqxx::work tx{app};
    tx.exec_params("select set_config('app.org_id', $1, true)", ids.org_a);
    tx.exec_params("insert into organization_members (organization_id, user_id, role)"
                   " values ($1::uuid, $2::uuid, 'member')",
                   ids.org_b, ids.user_a);
    tx.commit();
  } catch (const pqxx::insufficient_privilege&) {
    refused = true;
  }
  CAF_CHECK(refused);
  CAF_CHECK_EQUAL(count_as(ids.org_b, "organization_members"), 1);
}

CAF_TEST(updating B rows under A context changes nothing) {
  {
    pqxx::work tx{app};
    tx.exec_params("select set_config('app.org_id', $1, true)", ids.org_a);
    auto r = tx.exec_params("update organizations set name = 'hijacked' where id = $1::uuid",
                            ids.org_b);
    CAF_CHECK_EQUAL(r.affected_rows(), 0u);
    auto d = tx.exec("delete from organization_members");  // only A's row is reachable
    CAF_CHECK_EQUAL(d.affected_rows(), 1u);
    // Roll back: the point is what was reachable, not to delete it.
  }
  CAF_CHECK_EQUAL(count_as(ids.org_b, "organization_members"), 1);
  pqxx::work tx{app};
  tx.exec_params("select set_config('app.org_id', $1, true)", ids.org_b);
  CAF_CHECK_EQUAL(tx.exec1("select name from organizations")[0].as<std::string>(), "org-b");
}

CAF_TEST(public lookups return public fields only and do not leak admin rights) {
  pqxx::work tx{app};
  auto r = tx.exec("select id, name from public_organization_by_slug('org-b')");
  CAF_REQUIRE_EQUAL(r.size(), 1u);
  CAF_CHECK_EQUAL(r[0][0].as<std::string>(), ids.org_b);
  // After the function returns, the caller is no platform admin: still nothing visible.
  CAF_CHECK_EQUAL(tx.exec1("select count(*) from organizations")[0].as<int>(), 0);
  CAF_CHECK_EQUAL(tx.exec1("select count(*) from public_organization_by_slug('nope')")[0].as<int>(),
                  0);
}

CAF_TEST(a platform admin sees every organization) {
  pqxx::work tx{app};
  tx.exec("select set_config('app.platform_admin', 'on', true)");
  CAF_CHECK_EQUAL(tx.exec1("select count(*) from organizations")[0].as<int>(), 2);
}

CAF_TEST_FIXTURE_SCOPE_END()
