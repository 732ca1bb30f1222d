#pragma once

#include <caf/actor_system_config.hpp>

namespace djdash {

/// CAF configuration shared by the node and every test: registers the project's message types
/// and error category. Modules (the middleman) are loaded by the node itself.
struct app_config : caf::actor_system_config {
  app_config();
};

} // namespace djdash
