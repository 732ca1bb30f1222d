#define CAF_SUITE e2e.agents_classify

// POST /api/agents/classify over the real binary: intents and entities with relative dates
// resolved in the organization's own timezone, opt-outs, and 4xx for every unusable input.

#include <csignal>
#include <cstdio>
#include <stdexcept>

#include "accounts_harness.hpp"
#include "support/caf_test.hpp"

using namespace djdash;
using namespace std::chrono_literals;
using nlohmann::json;
using test::product;

namespace {

const std::string password = "classify e2e password";

/// One database and one node for the whole suite.
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

struct fixture {
  shared_node& s = the_node();
  test::api api{s.n.port()};

  test::account owner(const std::string& tag) {
    auto email = "classify-" + tag + "-" + std::to_string(test::free_port()) + "@example.com";
    auto r = api.signup(email, password, product("djdash"), "Classify " + tag);
    DJ_EXPECT_STATUS(r, 201, "signup " << email);
    CAF_REQUIRE_EQUAL(r->status, 201);
    return test::account::from(email, password, r->json());
  }

  json ok(const std::optional<test::http_reply>& r, int status, const std::string& what) {
    DJ_EXPECT_STATUS(r, status, what);
    return r->json();
  }

  std::optional<test::http_reply> classify(const test::account& a, const json& body) {
    return api.call("POST", "/api/agents/classify", body, a.auth());
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(agents_classify_tests, fixture)

CAF_TEST(relative dates resolve in the organization timezone) {
  auto a = owner("tz");
  ok(api.call("PATCH", "/api/organizations/current", json{{"timezone", "Pacific/Auckland"}},
              a.auth()),
     200, "set timezone");
  // 13:00 UTC on May 12 is already 01:00 on May 13 in Auckland: "tomorrow" is May 14 there.
  auto r = ok(classify(a, {{"text", "are you free tomorrow night for a wedding?"},
                           {"now", "2026-05-12T13:00:00Z"}}),
              200, "classify");
  auto intent = r.value("intent", "");
  auto date = r["entities"].value("date", "");
  auto type = r["entities"].value("event_type", "");
  auto confidence = r.value("confidence", -1.0);
  CAF_CHECK_EQUAL(intent, "availability");
  CAF_CHECK_EQUAL(date, "2026-05-14");
  CAF_CHECK_EQUAL(type, "wedding");
  CAF_CHECK(confidence > 0.0 && confidence <= 1.0);
}

CAF_TEST(intents without now and opt-outs) {
  auto a = owner("intents");
  auto price = ok(classify(a, {{"text", "not looking to book yet, just prices for 4 hrs"}}), 200,
                  "pricing");
  auto price_intent = price.value("intent", "");
  auto hours = price["entities"].value("hours", 0.0);
  CAF_CHECK_EQUAL(price_intent, "pricing");
  CAF_CHECK_EQUAL(hours, 4.0);
  auto stop = ok(classify(a, {{"text", "STOP"}}), 200, "stop");
  auto stop_intent = stop.value("intent", "");
  auto stop_confidence = stop.value("confidence", 0.0);
  CAF_CHECK_EQUAL(stop_intent, "optout");
  CAF_CHECK_EQUAL(stop_confidence, 1.0);
  auto venue = ok(classify(a, {{"text", "can you stop by the venue friday to check the setup"}}),
                  200, "stop by");
  auto venue_intent = venue.value("intent", "");
  CAF_CHECK_NOT_EQUAL(venue_intent, "optout");
}

CAF_TEST(unusable input is a clear 4xx) {
  auto a = owner("bad");
  DJ_EXPECT_ERROR(classify(a, json::object()), 400, "bad_request", "no text");
  DJ_EXPECT_ERROR(classify(a, {{"text", 42}}), 400, "bad_request", "text not a string");
  DJ_EXPECT_ERROR(classify(a, {{"text", ""}}), 422, "unprocessable", "empty text");
  DJ_EXPECT_ERROR(classify(a, {{"text", "   "}}), 422, "unprocessable", "blank text");
  DJ_EXPECT_ERROR(classify(a, {{"text", std::string(1601, 'a')}}), 422, "unprocessable",
                  "text over 1600 characters");
  DJ_EXPECT_ERROR(classify(a, {{"text", "are you free"}, {"now", "tomorrow"}}), 400,
                  "bad_request", "now not RFC 3339");
  DJ_EXPECT_ERROR(classify(a, {{"text", "are you free"}, {"now", "2026-02-30T10:00:00Z"}}), 400,
                  "bad_request", "impossible now");
  DJ_EXPECT_ERROR(api.call("POST", "/api/agents/classify", std::string{"{not json"}, a.auth()),
                  400, "bad_request", "malformed body");
  DJ_EXPECT_STATUS(api.call("POST", "/api/agents/classify", json{{"text", "hi"}}), 401,
                   "no token");
  // 1600 characters of multi-byte text is still one SMS.
  std::string accents;
  for (int i = 0; i < 1600; ++i)
    accents += "\xc3\xa9";
  DJ_EXPECT_STATUS(classify(a, {{"text", accents}}), 200, "1600 accented characters");
}

CAF_TEST(the route is in the OpenAPI document) {
  auto doc = ok(api.get("/openapi.json"), 200, "openapi");
  auto found = doc["paths"].contains("/api/agents/classify")
               && doc["paths"]["/api/agents/classify"].contains("post");
  CAF_CHECK(found);
}

CAF_TEST_FIXTURE_SCOPE_END()
