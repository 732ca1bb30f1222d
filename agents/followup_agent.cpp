#include "agents/followup_agent.hpp"

#include <caf/actor_system.hpp>

#include "agents/reply_text.hpp"

namespace djdash::agents {

namespace {

using json = nlohmann::json;

/// Cuts `s` to at most `max` bytes without splitting a UTF-8 character; "..." marks a cut.
std::string clipped(const std::string& s, size_t max) {
  if (s.size() <= max)
    return s;
  auto end = max - 3;
  while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80)
    --end;
  return s.substr(0, end) + "...";
}

std::string who(const turn& t) {
  if (auto name = slot_text(t, "name"))
    return *name + " (" + t.customer_phone + ")";
  return t.customer_phone;
}

json task_args(const turn& t) {
  json args = {{"title", followup_title(t)},
               {"notes", "Text from " + who(t) + ":\n" + clipped(t.text, 4000)
                           + "\n\nReply by text to follow up."}};
  if (auto due = add_days_rfc3339(t.now, followup_due_days))
    args["due_at"] = *due;
  if (auto contact = known_contact(t))
    args["contact_id"] = *contact;
  return args;
}

json email_args(const turn& t, const json* task) {
  json details = {{"to", "organization"},
                  {"customer_phone", t.customer_phone},
                  {"text", clipped(t.text, 4000)}};
  if (!t.conversation_id.empty())
    details["conversation_id"] = t.conversation_id;
  json args = {{"kind", "sms_followup"},
               {"title", "Follow up with " + who(t) + " by text"},
               {"details", details}};
  if (task)
    args["target_id"] = (*task)["id"];
  return args;
}

} // namespace

std::string followup_title(const turn& t) {
  return clipped("Follow up with " + who(t) + ": " + t.text, 300);
}

step followup_step(const turn& t) {
  if (auto c = ensure_contact(t))
    return *c;
  auto task = last_call(t, "create_task");
  if (!task)
    return tool_request{"create_task", task_args(t), tool_kind::db, "tasks.create"};
  if (!last_call(t, "send_email"))
    return tool_request{"send_email", email_args(t, task->ok ? &task->result : nullptr),
                        tool_kind::db, "assistant.notify"};
  auto due = add_days_rfc3339(t.now, followup_due_days);
  if (!task->ok || !due) {
    auto told = last_call(t, "send_email")->ok;
    return final_reply{fit_sms(
      {"Thanks for your message!",
       told ? "I've let the team at " + t.org_name + " know, and someone will get back to you."
            : "The team at " + t.org_name + " will get back to you."})};
  }
  return final_reply{
    fit_sms({"Thanks for your message! I've passed it to the team at " + t.org_name
               + ", and someone will follow up with you by " + day_label(due->substr(0, 10), t.today)
               + "."}),
    {{"last_task_id", task->result["id"]}}};
}

caf::actor spawn_followup_agent(caf::actor_system& sys, const agent_tools& tools) {
  return spawn_agent(sys, followup_step, tools);
}

} // namespace djdash::agents
