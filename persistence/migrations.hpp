#pragma once

#include <string>
#include <vector>

#include <caf/expected.hpp>

namespace djdash::persistence {

/// One versioned SQL file from persistence/migrations, compiled into the binary.
struct migration {
  int version;
  std::string name;
  std::string sql;
};

/// Returns every migration in version order (generated at build time).
const std::vector<migration>& embedded_migrations();

/// Returns the highest embedded version: what a database must be at to be served.
int expected_schema_version();

/// Applies pending migrations in order, each in its own transaction recorded in
/// schema_migrations, under an advisory lock (several nodes may start at once). Connects with
/// `owner_url`; grants the application role (the user of `app_url`) what it needs.
/// Returns how many migrations were applied.
caf::expected<int> run_migrations(const std::string& owner_url, const std::string& app_url);

/// Returns the user name in a postgresql:// URL, or an empty string.
std::string url_user(const std::string& url);

} // namespace djdash::persistence
