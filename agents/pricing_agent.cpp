#include "agents/pricing_agent.hpp"

#include <caf/actor_system.hpp>

#include "agents/reply_text.hpp"
#include "protocols/app_errc.hpp"
#include "protocols/pricing.hpp"

namespace djdash::agents {

namespace {

using json = nlohmann::json;

json error_result(const caf::error& err) {
  return {{"error", {{"code", to_string(app_code(err))}, {"message", error_message(err)}}}};
}

/// Asks for what a quote still needs; nothing when the event type and hours are known.
std::optional<std::string> missing_question(const turn& t) {
  auto type = slot_text(t, "event_type");
  auto hours = slot_number(t, "hours");
  if (!type && !hours)
    return std::string{"What type of event is it, and how many hours of DJ time do you need?"};
  if (!type)
    return std::string{"What type of event is it (wedding, birthday, corporate...)?"};
  if (!hours)
    return std::string{"How many hours of DJ time do you need?"};
  return std::nullopt;
}

} // namespace

const json* org_settings(const turn& t) {
  auto c = last_call(t, "load_org_settings");
  if (!c || !c->ok || !c->result.contains("settings"))
    return nullptr;
  return &c->result["settings"];
}

std::optional<step> quote_step(const turn& t, const quote_ask& ask) {
  if (last_call(t, "send_quote"))
    return std::nullopt;
  auto org = last_call(t, "load_org_settings");
  if (!org)
    return step{tool_request{"load_org_settings", json::object(), tool_kind::org_state, "", false}};
  auto settings = org_settings(t);
  if (!settings)
    return std::nullopt;
  auto quote = last_call(t, "get_quote");
  if (!quote) {
    pricing::quote_input in;
    in.event_type = ask.event_type;
    in.hours = ask.hours;
    in.date = ask.date;
    in.guests = ask.guests;
    json args = {{"event_type", ask.event_type}, {"hours", ask.hours}};
    if (ask.date)
      args["date"] = *ask.date;
    if (ask.guests)
      args["guests"] = *ask.guests;
    auto rules = settings->is_object() ? settings->value("pricing", json()) : json();
    auto q = pricing::get_quote(rules, in);
    return step{tool_request{"get_quote", args, tool_kind::local, "", true,
                             q ? pricing::to_json(*q) : error_result(q.error())}};
  }
  if (!quote->ok)
    return std::nullopt;
  auto args = quote->arguments;
  if (auto contact = known_contact(t))
    args["contact_id"] = *contact;
  return step{tool_request{"send_quote", args, tool_kind::db, "quotes.create"}};
}

const json* sent_quote(const turn& t) {
  auto c = last_call(t, "send_quote");
  return c && c->ok ? &c->result : nullptr;
}

step pricing_step(const turn& t) {
  if (auto c = ensure_contact(t))
    return *c;
  if (auto question = missing_question(t))
    return final_reply{fit_sms({"Happy to get you a quote from " + t.org_name + "!", *question})};
  quote_ask ask;
  ask.event_type = *slot_text(t, "event_type");
  ask.hours = *slot_number(t, "hours");
  auto date = slot_text(t, "date");
  if (date && *date >= t.today && pricing::weekday_of(*date))
    ask.date = date;
  if (auto g = t.slots.find("guests"); g != t.slots.end() && g->is_number_integer())
    ask.guests = g->get<int64_t>();
  if (auto s = quote_step(t, ask))
    return *s;
  auto quote = sent_quote(t);
  if (!quote)
    return final_reply{fit_sms({"Thanks for asking " + t.org_name + "!",
                                "I can't put that quote together automatically, so the team will "
                                "text you a price shortly."})};
  auto amount = money((*quote)["amount_cents"].get<int64_t>(), (*quote)["currency"]);
  auto what = "your " + hours_adjective(ask.hours) + " " + event_label(ask.event_type);
  std::string when = ask.date ? " on " + day_label(*ask.date, t.today) : "";
  std::string minimum;
  if ((*quote)["billed_hours"].get<double>() > ask.hours + 1e-9)
    minimum = " (" + hours_adjective((*quote)["billed_hours"].get<double>()) + " minimum)";
  return final_reply{
    fit_sms({t.org_name + " here! DJ service for " + what + when + " comes to " + amount + minimum
               + ".",
             ask.date ? "" : "Prices can vary by date, so send yours for an exact quote.",
             "Want me to hold the date? A deposit locks it in."}),
    {{"last_quote_id", (*quote)["id"]}}};
}

caf::actor spawn_pricing_agent(caf::actor_system& sys, const agent_tools& tools) {
  return spawn_agent(sys, pricing_step, tools);
}

} // namespace djdash::agents
