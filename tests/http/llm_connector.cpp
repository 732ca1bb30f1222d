#define CAF_SUITE http.llm_connector

// The LLM connector against a fake OpenAI-compatible server on loopback speaking the real wire
// format: a tool call becomes a classification; a server that hangs is an error by the deadline.

#include "http/client/llm_connector.hpp"

#include <chrono>
#include <string>

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>
#include <nlohmann/json.hpp>

#include "config/app_config.hpp"
#include "config/settings.hpp"
#include "protocols/app_errc.hpp"
#include "support/caf_test.hpp"
#include "support/fake_http_server.hpp"

using namespace djdash;
using djdash::test::fake_http_server;
using djdash::test::fake_request;
using djdash::test::fake_response;
using json = nlohmann::json;

namespace {

/// A chat completion whose only tool call is classify_message(arguments).
fake_response tool_call_answer(const std::string& arguments) {
  json body = {
    {"id", "chatcmpl-fake"},
    {"object", "chat.completion"},
    {"created", 1767225600},
    {"model", "gpt-4o-mini-2024-07-18"},
    {"choices",
     {{{"index", 0},
       {"finish_reason", "tool_calls"},
       {"logprobs", nullptr},
       {"message",
        {{"role", "assistant"},
         {"content", nullptr},
         {"refusal", nullptr},
         {"tool_calls",
          {{{"id", "call_fake0001"},
            {"type", "function"},
            {"function", {{"name", "classify_message"}, {"arguments", arguments}}}}}}}}}}}};
  fake_response res;
  res.body = body.dump();
  return res;
}

struct fixture {
  app_config caf_cfg;
  caf::actor_system sys{caf_cfg};
  caf::scoped_actor self{sys};

  settings cfg_for(const fake_http_server& fake) {
    settings cfg;
    cfg.services.openai_base_url = fake.base_url() + "/v1";
    cfg.services.openai_model = "gpt-4o-mini";
    cfg.secrets.openai_api_key = "sk-test-key";
    return cfg;
  }

  /// Asks `llm` to classify `text`; returns the JSON or the error code.
  json classify(const llm_actor& llm, const std::string& text) {
    json out;
    self->request(llm, std::chrono::seconds(20), llm_atom_v, text,
                  std::string{"2026-05-07T10:00:00-05:00"}, std::string{"America/Chicago"})
      .receive([&](const std::string& s) { out = json::parse(s); },
               [&](caf::error& err) { out = {{"error", to_string(app_code(err))}}; });
    return out;
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(llm_connector_tests, fixture)

CAF_TEST(a classify_message tool call becomes the classification) {
  json args = {{"intent", "availability"},
               {"confidence", 0.97},
               {"entities",
                {{"date", "2026-06-14"}, {"time", nullptr}, {"hours", nullptr},
                 {"guests", nullptr}, {"event_type", "wedding"}, {"venue", nullptr},
                 {"name", nullptr}, {"email", nullptr}, {"budget_cents", nullptr}}}};
  fake_http_server fake{[&](const fake_request&) { return tool_call_answer(args.dump()); }};
  auto llm = http::spawn_llm_connector(sys, cfg_for(fake));
  auto out = classify(llm, "are you free june 14 for a wedding?");
  json expected = {{"intent", "availability"},
                   {"confidence", 0.97},
                   {"entities", {{"date", "2026-06-14"}, {"event_type", "wedding"}}}};
  CAF_CHECK_EQUAL(out, expected);
  auto seen = fake.requests();
  CAF_REQUIRE_EQUAL(seen.size(), 1u);
  CAF_CHECK_EQUAL(seen[0].method, "POST");
  CAF_CHECK_EQUAL(seen[0].path, "/v1/chat/completions");
  CAF_CHECK_EQUAL(seen[0].header("authorization"), "Bearer sk-test-key");
  CAF_CHECK_EQUAL(seen[0].header("content-type"), "application/json");
  auto body = json::parse(seen[0].body);
  CAF_CHECK_EQUAL(body["model"], "gpt-4o-mini");
  CAF_CHECK_EQUAL(body["tool_choice"]["function"]["name"], "classify_message");
  CAF_CHECK_EQUAL(body["messages"][1]["content"], "are you free june 14 for a wedding?");
  // The same connection serves the next message.
  auto again = classify(llm, "and june 15?");
  CAF_CHECK_EQUAL(again["intent"], "availability");
  caf::anon_send_exit(llm, caf::exit_reason::user_shutdown);
}

CAF_TEST(a backend that hangs is an error by the deadline) {
  fake_http_server fake{[](const fake_request&) {
    auto res = tool_call_answer("{}");
    res.delay = std::chrono::seconds(30);
    return res;
  }};
  http::llm_connector_options opts;
  opts.deadline = std::chrono::milliseconds(300);
  auto llm = http::spawn_llm_connector(sys, cfg_for(fake), opts);
  // The caller allows 20 s: the connector itself gives up at its deadline.
  auto out = classify(llm, "are you free june 14?");
  CAF_CHECK_EQUAL(out["error"], "upstream_timeout");
  fake.stop();
  caf::anon_send_exit(llm, caf::exit_reason::user_shutdown);
}

CAF_TEST(bad answers are errors the classifier can fall back from) {
  int calls = 0;
  fake_http_server fake{[&](const fake_request&) {
    ++calls;
    if (calls == 1) {
      fake_response res;
      res.status = 500;
      res.body = R"({"error":{"message":"overloaded"}})";
      return res;
    }
    if (calls == 2)
      return tool_call_answer("{\"intent\": \"availab");  // arguments cut off mid-string
    return tool_call_answer(R"({"intent":"party","confidence":0.5,"entities":{}})");
  }};
  auto llm = http::spawn_llm_connector(sys, cfg_for(fake));
  auto server_error = classify(llm, "hi");
  CAF_CHECK_EQUAL(server_error["error"], "upstream_error");
  auto truncated = classify(llm, "hi");
  CAF_CHECK_EQUAL(truncated["error"], "upstream_error");
  auto unknown_intent = classify(llm, "hi");
  CAF_CHECK_EQUAL(unknown_intent["error"], "upstream_error");
  caf::anon_send_exit(llm, caf::exit_reason::user_shutdown);
}

CAF_TEST(without an api key nothing is sent) {
  fake_http_server fake{[](const fake_request&) { return tool_call_answer("{}"); }};
  auto cfg = cfg_for(fake);
  cfg.secrets.openai_api_key.clear();
  auto llm = http::spawn_llm_connector(sys, cfg);
  auto out = classify(llm, "hi");
  CAF_CHECK_EQUAL(out["error"], "unprocessable");
  CAF_CHECK_EQUAL(fake.requests().size(), 0u);
  caf::anon_send_exit(llm, caf::exit_reason::user_shutdown);
}

CAF_TEST_FIXTURE_SCOPE_END()
