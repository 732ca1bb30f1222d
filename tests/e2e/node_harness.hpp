#pragma once

// Starts the real djdash binary on a free loopback port against a given database.

#include <chrono>
#include <csignal>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "support/http_client.hpp"
#include "support/pg_fixture.hpp"
#include "support/process.hpp"

namespace djdash::test {

/// The HS256 secret every test node signs its access tokens with (DJDASH_JWT_SECRET).
inline std::string node_jwt_secret() {
  return std::string(64, 'e');
}

inline std::map<std::string, std::string> node_env(const std::string& app_url,
                                                   const std::string& owner_url, uint16_t port) {
  return {{"DJDASH_DATABASE_URL", app_url},
          {"DJDASH_MIGRATE_DATABASE_URL", owner_url},
          {"DJDASH_HTTP_ADDR", "127.0.0.1"},
          {"DJDASH_HTTP_PORT", std::to_string(port)},
          {"DJDASH_LOG_LEVEL", "warn"},
          {"DJDASH_JWT_SECRET", node_jwt_secret()}};
}

/// Runs `djdash <args>` to completion against the given database.
inline std::pair<int, std::string> djdash_command(const std::vector<std::string>& args,
                                                  const std::string& app_url,
                                                  const std::string& owner_url) {
  return run_to_end(DJDASH_BINARY, args, node_env(app_url, owner_url, 0));
}

/// One running node.
class node {
public:
  /// `args` are extra command-line arguments, e.g. {"--config", path}.
  node(const std::string& app_url, const std::string& owner_url,
       std::map<std::string, std::string> extra_env = {}, std::vector<std::string> args = {})
    : port_(free_port()) {
    auto env = node_env(app_url, owner_url, port_);
    for (auto& [k, v] : extra_env)
      env[k] = v;
    proc_ = std::make_unique<child_process>(DJDASH_BINARY, args, env);
  }

  /// Waits until /healthz answers (the node listens) or the process exits.
  bool wait_listening(std::chrono::milliseconds within = std::chrono::seconds(30)) {
    auto deadline = std::chrono::steady_clock::now() + within;
    while (std::chrono::steady_clock::now() < deadline && proc_->running()) {
      http_client c{port_, std::chrono::seconds(2)};
      if (c.connected()) {
        if (auto r = c.get("/healthz"); r && r->status == 200)
          return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }

  /// Polls `target` until it answers `status` or `within` passes; returns the last status.
  int wait_for_status(const std::string& target, int status, std::chrono::milliseconds within) {
    auto deadline = std::chrono::steady_clock::now() + within;
    int last = 0;
    do {
      http_client c{port_, std::chrono::seconds(5)};
      auto r = c.get(target);
      last = r ? r->status : 0;
      if (last == status)
        return last;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    } while (std::chrono::steady_clock::now() < deadline);
    return last;
  }

  std::optional<http_reply> get(const std::string& target) {
    http_client c{port_, std::chrono::seconds(15)};
    return c.get(target);
  }

  uint16_t port() const { return port_; }
  child_process& process() { return *proc_; }

private:
  uint16_t port_;
  std::unique_ptr<child_process> proc_;
};

} // namespace djdash::test
