#pragma once

// The SMS agents behind one address. The sms_conversation entity asks
//   (agent_atom, intent, context JSON) → output JSON text
// with context {"org": {"id", "name", "timezone", "phone"?}, "customer_phone", "conversation_id",
// "contact_id"?, "text", "now" (RFC 3339, the org's local offset), "classification": {"intent",
// "confidence", "entities"}, "state": {"slots", "last_quote_id"?, "pending_hold_event_id"?, ...}}
// and gets {"reply", "tool_calls": [{"name", "arguments", "result"}], "state"}: the reply text,
// the tools the agent called with their results, and the dialog state to keep (slots merged with
// this message's entities, newer wins; contact_id, last_quote_id, pending_hold_event_id, ...).
//
// availability, pricing, booking and followup go to their agents; `other` gets a polite reply
// naming the business; opt-outs are handled by the conversation before it asks.

#include <caf/fwd.hpp>

#include "agents/dialog.hpp"
#include "protocols/actor_handles.hpp"

namespace djdash::agents {

/// Returns the reply to an `other` message (no tools).
final_reply other_reply(const turn& t);

/// Spawns the four agents and the dispatcher in front of them; returns the dispatcher. Tool calls
/// run under db_scope{org id} without a user (the assistant acts for the organization). `stripe`
/// may be null (payments not configured).
caf::actor spawn_agents(caf::actor_system& sys, db_actor db, caf::actor router,
                        stripe_actor stripe);

} // namespace djdash::agents
