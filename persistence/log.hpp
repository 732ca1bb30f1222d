#pragma once

#include "config/logging.hpp"

namespace djdash::persistence {

/// The persistence folder's logger ("db").
inline spdlog::logger& log() {
  return djdash::logger("db");
}

} // namespace djdash::persistence
