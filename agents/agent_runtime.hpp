#pragma once

// The thin actor side of every SMS agent: asks the agent's pure planner for the next step, runs
// the tool it names (database, organization entity), records the result and asks again, until
// the planner answers with the reply.

#include <caf/actor.hpp>
#include <caf/behavior.hpp>
#include <caf/event_based_actor.hpp>

#include "agents/dialog.hpp"
#include "protocols/actor_handles.hpp"

namespace djdash::agents {

/// What the tools reach.
struct agent_tools {
  db_actor db;        // named operations, run under the organization's scope without a user
  caf::actor router;  // (entity_atom, entity_ref{"organization", id}, message)
};

/// Most tool calls one message may cause; a planner that wants more gets a safe reply instead.
constexpr int max_tool_calls = 16;

/// Returns the behavior of an agent: `(agent_atom, intent, context JSON)` → the output JSON text
/// of `agent_output`. Each message runs on its own; several conversations interleave.
caf::behavior agent_behavior(caf::event_based_actor* self, planner plan, agent_tools tools);

/// Spawns an agent running `plan`.
caf::actor spawn_agent(caf::actor_system& sys, planner plan, agent_tools tools);

} // namespace djdash::agents
