#pragma once

// The booking agent: a `hold` on the calendar through the organization entity (which refuses a
// taken date), update_contact with what the customer told us, and a deposit invoice priced from
// the quote. The reply mentions the deposit and never claims a hold the calendar did not take.

#include <cstdint>

#include <caf/fwd.hpp>
#include <nlohmann/json.hpp>

#include "agents/agent_runtime.hpp"
#include "agents/dialog.hpp"

namespace djdash::agents {

/// Share of the quote asked as a deposit unless `settings.deposit_percent` (1 … 100) says other.
constexpr int64_t default_deposit_percent = 25;

/// Hours a hold lasts unless `settings.hold_expiry_hours` says other (the calendar's default).
constexpr int64_t default_hold_hours = 72;

/// Start time of a hold when the customer gave none.
constexpr auto default_start_time = "18:00";

/// Returns the deposit for `amount_cents` under `settings` (rounded half up to the cent).
int64_t deposit_cents(const nlohmann::json& settings, int64_t amount_cents);

/// Returns "HH:MM" `hours` after `start` ("18:00" + 5 → "23:00"; wraps past midnight).
std::string end_time(const std::string& start, double hours);

/// Returns the booking agent's next step.
step booking_step(const turn& t);

/// Spawns the booking agent.
caf::actor spawn_booking_agent(caf::actor_system& sys, const agent_tools& tools);

} // namespace djdash::agents
