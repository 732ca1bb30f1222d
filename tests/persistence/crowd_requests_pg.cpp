#define CAF_SUITE persistence.crowd_requests_pg

// Crowd requests against real PostgreSQL, through the DB pool, as the application role: the
// organization's rules (minimums, priority tiers, accepting requests, per-guest limit, song
// repeat window) with nothing written on a refusal, queue order (paid priority, then time, the
// DJ's moves), status transitions with the charge-on-play timers, and row-level security.

#include <algorithm>
#include <set>

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "config/app_config.hpp"
#include "persistence/db_pool.hpp"
#include "persistence/operations.hpp"
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

  fixture() {
    db_settings s;
    s.url = db.app_url();
    s.pool_size = 4;
    pool = persistence::spawn_db_pool(sys, s, true);
  }

  ~fixture() {
    caf::anon_send_exit(pool, caf::exit_reason::user_shutdown);
  }

  caf::expected<json> call(const std::string& op, db_scope scope, const json& args) {
    caf::expected<json> out = caf::error{};
    self->request(pool, std::chrono::seconds(30), db_call{op, std::move(scope), args.dump()})
      .receive([&](const std::string& s) { out = json::parse(s); },
               [&](caf::error& err) { out = std::move(err); });
    return out;
  }

  json must(const caf::expected<json>& r) {
    if (!r)
      CAF_FAIL("operation failed: " << error_message(r.error()));
    return *r;
  }

  /// Signs up an owner with their own organization; returns its member scope.
  db_scope org(const std::string& email, char token, const json& settings) {
    auto r = must(call("auth.signup", db_scope{},
                       {{"email", email},
                        {"password_hash", "$argon2id$v=19$m=65536,t=2,p=1$x$y"},
                        {"organization_name", "Crowd " + email},
                        {"product_context", "tipjar"},
                        {"refresh_token_hash", std::string(64, token)},
                        {"refresh_ttl_s", 3600}}));
    db_scope member{r["organization"]["id"], r["user"]["id"], false, "member"};
    auto admin = member;
    admin.role = "admin";
    must(call("org.update", admin, {{"settings", settings}}));
    return member;
  }

  /// The scope a public submit runs in: the organization found by its slug, no user.
  static db_scope guest(const db_scope& org) {
    return db_scope{org.org_id, "", false, ""};
  }

  caf::expected<json> submit(const db_scope& org, json args) {
    if (!args.contains("requester_key"))
      args["requester_key"] = "ip:192.0.2.1";
    if (!args.contains("requester_ip"))
      args["requester_ip"] = "192.0.2.1";
    return call("crowd_requests.submit", guest(org), args);
  }

  /// Runs `sql` as the owner role with every tenant visible.
  template <class... Ts>
  pqxx::result owner_exec(const std::string& sql, Ts&&... params) {
    pqxx::connection conn{db.owner_url()};
    pqxx::work tx{conn};
    tx.exec("select set_config('app.platform_admin', 'on', true)");
    auto r = tx.exec_params(sql, std::forward<Ts>(params)...);
    tx.commit();
    return r;
  }

  int64_t rows(const char* table) {
    return owner_exec(std::string{"select count(*) from "} + table)[0][0].as<int64_t>();
  }

  /// A Stripe account that can take charges (what onboarding leaves behind).
  void connect_stripe(const db_scope& org, const std::string& account) {
    owner_exec("insert into stripe_accounts (organization_id, stripe_account_id,"
               " charges_enabled) values ($1::uuid, $2, true)",
               org.org_id, account);
  }

  /// What the payments side does when Stripe reports the payment.
  void settle(const std::string& id, const std::string& payment_status) {
    owner_exec("update crowd_requests set payment_status = $2, status = 'queued'"
               " where id = $1::uuid and status = 'pending_payment'",
               id, payment_status);
  }

  std::vector<std::string> queue_titles(const db_scope& org, const std::string& status = "") {
    json args = json::object();
    if (!status.empty())
      args["status"] = status;
    auto page = must(call("crowd_requests.list", org, args));
    std::vector<std::string> out;
    for (auto& item : page["items"])
      out.push_back(item["song_title"].is_string() ? item["song_title"].get<std::string>()
                                                   : item["kind"].get<std::string>());
    return out;
  }
};

app_errc code_of(const caf::expected<json>& r) {
  return r ? app_errc::internal : app_code(r.error());
}

std::string id(const json& resource) {
  return resource["id"].get<std::string>();
}

const json free_songs = {{"minimum_amounts", {{"song", 0}, {"shoutout", 0}, {"tip", 100}}},
                         {"priority_prices", {{"fast_track", 500}, {"next_up", 1000}}},
                         {"song_repeat_window_minutes", 60},
                         {"max_pending_per_requester", 100}};

json song(const std::string& title, int64_t cents = 0) {
  return {{"kind", "song"}, {"song_title", title}, {"amount_cents", cents}};
}

} // namespace

CAF_TEST_FIXTURE_SCOPE(crowd_request_tests, fixture)

CAF_TEST(free requests queue at once and the queue plays paid priority first then by time) {
  auto a = org("dj@example.com", 'a', free_songs);
  connect_stripe(a, "acct_A1");
  auto first = must(submit(a, song("First")));
  CAF_CHECK_EQUAL(first["status"], "queued");
  CAF_CHECK_EQUAL(first["payment_status"], "none");
  CAF_CHECK(!first.contains("position"));  // the hot path skips counting the queue
  auto first_now = must(call("crowd_requests.get", a, {{"id", id(first)}}));
  CAF_CHECK_EQUAL(first_now["position"], 1);
  CAF_CHECK_EQUAL(first["currency"], "usd");
  CAF_CHECK_EQUAL(first["requester_ip"], "192.0.2.1");
  auto code = first["payment_code"].get<std::string>();
  CAF_CHECK_EQUAL(code.size(), 6u);
  CAF_CHECK(std::all_of(code.begin(), code.end(),
                        [](char c) { return (c >= 'A' && c <= 'Z') || (c >= '2' && c <= '9'); }));
  must(submit(a, song("Second")));
  // Paid priority: pending until the payment lands, then ahead of the free ones.
  json paid_args{{"payments_configured", true}};
  auto fast = song("Fast", 500);
  fast["priority"] = "fast_track";
  fast.update(paid_args);
  auto fast_r = must(submit(a, fast));
  CAF_CHECK_EQUAL(fast_r["status"], "pending_payment");
  CAF_CHECK_EQUAL(fast_r["payment_status"], "pending");
  CAF_CHECK_EQUAL(fast_r["priority_cents"], 500);
  CAF_CHECK_EQUAL(fast_r["charge_on_play"], true);
  auto fast_now = must(call("crowd_requests.get", a, {{"id", id(fast_r)}}));
  CAF_CHECK_EQUAL(fast_now["position"], nullptr);
  auto next = song("Next up", 1500);
  next["priority"] = "next_up";
  next.update(paid_args);
  auto next_r = must(submit(a, next));
  // A paid request without priority plays by time like a free one.
  auto plain = song("Plain paid", 300);
  plain.update(paid_args);
  auto plain_r = must(submit(a, plain));
  CAF_CHECK_EQUAL(queue_titles(a), (std::vector<std::string>{"First", "Second"}));
  settle(id(fast_r), "authorized");
  settle(id(plain_r), "paid");
  settle(id(next_r), "paid");
  must(submit(a, song("Third")));
  CAF_CHECK_EQUAL(queue_titles(a), (std::vector<std::string>{"Next up", "Fast", "First", "Second",
                                                             "Plain paid", "Third"}));
  auto page = must(call("crowd_requests.list", a, json::object()));
  for (size_t i = 0; i < page["items"].size(); ++i) {
    auto pos = page["items"][i]["position"];
    CAF_CHECK_EQUAL(pos, static_cast<int64_t>(i + 1));
  }
  // The guest's view: the same place, public fields only.
  auto pub = must(call("crowd_requests.get_public", db_scope{}, {{"id", id(first)}}));
  CAF_CHECK_EQUAL(pub["position"], 3);
  CAF_CHECK_EQUAL(pub["status"], "queued");
  CAF_CHECK_EQUAL(pub["payment_code"], code);
  CAF_CHECK(!pub.contains("requester_ip"));
  CAF_CHECK(!pub.contains("requester_key"));
  CAF_CHECK(!pub.contains("stripe_payment_intent_id"));
  // Paging walks the same order.
  auto p1 = must(call("crowd_requests.list", a, {{"limit", 4}}));
  CAF_REQUIRE(p1["next_cursor"].is_string());
  auto p2 = must(call("crowd_requests.list", a, {{"limit", 4}, {"cursor", p1["next_cursor"]}}));
  CAF_CHECK_EQUAL(p1["items"].size(), 4u);
  CAF_CHECK_EQUAL(p2["items"].size(), 2u);
  CAF_CHECK_EQUAL(p2["items"][0]["song_title"], "Plain paid");
  CAF_CHECK_EQUAL(p2["next_cursor"], nullptr);
  auto bad_cursor = call("crowd_requests.list", a, {{"cursor", "bm90LWEtY3Vyc29y"}});
  CAF_CHECK_EQUAL(code_of(bad_cursor), app_errc::bad_request);
}

CAF_TEST(every invalid field is refused with a clear error and nothing is written) {
  auto a = org("dj@example.com", 'a',
               {{"minimum_amounts", {{"song", 500}, {"shoutout", 0}, {"tip", 100}}},
                {"priority_prices", {{"next_up", 1000}}}});
  auto before = rows("crowd_requests");
  struct bad_case {
    json args;
    app_errc code;
  };
  std::string long_title(201, 'x');
  std::vector<bad_case> cases{
    {{{"kind", "karaoke"}, {"amount_cents", 0}}, app_errc::bad_request},
    {{{"amount_cents", 0}}, app_errc::bad_request},
    {{{"kind", "song"}, {"amount_cents", 500}}, app_errc::bad_request},          // no title
    {{{"kind", "song"}, {"song_title", "   "}, {"amount_cents", 500}}, app_errc::bad_request},
    {{{"kind", "song"}, {"song_title", long_title}, {"amount_cents", 500}}, app_errc::bad_request},
    {{{"kind", "song"}, {"song_title", "a\x01"}, {"amount_cents", 500}}, app_errc::bad_request},
    {{{"kind", "song"}, {"song_title", 7}, {"amount_cents", 500}}, app_errc::bad_request},
    {{{"kind", "song"}, {"song_title", "Hey"}}, app_errc::bad_request},         // no amount
    {{{"kind", "song"}, {"song_title", "Hey"}, {"amount_cents", "5"}}, app_errc::bad_request},
    {{{"kind", "song"}, {"song_title", "Hey"}, {"amount_cents", 5.5}}, app_errc::bad_request},
    {{{"kind", "song"}, {"song_title", "Hey"}, {"amount_cents", -1}}, app_errc::bad_request},
    {{{"kind", "shoutout"}, {"amount_cents", 0}}, app_errc::bad_request},       // no message
    {{{"kind", "tip"}, {"song_title", "x"}, {"amount_cents", 300}}, app_errc::bad_request},
    {{{"kind", "tip"}, {"priority", "next_up"}, {"amount_cents", 3000}}, app_errc::bad_request},
    {{{"kind", "song"}, {"song_title", "Hey"}, {"amount_cents", 500}, {"colour", "red"}},
     app_errc::bad_request},
    {{{"kind", "song"}, {"song_title", "Hey"}, {"amount_cents", 499}}, app_errc::unprocessable},
    {{{"kind", "song"}, {"song_title", "Hey"}, {"amount_cents", 0}}, app_errc::unprocessable},
    {{{"kind", "song"}, {"song_title", "Hey"}, {"amount_cents", 1499}, {"priority", "next_up"}},
     app_errc::unprocessable},
    {{{"kind", "song"}, {"song_title", "Hey"}, {"amount_cents", 5000}, {"priority", "vip"}},
     app_errc::unprocessable},
    {{{"kind", "tip"}, {"amount_cents", 0}}, app_errc::unprocessable},
    {{{"kind", "tip"}, {"amount_cents", 99}}, app_errc::unprocessable},
    // Paid while payments are unavailable: not configured on the node, or no Stripe account.
    {{{"kind", "song"}, {"song_title", "Hey"}, {"amount_cents", 500}}, app_errc::conflict},
    {{{"kind", "song"}, {"song_title", "Hey"}, {"amount_cents", 500},
      {"payments_configured", true}},
     app_errc::conflict},
  };
  for (auto& c : cases) {
    auto r = submit(a, c.args);
    if (code_of(r) != c.code)
      CAF_TEST_PRINT_ERROR("args " << c.args.dump() << " gave "
                                   << (r ? r->dump() : error_message(r.error())));
    CAF_CHECK_EQUAL(code_of(r), c.code);
  }
  CAF_CHECK_EQUAL(rows("crowd_requests"), before);
  // A free shout-out is fine here (its minimum is 0); names and messages are trimmed.
  auto ok = must(submit(a, {{"kind", "shoutout"}, {"message", "  Happy birthday Sam!  "},
                            {"requester_name", " Alex "}, {"amount_cents", 0}}));
  CAF_CHECK_EQUAL(ok["message"], "Happy birthday Sam!");
  CAF_CHECK_EQUAL(ok["requester_name"], "Alex");
  CAF_CHECK_EQUAL(ok["status"], "queued");
  // Not accepting requests: refused, nothing written.
  auto admin = a;
  admin.role = "admin";
  must(call("org.update", admin, {{"settings", {{"accepting_requests", false}}}}));
  auto closed = submit(a, {{"kind", "shoutout"}, {"message", "hi"}, {"amount_cents", 0}});
  CAF_CHECK_EQUAL(code_of(closed), app_errc::conflict);
  CAF_CHECK_EQUAL(rows("crowd_requests"), before + 1);
  // Unknown organization scope: nothing to submit to.
  auto nowhere = call("crowd_requests.submit",
                      db_scope{"00000000-0000-4000-8000-000000000000", "", false, ""},
                      song("x"));
  CAF_CHECK(!nowhere);
}

CAF_TEST(per guest limit and song repeat window hold even under concurrent submits) {
  auto a = org("dj@example.com", 'a',
               {{"minimum_amounts", {{"song", 0}, {"shoutout", 0}, {"tip", 100}}},
                {"max_pending_per_requester", 3},
                {"song_repeat_window_minutes", 30}});
  // Ten submits of one guest at once (4 connections): exactly three get through.
  auto send = [&](const json& args) {
    return self->request(pool, std::chrono::seconds(30),
                         db_call{"crowd_requests.submit", fixture::guest(a), args.dump()});
  };
  std::vector<decltype(send(json{}))> pending;
  for (int i = 0; i < 10; ++i)
    pending.push_back(send({{"kind", "song"},
                            {"song_title", "Song " + std::to_string(i)},
                            {"amount_cents", 0},
                            {"requester_key", "k:guest-one"}}));
  int ok = 0, refused = 0;
  for (auto& p : pending)
    p.receive([&](const std::string&) { ++ok; },
              [&](caf::error& err) {
                if (app_code(err) == app_errc::conflict)
                  ++refused;
              });
  CAF_CHECK_EQUAL(ok, 3);
  CAF_CHECK_EQUAL(refused, 7);
  // Once one of them has played, the guest may send another.
  auto queue = must(call("crowd_requests.list", a, json::object()));
  CAF_REQUIRE_EQUAL(queue["items"].size(), 3u);
  must(call("crowd_requests.update", a, {{"id", queue["items"][0]["id"]}, {"status", "played"}}));
  CAF_CHECK(submit(a, {{"kind", "song"}, {"song_title", "One more"}, {"amount_cents", 0},
                       {"requester_key", "k:guest-one"}}));
  // Other guests are not limited by that one.
  CAF_CHECK(submit(a, {{"kind", "song"}, {"song_title", "Another guest"}, {"amount_cents", 0},
                       {"requester_key", "k:guest-two"}}));
  // The same song, however it is typed, is refused inside the window; with another artist
  // it is another song.
  must(submit(a, {{"kind", "song"}, {"song_title", "Dancing Queen"}, {"artist", "ABBA"},
                  {"amount_cents", 0}, {"requester_key", "k:g3"}}));
  auto again = submit(a, {{"kind", "song"}, {"song_title", "  dancing queen "},
                          {"artist", "abba"}, {"amount_cents", 0}, {"requester_key", "k:g4"}});
  CAF_CHECK_EQUAL(code_of(again), app_errc::conflict);
  CAF_CHECK(submit(a, {{"kind", "song"}, {"song_title", "Dancing Queen"},
                       {"artist", "A-Teens"}, {"amount_cents", 0}, {"requester_key", "k:g5"}}));
  // Ten guests asking for one song at once: one wins.
  std::vector<decltype(send(json{}))> crowd;
  for (int i = 0; i < 10; ++i)
    crowd.push_back(send({{"kind", "song"},
                          {"song_title", "Mr. Brightside"},
                          {"amount_cents", 0},
                          {"requester_key", "k:crowd-" + std::to_string(i)}}));
  int song_ok = 0;
  for (auto& p : crowd)
    p.receive([&](const std::string&) { ++song_ok; }, [&](caf::error&) {});
  CAF_CHECK_EQUAL(song_ok, 1);
  // The window's age counts: a request from 31 minutes ago no longer blocks the song.
  owner_exec("update crowd_requests set created_at = now() - interval '31 minutes'"
             " where song_title = 'Mr. Brightside'");
  CAF_CHECK(submit(a, {{"kind", "song"}, {"song_title", "Mr. Brightside"}, {"amount_cents", 0},
                       {"requester_key", "k:late"}}));
}

CAF_TEST(the DJ moves requests through their statuses and places them by hand) {
  auto a = org("dj@example.com", 'a', free_songs);
  std::vector<json> reqs;
  for (auto t : {"A", "B", "C", "D"})
    reqs.push_back(must(submit(a, song(t))));
  auto patch = [&](const json& r, json args) {
    args["id"] = r["id"];
    return call("crowd_requests.update", a, args);
  };
  // Moves: D to the top, A to the end (a place beyond the end is the end), C between.
  must(patch(reqs[3], {{"position", 1}}));
  CAF_CHECK_EQUAL(queue_titles(a), (std::vector<std::string>{"D", "A", "B", "C"}));
  must(patch(reqs[0], {{"position", 99}}));
  CAF_CHECK_EQUAL(queue_titles(a), (std::vector<std::string>{"D", "B", "C", "A"}));
  auto moved = must(patch(reqs[2], {{"position", 2}}));
  CAF_CHECK_EQUAL(moved["position"], 2);
  CAF_CHECK_EQUAL(queue_titles(a), (std::vector<std::string>{"D", "C", "B", "A"}));
  // Many moves into the same gap stay exact (numeric keys do not run out of room).
  for (int i = 0; i < 61; ++i)
    must(patch(i % 2 == 0 ? reqs[1] : reqs[2], {{"position", 2}}));
  CAF_CHECK_EQUAL(queue_titles(a), (std::vector<std::string>{"D", "B", "C", "A"}));
  // Later arrivals still follow the rule around the DJ's placements.
  must(submit(a, song("E")));
  CAF_CHECK_EQUAL(queue_titles(a), (std::vector<std::string>{"D", "B", "C", "A", "E"}));
  // Statuses: playing sits above the waiting queue and has no position.
  auto playing = must(patch(reqs[3], {{"status", "playing"}}));
  CAF_CHECK_EQUAL(playing["status"], "playing");
  CAF_CHECK_EQUAL(playing["position"], nullptr);
  CAF_CHECK_EQUAL(queue_titles(a), (std::vector<std::string>{"D", "B", "C", "A", "E"}));
  auto pub = must(call("crowd_requests.get_public", db_scope{}, {{"id", id(reqs[1])}}));
  CAF_CHECK_EQUAL(pub["position"], 1);
  CAF_CHECK_EQUAL(code_of(patch(reqs[3], {{"position", 1}})), app_errc::conflict);
  auto played = must(patch(reqs[3], {{"status", "played"}}));
  CAF_CHECK_EQUAL(played["status"], "played");
  CAF_CHECK_EQUAL(code_of(patch(reqs[3], {{"status", "queued"}})), app_errc::conflict);
  CAF_CHECK_EQUAL(code_of(patch(reqs[3], {{"status", "skipped"}})), app_errc::conflict);
  must(patch(reqs[1], {{"status", "skipped"}}));
  CAF_CHECK_EQUAL(queue_titles(a), (std::vector<std::string>{"C", "A", "E"}));
  CAF_CHECK_EQUAL(queue_titles(a, "played"), std::vector<std::string>{"D"});
  // Back from playing to the queue: it returns to its old place.
  must(patch(reqs[0], {{"status", "playing"}}));
  must(patch(reqs[0], {{"status", "queued"}}));
  CAF_CHECK_EQUAL(queue_titles(a), (std::vector<std::string>{"C", "A", "E"}));
  // Stale version, bad values, unknown ids.
  auto current = must(call("crowd_requests.get", a, {{"id", id(reqs[2])}}));
  CAF_CHECK_EQUAL(code_of(patch(reqs[2], {{"status", "playing"},
                                          {"version", current["version"].get<int64_t>() - 1}})),
                  app_errc::conflict);
  CAF_CHECK_EQUAL(code_of(patch(reqs[2], {{"status", "pending_payment"}})),
                  app_errc::bad_request);
  CAF_CHECK_EQUAL(code_of(patch(reqs[2], {{"status", "done"}})), app_errc::bad_request);
  CAF_CHECK_EQUAL(code_of(patch(reqs[2], {{"position", 0}})), app_errc::bad_request);
  CAF_CHECK_EQUAL(code_of(patch(reqs[2], {{"position", "1"}})), app_errc::bad_request);
  CAF_CHECK_EQUAL(code_of(patch(reqs[2], {{"kind", "tip"}})), app_errc::bad_request);
  CAF_CHECK_EQUAL(code_of(call("crowd_requests.update", a,
                               {{"id", "00000000-0000-4000-8000-000000000000"},
                                {"status", "played"}})),
                  app_errc::not_found);
  auto unchanged = must(call("crowd_requests.get", a, {{"id", id(reqs[2])}}));
  CAF_CHECK_EQUAL(unchanged["version"], current["version"]);
  CAF_CHECK_EQUAL(unchanged["status"], "queued");
  // A request waiting for payment can only be cancelled.
  connect_stripe(a, "acct_A2");
  auto unpaid = must(submit(a, {{"kind", "song"}, {"song_title", "Unpaid"},
                                {"amount_cents", 700}, {"payments_configured", true}}));
  CAF_CHECK_EQUAL(code_of(patch(unpaid, {{"status", "played"}})), app_errc::conflict);
  auto cancelled = must(patch(unpaid, {{"status", "cancelled"}}));
  CAF_CHECK_EQUAL(cancelled["status"], "cancelled");
}

CAF_TEST(held payments get a capture timer when played and a release timer when skipped) {
  auto a = org("dj@example.com", 'a', free_songs);
  connect_stripe(a, "acct_A3");
  auto paid = [&](const std::string& title) {
    auto r = must(submit(a, {{"kind", "song"}, {"song_title", title}, {"amount_cents", 800},
                             {"payments_configured", true}, {"requester_key", "k:" + title}}));
    CAF_CHECK_EQUAL(r["charge_on_play"], true);
    settle(id(r), "authorized");
    return r;
  };
  auto p = paid("Play me");
  auto s = paid("Skip me");
  auto c = paid("Cancel me");
  auto immediate = must(submit(a, {{"kind", "song"}, {"song_title", "Paid now"},
                                   {"amount_cents", 800}, {"payments_configured", true}}));
  settle(id(immediate), "paid");
  auto patch = [&](const json& r, const std::string& status) {
    return must(call("crowd_requests.update", a, {{"id", r["id"]}, {"status", status}}));
  };
  patch(p, "playing");
  CAF_CHECK_EQUAL(rows("timers where kind like 'payment_%'"), 0);
  patch(p, "played");
  patch(s, "skipped");
  patch(c, "cancelled");
  patch(immediate, "played");
  auto timers = owner_exec("select kind, target_id::text, payload::text, organization_id::text"
                           " from timers where kind like 'payment_%' order by kind, target_id");
  std::set<std::string> got;
  for (auto row : timers) {
    auto payload = json::parse(row[2].as<std::string>());
    CAF_CHECK_EQUAL(payload["crowd_request_id"], row[1].as<std::string>());
    CAF_CHECK_EQUAL(row[3].as<std::string>(), a.org_id);
    got.insert(row[0].as<std::string>() + ":" + row[1].as<std::string>());
  }
  CAF_CHECK_EQUAL(got, (std::set<std::string>{"payment_capture:" + id(p),
                                              "payment_release:" + id(s),
                                              "payment_release:" + id(c)}));
  // Tips are charged at once, whatever the charge-on-play setting.
  auto tip = must(submit(a, {{"kind", "tip"}, {"amount_cents", 500},
                             {"payments_configured", true}}));
  CAF_CHECK_EQUAL(tip["charge_on_play"], false);
  // With the setting off, paid songs are charged at once too.
  auto admin = a;
  admin.role = "admin";
  auto settings = free_songs;
  settings["charge_on_play"] = false;
  must(call("org.update", admin, {{"settings", settings}}));
  auto now_song = must(submit(a, {{"kind", "song"}, {"song_title", "Immediate"},
                                  {"amount_cents", 800}, {"payments_configured", true}}));
  CAF_CHECK_EQUAL(now_song["charge_on_play"], false);
}

CAF_TEST(another organization sees and changes none of the requests) {
  auto a = org("a@example.com", 'a', free_songs);
  auto b = org("b@example.com", 'b', free_songs);
  auto mine = must(submit(a, song("Private to A")));
  // B's members: A's request does not exist for them.
  CAF_CHECK_EQUAL(code_of(call("crowd_requests.get", b, {{"id", id(mine)}})), app_errc::not_found);
  CAF_CHECK_EQUAL(code_of(call("crowd_requests.update", b,
                               {{"id", id(mine)}, {"status", "skipped"}})),
                  app_errc::not_found);
  auto b_list = must(call("crowd_requests.list", b, {{"status", "all"}}));
  CAF_CHECK_EQUAL(b_list["items"].size(), 0u);
  CAF_CHECK_EQUAL(code_of(call("crowd_requests.cancel_unpaid", fixture::guest(b),
                               {{"id", id(mine)}})),
                  app_errc::not_found);
  // Raw SQL as the application role in B's scope: RLS alone hides and protects A's rows.
  pqxx::connection conn{db.app_url()};
  pqxx::work tx{conn};
  tx.exec_params("select set_config('app.org_id', $1, true)", b.org_id);
  CAF_CHECK_EQUAL(tx.exec1("select count(*) from crowd_requests")[0].as<int64_t>(), 0);
  auto changed = tx.exec_params("update crowd_requests set status = 'skipped' where id = $1::uuid",
                                id(mine));
  CAF_CHECK_EQUAL(changed.affected_rows(), 0u);
  bool refused = false;
  try {
    tx.exec_params("insert into crowd_requests (organization_id, kind, song_title, amount_cents,"
                   " currency, status, payment_status, payment_code, requester_key)"
                   " values ($1::uuid, 'song', 'x', 0, 'usd', 'queued', 'none', 'ABCDEF', 'k')",
                   a.org_id);
  } catch (const pqxx::sql_error&) {
    refused = true;
  }
  CAF_CHECK(refused);
  tx.abort();
  auto still = must(call("crowd_requests.get", a, {{"id", id(mine)}}));
  CAF_CHECK_EQUAL(still["status"], "queued");
  CAF_CHECK_EQUAL(still["version"], 1);
  // The public view needs only the id, and shows only public fields.
  auto pub = must(call("crowd_requests.get_public", db_scope{}, {{"id", id(mine)}}));
  CAF_CHECK_EQUAL(pub["song_title"], "Private to A");
  CAF_CHECK(!pub.contains("requester_ip"));
  CAF_CHECK_EQUAL(code_of(call("crowd_requests.get_public", db_scope{},
                               {{"id", "00000000-0000-4000-8000-000000000000"}})),
                  app_errc::not_found);
}

CAF_TEST_FIXTURE_SCOPE_END()
