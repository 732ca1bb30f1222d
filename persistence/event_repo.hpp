#pragma once

#include <map>
#include <string>

#include "persistence/operations.hpp"

namespace djdash::persistence {

/// Registers the calendar operations (scope: org + user, role member, unless noted). Writes are
/// sent by the organization entity, the single writer of its calendar; each write also locks the
/// organization row, so two writers (say, during a membership change) still serialize.
/// - `events.create` {title, event_type?, starts_at, ends_at, status? (hold|booked),
///   hold_expires_at?, contact_id?, venue?, guest_count?, price_cents?, notes?} → event;
///   conflict when it would exceed the org's capacity at any moment.
/// - `events.update` {id, ...fields, version?} → event (capacity re-checked, transitions checked)
/// - `events.delete` {id} → {}
/// - `events.get` {id}, `events.list` {limit?, cursor?, status?, from?, to?, contact_id?}
/// - `events.availability` {date: YYYY-MM-DD} → {date, available, capacity, blocking, reason,
///   events}: the org's local day
/// - `events.expire_hold` (scope: org only; the timer runner) {event_id} → {released: bool}
/// - `timers.claim` (no scope) {limit, lease_s} → {items: [{organization_id, id, kind,
///   target_id, payload, attempts}]}
/// - `timers.complete` (scope: org only) {id} → {}
/// An event is {id, organization_id, title, event_type, starts_at, ends_at, status,
/// hold_expires_at, contact_id, venue, guest_count, price_cents, notes, created_at,
/// updated_at, version}. Capacity is `settings.capacity` (default 1); a hold expires
/// `settings.hold_expiry_hours` (default 72) after creation unless hold_expires_at is given.
void add_event_operations(std::map<std::string, operation>& ops);

} // namespace djdash::persistence
