#pragma once

// The pricing agent: get_quote from the organization's pricing rules (protocols/pricing.hpp, the
// same function the quotes API uses) and send_quote (the quote persisted, texted with its dollar
// amount). Asks for the event type and hours instead of guessing.

#include <optional>
#include <string>

#include <caf/fwd.hpp>
#include <nlohmann/json.hpp>

#include "agents/agent_runtime.hpp"
#include "agents/dialog.hpp"

namespace djdash::agents {

/// What a quote is for.
struct quote_ask {
  std::string event_type;
  double hours = 0;
  std::optional<std::string> date;
  std::optional<int64_t> guests;
};

/// The organization's settings loaded in this turn (`load_org_settings`), or null when not yet
/// loaded or the load failed.
const nlohmann::json* org_settings(const turn& t);

/// The next step toward a persisted quote for `ask`: load the organization's settings, compute
/// get_quote from its pricing rules, persist it with send_quote. Nothing once send_quote ran
/// (see `sent_quote`) or get_quote failed.
std::optional<step> quote_step(const turn& t, const quote_ask& ask);

/// The quote row send_quote stored in this turn, or null.
const nlohmann::json* sent_quote(const turn& t);

/// Returns the pricing agent's next step.
step pricing_step(const turn& t);

/// Spawns the pricing agent.
caf::actor spawn_pricing_agent(caf::actor_system& sys, const agent_tools& tools);

} // namespace djdash::agents
