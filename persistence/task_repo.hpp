#pragma once

#include <map>
#include <optional>
#include <string>

#include "persistence/operations.hpp"

namespace djdash::persistence {

/// Registers the follow-up task operations (scope: org + user, role member):
/// - `tasks.create` {title, contact_id?, due_at?, done?, notes?} → task
/// - `tasks.list` {done?, contact_id?, limit?, cursor?} → {items, next_cursor}, oldest first
/// - `tasks.update` {id, fields: {title?, contact_id?, due_at?, done?, notes?, version?}} → task;
///   conflict when `version` is stale; contact_id and due_at may be set to null.
/// A task is {id, organization_id, title, contact_id, due_at, done, notes, created_at,
/// updated_at, version}. contact_id must name a contact of the org (not_found otherwise, also
/// for another org's contact); due_at is RFC 3339 with a zone. Bad fields: bad_request naming
/// the field.
void add_task_operations(std::map<std::string, operation>& ops);

/// Returns whether `s` is an RFC 3339 date-time with a valid calendar date, time and offset.
bool is_rfc3339(const std::string& s);

} // namespace djdash::persistence
