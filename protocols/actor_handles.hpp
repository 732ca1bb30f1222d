#pragma once

// Typed handles the folders pass to each other (main.cpp wires them at spawn time), so actors and
// HTTP handlers never include persistence/ or each other.

#include <string>

#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "protocols/type_ids.hpp"

namespace djdash {

/// The database pool: runs a named operation in one transaction under a tenant scope and replies
/// with its JSON result, or `db_unavailable` / `db_overloaded` / an operation's own error.
using db_actor = caf::typed_actor<caf::replies_to<db_call>::with<std::string>>;

/// Password hashing (argon2id; CPU- and memory-heavy, so it runs on detached workers):
/// `(hash_atom, password)` → PHC string; `(verify_atom, phc_hash, password)` → match or not.
/// Verifying against an empty hash still spends the same time (a dummy hash), so callers can
/// treat unknown accounts exactly like wrong passwords.
using password_actor
  = caf::typed_actor<caf::replies_to<hash_atom, std::string>::with<std::string>,
                     caf::replies_to<verify_atom, std::string, std::string>::with<bool>>;

} // namespace djdash
