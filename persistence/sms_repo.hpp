#pragma once

#include <map>
#include <string>

#include "persistence/operations.hpp"

namespace djdash::persistence {

/// Registers the SMS operations.
///
/// Without a tenant (the Twilio webhook, before the organization is known):
/// - `sms.org_by_number` {number} → {organization_id}; not_found for a number no org uses.
///
/// Under the organization's scope (the conversation entity and the webhook):
/// - `sms.open` {customer_phone} → {conversation, org}: the conversation of that number,
///   created on first contact and linked to the contact with that phone when there is one.
/// - `sms.record_inbound` {conversation_id, twilio_sid, body} → {duplicate, message,
///   conversation, org}. A MessageSid already recorded (a Twilio retry) → duplicate true and
///   nothing written.
/// - `sms.record_turn` {conversation_id, version, inbound_id, classification?, tool_calls?,
///   reply?, state?, opted_out?, draft_delay_s, key} → {conversation, reply}: stores what the
///   assistant understood and did on the inbound message, the dialog state (conflict when
///   `version` is stale), and the reply: `sent` (answered in TwiML) when draft_delay_s is 0, else a
///   `draft` with a durable `sms_send_draft` timer due after draft_delay_s seconds.
/// - `sms.claim_draft` {message_id} → {message, to, from}: moves a draft to `queued` for
///   sending and retires its timer. Without `to` when there is nothing to send: no longer a
///   draft (as it was), gone (message null), the customer opted out meanwhile (cancelled: true),
///   or the organization has no SMS number any more (failed, error_code no_sms_number).
/// - `sms.mark_sent` {message_id, twilio_sid?, status, error_code?} → message (after the REST
///   call: `queued`/`sent`... with Twilio's sid, or `failed`).
/// - `sms.status` {twilio_sid, status, error_code?} → {updated}: a delivery callback; a status
///   never moves backwards (a late `sent` does not undo `delivered`).
///
/// For members (routes):
/// - `sms.conversations.list` {limit?, cursor?} → {items, next_cursor}, most recent first.
/// - `sms.conversations.get` {id} → conversation with `messages` (oldest first; intent,
///   confidence, entities and tool calls on each).
/// - `sms.drafts.target` {conversation_id, message_id} → {key, status}: which conversation
///   entity sends that draft.
/// - `sms.drafts.edit` {conversation_id, message_id, body} → message: the DJ's text; the draft
///   no longer goes out by itself.
/// - `sms.drafts.cancel` {conversation_id, message_id} → message (status cancelled).
void add_sms_operations(std::map<std::string, operation>& ops);

} // namespace djdash::persistence
