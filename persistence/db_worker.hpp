#pragma once

#include <string>

#include "config/settings.hpp"
#include "protocols/actor_handles.hpp"

namespace djdash::persistence {


/// Spawns one DB worker: owns one libpqxx connection (opened lazily, re-opened after the
/// database comes back) and runs db_calls one at a time. Blocking: spawn it detached.
db_actor spawn_db_worker(caf::actor_system& sys, const db_settings& cfg, bool detached);

} // namespace djdash::persistence
