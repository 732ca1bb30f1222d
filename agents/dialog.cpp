#include "agents/dialog.hpp"

#include <cstdio>
#include <regex>

#include "protocols/app_errc.hpp"
#include "protocols/pricing.hpp"

namespace djdash::agents {

namespace {

using json = nlohmann::json;

caf::error bad(const std::string& what) {
  return make_app_error(app_errc::bad_request, "agent context: " + what);
}

std::string text_of(const json& obj, const char* key) {
  auto i = obj.find(key);
  return i != obj.end() && i->is_string() ? i->get<std::string>() : std::string{};
}

// Days since 1970-01-01 of a proleptic Gregorian date (the "days from civil" construction).
int64_t to_days(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2;
  auto era = (y >= 0 ? y : y - 399) / 400;
  auto yoe = y - era * 400;
  auto doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  auto doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

std::string from_days(int64_t z) {
  z += 719468;
  auto era = (z >= 0 ? z : z - 146096) / 146097;
  auto doe = z - era * 146097;
  auto yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  auto y = yoe + era * 400;
  auto doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  auto mp = (5 * doy + 2) / 153;
  auto d = doy - (153 * mp + 2) / 5 + 1;
  auto m = mp + (mp < 10 ? 3 : -9);
  y += m <= 2;
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", static_cast<int>(y), static_cast<int>(m),
                static_cast<int>(d));
  return buf;
}

std::optional<int64_t> days_of(const std::string& date) {
  if (!pricing::weekday_of(date))
    return std::nullopt;
  return to_days(std::stoll(date.substr(0, 4)), std::stoll(date.substr(5, 2)),
                 std::stoll(date.substr(8, 2)));
}

} // namespace

caf::expected<turn> parse_context(const std::string& intent, const std::string& context_json) {
  auto ctx = json::parse(context_json, nullptr, false);
  if (ctx.is_discarded() || !ctx.is_object())
    return bad("not a JSON object");
  turn t;
  t.intent = intent;
  auto org = ctx.value("org", json::object());
  if (!org.is_object())
    return bad("org must be an object");
  t.org_id = text_of(org, "id");
  t.org_name = text_of(org, "name");
  t.timezone = text_of(org, "timezone");
  t.org_phone = text_of(org, "phone");
  t.customer_phone = text_of(ctx, "customer_phone");
  t.conversation_id = text_of(ctx, "conversation_id");
  t.text = text_of(ctx, "text");
  t.now = text_of(ctx, "now");
  if (t.org_id.empty() || t.org_name.empty())
    return bad("org.id and org.name are required");
  if (t.customer_phone.empty())
    return bad("customer_phone is required");
  if (t.now.size() < 10 || !pricing::weekday_of(t.now.substr(0, 10)))
    return bad("now must be an RFC 3339 time");
  t.today = t.now.substr(0, 10);
  auto cls = ctx.value("classification", json::object());
  if (cls.is_object() && cls.value("entities", json()).is_object())
    t.entities = cls["entities"];
  t.state = ctx.value("state", json::object());
  if (!t.state.is_object())
    t.state = json::object();
  auto slots = t.state.value("slots", json::object());
  t.slots = merge_slots(slots.is_object() ? slots : json::object(), t.entities);
  if (auto c = text_of(ctx, "contact_id"); !c.empty())
    t.contact_id = c;
  else if (auto s = text_of(t.state, "contact_id"); !s.empty())
    t.contact_id = s;
  return t;
}

json merge_slots(const json& slots, const json& entities) {
  auto out = slots.is_object() ? slots : json::object();
  if (entities.is_object())
    for (auto& [key, value] : entities.items())
      if (!value.is_null())
        out[key] = value;
  return out;
}

const tool_record* last_call(const turn& t, std::string_view name) {
  for (auto i = t.calls.rbegin(); i != t.calls.rend(); ++i)
    if (i->name == name)
      return &*i;
  return nullptr;
}

size_t call_count(const turn& t, std::string_view name) {
  size_t n = 0;
  for (auto& c : t.calls)
    n += c.name == name ? 1 : 0;
  return n;
}

std::optional<std::string> slot_text(const turn& t, const char* key) {
  auto i = t.slots.find(key);
  if (i == t.slots.end() || !i->is_string() || i->get<std::string>().empty())
    return std::nullopt;
  return i->get<std::string>();
}

std::optional<double> slot_number(const turn& t, const char* key) {
  auto i = t.slots.find(key);
  if (i == t.slots.end() || !i->is_number())
    return std::nullopt;
  return i->get<double>();
}

std::optional<std::string> known_contact(const turn& t) {
  if (t.contact_id)
    return t.contact_id;
  if (auto c = last_call(t, "create_contact"); c && c->ok)
    return c->result["contact"]["id"].get<std::string>();
  return std::nullopt;
}

std::optional<tool_request> ensure_contact(const turn& t) {
  if (known_contact(t))
    return std::nullopt;
  auto tries = call_count(t, "create_contact");
  json args = {{"phone", t.customer_phone}, {"source", "sms"}};
  if (tries == 0) {
    for (auto key : {"name", "email"})
      if (auto v = slot_text(t, key))
        args[key] = *v;
  } else if (tries > 1 || last_call(t, "create_contact")->arguments.size() == args.size()) {
    return std::nullopt;  // even the phone alone was refused: go on without a contact
  }
  return tool_request{"create_contact", args, tool_kind::db, "contacts.upsert_inquiry"};
}

json agent_output(const turn& t, const final_reply& r) {
  json calls = json::array();
  for (auto& c : t.calls)
    if (c.recorded)
      calls.push_back({{"name", c.name}, {"arguments", c.arguments}, {"result", c.result}});
  auto state = t.state;
  state["slots"] = t.slots;
  if (auto contact = known_contact(t))
    state["contact_id"] = *contact;
  for (auto& [key, value] : r.state_patch.items())
    state[key] = value;
  return {{"reply", r.text}, {"tool_calls", calls}, {"state", state}};
}

std::optional<std::string> add_days(const std::string& date, int days) {
  auto d = days_of(date);
  if (!d)
    return std::nullopt;
  return from_days(*d + days);
}

std::vector<std::string> nearby_dates(const std::string& date, const std::string& today,
                                      int span) {
  std::vector<std::string> out;
  auto d = days_of(date);
  auto now = days_of(today);
  if (!d || !now)
    return out;
  for (int k = 1; k <= span; ++k)
    for (int sign : {1, -1})
      if (*d + sign * k >= *now)
        out.push_back(from_days(*d + sign * k));
  return out;
}

std::optional<std::string> add_days_rfc3339(const std::string& rfc3339, int days) {
  static const std::regex re{R"(^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-]\d{2}:\d{2})$)"};
  if (!std::regex_match(rfc3339, re))
    return std::nullopt;
  auto date = add_days(rfc3339.substr(0, 10), days);
  if (!date)
    return std::nullopt;
  return *date + "T" + rfc3339.substr(11);
}

} // namespace djdash::agents
