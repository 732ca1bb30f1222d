#pragma once

#include <map>
#include <string>

#include "persistence/operations.hpp"

namespace djdash::persistence {

/// Registers the sign-in operations:
/// - `auth.signup` {email, password_hash, name?, organization_name?, product_context,
///   refresh_token_hash, refresh_ttl_s, ip?, user_agent?} → session result; conflict when the
///   email is taken.
/// - `auth.login_lookup` {email} → {user_id, password_hash} or {} (no such account).
/// - `auth.start_session` (scope: user) {refresh_token_hash, refresh_ttl_s, product_context,
///   ip?, user_agent?} → session result.
/// - `auth.refresh` {refresh_token_hash, new_refresh_token_hash, refresh_ttl_s,
///   product_context} → {"status": "invalid" | "reused"} or {"status": "ok", ...session result}.
///   A reused token revokes its whole session family (committed).
/// - `auth.logout` (scope: user) {session_id} → {}.
/// - `auth.me` (scope: user) {} → {user, organizations}.
/// A session result is {user, organizations: [{id, slug, name, product_context, role}],
/// organization (the first membership in product_context, else the first, else null),
/// session_id}.
void add_auth_operations(std::map<std::string, operation>& ops);

} // namespace djdash::persistence
