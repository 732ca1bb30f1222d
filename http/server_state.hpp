#pragma once

// What the listener and every session of one server share: settings, routes, the connection
// count, the draining flag and the sessions to notify when draining. Thread-safe.

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <unordered_map>
#include <vector>

#include "config/settings.hpp"
#include "http/route_table.hpp"

namespace djdash::http {

class http_session;

/// Lets responders (called from actor threads) post to the io_context only while it exists.
struct io_gate {
  std::shared_mutex mtx;
  bool open = true;
};

class server_state {
public:
  server_state(http_settings settings, route_table routes);

  const http_settings& settings() const { return settings_; }
  const route_table& routes() const { return routes_; }
  const std::shared_ptr<io_gate>& gate() const { return gate_; }

  bool draining() const { return draining_.load(std::memory_order_acquire); }
  void start_draining() { draining_.store(true, std::memory_order_release); }

  /// Counts a new connection when it fits under max_connections; returns whether it did.
  bool try_admit();
  /// Uncounts an admitted connection.
  void release();
  int connections() const { return connections_.load(std::memory_order_acquire); }

  /// Remembers a live session so that drain() can reach it; returns its key for `untrack`.
  uint64_t track(std::weak_ptr<http_session> session);
  void untrack(uint64_t key);
  /// Returns the sessions still alive.
  std::vector<std::shared_ptr<http_session>> sessions() const;

private:
  const http_settings settings_;
  const route_table routes_;
  std::shared_ptr<io_gate> gate_ = std::make_shared<io_gate>();
  std::atomic<bool> draining_{false};
  std::atomic<int> connections_{0};
  mutable std::mutex mtx_;
  uint64_t next_key_ = 0;
  std::unordered_map<uint64_t, std::weak_ptr<http_session>> sessions_;
};

} // namespace djdash::http
