#include "agents/availability_agent.hpp"

#include <caf/actor_system.hpp>

#include "agents/reply_text.hpp"

namespace djdash::agents {

namespace {

using json = nlohmann::json;

/// What to ask next once the date is known to be free.
std::string next_question(const turn& t) {
  if (!slot_text(t, "event_type") || !slot_number(t, "hours"))
    return "Want a quote? Just tell me the type of event and how many hours.";
  return "Want a quote, or shall I hold the date for you?";
}

} // namespace

std::optional<step> nearby_step(const turn& t, const std::string& date) {
  if (last_call(t, "find_nearest_free_dates"))
    return std::nullopt;
  json args = {{"around", date},
               {"dates", nearby_dates(date, t.today, nearby_span_days)},
               {"want", nearby_wanted}};
  return step{tool_request{"find_nearest_free_dates", args, tool_kind::scan_dates}};
}

std::string nearby_sentence(const turn& t) {
  auto scan = last_call(t, "find_nearest_free_dates");
  std::vector<std::string> free;
  if (scan && scan->ok)
    for (auto& d : scan->result["free"])
      free.push_back(day_label(d.get<std::string>(), t.today));
  if (free.empty())
    return "Nothing is open within a week of it either. Is there another date that could work?";
  if (free.size() == 1)
    return "The nearest open date is " + free[0] + ". Would that work?";
  return "The nearest open dates are " + free[0] + " and " + free[1]
         + ". Would one of those work?";
}

step availability_step(const turn& t) {
  if (auto c = ensure_contact(t))
    return *c;
  auto date = slot_text(t, "date");
  if (!date)
    return final_reply{fit_sms({"Thanks for texting " + t.org_name + "!",
                                "What date is your event? I'll check the calendar for you."})};
  auto label = day_label(*date, t.today);
  if (*date < t.today)
    return final_reply{fit_sms({"Thanks for texting " + t.org_name + "!",
                                label + " has already passed. What date did you have in mind?"})};
  auto check = last_call(t, "check_availability");
  if (!check)
    return tool_request{"check_availability", {{"date", *date}}, tool_kind::calendar,
                        "events.availability"};
  if (!check->ok)
    return final_reply{fit_sms({"Thanks for texting " + t.org_name + "!",
                                "I couldn't check the calendar just now, so the team will confirm "
                                + label + " with you shortly."})};
  if (check->result.value("available", false))
    return final_reply{fit_sms({"Good news: " + t.org_name + " is available on " + label + "!",
                                next_question(t)}),
                       {{"last_checked_date", *date}}};
  if (auto s = nearby_step(t, *date))
    return *s;
  return final_reply{fit_sms({"Sorry, " + t.org_name + " is already booked on " + label + ".",
                              nearby_sentence(t)}),
                     {{"last_checked_date", *date}}};
}

caf::actor spawn_availability_agent(caf::actor_system& sys, const agent_tools& tools) {
  return spawn_agent(sys, availability_step, tools);
}

} // namespace djdash::agents
