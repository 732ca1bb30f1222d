#include "protocols/openai.hpp"

#include <cmath>
#include <regex>
#include <set>

#include "protocols/app_errc.hpp"
#include "protocols/pricing.hpp"

namespace djdash::openai {

namespace {

using json = nlohmann::json;

caf::error malformed(const std::string& what) {
  return make_app_error(app_errc::upstream_error, "malformed chat completion: " + what);
}

bool non_empty_string(const json& v) {
  return v.is_string() && !v.get<std::string>().empty();
}

/// Reads one entry of `message.tool_calls`; nothing when it is not a function call of the
/// documented shape.
std::optional<tool_call> read_tool_call(const json& v) {
  if (!v.is_object() || !non_empty_string(v.value("id", json())))
    return std::nullopt;
  if (v.contains("type") && v["type"] != "function")
    return std::nullopt;
  auto fn = v.find("function");
  if (fn == v.end() || !fn->is_object() || !non_empty_string(fn->value("name", json()))
      || !fn->value("arguments", json()).is_string())
    return std::nullopt;
  tool_call call;
  call.id = v["id"].get<std::string>();
  call.name = (*fn)["name"].get<std::string>();
  call.arguments_text = (*fn)["arguments"].get<std::string>();
  auto args = json::parse(call.arguments_text, nullptr, false);
  if (args.is_discarded())
    call.arguments_error = "arguments are not valid JSON";
  else if (!args.is_object())
    call.arguments_error = "arguments are not a JSON object";
  else
    call.arguments = std::move(args);
  return call;
}

const std::set<std::string> intents{"availability", "pricing", "booking",
                                    "followup",     "other",   "optout"};
const std::set<std::string> event_types{"wedding",     "corporate", "birthday",
                                        "school_dance", "quinceanera", "mitzvah",
                                        "private_party", "club",    "other"};

json nullable(const char* type, const char* description) {
  return {{"type", json::array({type, "null"})}, {"description", description}};
}

json entity_schema() {
  json props = {
    {"date", nullable("string", "YYYY-MM-DD, resolved against now in the organization's timezone;"
                                " null unless the message names one unambiguous day")},
    {"time", nullable("string", "start time HH:MM, 24 h")},
    {"hours", nullable("number", "hours of DJ service (6pm to midnight = 6; 45 min = 0.75)")},
    {"guests", nullable("integer", "number of guests (numbers in words too)")},
    {"event_type",
     {{"type", json::array({"string", "null"})},
      {"enum", json::array({"wedding", "corporate", "birthday", "school_dance", "quinceanera",
                            "mitzvah", "private_party", "club", "other", nullptr})},
      {"description", "sweet 16 / numbered birthdays = birthday; graduation, retirement,"
                      " anniversary, reunion, engagement, house party = private_party; prom,"
                      " homecoming, formal = school_dance; bar or brewery gig = club; gala, block"
                      " party, church dance = other"}}},
    {"venue", nullable("string", "venue as written, without a leading lowercase \"the\"")},
    {"name", nullable("string", "the sender's own name")},
    {"email", nullable("string", "the sender's own email")},
    {"budget_cents", nullable("integer", "a budget the customer states, in cents")},
  };
  json required = json::array();
  for (auto& [key, value] : props.items())
    required.push_back(key);
  return {{"type", "object"},
          {"properties", props},
          {"required", required},
          {"additionalProperties", false}};
}

constexpr auto system_prompt
  = "You classify text messages that customers send to a DJ business. Call classify_message "
    "exactly once. Intents: availability (asks whether the DJ is free on a date or time); pricing "
    "(cost, rates, packages, what a price includes, the deposit amount; \"not ready to book, just "
    "prices\" is pricing); booking (wants to book, reserve, hold or confirm, accepts a quote, asks "
    "how to pay the deposit, sends final details, or a bare yes/ok answering an offer); followup "
    "(an existing booking or earlier conversation: changes, plans, music, timeline, contract or "
    "invoice already sent, balance, cancelling, checking on a quote, thanks, call back); optout "
    "(wants no more messages: STOP, unsubscribe, stop texting me); other (wrong number, spam, "
    "vendor pitches, job seekers, who is this; spam that says \"reply STOP\" is other). \"stop by "
    "the venue\" and \"don't stop the music\" are not optout; booking a restaurant table is not a "
    "DJ booking. Entities only when the message states them, else null.";

bool valid_time(const std::string& s) {
  static const std::regex re{"^([01][0-9]|2[0-3]):[0-5][0-9]$"};
  return std::regex_match(s, re);
}

/// Copies the entities of `in` that follow AGENTS.md's formats; the rest are left out.
json valid_entities(const json& in) {
  json out = json::object();
  if (!in.is_object())
    return out;
  auto text = [&](const char* key) {
    auto i = in.find(key);
    return i != in.end() && non_empty_string(*i) ? std::optional<std::string>{*i} : std::nullopt;
  };
  if (auto d = text("date"); d && pricing::weekday_of(*d))
    out["date"] = *d;
  if (auto t = text("time"); t && valid_time(*t))
    out["time"] = *t;
  if (auto h = in.find("hours"); h != in.end() && h->is_number() && h->get<double>() > 0
                                 && h->get<double>() <= 24)
    out["hours"] = *h;
  for (auto key : {"guests", "budget_cents"})
    if (auto n = in.find(key); n != in.end() && n->is_number_integer() && n->get<int64_t>() >= 0)
      out[key] = *n;
  if (auto e = text("event_type"); e && event_types.count(*e))
    out["event_type"] = *e;
  for (auto key : {"venue", "name"})
    if (auto v = text(key))
      out[key] = *v;
  if (auto e = text("email"); e && e->find('@') != std::string::npos && e->find(' ') == std::string::npos)
    out["email"] = *e;
  return out;
}

} // namespace

json to_json(const chat_request& req) {
  json body = {{"model", req.model}, {"messages", req.messages}};
  if (!req.tools.empty()) {
    json tools = json::array();
    for (auto& t : req.tools) {
      json fn = {{"name", t.name}};
      if (!t.description.empty())
        fn["description"] = t.description;
      fn["parameters"] = t.parameters;
      if (t.strict)
        fn["strict"] = true;
      tools.push_back({{"type", "function"}, {"function", std::move(fn)}});
    }
    body["tools"] = std::move(tools);
  }
  if (!req.tool_choice.is_null())
    body["tool_choice"] = req.tool_choice;
  if (req.parallel_tool_calls)
    body["parallel_tool_calls"] = *req.parallel_tool_calls;
  if (req.temperature)
    body["temperature"] = *req.temperature;
  return body;
}

caf::expected<chat_response> parse_response(std::string_view body) {
  auto doc = json::parse(body.begin(), body.end(), nullptr, false);
  if (doc.is_discarded() || !doc.is_object())
    return malformed("not a JSON object");
  auto choices = doc.find("choices");
  if (choices == doc.end() || !choices->is_array() || choices->empty()
      || !(*choices)[0].is_object())
    return malformed("no choices");
  auto& choice = (*choices)[0];
  auto message = choice.find("message");
  if (message == choice.end() || !message->is_object())
    return malformed("no message");
  chat_response out;
  auto content = message->value("content", json());
  if (content.is_string())
    out.content = content.get<std::string>();
  else if (!content.is_null())
    return malformed("content is neither text nor null");
  auto reason = choice.value("finish_reason", json());
  if (reason.is_string())
    out.finish_reason = reason.get<std::string>();
  auto calls = message->value("tool_calls", json());
  if (calls.is_null())
    return out;
  if (!calls.is_array())
    return malformed("tool_calls is not an array");
  for (auto& c : calls) {
    auto call = read_tool_call(c);
    if (!call)
      return malformed("a tool call without id, function name or arguments string");
    out.tool_calls.push_back(std::move(*call));
  }
  return out;
}

json assistant_message(const chat_response& resp) {
  json msg = {{"role", "assistant"},
              {"content", resp.content ? json(*resp.content) : json(nullptr)}};
  if (!resp.tool_calls.empty()) {
    json calls = json::array();
    for (auto& c : resp.tool_calls)
      calls.push_back({{"id", c.id},
                       {"type", "function"},
                       {"function", {{"name", c.name}, {"arguments", c.arguments_text}}}});
    msg["tool_calls"] = std::move(calls);
  }
  return msg;
}

json tool_message(const std::string& tool_call_id, const std::string& content) {
  return {{"role", "tool"}, {"tool_call_id", tool_call_id}, {"content", content}};
}

tool_def classify_tool() {
  json params = {
    {"type", "object"},
    {"properties",
     {{"intent",
       {{"type", "string"},
        {"enum", json::array({"availability", "pricing", "booking", "followup", "other", "optout"})},
        {"description", "exactly one intent for the whole message"}}},
      {"confidence", {{"type", "number"}, {"description", "0 to 1"}}},
      {"entities", entity_schema()}}},
    {"required", json::array({"intent", "confidence", "entities"})},
    {"additionalProperties", false}};
  return {"classify_message", "Record the intent and the entities of one customer text message.",
          std::move(params), true};
}

chat_request classify_request(const std::string& model, const std::string& text,
                              const std::string& now, const std::string& tz) {
  chat_request req;
  req.model = model;
  req.messages = json::array(
    {{{"role", "system"},
      {"content", std::string{system_prompt} + " Now is " + now + " in the timezone " + tz + "."}},
     {{"role", "user"}, {"content", text}}});
  req.tools.push_back(classify_tool());
  req.tool_choice = {{"type", "function"}, {"function", {{"name", "classify_message"}}}};
  req.parallel_tool_calls = false;  // strict schemas do not allow parallel calls
  req.temperature = 0;
  return req;
}

caf::expected<json> classification_from(const chat_response& resp) {
  for (auto& call : resp.tool_calls) {
    if (call.name != "classify_message")
      continue;
    if (!call.arguments)
      return malformed("classify_message " + call.arguments_error);
    auto& args = *call.arguments;
    auto intent = args.value("intent", json());
    if (!intent.is_string() || intents.count(intent.get<std::string>()) == 0)
      return malformed("classify_message has no known intent");
    auto confidence = args.value("confidence", json());
    if (!confidence.is_number() || !std::isfinite(confidence.get<double>())
        || confidence.get<double>() < 0 || confidence.get<double>() > 1)
      return malformed("classify_message confidence is not a number from 0 to 1");
    return json{{"intent", intent},
                {"confidence", confidence.get<double>()},
                {"entities", valid_entities(args.value("entities", json()))}};
  }
  return malformed("no classify_message call");
}

} // namespace djdash::openai
