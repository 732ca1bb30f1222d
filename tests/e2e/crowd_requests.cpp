#define CAF_SUITE e2e.crowd_requests

// Crowd requests over the real binary: a guest's free request is queued at once and shows up in
// the DJ's queue in play order and for a WebSocket subscriber of org:<id>:queue; the DJ plays,
// skips and moves requests; every invalid field is a 4xx with nothing written; submits are rate
// limited per IP; the routes are in /openapi.json.

#include <csignal>
#include <cstdio>
#include <stdexcept>

#include "accounts_harness.hpp"
#include "support/caf_test.hpp"
#include "support/ws_client.hpp"

using namespace djdash;
using namespace std::chrono_literals;
using nlohmann::json;
using test::product;

namespace {

const std::string password = "crowd e2e password";
const std::string missing_id = "00000000-0000-4000-8000-000000000000";

json node_config(int request_ip_limit) {
  auto cfg = test::relaxed_auth_config();
  cfg["auth"]["request_ip_limit"] = request_ip_limit;
  cfg["auth"]["request_ip_window_s"] = 3600;
  return cfg;
}

/// One database and one node for the whole suite (submits practically unlimited per IP: every
/// test request comes from 127.0.0.1).
struct shared_node {
  test::pg_database db;
  std::string config_path;
  test::node n;

  explicit shared_node(int request_ip_limit = 100000)
    : config_path(test::write_config_file(node_config(request_ip_limit))),
      n(db.app_url(), db.owner_url(), {}, {"--config", config_path}) {
    if (!n.wait_listening())
      throw std::runtime_error("djdash did not start: " + n.process().output());
  }

  ~shared_node() {
    n.process().signal(SIGTERM);
    n.process().wait(20s);
    std::remove(config_path.c_str());
  }
};

shared_node& the_node() {
  static shared_node instance;
  return instance;
}

const json request_rules = {{"minimum_amounts", {{"song", 0}, {"shoutout", 0}, {"tip", 100}}},
                            {"priority_prices", {{"next_up", 1000}}},
                            {"max_pending_per_requester", 50},
                            {"song_repeat_window_minutes", 60}};

struct fixture {
  shared_node& s = the_node();
  test::api api{s.n.port()};

  /// A TipJar DJ whose request page takes free song requests and shout-outs.
  test::account dj(const std::string& tag, const json& settings = request_rules) {
    auto email = "crowd-" + tag + "-" + std::to_string(test::free_port()) + "@example.com";
    auto r = api.signup(email, password, {{"Host", "tipjar.live"}}, "Crowd " + tag);
    DJ_EXPECT_STATUS(r, 201, "signup " << email);
    CAF_REQUIRE_EQUAL(r->status, 201);
    auto a = test::account::from(email, password, r->json());
    auto patched = api.call("PATCH", "/api/organizations/current", json{{"settings", settings}},
                            a.auth());
    DJ_EXPECT_STATUS(patched, 200, "request settings");
    return a;
  }

  std::optional<test::http_reply> submit(const test::account& a, json body) {
    body["org_slug"] = a.org_slug;
    return api.call("POST", "/api/crowd-request/submit", body);
  }

  json submit_ok(const test::account& a, json body) {
    auto r = submit(a, std::move(body));
    DJ_EXPECT_STATUS(r, 201, "submit");
    return r->json();
  }

  std::vector<std::string> queue(const test::account& a, const std::string& query = "") {
    auto r = api.get("/api/crowd-requests" + query, a.auth());
    DJ_EXPECT_STATUS(r, 200, "queue");
    std::vector<std::string> titles;
    auto body = r->json();
    for (auto& item : body["items"])
      titles.push_back(item["song_title"].is_string() ? item["song_title"].get<std::string>()
                                                      : item["kind"].get<std::string>());
    return titles;
  }

  std::optional<test::http_reply> patch(const test::account& a, const std::string& id,
                                        const json& body) {
    return api.call("PATCH", "/api/crowd-requests/" + id, body, a.auth());
  }

  /// Waits for the next event frame on `ws` (skipping replies).
  std::optional<json> next_event(test::ws_client& ws) {
    for (int i = 0; i < 10; ++i) {
      auto frame = ws.next_json(10s);
      if (!frame)
        return std::nullopt;
      if ((*frame)["type"] == "event")
        return frame;
    }
    return std::nullopt;
  }
};

json song(const std::string& title) {
  return {{"kind", "song"}, {"song_title", title}, {"amount_cents", 0}};
}

} // namespace

CAF_TEST_FIXTURE_SCOPE(crowd_request_tests, fixture)

CAF_TEST(a free request is queued at once and a queue subscriber sees it appear and change) {
  auto a = dj("live");
  // A guest's page follows the public queue topic, anonymously.
  test::ws_client ws;
  CAF_REQUIRE(ws.connect(s.n.port()));
  auto topic = "org:" + a.org_id + ":queue";
  auto sub = ws.call({{"type", "subscribe"}, {"topic", topic}}, "1");
  CAF_REQUIRE(sub);
  CAF_REQUIRE_EQUAL((*sub)["status"], "ok");
  // The DJ's notifications, as a member.
  test::ws_client dj_ws;
  CAF_REQUIRE(dj_ws.connect(s.n.port()));
  auto authed = dj_ws.call({{"type", "auth"}, {"token", a.access}}, "a");
  CAF_REQUIRE(authed);
  CAF_REQUIRE_EQUAL((*authed)["status"], "ok");
  auto dj_sub = dj_ws.call({{"type", "subscribe"},
                            {"topic", "org:" + a.org_id + ":notifications"}},
                           "n");
  CAF_REQUIRE(dj_sub);
  CAF_REQUIRE_EQUAL((*dj_sub)["status"], "ok");

  auto first = submit_ok(a, {{"kind", "song"}, {"song_title", "September"},
                             {"artist", "Earth, Wind & Fire"}, {"requester_name", "Ana"},
                             {"amount_cents", 0}});
  CAF_CHECK_EQUAL(first["status"], "queued");
  CAF_CHECK_EQUAL(first["payment_status"], "none");
  CAF_CHECK(!first.contains("checkout_url"));
  auto code = first["payment_code"].get<std::string>();
  CAF_CHECK_EQUAL(code.size(), 6u);
  auto id = first["request_id"].get<std::string>();
  auto created = next_event(ws);
  CAF_REQUIRE(created);
  CAF_CHECK_EQUAL((*created)["topic"], topic);
  CAF_CHECK_EQUAL((*created)["event"], "crowd_request.created");
  auto payload = (*created)["payload"];
  CAF_CHECK_EQUAL(payload["id"], id);
  CAF_CHECK_EQUAL(payload["song_title"], "September");
  CAF_CHECK_EQUAL(payload["status"], "queued");
  CAF_CHECK(!payload.contains("requester_ip"));
  CAF_CHECK(!payload.contains("payment_code"));
  auto note = next_event(dj_ws);
  CAF_REQUIRE(note);
  CAF_CHECK_EQUAL((*note)["event"], "crowd_request.created");
  auto note_payload = (*note)["payload"];
  CAF_CHECK_EQUAL(note_payload["payment_code"], code);
  CAF_CHECK(!note_payload.contains("requester_ip"));

  // The guest's status page.
  auto status = api.get("/api/crowd-request/" + id);
  DJ_EXPECT_STATUS(status, 200, "public status");
  auto seen = status->json();
  CAF_CHECK_EQUAL(seen["status"], "queued");
  CAF_CHECK_EQUAL(seen["position"], 1);
  CAF_CHECK_EQUAL(seen["artist"], "Earth, Wind & Fire");
  CAF_CHECK(!seen.contains("requester_ip"));

  // More requests; a paid priority one cannot be sent while payments are unavailable.
  submit_ok(a, song("Valerie"));
  auto shout = submit_ok(a, {{"kind", "shoutout"}, {"message", "Happy 30th, Jo!"},
                             {"amount_cents", 0}});
  auto priority = submit(a, {{"kind", "song"}, {"song_title", "Africa"}, {"amount_cents", 1000},
                             {"priority", "next_up"}});
  DJ_EXPECT_ERROR(priority, 409, "conflict", "paid request without payments");
  CAF_CHECK_EQUAL(queue(a), (std::vector<std::string>{"September", "Valerie", "shoutout"}));
  for (int i = 0; i < 2; ++i)
    CAF_REQUIRE(next_event(ws));  // Valerie, the shout-out

  // The DJ plays the first one: the subscriber sees it change.
  auto playing = patch(a, id, {{"status", "playing"}});
  DJ_EXPECT_STATUS(playing, 200, "playing");
  auto changed = next_event(ws);
  CAF_REQUIRE(changed);
  CAF_CHECK_EQUAL((*changed)["event"], "crowd_request.updated");
  auto changed_payload = (*changed)["payload"];
  CAF_CHECK_EQUAL(changed_payload["id"], id);
  CAF_CHECK_EQUAL(changed_payload["status"], "playing");
  auto played = patch(a, id, {{"status", "played"}});
  DJ_EXPECT_STATUS(played, 200, "played");
  auto done = next_event(ws);
  CAF_REQUIRE(done);
  auto done_payload = (*done)["payload"];
  CAF_CHECK_EQUAL(done_payload["status"], "played");
  auto after = api.get("/api/crowd-request/" + id);
  DJ_EXPECT_STATUS(after, 200, "status after played");
  auto after_body = after->json();
  CAF_CHECK_EQUAL(after_body["status"], "played");
  CAF_CHECK_EQUAL(after_body["position"], nullptr);
  // Final is final.
  DJ_EXPECT_ERROR(patch(a, id, {{"status", "queued"}}), 409, "conflict", "played -> queued");
  // The shout-out moves to the top; then Valerie is skipped.
  auto moved = patch(a, shout["request_id"], {{"position", 1}});
  DJ_EXPECT_STATUS(moved, 200, "move");
  auto moved_body = moved->json();
  CAF_CHECK_EQUAL(moved_body["position"], 1);
  CAF_CHECK_EQUAL(queue(a), (std::vector<std::string>{"shoutout", "Valerie"}));
  auto history = queue(a, "?status=played");
  CAF_CHECK_EQUAL(history, std::vector<std::string>{"September"});
  auto all = queue(a, "?status=all&limit=1");
  CAF_CHECK_EQUAL(all.size(), 1u);
}

CAF_TEST(every invalid submit or change is a 4xx and writes nothing) {
  auto a = dj("invalid", {{"minimum_amounts", {{"song", 500}, {"shoutout", 0}, {"tip", 100}}},
                          {"priority_prices", {{"next_up", 1000}}}});
  auto before = test::count_rows(s.db.owner_url(), "crowd_requests");
  struct bad_case {
    std::string body;  // raw, so malformed JSON can be sent too
    int status;
    std::string code;
  };
  auto slug = a.org_slug;
  std::vector<bad_case> cases{
    {"not json", 400, "bad_request"},
    {"[1, 2]", 400, "bad_request"},
    {R"({"kind": "song", "song_title": "x", "amount_cents": 500})", 400, "bad_request"},
    {R"({"org_slug": 5, "kind": "tip", "amount_cents": 500})", 400, "bad_request"},
    {R"({"org_slug": "Not A Slug!", "kind": "tip", "amount_cents": 500})", 404, "not_found"},
    {R"({"org_slug": "no-such-dj-here", "kind": "tip", "amount_cents": 500})", 404, "not_found"},
    {R"({"org_slug": ")" + slug + R"(", "kind": "polka", "amount_cents": 0})", 400,
     "bad_request"},
    {R"({"org_slug": ")" + slug + R"(", "kind": "song", "amount_cents": 500})", 400,
     "bad_request"},
    {R"({"org_slug": ")" + slug + R"(", "kind": "song", "song_title": "x"})", 400,
     "bad_request"},
    {R"({"org_slug": ")" + slug + R"(", "kind": "song", "song_title": "x", "amount_cents": 1.5})",
     400, "bad_request"},
    {R"({"org_slug": ")" + slug + R"(", "kind": "shoutout", "amount_cents": 0})", 400,
     "bad_request"},
    {R"({"org_slug": ")" + slug + R"(", "kind": "tip", "amount_cents": 500, "admin": true})",
     400, "bad_request"},
    {R"({"org_slug": ")" + slug
       + R"(", "kind": "tip", "amount_cents": 500, "requester_key": "short"})",
     400, "bad_request"},
    {R"({"org_slug": ")" + slug
       + R"(", "kind": "tip", "amount_cents": 500, "return_url": "https://evil.example/x"})",
     400, "bad_request"},
    {R"({"org_slug": ")" + slug + R"(", "kind": "song", "song_title": "x", "amount_cents": 499})",
     422, "unprocessable"},
    {R"({"org_slug": ")" + slug
       + R"(", "kind": "song", "song_title": "x", "amount_cents": 600, "priority": "next_up"})",
     422, "unprocessable"},
    {R"({"org_slug": ")" + slug + R"(", "kind": "tip", "amount_cents": 0})", 422,
     "unprocessable"},
    // Paid, but this node has no Stripe: refused before anything is written.
    {R"({"org_slug": ")" + slug + R"(", "kind": "tip", "amount_cents": 500})", 409, "conflict"},
  };
  for (auto& c : cases) {
    auto r = api.call("POST", "/api/crowd-request/submit", c.body);
    DJ_EXPECT_ERROR(r, c.status, c.code, "submit " << c.body);
    auto body = r->json();
    CAF_CHECK(body["error"]["message"].is_string());
  }
  CAF_CHECK_EQUAL(test::count_rows(s.db.owner_url(), "crowd_requests"), before);
  // A good free shout-out to change badly.
  auto ok = submit(a, {{"kind", "shoutout"}, {"message", "hi"}, {"amount_cents", 0}});
  DJ_EXPECT_STATUS(ok, 201, "free shout-out");
  auto id = ok->json()["request_id"].get<std::string>();
  DJ_EXPECT_ERROR(patch(a, id, {{"status", "done"}}), 400, "bad_request", "bad status");
  DJ_EXPECT_ERROR(patch(a, id, {{"position", 0}}), 400, "bad_request", "bad position");
  DJ_EXPECT_ERROR(patch(a, id, json::object()), 400, "bad_request", "empty patch");
  DJ_EXPECT_ERROR(patch(a, id, {{"status", "played"}, {"amount_cents", 0}}), 400, "bad_request",
                  "unknown field");
  DJ_EXPECT_ERROR(patch(a, "not-a-uuid", {{"status", "played"}}), 404, "not_found", "bad id");
  DJ_EXPECT_ERROR(patch(a, missing_id, {{"status", "played"}}), 404, "not_found", "missing id");
  DJ_EXPECT_ERROR(api.call("PATCH", "/api/crowd-requests/" + id, json{{"status", "played"}}),
                  401, "unauthorized", "no token");
  DJ_EXPECT_ERROR(api.get("/api/crowd-requests"), 401, "unauthorized", "queue without token");
  DJ_EXPECT_ERROR(api.get("/api/crowd-requests?status=lost", a.auth()), 400, "bad_request",
                  "bad filter");
  DJ_EXPECT_ERROR(api.get("/api/crowd-request/" + missing_id), 404, "not_found", "missing");
  DJ_EXPECT_ERROR(api.get("/api/crowd-request/nope"), 404, "not_found", "not a uuid");
  auto unchanged = api.get("/api/crowd-request/" + id);
  DJ_EXPECT_STATUS(unchanged, 200, "unchanged");
  auto body = unchanged->json();
  CAF_CHECK_EQUAL(body["status"], "queued");
  CAF_CHECK_EQUAL(test::count_rows(s.db.owner_url(), "crowd_requests"), before + 1);
  // Not taking requests: 409, nothing written.
  auto closed = api.call("PATCH", "/api/organizations/current",
                         json{{"settings", {{"accepting_requests", false}}}}, a.auth());
  DJ_EXPECT_STATUS(closed, 200, "close requests");
  DJ_EXPECT_ERROR(submit(a, {{"kind", "shoutout"}, {"message", "hi"}, {"amount_cents", 0}}), 409,
                  "conflict", "closed");
  CAF_CHECK_EQUAL(test::count_rows(s.db.owner_url(), "crowd_requests"), before + 1);
  auto profile = api.get("/api/public/orgs/" + a.org_slug);
  DJ_EXPECT_STATUS(profile, 200, "public profile");
  auto profile_body = profile->json();
  CAF_CHECK_EQUAL(profile_body["accepting_requests"], false);
}

CAF_TEST(submits are rate limited per IP) {
  shared_node limited{3};
  test::api local{limited.n.port()};
  auto email = "crowd-limit-" + std::to_string(test::free_port()) + "@example.com";
  auto r = local.signup(email, password, {{"Host", "tipjar.live"}}, "Crowd limit");
  DJ_EXPECT_STATUS(r, 201, "signup");
  auto a = test::account::from(email, password, r->json());
  auto patched = local.call("PATCH", "/api/organizations/current",
                            json{{"settings", request_rules}}, a.auth());
  DJ_EXPECT_STATUS(patched, 200, "settings");
  for (int i = 0; i < 3; ++i) {
    auto ok = local.call("POST", "/api/crowd-request/submit",
                         json{{"org_slug", a.org_slug}, {"kind", "song"},
                              {"song_title", "Song " + std::to_string(i)}, {"amount_cents", 0}});
    DJ_EXPECT_STATUS(ok, 201, "submit " << i);
  }
  auto limited_r = local.call("POST", "/api/crowd-request/submit",
                              json{{"org_slug", a.org_slug}, {"kind", "song"},
                                   {"song_title", "One too many"}, {"amount_cents", 0}});
  DJ_EXPECT_ERROR(limited_r, 429, "rate_limited", "fourth submit");
  auto retry = limited_r->header("retry-after");
  CAF_CHECK(!retry.empty());
  auto rows = test::count_rows(limited.db.owner_url(), "crowd_requests");
  CAF_CHECK_EQUAL(rows, 3);
}

CAF_TEST(the crowd request routes are documented) {
  auto r = api.get("/openapi.json");
  DJ_EXPECT_STATUS(r, 200, "openapi");
  auto doc = r->json();
  auto& paths = doc["paths"];
  CAF_CHECK(paths.contains("/api/crowd-request/submit"));
  CAF_CHECK(paths.contains("/api/crowd-request/{id}"));
  CAF_CHECK(paths.contains("/api/crowd-requests"));
  CAF_CHECK(paths["/api/crowd-requests/{id}"].contains("patch"));
}

CAF_TEST_FIXTURE_SCOPE_END()
