#pragma once

// The availability agent: check_availability(date) through the organization's calendar (holds
// and bookings block, up to the org's capacity) and, when the day is taken, the nearest free
// dates. Asks for the date when there is none.

#include <caf/fwd.hpp>

#include "agents/agent_runtime.hpp"
#include "agents/dialog.hpp"

namespace djdash::agents {

/// Days on either side of a taken date searched for free ones.
constexpr int nearby_span_days = 7;

/// Free dates offered when the asked one is taken.
constexpr unsigned nearby_wanted = 2;

/// Returns the availability agent's next step.
step availability_step(const turn& t);

/// Spawns the availability agent.
caf::actor spawn_availability_agent(caf::actor_system& sys, const agent_tools& tools);

/// The step that looks for free dates near the taken `date` (used by booking too): nothing once
/// it ran.
std::optional<step> nearby_step(const turn& t, const std::string& date);

/// Returns the sentence offering the free dates found near a taken date (the scan's result), or
/// asking for another date when none were.
std::string nearby_sentence(const turn& t);

} // namespace djdash::agents
