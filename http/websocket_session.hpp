#pragma once

// One /api/realtime WebSocket (Beast chat-multi layout): all socket work runs on the connection's
// strand; actors reach it only through send(), which posts onto the strand. Frames wait in a
// bounded queue (count and bytes): a client that does not keep up is dropped, so a slow reader
// never makes the server buffer without bound. Included by http/*.cpp only.

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <boost/beast/websocket/stream.hpp>
#include <caf/actor.hpp>
#include <nlohmann/json.hpp>

#include "http/message.hpp"
#include "http/net.hpp"
#include "http/realtime_routes.hpp"
#include "http/server_state.hpp"

namespace djdash::http {

class websocket_session : public std::enable_shared_from_this<websocket_session> {
public:
  /// `anchor` keeps the HTTP connection that was upgraded (its admission and drain tracking)
  /// alive for as long as this socket is.
  websocket_session(tcp::socket&& socket, std::shared_ptr<const realtime_context> ctx,
                    std::shared_ptr<server_state> state, std::shared_ptr<void> anchor);
  ~websocket_session();

  /// Completes the upgrade for `req` and starts serving frames.
  void run(wire_request req);

  /// Thread-safe, for actors that hold the session weakly: queues one text frame for the client
  /// (dropped once the socket is closing); false when the socket or its server is gone.
  static bool send(const std::weak_ptr<websocket_session>& weak,
                   const std::shared_ptr<io_gate>& gate, std::shared_ptr<const std::string> frame);

  /// Thread-safe: sends a close frame (going away) after what is queued, then closes.
  void drain();

  /// Thread-safe: closes the connection now.
  void force_close();

private:
  struct auth_state {
    std::string user_id;
    int64_t expires_at = 0;  // unix seconds
  };

  void on_accept(beast::error_code ec);
  void do_read();
  void on_read(beast::error_code ec, std::size_t bytes);
  void handle(const std::string& text);
  void on_auth(const nlohmann::json& ref, const std::string& token);
  void on_subscribe(const nlohmann::json& ref, const std::string& topic, bool subscribe);
  void on_broadcast(const nlohmann::json& ref, const std::string& topic);
  void reply(std::string text);
  void enqueue(std::shared_ptr<const std::string> frame);
  void do_write();
  void on_write(beast::error_code ec, std::size_t bytes);
  void start_close(boost::beast::websocket::close_code code, const char* why);
  void on_close(beast::error_code ec);
  void drop_slow_consumer();
  void shutdown();
  void post(std::function<void(websocket_session&)> fn);

  boost::beast::websocket::stream<beast::tcp_stream> ws_;
  beast::flat_buffer buffer_;
  std::shared_ptr<const realtime_context> ctx_;
  std::shared_ptr<server_state> state_;
  std::shared_ptr<void> anchor_;
  caf::actor bridge_;
  std::optional<auth_state> auth_;
  std::deque<std::shared_ptr<const std::string>> queue_;
  size_t queued_bytes_ = 0;
  bool accepted_ = false;
  bool writing_ = false;
  bool closing_ = false;   // close frame sent or pending: nothing new is queued
  bool close_after_writes_ = false;
  bool closed_ = false;
};

} // namespace djdash::http
