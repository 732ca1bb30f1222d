#define CAF_SUITE persistence.events_pg

// The calendar's database guarantees on their own, without the organization entity in front:
// concurrent writers (two activations during a membership change) still cannot overbook.

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "config/app_config.hpp"
#include "persistence/db_pool.hpp"
#include "protocols/app_errc.hpp"
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

  fixture() {
    db_settings s;
    s.url = db.app_url();
    s.pool_size = 8;
    pool = persistence::spawn_db_pool(sys, s, true);
    pqxx::connection conn{db.owner_url()};
    pqxx::work tx{conn};
    tx.exec("select set_config('app.platform_admin', 'on', true)");
    org_id = tx.exec1("insert into organizations (product_context, name, slug, settings)"
                      " values ('djdash', 'Cal', 'cal', '{\"capacity\": 1}') returning id")[0]
               .as<std::string>();
    tx.commit();
  }

  ~fixture() {
    caf::anon_send_exit(pool, caf::exit_reason::user_shutdown);
  }

  db_scope org() const {
    return db_scope{org_id, "", false, ""};
  }
};

json slot(const char* starts, const char* ends) {
  return {{"title", "Gig"}, {"starts_at", starts}, {"ends_at", ends}, {"status", "booked"}};
}

} // namespace

CAF_TEST_FIXTURE_SCOPE(event_tests, fixture)

CAF_TEST(concurrent writers straight to the database never overbook) {
  constexpr int attempts = 20;
  for (int i = 0; i < attempts; ++i)
    self->send(pool, db_call{"events.create", org(),
                             slot("2027-05-01T18:00:00Z", "2027-05-01T23:00:00Z").dump()});
  int created = 0;
  int conflicts = 0;
  for (int i = 0; i < attempts; ++i)
    self->receive([&](const std::string&) { ++created; },
                  [&](caf::error& err) {
                    if (app_code(err) == app_errc::conflict)
                      ++conflicts;
                  });
  CAF_CHECK_EQUAL(created, 1);
  CAF_CHECK_EQUAL(conflicts, attempts - 1);
}

CAF_TEST(an expired hold stops blocking before its timer runs) {
  auto hold = slot("2027-05-02T18:00:00Z", "2027-05-02T23:00:00Z");
  hold["status"] = "hold";
  hold["hold_expires_at"] = "2020-01-01T00:00:00Z";
  bool ok = false;
  self->request(pool, std::chrono::seconds(10), db_call{"events.create", org(), hold.dump()})
    .receive([&](const std::string&) { ok = true; }, [](caf::error&) {});
  CAF_REQUIRE(ok);
  bool booked = false;
  self->request(pool, std::chrono::seconds(10),
                db_call{"events.create", org(),
                        slot("2027-05-02T19:00:00Z", "2027-05-02T20:00:00Z").dump()})
    .receive([&](const std::string&) { booked = true; }, [](caf::error&) {});
  CAF_CHECK(booked);
  // The timer for that hold is due: claiming it finds it, and expiring releases the hold.
  json claimed;
  self->request(pool, std::chrono::seconds(10),
                db_call{"timers.claim", db_scope{}, R"({"limit":10,"lease_s":30})"})
    .receive([&](const std::string& s) { claimed = json::parse(s); }, [](caf::error&) {});
  CAF_REQUIRE_EQUAL(claimed["items"].size(), 1u);
  auto timer = claimed["items"][0];
  json released;
  self->request(pool, std::chrono::seconds(10),
                db_call{"events.expire_hold", org(),
                        json{{"event_id", timer["target_id"]}}.dump()})
    .receive([&](const std::string& s) { released = json::parse(s); }, [](caf::error&) {});
  CAF_CHECK_EQUAL(released["released"], true);
  // Claimed and done: nothing is due any more.
  self->request(pool, std::chrono::seconds(10),
                db_call{"timers.claim", db_scope{}, R"({"limit":10,"lease_s":30})"})
    .receive([&](const std::string& s) { claimed = json::parse(s); }, [](caf::error&) {});
  CAF_CHECK_EQUAL(claimed["items"].size(), 0u);
}

CAF_TEST_FIXTURE_SCOPE_END()
