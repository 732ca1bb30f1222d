#pragma once

// JSON-lines logging (spdlog). Every line is one JSON object:
// {"ts","level","logger","node_id","msg", ...fields}. Fields such as request_id and org_id are
// passed with log_fields(); message text is JSON-escaped, so any input is safe to log.

#include <initializer_list>
#include <memory>
#include <string>
#include <utility>

#include <spdlog/spdlog.h>

namespace djdash {

/// Installs the JSON formatter on the named loggers (http, actors, agents, db, cluster) and the
/// default logger, writing to stderr. `level` is trace|debug|info|warn|error|off.
void setup_logging(const std::string& node_id, const std::string& level);

/// Returns the named logger (created on first use with the JSON format).
spdlog::logger& logger(const std::string& name);

using log_field = std::pair<const char*, std::string>;

/// Logs `msg` with structured fields, e.g. {{"request_id", id}, {"status", "200"}}.
void log_fields(spdlog::logger& log, spdlog::level::level_enum lvl, const std::string& msg,
                std::initializer_list<log_field> fields);

} // namespace djdash
