#include "actors/password_hasher.hpp"

#include <caf/actor_pool.hpp>
#include <caf/actor_system.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "protocols/password.hpp"

namespace djdash::actors {

namespace {

password_actor::behavior_type password_worker() {
  return {
    [](hash_atom, const std::string& pw) -> caf::result<std::string> {
      auto h = password::hash(pw);
      if (!h)
        return h.error();
      return std::move(*h);
    },
    [](verify_atom, const std::string& phc, const std::string& pw) {
      return password::verify(phc, pw);
    },
  };
}

} // namespace

password_actor spawn_password_hasher(caf::actor_system& sys, int workers, bool detached) {
  auto factory = [&sys, detached] {
    return caf::actor_cast<caf::actor>(detached ? sys.spawn<caf::detached>(password_worker)
                                                : sys.spawn(password_worker));
  };
  auto pool = caf::actor_pool::make(sys.dummy_execution_unit(), static_cast<size_t>(workers),
                                    factory, caf::actor_pool::round_robin());
  return caf::actor_cast<password_actor>(pool);
}

} // namespace djdash::actors
