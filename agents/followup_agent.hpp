#pragma once

// The followup agent: a task for the DJ (what the customer asked, due within a day), a message to
// the organization's inbox (send_email: recorded as a notification, since the server has no mail
// transport), and an answer that a person will follow up.

#include <caf/fwd.hpp>

#include "agents/agent_runtime.hpp"
#include "agents/dialog.hpp"

namespace djdash::agents {

/// Days the DJ has to answer a follow-up.
constexpr int followup_due_days = 1;

/// Returns the title of the DJ's task for the customer's message (at most 300 characters).
std::string followup_title(const turn& t);

/// Returns the followup agent's next step.
step followup_step(const turn& t);

/// Spawns the followup agent.
caf::actor spawn_followup_agent(caf::actor_system& sys, const agent_tools& tools);

} // namespace djdash::agents
