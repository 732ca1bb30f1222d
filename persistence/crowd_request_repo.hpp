#pragma once

#include <map>
#include <string>

#include "persistence/operations.hpp"

namespace djdash::persistence {

/// Registers the crowd request operations (TipJar song requests, shout-outs and tips).
///
/// Public (scope: the organization found by its slug, no user):
/// - `crowd_requests.submit` {kind, song_title?, artist?, requester_name?, message?,
///   amount_cents, priority?, requester_key, requester_ip?, payments_configured?} → request.
///   Checked against the organization's rules (protocols/request_settings.hpp) in the inserting
///   transaction: malformed fields 400; an amount below the kind's minimum plus the priority
///   tier's price, or an unknown tier, 422; not accepting requests, too many waiting requests of
///   this requester, the same song inside the repeat window, or a paid request while payments
///   are unavailable, 409 — nothing written in every case. A free request (amount 0 where the
///   minimum is 0) is queued at once; a paid one waits as pending_payment / pending.
///   Concurrent submits of one requester (or of one song) are serialized by advisory locks, so
///   the limits hold under load.
/// - `crowd_requests.get_public` {id} (no scope) → the guest's view, through the SECURITY
///   DEFINER `public_crowd_request`: {id, organization_id, kind, song_title, artist,
///   requester_name, message, amount_cents, currency, priority_tier, status, payment_status,
///   payment_code, position, created_at, updated_at}.
/// - `crowd_requests.cancel_unpaid` {id} → request: a pending_payment request whose checkout
///   could not start is cancelled (payment_status none); anything else is left alone.
/// - `crowd_requests.attach_checkout` {id, session_id} → request with its Checkout Session id.
///
/// Members (scope: org, role member):
/// - `crowd_requests.list` {limit?, cursor?, status?} → {items, next_cursor}: status "" (the
///   queue: playing, then queued in play order), "all" (the queue, then pending payments, then
///   the rest newest first), or one status.
/// - `crowd_requests.get` {id} → request.
/// - `crowd_requests.update` {id, version?, status?, position?} → request. Status moves
///   pending_payment → cancelled; queued → playing | played | skipped | cancelled; playing →
///   played | skipped | queued | cancelled; played, skipped and cancelled are final (409).
///   `position` (1 = next) places a queued request between its new neighbours. A held payment
///   gets its capture (played) or release (skipped, cancelled) timer in the same transaction.
///   Meant to run through the organization entity (queue_atom), which decides moves in order.
/// A request (member view) is {id, organization_id, kind, song_title, artist, requester_name,
/// message, amount_cents, currency, priority_tier, priority_cents, status, payment_status,
/// payment_code, position (queued only, 1 = next), charge_on_play, requester_ip,
/// stripe_checkout_session_id, stripe_payment_intent_id, queued_at, created_at, updated_at,
/// version}.
void add_crowd_request_operations(std::map<std::string, operation>& ops);

} // namespace djdash::persistence
