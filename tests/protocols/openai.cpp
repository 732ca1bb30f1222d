#define CAF_SUITE protocols.openai

#include "protocols/openai.hpp"

#include <fstream>
#include <sstream>
#include <string>

#include "protocols/app_errc.hpp"
#include "support/caf_test.hpp"

using namespace djdash;
using nlohmann::json;

namespace {

json load_vector(const char* name) {
  std::ifstream in(std::string{DJDASH_SHARED_DIR "/vectors/"} + name, std::ios::binary);
  if (!in)
    return json(json::value_t::discarded);
  std::stringstream buf;
  buf << in.rdbuf();
  return json::parse(buf.str(), nullptr, false);
}

/// Rebuilds a recorded request from its parts through our request builder.
openai::chat_request request_like(const json& recorded, const json& messages) {
  openai::chat_request req;
  req.model = recorded["model"];
  req.messages = messages;
  for (auto& t : recorded["tools"]) {
    auto& fn = t["function"];
    req.tools.push_back({fn["name"], fn.value("description", ""), fn["parameters"],
                         fn.value("strict", false)});
  }
  req.tool_choice = recorded["tool_choice"];
  if (recorded.contains("parallel_tool_calls"))
    req.parallel_tool_calls = recorded["parallel_tool_calls"].get<bool>();
  if (recorded.contains("temperature"))
    req.temperature = recorded["temperature"].get<double>();
  return req;
}

/// Runs both steps of a vector file: request bodies deep-equal to what openai-node sent, tool
/// calls parsed with their argument strings decoded, one tool message per call id.
void check_exchange(const char* file, size_t expected_calls) {
  auto v = load_vector(file);
  CAF_REQUIRE(!v.is_discarded());
  auto& ex = v["exchanges"];
  CAF_REQUIRE_EQUAL(ex.size(), 2u);
  auto first = ex[0]["request"];
  auto built = openai::to_json(request_like(first, first["messages"]));
  CAF_CHECK_EQUAL(built, first);

  auto resp = openai::parse_response(ex[0]["response"].dump());
  CAF_REQUIRE(resp);
  CAF_CHECK(!resp->content);
  CAF_CHECK_EQUAL(resp->finish_reason, "tool_calls");
  CAF_REQUIRE_EQUAL(resp->tool_calls.size(), expected_calls);
  auto recorded_calls = ex[0]["response"]["choices"][0]["message"]["tool_calls"];
  for (size_t i = 0; i < expected_calls; ++i) {
    auto& call = resp->tool_calls[i];
    auto rec = recorded_calls[i];
    CAF_CHECK_EQUAL(call.id, rec["id"].get<std::string>());
    CAF_CHECK_EQUAL(call.name, rec["function"]["name"].get<std::string>());
    CAF_REQUIRE(call.arguments);
    auto decoded = json::parse(rec["function"]["arguments"].get<std::string>());
    CAF_CHECK_EQUAL(*call.arguments, decoded);
  }

  // Step 2: the history plus our assistant message plus one tool message per call id.
  auto second = ex[1]["request"];
  auto messages = first["messages"];
  messages.push_back(openai::assistant_message(*resp));
  auto recorded_messages = second["messages"];
  for (auto& call : resp->tool_calls) {
    std::string content;
    for (auto& m : recorded_messages)
      if (m["role"] == "tool" && m["tool_call_id"] == call.id)
        content = m["content"];
    CAF_CHECK(!content.empty());
    messages.push_back(openai::tool_message(call.id, content));
  }
  auto rebuilt = openai::to_json(request_like(second, messages));
  CAF_CHECK_EQUAL(rebuilt, second);

  auto final_resp = openai::parse_response(ex[1]["response"].dump());
  CAF_REQUIRE(final_resp);
  CAF_CHECK(final_resp->tool_calls.empty());
  CAF_CHECK_EQUAL(final_resp->finish_reason, "stop");
  auto text = ex[1]["response"]["choices"][0]["message"]["content"].get<std::string>();
  CAF_REQUIRE(final_resp->content);
  CAF_CHECK_EQUAL(*final_resp->content, text);
}

/// A chat completion whose only tool call is `name(arguments)`.
std::string completion_with_call(const std::string& name, const std::string& arguments) {
  json body = {{"id", "chatcmpl-1"},
               {"object", "chat.completion"},
               {"choices",
                {{{"index", 0},
                  {"finish_reason", "tool_calls"},
                  {"message",
                   {{"role", "assistant"},
                    {"content", ""},
                    {"tool_calls",
                     {{{"id", "call_1"},
                       {"type", "function"},
                       {"function", {{"name", name}, {"arguments", arguments}}}}}}}}}}}};
  return body.dump();
}

std::string rejection(const std::string& body) {
  auto r = openai::parse_response(body);
  return r ? "accepted" : to_string(app_code(r.error()));
}

/// Every object in `schema` lists all its properties as required and forbids others.
bool strict_everywhere(const json& schema) {
  if (!schema.is_object())
    return true;
  if (schema.contains("properties")) {
    if (schema.value("additionalProperties", true) != false)
      return false;
    for (auto& [key, value] : schema["properties"].items()) {
      auto required = schema["required"];
      if (std::find(required.begin(), required.end(), key) == required.end())
        return false;
      if (!strict_everywhere(value))
        return false;
    }
  }
  return true;
}

} // namespace

CAF_TEST(the single tool call vector round-trips) {
  check_exchange("openai_tool_call_single.json", 1);
}

CAF_TEST(the parallel tool call vector round-trips) {
  check_exchange("openai_tool_call_parallel.json", 2);
}

CAF_TEST(malformed responses are rejected) {
  CAF_CHECK_EQUAL(rejection("not json"), "upstream_error");
  CAF_CHECK_EQUAL(rejection("[]"), "upstream_error");
  CAF_CHECK_EQUAL(rejection(R"({"choices":[]})"), "upstream_error");
  CAF_CHECK_EQUAL(rejection(R"({"choices":[{"index":0}]})"), "upstream_error");
  CAF_CHECK_EQUAL(rejection(R"({"choices":[{"message":{"content":7}}]})"), "upstream_error");
  CAF_CHECK_EQUAL(rejection(R"({"choices":[{"message":{"content":null,"tool_calls":{}}}]})"),
                  "upstream_error");
  // A call without id, and one whose arguments are an object instead of a JSON string.
  CAF_CHECK_EQUAL(rejection(R"({"choices":[{"message":{"tool_calls":[{"type":"function",
    "function":{"name":"f","arguments":"{}"}}]}}]})"),
                  "upstream_error");
  CAF_CHECK_EQUAL(rejection(R"({"choices":[{"message":{"tool_calls":[{"id":"c","type":"function",
    "function":{"name":"f","arguments":{}}}]}}]})"),
                  "upstream_error");
  // Compatible servers may send content "" and no usage: that is fine.
  CAF_CHECK_EQUAL(rejection(R"({"choices":[{"message":{"content":""}}]})"), "accepted");
}

CAF_TEST(arguments that are not a JSON object are kept with an error) {
  auto r = openai::parse_response(completion_with_call("classify_message", "{\"intent\":"));
  CAF_REQUIRE(r);
  CAF_REQUIRE_EQUAL(r->tool_calls.size(), 1u);
  auto& call = r->tool_calls[0];
  CAF_CHECK(!call.arguments);
  CAF_CHECK(!call.arguments_error.empty());
  // The original string survives, so the history can be replayed exactly.
  auto msg = openai::assistant_message(*r);
  auto sent = msg["tool_calls"][0]["function"]["arguments"].get<std::string>();
  CAF_CHECK_EQUAL(sent, "{\"intent\":");
  auto c = openai::classification_from(*r);
  CAF_CHECK(!c);
  auto list = openai::parse_response(completion_with_call("classify_message", "[1,2]"));
  CAF_REQUIRE(list);
  CAF_CHECK(!list->tool_calls[0].arguments);
}

CAF_TEST(the classify request forces one strict classify_message call) {
  auto req = openai::classify_request("gpt-4o-mini", "are you free june 14?",
                                      "2026-05-01T10:00:00-05:00", "America/Chicago");
  auto body = openai::to_json(req);
  CAF_CHECK_EQUAL(body["model"], "gpt-4o-mini");
  CAF_CHECK_EQUAL(body["tool_choice"]["function"]["name"], "classify_message");
  CAF_CHECK_EQUAL(body["parallel_tool_calls"], false);
  auto fn = body["tools"][0]["function"];
  CAF_CHECK_EQUAL(fn["name"], "classify_message");
  CAF_CHECK_EQUAL(fn["strict"], true);
  CAF_CHECK(strict_everywhere(fn["parameters"]));
  auto intents = fn["parameters"]["properties"]["intent"]["enum"];
  CAF_CHECK_EQUAL(intents.size(), 6u);
  auto entities = fn["parameters"]["properties"]["entities"]["properties"];
  for (auto key : {"date", "time", "hours", "guests", "event_type", "venue", "name", "email",
                   "budget_cents"})
    CAF_CHECK(entities.contains(key));
  auto user = body["messages"][1];
  CAF_CHECK_EQUAL(user["role"], "user");
  CAF_CHECK_EQUAL(user["content"], "are you free june 14?");
  auto system = body["messages"][0]["content"].get<std::string>();
  CAF_CHECK(system.find("2026-05-01T10:00:00-05:00") != std::string::npos);
  CAF_CHECK(system.find("America/Chicago") != std::string::npos);
}

CAF_TEST(a classify_message call becomes a classification) {
  json args = {{"intent", "pricing"},
               {"confidence", 0.92},
               {"entities",
                {{"date", "2026-06-14"}, {"time", "18:30"}, {"hours", 5}, {"guests", 150},
                 {"event_type", "wedding"}, {"venue", "Peabody Hotel"}, {"name", nullptr},
                 {"email", "ann@example.com"}, {"budget_cents", nullptr}}}};
  auto r = openai::parse_response(completion_with_call("classify_message", args.dump()));
  CAF_REQUIRE(r);
  auto c = openai::classification_from(*r);
  CAF_REQUIRE(c);
  json expected = {{"intent", "pricing"},
                   {"confidence", 0.92},
                   {"entities",
                    {{"date", "2026-06-14"}, {"time", "18:30"}, {"hours", 5}, {"guests", 150},
                     {"event_type", "wedding"}, {"venue", "Peabody Hotel"},
                     {"email", "ann@example.com"}}}};
  CAF_CHECK_EQUAL(*c, expected);
}

CAF_TEST(entities outside the formats are dropped and bad intents rejected) {
  json args = {{"intent", "booking"},
               {"confidence", 1},
               {"entities",
                {{"date", "2026-02-30"}, {"time", "7pm"}, {"hours", 30}, {"guests", -3},
                 {"event_type", "rave"}, {"venue", ""}, {"email", "nope"}}}};
  auto r = openai::parse_response(completion_with_call("classify_message", args.dump()));
  CAF_REQUIRE(r);
  auto c = openai::classification_from(*r);
  CAF_REQUIRE(c);
  auto entities = (*c)["entities"];
  CAF_CHECK(entities.empty());
  CAF_CHECK_EQUAL((*c)["intent"], "booking");

  args["intent"] = "spam";
  auto bad_intent = openai::parse_response(completion_with_call("classify_message", args.dump()));
  CAF_REQUIRE(bad_intent);
  CAF_CHECK(!openai::classification_from(*bad_intent));
  args["intent"] = "other";
  args["confidence"] = 1.5;
  auto bad_conf = openai::parse_response(completion_with_call("classify_message", args.dump()));
  CAF_REQUIRE(bad_conf);
  CAF_CHECK(!openai::classification_from(*bad_conf));
  auto other_tool = openai::parse_response(completion_with_call("send_sms", "{}"));
  CAF_REQUIRE(other_tool);
  CAF_CHECK(!openai::classification_from(*other_tool));
}
