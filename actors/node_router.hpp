#pragma once

#include <caf/fwd.hpp>

namespace djdash::actors {

/// Spawns the node's router: the one address through which handlers reach entities,
/// `(entity_atom, entity_ref, caf::message)`. Single node for now: it delivers to the local
/// registry; the cluster plugs placement in here, so handlers never hold an entity's address.
caf::actor spawn_node_router(caf::actor_system& sys, caf::actor registry);

} // namespace djdash::actors
