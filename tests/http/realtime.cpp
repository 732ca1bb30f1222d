#define CAF_SUITE http.realtime

#include "http/realtime_routes.hpp"

#include "support/caf_test.hpp"

#include <chrono>
#include <memory>
#include <set>
#include <string>
#include <utility>

#include <caf/actor_system.hpp>
#include <caf/send.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <nlohmann/json.hpp>

#include "actors/realtime_hub.hpp"
#include "config/app_config.hpp"
#include "config/settings.hpp"
#include "protocols/app_errc.hpp"
#include "protocols/jwt.hpp"
#include "server_fixture.hpp"
#include "support/http_client.hpp"
#include "support/ws_client.hpp"

using namespace djdash;
using namespace djdash::http;
using namespace djdash::http::testing;
using djdash::test::ws_client;
using json = nlohmann::json;

namespace {

constexpr auto org_a = "0b6f6c1e-2f6a-4f3e-9a55-6a1d2c3b4e5f";
constexpr auto org_b = "7d1c4a2b-9e8f-4a6b-8c5d-3e2f1a0b9c8d";
constexpr auto alice = "11111111-1111-4111-8111-111111111111";  // member of org A
const std::string secret(40, 'k');

using membership = std::set<std::pair<std::string, std::string>>;  // (org, user)

/// Stands in for the DB pool: `realtime.authorize` succeeds for members only, like the real
/// operation whose role check refuses everyone else (e2e.realtime runs the real one).
db_actor::behavior_type stub_db(db_actor::pointer, std::shared_ptr<const membership> members) {
  return {
    [=](const db_call& call) -> caf::result<std::string> {
      if (call.op != "realtime.authorize" || call.scope.role != "member")
        return make_app_error(app_errc::internal, "unexpected call");
      if (members->count({call.scope.org_id, call.scope.user_id}) == 0)
        return make_app_error(app_errc::forbidden, "you are not a member of this organization");
      return json{{"role", "member"}}.dump();
    },
  };
}

std::string topic(const char* org, const char* what) {
  return std::string{"org:"} + org + ":" + what;
}

int64_t now_s() {
  return std::chrono::duration_cast<std::chrono::seconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

struct fixture {
  app_config caf_cfg;
  caf::actor_system sys{caf_cfg};
  settings cfg;
  caf::actor hub = actors::spawn_realtime_hub(sys);
  db_actor db = sys.spawn(stub_db, std::make_shared<const membership>(
                                     membership{{std::string{org_a}, std::string{alice}}}));
  std::unique_ptr<server> srv;

  fixture() {
    cfg.http = test_settings();
    cfg.secrets.jwt_secret = secret;
    cfg.realtime.max_message_bytes = 4096;
    cfg.realtime.send_queue_frames = 64;
    cfg.realtime.send_queue_bytes = 256 << 10;
    cfg.realtime.idle_timeout_ms = 30000;
  }

  ~fixture() {
    srv.reset();
    caf::anon_send_exit(hub, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(db, caf::exit_reason::user_shutdown);
  }

  uint16_t start() {
    node_services svc;
    svc.sys = &sys;
    svc.hub = hub;
    svc.db = db;
    svc.cfg = &cfg;
    route_table routes;
    add_realtime_routes(routes, svc);
    srv = start_server(cfg.http, std::move(routes));
    return srv->port();
  }

  void publish(const std::string& t, const std::string& event, const json& payload) {
    caf::anon_send(hub, caf::publish_atom_v, t, event, payload.dump());
  }

  int subscribers(const std::string& t) {
    caf::scoped_actor self{sys};
    int n = -1;
    self->request(hub, std::chrono::seconds(5), caf::get_atom_v, t)
      .receive([&](int x) { n = x; }, [](caf::error&) {});
    return n;
  }

  std::string token(const std::string& user, int64_t exp) {
    return jwt::sign({{"sub", user},
                      {"aud", "authenticated"},
                      {"iss", cfg.auth.issuer},
                      {"iat", now_s() - 10},
                      {"exp", exp},
                      {"organization_id", org_a}},
                     secret);
  }
};

std::string status_of(const std::optional<json>& reply) {
  return reply && reply->is_object() ? reply->value("status", "") : "none";
}

std::string code_of(const std::optional<json>& reply) {
  if (!reply || !reply->contains("error") || !(*reply)["error"].is_object())
    return "";
  return (*reply)["error"].value("code", "");
}

} // namespace

CAF_TEST_FIXTURE_SCOPE(realtime_tests, fixture)

CAF_TEST(a plain GET is told to upgrade) {
  auto port = start();
  test::http_client c{port};
  auto r = c.get("/api/realtime");
  CAF_REQUIRE(r.has_value());
  CAF_CHECK_EQUAL(r->status, 426);
  auto upgrade = r->header("upgrade");
  CAF_CHECK_EQUAL(upgrade, "websocket");
}

CAF_TEST(ping is answered with its ref) {
  auto port = start();
  ws_client ws;
  CAF_REQUIRE(ws.connect(port));
  auto status = ws.handshake_status();
  CAF_CHECK_EQUAL(status, 101);
  auto reply = ws.call({{"type", "ping"}}, "4");
  auto st = status_of(reply);
  CAF_CHECK_EQUAL(st, "ok");
  auto sockets = realtime_counters().sockets;
  CAF_CHECK_EQUAL(sockets, 1);
}

CAF_TEST(an anonymous socket follows a queue topic and gets each event once) {
  auto port = start();
  ws_client ws;
  CAF_REQUIRE(ws.connect(port));
  auto t = topic(org_a, "queue");
  auto sub = ws.call({{"type", "subscribe"}, {"topic", t}}, "1");
  auto st = status_of(sub);
  CAF_REQUIRE_EQUAL(st, "ok");
  publish(t, "crowd_request.created", {{"n", 1}});
  publish(t, "crowd_request.updated", {{"n", 2}});
  // Frames arrive in publish order: a duplicate of the first would come before the second.
  auto first = ws.next_json();
  auto second = ws.next_json();
  CAF_REQUIRE(first.has_value());
  CAF_REQUIRE(second.has_value());
  auto type = first->value("type", "");
  auto ftopic = first->value("topic", "");
  auto event1 = first->value("event", "");
  auto n1 = (*first)["payload"].value("n", 0);
  auto event2 = second->value("event", "");
  CAF_CHECK_EQUAL(type, "event");
  CAF_CHECK_EQUAL(ftopic, t);
  CAF_CHECK_EQUAL(event1, "crowd_request.created");
  CAF_CHECK_EQUAL(n1, 1);
  CAF_CHECK_EQUAL(event2, "crowd_request.updated");
}

CAF_TEST(unsubscribe stops delivery) {
  auto port = start();
  ws_client ws;
  CAF_REQUIRE(ws.connect(port));
  auto a = topic(org_a, "queue");
  auto b = topic(org_b, "queue");
  auto s1 = ws.call({{"type", "subscribe"}, {"topic", a}}, "1");
  auto s2 = ws.call({{"type", "subscribe"}, {"topic", b}}, "2");
  auto u = ws.call({{"type", "unsubscribe"}, {"topic", a}}, "3");
  auto st1 = status_of(s1);
  auto st2 = status_of(s2);
  auto stu = status_of(u);
  CAF_REQUIRE_EQUAL(st1, "ok");
  CAF_REQUIRE_EQUAL(st2, "ok");
  CAF_REQUIRE_EQUAL(stu, "ok");
  publish(a, "crowd_request.created", {{"on", "a"}});
  publish(b, "crowd_request.created", {{"on", "b"}});
  // The hub handles publishes in order: an event for `a` would arrive before the one for `b`.
  auto next = ws.next_json();
  CAF_REQUIRE(next.has_value());
  auto on = (*next)["payload"].value("on", "");
  CAF_CHECK_EQUAL(on, "b");
}

CAF_TEST(malformed frames get an error reply and the socket stays usable) {
  auto port = start();
  ws_client ws;
  CAF_REQUIRE(ws.connect(port));
  CAF_REQUIRE(ws.send_text("{this is not json"));
  auto reply = ws.next_json();
  CAF_REQUIRE(reply.has_value());
  auto type = reply->value("type", "");
  auto st = status_of(reply);
  auto code = code_of(reply);
  auto ref = (*reply)["ref"];
  CAF_CHECK_EQUAL(type, "reply");
  CAF_CHECK_EQUAL(st, "error");
  CAF_CHECK_EQUAL(code, "bad_request");
  CAF_CHECK(ref.is_null());
  auto unknown = ws.call({{"type", "subscribe"}, {"topic", "org:nope:queue"}}, "u1");
  auto ucode = code_of(unknown);
  CAF_CHECK_EQUAL(ucode, "unknown_topic");
  auto room = ws.call({{"type", "subscribe"}, {"topic", "room:r1:chat"}}, "r1");
  auto rcode = code_of(room);
  CAF_CHECK_EQUAL(rcode, "topic_unavailable");
  auto bc = ws.call({{"type", "broadcast"}, {"topic", topic(org_a, "queue")},
                     {"payload", {{"text", "hi"}}}},
                    "b1");
  auto bcode = code_of(bc);
  CAF_CHECK_EQUAL(bcode, "forbidden");
  auto ping = ws.call({{"type", "ping"}}, "p");
  auto pst = status_of(ping);
  CAF_CHECK_EQUAL(pst, "ok");
}

CAF_TEST(members-only topics need a valid token of a member) {
  auto port = start();
  ws_client ws;
  CAF_REQUIRE(ws.connect(port));
  auto notes = topic(org_a, "notifications");
  auto anon = ws.call({{"type", "subscribe"}, {"topic", notes}}, "1");
  auto anon_code = code_of(anon);
  CAF_CHECK_EQUAL(anon_code, "unauthorized");
  auto garbage = ws.call({{"type", "auth"}, {"token", "not.a.token"}}, "2");
  auto garbage_code = code_of(garbage);
  CAF_CHECK_EQUAL(garbage_code, "unauthorized");
  auto expired = ws.call({{"type", "auth"}, {"token", token(alice, now_s() - 3600)}}, "3");
  auto expired_code = code_of(expired);
  CAF_CHECK_EQUAL(expired_code, "unauthorized");
  auto still_anon = ws.call({{"type", "subscribe"}, {"topic", notes}}, "4");
  auto still_code = code_of(still_anon);
  CAF_CHECK_EQUAL(still_code, "unauthorized");
  auto auth = ws.call({{"type", "auth"}, {"token", token(alice, now_s() + 600)}}, "5");
  auto auth_st = status_of(auth);
  CAF_REQUIRE_EQUAL(auth_st, "ok");
  auto mine = ws.call({{"type", "subscribe"}, {"topic", notes}}, "6");
  auto mine_st = status_of(mine);
  CAF_CHECK_EQUAL(mine_st, "ok");
  auto changes = ws.call({{"type", "subscribe"}, {"topic", topic(org_a, "changes:leads")}}, "7");
  auto changes_st = status_of(changes);
  CAF_CHECK_EQUAL(changes_st, "ok");
  auto other = ws.call({{"type", "subscribe"}, {"topic", topic(org_b, "notifications")}}, "8");
  auto other_code = code_of(other);
  CAF_CHECK_EQUAL(other_code, "forbidden");
  publish(topic(org_b, "notifications"), "lead.created", {{"org", "b"}});
  publish(notes, "lead.created", {{"org", "a"}});
  auto ev = ws.next_json();
  CAF_REQUIRE(ev.has_value());
  auto org = (*ev)["payload"].value("org", "");
  CAF_CHECK_EQUAL(org, "a");
}

CAF_TEST(an oversize frame closes the socket with 1009) {
  auto port = start();
  ws_client ws;
  CAF_REQUIRE(ws.connect(port));
  ws.send_text(std::string(8192, 'x'));
  CAF_CHECK(ws.wait_closed());
  auto code = ws.close_code();
  CAF_CHECK_EQUAL(code, 1009);
}

CAF_TEST(a binary frame closes the socket with 1003) {
  auto port = start();
  ws_client ws;
  CAF_REQUIRE(ws.connect(port));
  ws.send_binary("\x01\x02\x03");
  CAF_CHECK(ws.wait_closed());
  auto code = ws.close_code();
  CAF_CHECK_EQUAL(code, 1003);
}

CAF_TEST(a client that never reads is dropped and the send queue stays bounded) {
  auto port = start();
  auto before = realtime_counters();
  auto t = topic(org_a, "queue");
  ws_client slow;
  slow.set_receive_buffer(4096);
  CAF_REQUIRE(slow.connect(port));
  auto sub = slow.call({{"type", "subscribe"}, {"topic", t}}, "1");
  auto st = status_of(sub);
  CAF_REQUIRE_EQUAL(st, "ok");
  // 4000 events of 8 KiB = 32 MiB: far beyond kernel buffers and the 256 KiB queue limit.
  json payload{{"blob", std::string(8192, 'z')}};
  int64_t peak = 0;
  for (int i = 0; i < 4000; ++i) {
    publish(t, "crowd_request.updated", payload);
    peak = std::max(peak, realtime_counters().queued_bytes);
  }
  CAF_CHECK(eventually([&] { return realtime_counters().dropped > before.dropped; }, 30s));
  CAF_CHECK(eventually([&] { return subscribers(t) == 0; }, 60s));
  auto queued = realtime_counters().queued_bytes;
  CAF_CHECK_EQUAL(queued, 0);
  CAF_MESSAGE("peak queued bytes " << peak);
  CAF_CHECK(peak <= static_cast<int64_t>(cfg.realtime.send_queue_bytes));
  CAF_CHECK(slow.wait_closed(std::chrono::seconds(30)));
  // The server keeps serving others.
  ws_client next;
  CAF_REQUIRE(next.connect(port));
  auto ping = next.call({{"type", "ping"}}, "p");
  auto pst = status_of(ping);
  CAF_CHECK_EQUAL(pst, "ok");
}

CAF_TEST(a silent client is closed after the idle timeout) {
  cfg.realtime.idle_timeout_ms = 300;
  auto port = start();
  // A raw socket that upgrades and then never answers the server's pings.
  test::http_client raw{port};
  CAF_REQUIRE(raw.send_raw("GET /api/realtime HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                           "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                           "Sec-WebSocket-Version: 13\r\n\r\n"));
  auto r = raw.read_reply();
  CAF_REQUIRE(r.has_value());
  CAF_CHECK_EQUAL(r->status, 101);
  CAF_CHECK(raw.wait_closed(std::chrono::seconds(10)));
}

CAF_TEST(draining closes sockets with a going-away close frame) {
  auto port = start();
  ws_client ws;
  CAF_REQUIRE(ws.connect(port));
  auto sub = ws.call({{"type", "subscribe"}, {"topic", topic(org_a, "queue")}}, "1");
  auto st = status_of(sub);
  CAF_REQUIRE_EQUAL(st, "ok");
  srv->drain();
  CAF_CHECK(ws.wait_closed());
  auto code = ws.close_code();
  CAF_CHECK_EQUAL(code, 1001);
  srv->wait();
  auto sockets = realtime_counters().sockets;
  CAF_CHECK_EQUAL(sockets, 0);
}

CAF_TEST_FIXTURE_SCOPE_END()
