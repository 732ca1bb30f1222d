#pragma once

#include <string>

#include <caf/fwd.hpp>

namespace djdash::actors {

/// Spawns the node's router: the one address through which handlers reach entities,
/// `(entity_atom, entity_ref, caf::message)` → the entity's reply (JSON text) or error.
///
/// Placement: the owner of an entity is chosen by rendezvous hashing over the live members
/// (protocols/cluster.hpp). The router delivers to the local registry when this node owns the
/// key, else forwards `(caf::forward_atom, entity_envelope)` to the owner's router and relays the
/// answer. When a peer's connection is lost, every message waiting on it fails at once with
/// `entity_unavailable` (CAF alone would leave it pending until its own timeout).
///
/// Also: `(caf::update_atom, cluster_view)` from membership (passed on to the registry, which
/// hands over entities this node no longer owns); `(caf::get_atom, entity_ref)` →
/// {"kind","key","owner","local"} as JSON text; `(caf::get_atom, caf::pending_atom)` → the
/// number of forwarded messages not answered yet (a leaving node waits for 0). Until the first view arrives every key is local.
caf::actor spawn_node_router(caf::actor_system& sys, caf::actor registry, std::string node_id);

} // namespace djdash::actors
