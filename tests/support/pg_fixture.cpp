#include "support/pg_fixture.hpp"

#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <stdexcept>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <pqxx/pqxx>

#include "persistence/migrations.hpp"
#include "protocols/app_errc.hpp"

namespace djdash::test {

namespace {

std::string random_suffix() {
  static std::mt19937_64 rng{std::random_device{}()};
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < 12; ++i)
    out += hex[rng() % 16];
  return out;
}

/// Runs a shell command and returns its standard output (empty on failure).
std::string capture(const std::string& cmd, int* status = nullptr) {
  std::string out;
  if (auto pipe = popen(cmd.c_str(), "r")) {
    std::array<char, 4096> buf;
    size_t n;
    while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0)
      out.append(buf.data(), n);
    auto rc = pclose(pipe);
    if (status)
      *status = rc;
  }
  return out;
}

std::string env_value(const std::string& env_text, const std::string& key) {
  auto pos = env_text.find(key + "=");
  if (pos == std::string::npos)
    return {};
  auto start = pos + key.size() + 1;
  auto end = env_text.find('\n', start);
  auto value = env_text.substr(start, end - start);
  if (value.size() >= 2 && (value.front() == '\'' || value.front() == '"'))
    value = value.substr(1, value.size() - 2);
  return value;
}

} // namespace

std::string with_database(const std::string& url, const std::string& dbname) {
  auto scheme = url.find("://");
  auto slash = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  auto query = url.find('?');
  auto base = slash == std::string::npos ? url.substr(0, query) : url.substr(0, slash);
  auto rest = query == std::string::npos ? std::string{} : url.substr(query);
  return base + "/" + dbname + rest;
}

uint16_t free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

std::string required_env(const char* name) {
  if (auto v = std::getenv(name))
    return v;
  throw std::runtime_error(std::string{name}
                           + " is not set: run the tests through deploy/test.sh, which starts "
                             "a throwaway PostgreSQL");
}

pg_database::pg_database() {
  admin_url_ = with_database(required_env("DJDASH_TEST_OWNER_URL"), "postgres");
  name_ = "djdash_t_" + random_suffix();
  {
    pqxx::connection conn{admin_url_};
    pqxx::nontransaction tx{conn};
    tx.exec0("create database " + tx.quote_name(name_));
  }
  owner_url_ = with_database(required_env("DJDASH_TEST_OWNER_URL"), name_);
  app_url_ = with_database(required_env("DJDASH_TEST_DATABASE_URL"), name_);
  auto applied = persistence::run_migrations(owner_url_, app_url_);
  if (!applied)
    throw std::runtime_error("migrations failed: " + error_message(applied.error()));
}

pg_database::~pg_database() {
  try {
    pqxx::connection conn{admin_url_};
    pqxx::nontransaction tx{conn};
    tx.exec0("drop database if exists " + tx.quote_name(name_) + " with (force)");
  } catch (const std::exception&) {
    // A leftover database in a throwaway cluster is harmless.
  }
}

private_cluster::private_cluster()
  : dir_(std::string{std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp"} + "/djdash-pgt-"
         + random_suffix()),
    port_(free_port()) {
  if (!start())
    throw std::runtime_error("cannot start a private PostgreSQL in " + dir_);
  auto env = capture("bash " + std::string{DJDASH_SOURCE_DIR} + "/deploy/pg.sh env --dir "
                     + dir_);
  app_url_ = env_value(env, "DJDASH_DATABASE_URL");
  owner_url_ = env_value(env, "DJDASH_MIGRATE_DATABASE_URL");
  auto applied = persistence::run_migrations(owner_url_, app_url_);
  if (!applied)
    throw std::runtime_error("migrations failed: " + error_message(applied.error()));
}

private_cluster::~private_cluster() {
  run("destroy");
}

bool private_cluster::run(const std::string& action) {
  int status = -1;
  capture("bash " + std::string{DJDASH_SOURCE_DIR} + "/deploy/pg.sh " + action + " --fast --dir "
            + dir_ + " --port " + std::to_string(port_) + " 2>&1",
          &status);
  return status == 0;
}

bool private_cluster::start() {
  return run("start");
}

bool private_cluster::stop() {
  return run("stop");
}

} // namespace djdash::test
