#pragma once

#include <map>
#include <string>

#include "persistence/operations.hpp"

namespace djdash::persistence {

/// Registers the realtime operations:
/// - `realtime.authorize` (role member) {} → {organization_id, user_id, role}: may the caller
///   follow the organization's members-only topics? The scope's role check (same transaction)
///   refuses non-members with forbidden; the row is read again so a membership removed since
///   the check cannot slip through.
void add_realtime_operations(std::map<std::string, operation>& ops);

} // namespace djdash::persistence
