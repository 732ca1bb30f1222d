#pragma once

// PostgreSQL for tests: the throwaway cluster the test command starts (DJDASH_TEST_OWNER_URL,
// DJDASH_TEST_DATABASE_URL), a fresh migrated database per fixture, and private clusters for
// tests that stop and start PostgreSQL. A missing database is a failure, never a skip.

#include <cstdint>
#include <string>

namespace djdash::test {

/// Returns `url` with its database name replaced by `dbname`.
std::string with_database(const std::string& url, const std::string& dbname);

/// Returns a TCP port on 127.0.0.1 that was free a moment ago.
uint16_t free_port();

/// Returns the environment variable `name`; throws with a clear message when it is unset.
std::string required_env(const char* name);

/// A fresh database, migrated with the embedded migrations, dropped on destruction.
class pg_database {
public:
  pg_database();
  ~pg_database();
  pg_database(const pg_database&) = delete;
  pg_database& operator=(const pg_database&) = delete;

  const std::string& app_url() const { return app_url_; }
  const std::string& owner_url() const { return owner_url_; }
  const std::string& name() const { return name_; }

private:
  std::string admin_url_;  // owner role, maintenance database
  std::string name_;
  std::string owner_url_;
  std::string app_url_;
};

/// A private PostgreSQL cluster (deploy/pg.sh) that a test may stop and start at will.
class private_cluster {
public:
  private_cluster();
  ~private_cluster();
  bool start();
  bool stop();
  uint16_t port() const { return port_; }
  const std::string& app_url() const { return app_url_; }
  const std::string& owner_url() const { return owner_url_; }

private:
  bool run(const std::string& action);
  std::string dir_;
  uint16_t port_;
  std::string app_url_;
  std::string owner_url_;
};

} // namespace djdash::test
