#pragma once

#include "config/settings.hpp"
#include "protocols/actor_handles.hpp"

namespace djdash::persistence {

/// Spawns the DB pool: `cfg.pool_size` workers (detached when `detached`, each owning one
/// connection) behind a dispatcher with a bounded queue. Calls beyond `cfg.queue_limit` waiting
/// calls fail at once with `db_overloaded` (backpressure → 503) instead of queueing forever.
db_actor spawn_db_pool(caf::actor_system& sys, const db_settings& cfg, bool detached = true);

} // namespace djdash::persistence
