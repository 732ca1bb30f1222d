#include "actors/node_router.hpp"

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>

#include "protocols/type_ids.hpp"

namespace djdash::actors {

namespace {

caf::behavior node_router(caf::event_based_actor* self, caf::actor registry) {
  return {
    [=](entity_atom a, entity_ref& ref, caf::message& msg) {
      return self->delegate(registry, a, std::move(ref), std::move(msg));
    },
  };
}

} // namespace

caf::actor spawn_node_router(caf::actor_system& sys, caf::actor registry) {
  return sys.spawn(node_router, std::move(registry));
}

} // namespace djdash::actors
