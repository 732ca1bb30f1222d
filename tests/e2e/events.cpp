#define CAF_SUITE e2e.events

// The calendar through the real binary: no double booking under concurrency, availability,
// holds released by durable timers across a node restart.

#include <atomic>
#include <csignal>
#include <thread>
#include <vector>

#include <pqxx/pqxx>

#include "accounts_harness.hpp"
#include "node_harness.hpp"
#include "support/caf_test.hpp"

using namespace djdash;
using namespace djdash::test;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

struct fixture {
  pg_database db;
  std::string config = write_config_file(relaxed_auth_config());
  std::unique_ptr<node> n;
  api client;
  account owner;

  fixture() {
    start_node();
    auto r = client.signup("dj@example.com", "correct-horse-1", product("djdash"), "Beat Co");
    CAF_REQUIRE(r && r->status == 201);
    owner = account::from("dj@example.com", "correct-horse-1", r->json());
  }

  void start_node() {
    n = std::make_unique<node>(db.app_url(), db.owner_url(),
                               std::map<std::string, std::string>{},
                               std::vector<std::string>{"--config", config});
    CAF_REQUIRE(n->wait_listening());
    client.port = n->port();
  }

  void set_capacity(int capacity) {
    auto r = client.call("PATCH", "/api/organizations/current",
                         json{{"settings", {{"capacity", capacity}}}}, owner.auth());
    CAF_REQUIRE(r && r->status == 200);
  }

  json event(const std::string& starts, const std::string& ends, const std::string& status) {
    return {{"title", "Gig"},  {"event_type", "wedding"}, {"starts_at", starts},
            {"ends_at", ends}, {"status", status}};
  }

  /// Fires `n` bookings of the same slot at once; returns {created, conflicts, other}.
  std::array<int, 3> race(int count, const json& body) {
    std::atomic<int> created{0}, conflicts{0}, other{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < count; ++i)
      threads.emplace_back([&] {
        auto r = client.call("POST", "/api/events", body, owner.auth());
        if (r && r->status == 201)
          ++created;
        else if (r && r->status == 409)
          ++conflicts;
        else
          ++other;
      });
    for (auto& t : threads)
      t.join();
    return {created.load(), conflicts.load(), other.load()};
  }

  int64_t stored_events(const std::string& starts) {
    pqxx::connection conn{db.owner_url()};
    pqxx::work tx{conn};
    tx.exec("select set_config('app.platform_admin', 'on', true)");
    return tx.exec_params1("select count(*) from events where starts_at = $1::timestamptz"
                           " and status in ('hold', 'booked')",
                           starts)[0].as<int64_t>();
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(event_tests, fixture)

CAF_TEST(fifty concurrent bookings of one slot respect the capacity) {
  auto one = race(50, event("2027-06-12T18:00:00-05:00", "2027-06-12T23:00:00-05:00", "booked"));
  CAF_CHECK_EQUAL(one[0], 1);
  CAF_CHECK_EQUAL(one[1], 49);
  CAF_CHECK_EQUAL(one[2], 0);
  CAF_CHECK_EQUAL(stored_events("2027-06-12T18:00:00-05:00"), 1);
  set_capacity(2);
  auto two = race(50, event("2027-07-10T18:00:00-05:00", "2027-07-10T23:00:00-05:00", "hold"));
  CAF_CHECK_EQUAL(two[0], 2);
  CAF_CHECK_EQUAL(two[1], 48);
  CAF_CHECK_EQUAL(two[2], 0);
  CAF_CHECK_EQUAL(stored_events("2027-07-10T18:00:00-05:00"), 2);
}

CAF_TEST(overlap is checked at every moment and back to back events fit) {
  auto a = client.call("POST", "/api/events",
                       event("2027-08-01T18:00:00Z", "2027-08-01T22:00:00Z", "booked"),
                       owner.auth());
  CAF_REQUIRE(a && a->status == 201);
  auto after = client.call("POST", "/api/events",
                           event("2027-08-01T22:00:00Z", "2027-08-02T01:00:00Z", "booked"),
                           owner.auth());
  CAF_CHECK(after && after->status == 201);
  auto overlapping = client.call("POST", "/api/events",
                                 event("2027-08-01T21:59:00Z", "2027-08-01T22:30:00Z", "hold"),
                                 owner.auth());
  CAF_REQUIRE(overlapping);
  CAF_CHECK_EQUAL(overlapping->status, 409);
  CAF_CHECK_EQUAL(overlapping->error_code(), "conflict");
  // Cancelling frees the slot; a cancelled event cannot come back.
  auto id = a->json()["id"].get<std::string>();
  auto cancel = client.call("PATCH", "/api/events/" + id, json{{"status", "cancelled"}},
                            owner.auth());
  CAF_REQUIRE(cancel && cancel->status == 200);
  auto now_fits = client.call("POST", "/api/events",
                              event("2027-08-01T21:59:00Z", "2027-08-01T22:00:00Z", "hold"),
                              owner.auth());
  CAF_CHECK(now_fits && now_fits->status == 201);
  auto revive = client.call("PATCH", "/api/events/" + id, json{{"status", "booked"}},
                            owner.auth());
  CAF_REQUIRE(revive);
  CAF_CHECK_EQUAL(revive->status, 409);
}

CAF_TEST(availability answers free or not and why in the org timezone) {
  auto patch = client.call("PATCH", "/api/organizations/current",
                           json{{"timezone", "America/Chicago"}}, owner.auth());
  CAF_REQUIRE(patch && patch->status == 200);
  // 23:00 Chicago on Sept 3 is already Sept 4 in UTC: it still belongs to Sept 3 locally.
  auto r = client.call("POST", "/api/events",
                       event("2027-09-03T23:00:00-05:00", "2027-09-04T01:00:00-05:00", "booked"),
                       owner.auth());
  CAF_REQUIRE(r && r->status == 201);
  auto taken = client.get("/api/events/availability?date=2027-09-03", owner.auth());
  CAF_REQUIRE(taken && taken->status == 200);
  auto body = taken->json();
  CAF_CHECK_EQUAL(body["available"], false);
  CAF_CHECK_EQUAL(body["events"].size(), 1u);
  CAF_CHECK(body["reason"].get<std::string>().find("fully booked") != std::string::npos);
  auto free_day = client.get("/api/events/availability?date=2027-09-05", owner.auth());
  CAF_REQUIRE(free_day && free_day->status == 200);
  auto free_body = free_day->json();
  CAF_CHECK_EQUAL(free_body["available"], true);
  auto bad = client.get("/api/events/availability?date=Sept-5", owner.auth());
  CAF_REQUIRE(bad);
  CAF_CHECK_EQUAL(bad->status, 400);
}

CAF_TEST(bad input is a 400 naming the field and writes nothing) {
  auto before = stored_events("2027-10-01T18:00:00Z");
  for (auto& body : std::vector<json>{
         {{"starts_at", "2027-10-01T18:00:00Z"}, {"ends_at", "2027-10-01T20:00:00Z"}},
         {{"title", "x"}, {"starts_at", "tomorrow"}, {"ends_at", "2027-10-01T20:00:00Z"}},
         {{"title", "x"}, {"starts_at", "2027-10-01T18:00:00Z"}, {"ends_at", "2027-10-01T17:00:00Z"}},
         {{"title", "x"}, {"starts_at", "2027-10-01T18:00:00Z"}, {"ends_at", "2027-10-01T20:00:00Z"},
          {"event_type", "rave"}},
         {{"title", "x"}, {"starts_at", "2027-10-01T18:00:00Z"}, {"ends_at", "2027-10-01T20:00:00Z"},
          {"status", "completed"}},
         {{"title", "x"}, {"starts_at", "2027-10-01T18:00:00Z"}, {"ends_at", "2027-10-01T20:00:00Z"},
          {"guest_count", -3}},
         {{"title", "x"}, {"starts_at", "2027-10-01T18:00:00Z"}, {"ends_at", "2027-10-01T20:00:00Z"},
          {"dj", "me"}}}) {
    auto r = client.call("POST", "/api/events", body, owner.auth());
    CAF_REQUIRE(r);
    CAF_CHECK_EQUAL(r->status, 400);
  }
  auto ghost = client.call("POST", "/api/events",
                           json{{"title", "x"}, {"starts_at", "2027-10-01T18:00:00Z"},
                                {"ends_at", "2027-10-01T20:00:00Z"},
                                {"contact_id", "00000000-0000-4000-8000-000000000001"}},
                           owner.auth());
  CAF_REQUIRE(ghost);
  CAF_CHECK_EQUAL(ghost->status, 404);
  CAF_CHECK_EQUAL(stored_events("2027-10-01T18:00:00Z"), before);
  auto missing = client.get("/api/events/00000000-0000-4000-8000-000000000009", owner.auth());
  CAF_REQUIRE(missing);
  CAF_CHECK_EQUAL(missing->status, 404);
  auto malformed = client.get("/api/events/not-an-id", owner.auth());
  CAF_REQUIRE(malformed);
  CAF_CHECK_EQUAL(malformed->status, 404);
}

CAF_TEST(a stale version is refused and the list pages through the calendar) {
  auto r = client.call("POST", "/api/events",
                       event("2027-11-01T18:00:00Z", "2027-11-01T20:00:00Z", "hold"),
                       owner.auth());
  CAF_REQUIRE(r && r->status == 201);
  auto ev = r->json();
  auto id = ev["id"].get<std::string>();
  auto v = ev["version"].get<int64_t>();
  auto ok = client.call("PATCH", "/api/events/" + id, json{{"venue", "The Hall"}, {"version", v}},
                        owner.auth());
  CAF_REQUIRE(ok && ok->status == 200);
  auto stale = client.call("PATCH", "/api/events/" + id, json{{"venue", "Elsewhere"}, {"version", v}},
                           owner.auth());
  CAF_REQUIRE(stale);
  CAF_CHECK_EQUAL(stale->status, 409);
  for (int i = 2; i <= 4; ++i)
    client.call("POST", "/api/events",
                event("2027-11-0" + std::to_string(i) + "T18:00:00Z",
                      "2027-11-0" + std::to_string(i) + "T20:00:00Z", "booked"),
                owner.auth());
  std::set<std::string> seen;
  std::string cursor;
  for (int page = 0; page < 10; ++page) {
    auto target = std::string{"/api/events?limit=2&from=2027-11-01T00:00:00Z"}
                  + (cursor.empty() ? "" : "&cursor=" + cursor);
    auto list = client.get(target, owner.auth());
    CAF_REQUIRE(list && list->status == 200);
    auto body = list->json();
    for (auto& e : body["items"])
      seen.insert(e["id"].get<std::string>());
    if (body["next_cursor"].is_null())
      break;
    cursor = body["next_cursor"].get<std::string>();
  }
  CAF_CHECK_EQUAL(seen.size(), 4u);
}

CAF_TEST(a hold past its expiry is released after a node restart) {
  auto expires = as_platform_owner(db.owner_url(), [](pqxx::work& tx) {
    return tx.exec1("select to_char(now() at time zone 'utc' + interval '3 seconds',"
                    " 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')")[0].as<std::string>();
  });
  auto body = event("2027-12-31T20:00:00Z", "2028-01-01T01:00:00Z", "hold");
  body["hold_expires_at"] = expires;
  auto r = client.call("POST", "/api/events", body, owner.auth());
  CAF_REQUIRE(r && r->status == 201);
  auto id = r->json()["id"].get<std::string>();
  // The node dies before the hold expires; nobody calls anything while it is down.
  n->process().signal(SIGKILL);
  n->process().wait(10s);
  std::this_thread::sleep_for(4s);
  start_node();
  std::string status = "hold";
  for (int i = 0; i < 100 && status == "hold"; ++i) {
    std::this_thread::sleep_for(100ms);
    status = as_platform_owner(db.owner_url(), [&](pqxx::work& tx) {
      return tx.exec_params1("select status from events where id = $1::uuid", id)[0]
        .as<std::string>();
    });
  }
  CAF_CHECK_EQUAL(status, "cancelled");
}

CAF_TEST_FIXTURE_SCOPE_END()
