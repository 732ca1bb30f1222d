#pragma once

#include <map>
#include <string>

#include "persistence/operations.hpp"

namespace djdash::persistence {

/// Registers the reminder operations:
/// - `timers.remind` (scope: org; the timer runner) {id, kind, target_id} → {notified: bool}:
///   an overdue invoice (still sent, due date past) becomes a notification and a follow-up task
///   for the DJ; a due task that is still open becomes a notification. The timer is completed in
///   the same transaction, so a reminder is recorded once even if a node dies mid-run.
/// - `notifications.list` (role member) {limit?, cursor?} → {items, next_cursor}, newest first.
void add_reminder_operations(std::map<std::string, operation>& ops);

} // namespace djdash::persistence
