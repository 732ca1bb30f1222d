#pragma once

// Accepts connections and starts a session for each; beyond max_connections it answers 503 and
// closes. Included by http/*.cpp only.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <caf/error.hpp>

#include "http/net.hpp"
#include "http/server_state.hpp"

namespace djdash::http {

class listener : public std::enable_shared_from_this<listener> {
public:
  listener(net::io_context& ioc, std::shared_ptr<server_state> state);

  /// Binds and listens on `addr`:`port` (0: any free port).
  caf::error open(const std::string& addr, uint16_t port);
  /// Returns the bound port.
  uint16_t port() const;
  /// Starts accepting.
  void run();
  /// Thread-safe: stops accepting; new connections are refused from then on. Connections the
  /// kernel had already accepted are taken in (and served) first; `done` runs after the close.
  void stop(std::function<void()> done = {});

private:
  void do_accept();
  void on_accept(beast::error_code ec, tcp::socket socket);
  void admit(tcp::socket socket);

  net::io_context& ioc_;
  tcp::acceptor acceptor_;
  net::steady_timer backoff_;
  std::shared_ptr<server_state> state_;
};

} // namespace djdash::http
