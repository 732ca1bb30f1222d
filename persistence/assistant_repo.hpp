#pragma once

#include <map>
#include <string>

#include "persistence/operations.hpp"

namespace djdash::persistence {

/// Registers the operations only the SMS assistant's agents use (scope: the organization, no
/// user: the assistant acts for the organization):
/// - `assistant.event_span` {date (YYYY-MM-DD), time (HH:MM), hours (0 < h <= 24)} →
///   {starts_at, ends_at}: RFC 3339 instants of that local date and time in the organization's
///   timezone (daylight saving included), for a calendar hold.
/// - `assistant.notify` {kind, title, target_id?, details?} → {id, kind, title, channel}: a
///   notification for the organization's members (what the assistant "emails" the DJ: the server
///   has no mail transport, so the notification list is the DJ's inbox).
void add_assistant_operations(std::map<std::string, operation>& ops);

} // namespace djdash::persistence
