#pragma once

#include <map>
#include <string>

#include <caf/fwd.hpp>

#include "actors/entity.hpp"

namespace djdash::actors {

/// Spawns the node's entity registry: the supervisor of every virtual actor on this node.
///
/// `(entity_atom, entity_ref, caf::message)` delivers the message to the entity, activating it
/// first if needed (the entity's reply goes straight to the caller). The registry monitors every
/// entity: an idle entity is passivated without losing messages sent meanwhile; a crash is logged
/// and counted and the next message re-activates the entity from the database; a key that crashes
/// `crash_loop_limit` times within `crash_loop_window_ms` answers `entity_unavailable` for
/// `crash_loop_cooldown_ms` instead of spinning.
///
/// Also: `(get_atom, entity_ref)` → the live `caf::actor` (or `not_found`), `(get_atom,
/// status_atom)` → `{"kind": active count, ...}` as JSON text, and `(drain_atom)` → passivates
/// every entity and answers `ok_atom` once all are gone. Every entity gets `services`.
caf::actor spawn_entity_registry(caf::actor_system& sys, const entity_settings& cfg, db_actor db,
                                 std::map<std::string, entity_spawner> kinds,
                                 entity_services services = {});

} // namespace djdash::actors
