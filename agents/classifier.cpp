#include "agents/classifier.hpp"

#include <algorithm>
#include <cmath>

#include <date/date.h>

#include "agents/opt_out.hpp"

namespace djdash::agents {

namespace {

using json = nlohmann::json;

double rounded(double p) {
  return std::round(std::clamp(p, 0.0, 1.0) * 10000.0) / 10000.0;
}

bool known_intent(const std::string& s) {
  return std::find_if(std::begin(intent_names), std::end(intent_names),
                      [&](const char* n) { return s == n; })
         != std::end(intent_names);
}

/// Reads `n` digits at `pos` into `out`; false when they are not all digits.
bool digits(std::string_view s, std::size_t pos, std::size_t n, int& out) {
  if (pos + n > s.size())
    return false;
  out = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9')
      return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}

bool at(std::string_view s, std::size_t pos, char c) {
  return pos < s.size() && s[pos] == c;
}

/// Returns the zone offset in minutes east of UTC at `pos` ("Z", "+05:30", "-05:00") if the
/// offset ends the string.
std::optional<int> zone_offset(std::string_view s, std::size_t pos) {
  if (pos + 1 == s.size() && (s[pos] == 'Z' || s[pos] == 'z'))
    return 0;
  int h = 0, m = 0;
  if (pos + 6 != s.size() || (s[pos] != '+' && s[pos] != '-') || !digits(s, pos + 1, 2, h)
      || !at(s, pos + 3, ':') || !digits(s, pos + 4, 2, m) || h > 23 || m > 59)
    return std::nullopt;
  return (s[pos] == '-' ? -1 : 1) * (h * 60 + m);
}

/// Keeps the entities an LLM may add: AGENTS.md keys with the JSON type they must have.
json typed_entities(const json& e) {
  json out = json::object();
  if (!e.is_object())
    return out;
  for (const char* k : {"date", "time", "event_type", "venue", "name", "email"})
    if (e.contains(k) && e[k].is_string() && !e[k].get<std::string>().empty())
      out[k] = e[k];
  if (e.contains("hours") && e["hours"].is_number() && e["hours"].get<double>() > 0)
    out["hours"] = e["hours"];
  for (const char* k : {"guests", "budget_cents"})
    if (e.contains(k) && e[k].is_number_integer() && e[k].get<long long>() > 0)
      out[k] = e[k];
  return out;
}

} // namespace

json classify(const intent_model& model, std::string_view text, sys_seconds now,
              const std::string& tz) {
  json out;
  if (is_opt_out(text)) {
    out["intent"] = "optout";
    out["confidence"] = 1.0;
  } else if (is_help(text)) {
    out["intent"] = "other";
    out["confidence"] = 1.0;
  } else {
    auto p = model.predict(text);
    out["intent"] = p.intent;
    out["confidence"] = rounded(p.probability);
  }
  out["entities"] = extract_entities(text, now, tz);
  return out;
}

std::optional<sys_seconds> parse_rfc3339(std::string_view s) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
  if (!digits(s, 0, 4, y) || !at(s, 4, '-') || !digits(s, 5, 2, mo) || !at(s, 7, '-')
      || !digits(s, 8, 2, d) || s.size() < 11 || (s[10] != 'T' && s[10] != 't' && s[10] != ' ')
      || !digits(s, 11, 2, h) || !at(s, 13, ':') || !digits(s, 14, 2, mi) || !at(s, 16, ':')
      || !digits(s, 17, 2, sec))
    return std::nullopt;
  std::size_t pos = 19;
  if (at(s, pos, '.')) {
    auto start = ++pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9')
      ++pos;
    if (pos == start)
      return std::nullopt;
  }
  auto offset = zone_offset(s, pos);
  auto ymd = date::year{y} / date::month{static_cast<unsigned>(mo)}
             / date::day{static_cast<unsigned>(d)};
  if (!offset || !ymd.ok() || h > 23 || mi > 59 || sec > 60)
    return std::nullopt;
  auto local = date::sys_days{ymd} + std::chrono::hours{h} + std::chrono::minutes{mi}
               + std::chrono::seconds{std::min(sec, 59)}; // a leap second reads as :59
  return sys_seconds{local.time_since_epoch() - std::chrono::minutes{*offset}};
}

std::optional<json> accept_llm_answer(const std::string& answer, const json& local) {
  auto j = json::parse(answer, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("intent") || !j["intent"].is_string()
      || !j.contains("confidence") || !j["confidence"].is_number())
    return std::nullopt;
  auto intent = j["intent"].get<std::string>();
  auto confidence = j["confidence"].get<double>();
  if (!known_intent(intent) || !(confidence >= 0.0 && confidence <= 1.0))
    return std::nullopt;
  if (local.value("intent", "") == "optout")
    return local;
  json entities = typed_entities(j.value("entities", json::object()));
  const json rules = local.value("entities", json::object());
  for (auto& [k, v] : rules.items())
    entities[k] = v;
  return json{{"intent", intent}, {"confidence", rounded(confidence)}, {"entities", entities}};
}

} // namespace djdash::agents
