#define CAF_SUITE persistence.reminders_pg

// Durable reminders: triggers arm a timer for every sent invoice with a due date and every open
// task with a due time; when it fires, the DJ gets a notification (and, for an invoice, a
// follow-up task), once.

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "config/app_config.hpp"
#include "persistence/db_pool.hpp"
#include "support/caf_test.hpp"
#include "support/pg_fixture.hpp"

using namespace djdash;
using json = nlohmann::json;

namespace {

struct fixture {
  test::pg_database db;
  app_config cfg;
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  db_actor pool;
  std::string org_id;

  ~fixture() {
    caf::anon_send_exit(pool, caf::exit_reason::user_shutdown);
  }

  template <class F>
  auto owner(F f) {
    pqxx::connection conn{db.owner_url()};
    pqxx::work tx{conn};
    tx.exec("select set_config('app.platform_admin', 'on', true)");
    auto out = f(tx);
    tx.commit();
    return out;
  }

  fixture() {
    db_settings s;
    s.url = db.app_url();
    s.pool_size = 2;
    pool = persistence::spawn_db_pool(sys, s, true);
    org_id = owner([](pqxx::work& tx) {
      return tx.exec1("insert into organizations (product_context, name, slug)"
                      " values ('m10dj', 'Rem', 'rem') returning id")[0].as<std::string>();
    });
  }

  json call(const std::string& op, const json& args) {
    json out;
    self->request(pool, std::chrono::seconds(10), db_call{op, db_scope{org_id, "", false, ""},
                                                          args.dump()})
      .receive([&](const std::string& s) { out = json::parse(s); },
               [&](caf::error& err) { CAF_FAIL("op failed: " << caf::to_string(err)); });
    return out;
  }

  /// Claims what is due and runs it as the timer runner does; returns how many notified.
  int run_due() {
    int notified = 0;
    auto claimed = call("timers.claim", {{"limit", 10}, {"lease_s", 30}});
    for (auto& t : claimed["items"])
      if (call("timers.remind", {{"id", t["id"]}, {"kind", t["kind"]},
                                 {"target_id", t["target_id"]}})["notified"] == true)
        ++notified;
    return notified;
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(reminder_tests, fixture)

CAF_TEST(an overdue sent invoice notifies the DJ and opens a follow-up task once) {
  owner([&](pqxx::work& tx) {
    tx.exec_params("insert into invoices (organization_id, seq, number, status, currency,"
                   " line_items, total_cents, due_date) values ($1::uuid, 1, 'INV-0001', 'sent',"
                   " 'usd', '[]', 50000, current_date - 3)",
                   org_id);
    return 0;
  });
  CAF_CHECK_EQUAL(run_due(), 1);
  CAF_CHECK_EQUAL(run_due(), 0);  // done: never twice
  auto notes = call("notifications.list", json::object());
  CAF_REQUIRE_EQUAL(notes["items"].size(), 1u);
  CAF_CHECK_EQUAL(notes["items"][0]["kind"], "invoice.overdue");
  CAF_CHECK_EQUAL(notes["items"][0]["details"]["outstanding_cents"], 50000);
  auto tasks = owner([](pqxx::work& tx) {
    return tx.exec1("select count(*) from tasks where title like 'Invoice INV-0001 is overdue%'")[0]
      .as<int>();
  });
  CAF_CHECK_EQUAL(tasks, 1);
}

CAF_TEST(a paid invoice or a finished task retires its reminder) {
  owner([&](pqxx::work& tx) {
    tx.exec_params("insert into invoices (organization_id, seq, number, status, currency,"
                   " line_items, total_cents, due_date) values ($1::uuid, 1, 'INV-0001', 'sent',"
                   " 'usd', '[]', 100, current_date - 1)",
                   org_id);
    tx.exec_params("update invoices set status = 'paid', paid_cents = 100"
                   " where organization_id = $1::uuid",
                   org_id);
    tx.exec_params("insert into tasks (organization_id, title, due_at, done)"
                   " values ($1::uuid, 'Call the bride', now() - interval '1 minute', true)",
                   org_id);
    return 0;
  });
  CAF_CHECK_EQUAL(run_due(), 0);
  CAF_CHECK_EQUAL(call("notifications.list", json::object())["items"].size(), 0u);
}

CAF_TEST(a due open task becomes a notification) {
  owner([&](pqxx::work& tx) {
    tx.exec_params("insert into tasks (organization_id, title, due_at)"
                   " values ($1::uuid, 'Send the playlist form', now() - interval '1 second')",
                   org_id);
    tx.exec_params("insert into tasks (organization_id, title, due_at)"
                   " values ($1::uuid, 'Later', now() + interval '1 day')",
                   org_id);
    return 0;
  });
  CAF_CHECK_EQUAL(run_due(), 1);
  auto notes = call("notifications.list", json::object());
  CAF_REQUIRE_EQUAL(notes["items"].size(), 1u);
  CAF_CHECK_EQUAL(notes["items"][0]["title"], "Follow-up due: Send the playlist form");
}

CAF_TEST_FIXTURE_SCOPE_END()
