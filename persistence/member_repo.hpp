#pragma once

#include <map>
#include <string>

#include "persistence/operations.hpp"

namespace djdash::persistence {

/// Registers the membership operations of the current organization (scope: org + user):
/// - `members.list` (role admin) {} → {items: [member], next_cursor: null}
/// - `members.add` (role admin) {email, role} → member; not_found for an unknown email,
///   conflict when already a member.
/// - `members.update` (role admin) {user_id, role} → member
/// - `members.remove` (role member: anyone may leave; removing others needs admin) {user_id} → {}
/// Only owners grant, revoke or remove the owner role; the last owner can neither leave nor be
/// demoted (conflict). A member is {id, organization_id, user_id, email, role, created_at,
/// updated_at, version}. Changes are written to the audit log.
/// - `audit.list` (role admin) {limit?, cursor?} → {items: [{id, organization_id, user_id,
///   action, target_user_id, details, ip, created_at}], next_cursor}, newest first.
void add_member_operations(std::map<std::string, operation>& ops);

} // namespace djdash::persistence
