#pragma once

// The HTTP edge of a node. Beast stays behind the pimpl: main.cpp and tests include this.

#include <cstdint>
#include <functional>
#include <memory>

#include <caf/error.hpp>

#include "config/settings.hpp"
#include "http/route_table.hpp"

namespace djdash::http {

class server {
public:
  server(const djdash::http_settings& settings, route_table routes);
  ~server();
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  /// Binds addr:port (port 0: an ephemeral port) and starts `threads` io threads.
  caf::error start();

  /// Returns the bound port (after start).
  uint16_t port() const;

  /// Starts a graceful shutdown and returns at once (safe from any thread, idempotent): stops
  /// accepting, closes idle keep-alive connections, lets in-flight requests finish (their
  /// connections close after the response), then stops the io threads. After drain_timeout_ms
  /// whatever is left is closed.
  void drain();

  /// Returns whether drain() has begun.
  bool draining() const;

  /// Blocks until the io threads have stopped (after drain). Not from an io thread.
  void wait();

  /// On SIGTERM or SIGINT, calls `on_signal` (e.g. to mark the node not ready) on an io
  /// thread, then drain(). Call before start().
  void stop_on_signals(std::function<void()> on_signal);

  /// Returns the number of open connections.
  int connections() const;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace djdash::http
