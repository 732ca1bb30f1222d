#define CAF_SUITE e2e.realtime

// /api/realtime over the real binary and PostgreSQL: members-only topics are authorized in the
// database (realtime.authorize under the member role check), tokens are verified like on HTTP
// routes, public queue topics need no token, and the route is documented.

#include <chrono>
#include <csignal>
#include <cstdio>
#include <stdexcept>

#include "accounts_harness.hpp"
#include "protocols/jwt.hpp"
#include "support/caf_test.hpp"
#include "support/ws_client.hpp"

using namespace djdash;
using namespace std::chrono_literals;
using nlohmann::json;
using test::product;
using test::ws_client;

namespace {

const std::string password = "realtime e2e password";

struct shared_node {
  test::pg_database db;
  std::string config_path;
  test::node n;

  shared_node()
    : config_path(test::write_config_file(test::relaxed_auth_config())),
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

std::string status_of(const std::optional<json>& reply) {
  return reply && reply->is_object() ? reply->value("status", "") : "none";
}

std::string code_of(const std::optional<json>& reply) {
  if (!reply || !reply->contains("error") || !(*reply)["error"].is_object())
    return "";
  return (*reply)["error"].value("code", "");
}

int64_t now_s() {
  return std::chrono::duration_cast<std::chrono::seconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

struct fixture {
  shared_node& s = the_node();
  test::api api{s.n.port()};

  test::account owner(const std::string& tag) {
    auto email = "rt-" + tag + "-" + std::to_string(test::free_port()) + "@example.com";
    auto r = api.signup(email, password, product("djdash"), "Realtime " + tag);
    DJ_EXPECT_STATUS(r, 201, "signup " << email);
    CAF_REQUIRE_EQUAL(r->status, 201);
    return test::account::from(email, password, r->json());
  }

  /// A socket that authenticated with `token`; returns the auth reply's status.
  std::string authenticate(ws_client& ws, const std::string& token) {
    CAF_REQUIRE(ws.connect(s.n.port()));
    auto reply = ws.call({{"type", "auth"}, {"token", token}}, "auth");
    return status_of(reply);
  }

  std::optional<json> subscribe(ws_client& ws, const std::string& topic, const std::string& ref) {
    return ws.call({{"type", "subscribe"}, {"topic", topic}}, ref);
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(realtime_tests, fixture)

CAF_TEST(a member follows their organization's notifications and another org's member cannot) {
  auto a = owner("a");
  auto b = owner("b");
  auto topic = "org:" + a.org_id + ":notifications";
  ws_client wa;
  auto auth_a = authenticate(wa, a.access);
  CAF_REQUIRE_EQUAL(auth_a, "ok");
  auto mine = subscribe(wa, topic, "1");
  auto mine_st = status_of(mine);
  CAF_CHECK_EQUAL(mine_st, "ok");
  auto changes = subscribe(wa, "org:" + a.org_id + ":changes:contacts", "2");
  auto changes_st = status_of(changes);
  CAF_CHECK_EQUAL(changes_st, "ok");
  ws_client wb;
  auto auth_b = authenticate(wb, b.access);
  CAF_REQUIRE_EQUAL(auth_b, "ok");
  auto theirs = subscribe(wb, topic, "1");
  auto theirs_st = status_of(theirs);
  auto theirs_code = code_of(theirs);
  CAF_CHECK_EQUAL(theirs_st, "error");
  CAF_CHECK_EQUAL(theirs_code, "forbidden");
  // B's own organization is fine on the same socket.
  auto own = subscribe(wb, "org:" + b.org_id + ":notifications", "2");
  auto own_st = status_of(own);
  CAF_CHECK_EQUAL(own_st, "ok");
}

CAF_TEST(membership is checked at subscribe time and not taken from the token) {
  auto a = owner("grant");
  auto b = owner("guest");
  auto topic = "org:" + a.org_id + ":notifications";
  auto added = api.call("POST", "/api/organizations/current/members",
                        json{{"email", b.email}, {"role", "member"}}, a.auth());
  DJ_EXPECT_STATUS(added, 201, "add member");
  ws_client wb;
  auto auth_b = authenticate(wb, b.access);  // issued before the grant: names only B's org
  CAF_REQUIRE_EQUAL(auth_b, "ok");
  auto granted = subscribe(wb, topic, "1");
  auto granted_st = status_of(granted);
  CAF_CHECK_EQUAL(granted_st, "ok");
  auto removed = api.call("DELETE", "/api/organizations/current/members/" + b.user_id,
                          std::string{}, a.auth());
  CAF_CHECK(removed.has_value() && removed->status / 100 == 2);
  auto again = subscribe(wb, topic, "2");
  auto again_code = code_of(again);
  CAF_CHECK_EQUAL(again_code, "forbidden");
}

CAF_TEST(expired and garbage tokens are refused and the socket stays anonymous) {
  auto a = owner("expired");
  auto claims = test::jwt_payload(a.access);
  CAF_REQUIRE(claims.is_object());
  claims["iat"] = now_s() - 7200;
  claims["exp"] = now_s() - 3600;
  auto expired = jwt::sign(claims, test::node_jwt_secret());
  ws_client ws;
  auto expired_st = authenticate(ws, expired);
  CAF_CHECK_EQUAL(expired_st, "error");
  auto garbage = ws.call({{"type", "auth"}, {"token", "garbage"}}, "g");
  auto garbage_code = code_of(garbage);
  CAF_CHECK_EQUAL(garbage_code, "unauthorized");
  auto forged = ws.call({{"type", "auth"}, {"token", jwt::sign(test::jwt_payload(a.access),
                                                                std::string(64, 'x'))}},
                        "f");
  auto forged_code = code_of(forged);
  CAF_CHECK_EQUAL(forged_code, "unauthorized");
  auto refused = subscribe(ws, "org:" + a.org_id + ":notifications", "s");
  auto refused_code = code_of(refused);
  CAF_CHECK_EQUAL(refused_code, "unauthorized");
  // Public topics need no token.
  auto queue = subscribe(ws, "org:" + a.org_id + ":queue", "q");
  auto queue_st = status_of(queue);
  CAF_CHECK_EQUAL(queue_st, "ok");
}

CAF_TEST(the route is documented and answers 426 without an upgrade) {
  auto r = api.get("/api/realtime");
  CAF_REQUIRE(r.has_value());
  CAF_CHECK_EQUAL(r->status, 426);
  auto doc = api.get("/openapi.json");
  CAF_REQUIRE(doc.has_value());
  auto spec = doc->json();
  CAF_CHECK(spec.contains("paths") && spec["paths"].contains("/api/realtime"));
}

CAF_TEST_FIXTURE_SCOPE_END()
