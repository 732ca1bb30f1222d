#pragma once

#include "config/logging.hpp"

namespace djdash::actors {

/// The actors folder's logger ("actors").
inline spdlog::logger& log() {
  return djdash::logger("actors");
}

} // namespace djdash::actors
