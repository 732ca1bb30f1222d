#pragma once

#include "protocols/actor_handles.hpp"

namespace djdash::actors {

/// Spawns `workers` password hashers behind one handle (round robin). Each worker is detached
/// when `detached`: argon2id is CPU-bound for tens of milliseconds and must not starve the
/// scheduler's threads.
password_actor spawn_password_hasher(caf::actor_system& sys, int workers, bool detached = true);

} // namespace djdash::actors
