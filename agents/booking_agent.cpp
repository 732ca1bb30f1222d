#include "agents/booking_agent.hpp"

#include <cctype>
#include <cmath>
#include <cstdio>

#include <caf/actor_system.hpp>

#include "agents/availability_agent.hpp"
#include "agents/pricing_agent.hpp"
#include "agents/reply_text.hpp"

namespace djdash::agents {

namespace {

using json = nlohmann::json;

/// What the booking is for: this dialog's slots first, then the last quote.
struct booking_facts {
  std::optional<std::string> date, event_type;
  std::optional<double> hours;
  std::string start = default_start_time;
  bool start_given = false;
  const json* prior_quote = nullptr;
};

const json* loaded(const turn& t, const char* tool) {
  auto c = last_call(t, tool);
  return c && c->ok ? &c->result : nullptr;
}

booking_facts gather(const turn& t) {
  booking_facts f;
  f.prior_quote = loaded(t, "load_quote");
  auto from_quote = [&](const char* key) -> json {
    return f.prior_quote ? f.prior_quote->value(key, json()) : json();
  };
  f.date = slot_text(t, "date");
  if (!f.date && from_quote("date").is_string())
    f.date = from_quote("date").get<std::string>();
  f.event_type = slot_text(t, "event_type");
  if (!f.event_type && from_quote("event_type").is_string())
    f.event_type = from_quote("event_type").get<std::string>();
  f.hours = slot_number(t, "hours");
  if (!f.hours && from_quote("hours").is_number())
    f.hours = from_quote("hours").get<double>();
  if (auto time = slot_text(t, "time")) {
    f.start = *time;
    f.start_given = true;
  }
  return f;
}

/// The last quote when it prices exactly this booking (same type, hours and date).
const json* matching_quote(const booking_facts& f) {
  auto q = f.prior_quote;
  if (!q || !(*q)["date"].is_string() || (*q)["date"] != *f.date || (*q)["event_type"] != *f.event_type
      || std::fabs((*q)["hours"].get<double>() - *f.hours) > 1e-9)
    return nullptr;
  return q;
}

std::string state_text(const turn& t, const char* key) {
  auto v = t.state.value(key, json());
  return v.is_string() ? v.get<std::string>() : std::string{};
}

std::string capitalized(std::string s) {
  if (!s.empty())
    s[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(s[0])));
  return s;
}

json event_args(const turn& t, const booking_facts& f, const json& span, const json& quote) {
  json args = {{"title", capitalized(event_label(*f.event_type)) + " for "
                           + slot_text(t, "name").value_or(t.customer_phone)},
               {"event_type", *f.event_type},
               {"starts_at", span["starts_at"]},
               {"ends_at", span["ends_at"]},
               {"status", "hold"},
               {"price_cents", quote["amount_cents"]},
               {"notes", "Held by the SMS assistant for " + t.customer_phone + ": \"" + t.text
                           + "\""}};
  if (auto contact = known_contact(t))
    args["contact_id"] = *contact;
  if (auto venue = slot_text(t, "venue"))
    args["venue"] = *venue;
  if (auto g = t.slots.find("guests"); g != t.slots.end() && g->is_number_integer())
    args["guest_count"] = *g;
  return args;
}

json invoice_args(const turn& t, const booking_facts& f, const json& event, const json& quote,
                  int64_t deposit) {
  json args = {
    {"event_id", event["id"]},
    {"currency", quote["currency"]},
    {"line_items",
     {{{"description", "DJ service: " + hours_adjective(*f.hours) + " " + event_label(*f.event_type)
                         + " on " + *f.date},
       {"quantity", 1},
       {"unit_cents", quote["amount_cents"]}}}},
    {"deposit_cents", deposit},
    {"notes", "Deposit to confirm the hold on " + *f.date + " (SMS assistant)."}};
  if (auto contact = known_contact(t))
    args["contact_id"] = *contact;
  return args;
}

/// Steps before the hold: the last quote, the facts the hold needs, a quote for them.
std::optional<step> prepare(const turn& t, const booking_facts& f) {
  auto ask = [&](const std::string& question) {
    return step{final_reply{fit_sms({"Great, let's get you booked with " + t.org_name + "!",
                                     question})}};
  };
  if (!f.date)
    return ask("What date is the event?");
  if (*f.date < t.today)
    return ask(day_label(*f.date, t.today) + " has already passed. What date did you have in mind?");
  if (!f.event_type && !f.hours)
    return ask("What type of event is it, and how many hours of DJ time do you need?");
  if (!f.event_type)
    return ask("What type of event is it?");
  if (!f.hours)
    return ask("How many hours of DJ time do you need?");
  return std::nullopt;
}

std::string deposit_sentence(const turn& t, const json* invoice) {
  if (!invoice)
    return "The team will send you the deposit details shortly.";
  return "To lock it in, the deposit is "
         + money((*invoice)["deposit_cents"].get<int64_t>(), (*invoice)["currency"]) + " of the "
         + money((*invoice)["total_cents"].get<int64_t>(), (*invoice)["currency"])
         + " total (invoice " + (*invoice)["number"].get<std::string>()
         + "); the team will text you the payment link shortly.";
}

final_reply held_reply(const turn& t, const booking_facts& f, const json& event,
                       const json* invoice, const json& settings) {
  auto label = day_label(*f.date, t.today);
  auto hold_hours = settings.is_object() && settings.value("hold_expiry_hours", json()).is_number()
                      ? settings["hold_expiry_hours"].get<int64_t>()
                      : default_hold_hours;
  json patch = {{"pending_hold_event_id", event["id"]}, {"hold_date", *f.date}};
  if (invoice) {
    patch["last_invoice_id"] = (*invoice)["id"];
    patch["invoice_number"] = (*invoice)["number"];
    patch["deposit_cents"] = (*invoice)["deposit_cents"];
    patch["currency"] = (*invoice)["currency"];
  }
  return {fit_sms({"Done! " + t.org_name + " is holding " + label + " for your "
                     + event_label(*f.event_type) + ", " + time_label(f.start) + " to "
                     + time_label(end_time(f.start, *f.hours)) + ".",
                   deposit_sentence(t, invoice),
                   "The hold lasts " + std::to_string(hold_hours) + " hours.",
                   f.start_given ? "" : "Let me know if the start time is different."}),
          patch};
}

/// The dialog already holds this date: say so instead of holding it twice.
std::optional<step> existing_hold(const turn& t, const booking_facts& f) {
  auto id = state_text(t, "pending_hold_event_id");
  if (id.empty() || state_text(t, "hold_date") != *f.date)
    return std::nullopt;
  auto hold = last_call(t, "load_hold");
  if (!hold)
    return step{tool_request{"load_hold", {{"id", id}}, tool_kind::db, "events.get", false}};
  auto status = hold->ok ? hold->result.value("status", "") : std::string{};
  if (status != "hold" && status != "booked")
    return std::nullopt;  // expired or cancelled: hold again
  std::string deposit;
  if (t.state.value("deposit_cents", json()).is_number_integer())
    deposit = " The deposit is " + money(t.state["deposit_cents"].get<int64_t>(),
                                         state_text(t, "currency"))
              + (state_text(t, "invoice_number").empty()
                   ? ""
                   : " (invoice " + state_text(t, "invoice_number") + ")")
              + ".";
  auto what = status == "booked" ? " is booked for you." : " is already on hold for you.";
  return step{final_reply{fit_sms({day_label(*f.date, t.today) + what + deposit,
                                   "Anything else " + t.org_name + " can help with?"})}};
}

} // namespace

int64_t deposit_cents(const json& settings, int64_t amount_cents) {
  auto pct = default_deposit_percent;
  auto v = settings.is_object() ? settings.value("deposit_percent", json()) : json();
  if (v.is_number_integer() && v.get<int64_t>() >= 1 && v.get<int64_t>() <= 100)
    pct = v.get<int64_t>();
  return (amount_cents * pct + 50) / 100;
}

std::string end_time(const std::string& start, double hours) {
  auto minutes = std::stoi(start.substr(0, 2)) * 60 + std::stoi(start.substr(3, 2))
                 + static_cast<int>(std::lround(hours * 60));
  minutes %= 24 * 60;
  char buf[8];
  std::snprintf(buf, sizeof buf, "%02d:%02d", minutes / 60, minutes % 60);
  return buf;
}

step booking_step(const turn& t) {
  if (auto c = ensure_contact(t))
    return *c;
  auto quote_id = state_text(t, "last_quote_id");
  if (!quote_id.empty() && !last_call(t, "load_quote"))
    return tool_request{"load_quote", {{"id", quote_id}}, tool_kind::db, "quotes.get", false};
  auto f = gather(t);
  if (auto s = prepare(t, f))
    return *s;
  if (auto s = existing_hold(t, f))
    return *s;
  auto quote = matching_quote(f);
  if (!quote) {
    quote_ask ask{*f.event_type, *f.hours, f.date, std::nullopt};
    if (auto g = t.slots.find("guests"); g != t.slots.end() && g->is_number_integer())
      ask.guests = g->get<int64_t>();
    if (auto s = quote_step(t, ask))
      return *s;
    quote = sent_quote(t);
  } else if (!last_call(t, "load_org_settings")) {
    return tool_request{"load_org_settings", json::object(), tool_kind::org_state, "", false};
  }
  auto label = day_label(*f.date, t.today);
  auto settings = org_settings(t);
  if (!quote || !settings)
    return final_reply{fit_sms({"Thanks for choosing " + t.org_name + "!",
                                "I can't price it automatically, so the team will text you to "
                                "confirm " + label + " and the deposit."})};
  auto span = last_call(t, "event_times");
  if (!span)
    return tool_request{"event_times",
                        {{"date", *f.date}, {"time", f.start}, {"hours", *f.hours}},
                        tool_kind::db, "assistant.event_span", false};
  auto create = last_call(t, "create_event");
  if (!create && span->ok)
    return tool_request{"create_event", event_args(t, f, span->result, *quote),
                        tool_kind::calendar, "events.create"};
  if (!create || !create->ok) {
    auto taken = create && create->result["error"].value("code", "") == "conflict";
    if (!taken)
      return final_reply{fit_sms({"Thanks for choosing " + t.org_name + "!",
                                  "I couldn't place the hold just now, so the team will confirm "
                                    + label + " with you shortly."})};
    if (auto s = nearby_step(t, *f.date))
      return *s;
    return final_reply{fit_sms({"Sorry, " + label + " was just taken at " + t.org_name + ".",
                                nearby_sentence(t)})};
  }
  auto contact = known_contact(t);
  auto name = slot_text(t, "name");
  auto email = slot_text(t, "email");
  if (contact && (name || email) && !last_call(t, "update_contact")) {
    json fields = json::object();
    if (name)
      fields["name"] = *name;
    if (email)
      fields["email"] = *email;
    return tool_request{"update_contact", {{"id", *contact}, {"fields", fields}}, tool_kind::db,
                        "contacts.update"};
  }
  auto invoice = last_call(t, "create_deposit_invoice");
  if (!invoice)
    return tool_request{"create_deposit_invoice",
                        invoice_args(t, f, create->result, *quote,
                                     deposit_cents(*settings, (*quote)["amount_cents"].get<int64_t>())),
                        tool_kind::db, "invoices.create"};
  auto reply = held_reply(t, f, create->result, invoice->ok ? &invoice->result : nullptr, *settings);
  reply.state_patch["last_quote_id"] = (*quote)["id"];
  return reply;
}

caf::actor spawn_booking_agent(caf::actor_system& sys, const agent_tools& tools) {
  return spawn_agent(sys, booking_step, tools);
}

} // namespace djdash::agents
