#pragma once

#include <string>

namespace djdash::persistence {

/// Returns `url` with a connect timeout, a statement timeout (0: none) and an application name,
/// so a dead or hung database turns into an error instead of a stuck worker.
std::string connection_string(const std::string& url, int connect_timeout_s,
                              int statement_timeout_ms);

} // namespace djdash::persistence
