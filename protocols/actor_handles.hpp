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

} // namespace djdash
