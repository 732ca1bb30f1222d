#pragma once

// The `sms_conversation` entity: one customer number texting one organization
// (key "<org_id>|<E.164>"). Every message is persisted in order; opt-out keywords are handled
// before anything else; other messages go through the classifier to the agent for their intent,
// and what happened (intent, confidence, entities, tool calls, reply) is recorded.

#include <optional>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "actors/entity.hpp"

namespace djdash::actors {

/// Splits an entity key "<org_id>|<E.164>"; nothing when it is not one.
std::optional<std::pair<std::string, std::string>> split_sms_key(const std::string& key);

/// Returns the entity key of a conversation.
std::string sms_key(const std::string& org_id, const std::string& customer_phone);

/// The fixed replies of the opt-out protocol, naming the organization (`org` as returned by
/// `sms.record_inbound`: name, sms_number, contact_email?, contact_phone?).
std::string opt_out_reply(const nlohmann::json& org);
std::string opt_in_reply(const nlohmann::json& org);
std::string help_reply(const nlohmann::json& org);

/// Spawns the entity for `ctx.ref.key`. Handles
/// - `(sms_atom, inbound JSON {message_sid, body})` → `{"reply": text|null, "status"}` as JSON
///   text, where status is `replied`, `draft` (the reply waits for the review window), `silent`
///   (opted out) or `duplicate` (a Twilio retry, ignored);
/// - `(twilio_atom, message_id)` → the message JSON after sending a draft through Twilio (from
///   the `sms_send_draft` timer or the DJ); a draft that is no longer one is left alone.
caf::actor spawn_sms_conversation(caf::actor_system& sys, const entity_context& ctx);

} // namespace djdash::actors
