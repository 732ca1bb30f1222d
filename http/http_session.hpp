#pragma once

// One HTTP/1.1 connection (Beast advanced_server layout: tcp_stream, one strand per session).
// A session waits for a request (idle timeout), reads it whole (read timeout), hands it to its
// route's handler, and writes the answer when the handler's responder fires or the per-request
// deadline passes; keep-alive loops back to waiting. Included by http/*.cpp only.

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "http/message.hpp"
#include "http/net.hpp"
#include "http/request.hpp"
#include "http/request_log.hpp"
#include "http/server_state.hpp"

namespace djdash::http {

class websocket_session;

class http_session : public std::enable_shared_from_this<http_session> {
public:
  /// `admitted`: the connection counts against max_connections (see server_state::try_admit).
  http_session(tcp::socket&& socket, std::shared_ptr<server_state> state, bool admitted);
  ~http_session();

  /// Starts serving requests.
  void run();
  /// Answers `r` once without reading anything, then closes (connection cap).
  void reject(response r);
  /// Thread-safe: closes the connection if idle, else after the current response.
  void drain();
  /// Thread-safe: closes the connection now.
  void force_close();

private:
  // upgraded: the socket belongs to a websocket_session, which keeps this session alive (its
  // admission and drain tracking) and gets drain/force_close forwarded.
  enum class phase { idle, reading, handling, writing, closing, closed, upgraded };
  using parser_type = bhttp::request_parser<bhttp::string_body>;
  using message_type = wire_request;

  void do_wait();
  void close_idle_for_drain();
  void on_readable(beast::error_code ec);
  void do_read();
  void on_header(beast::error_code ec, std::size_t bytes);
  void send_continue();
  void read_body();
  void on_read(beast::error_code ec, std::size_t bytes);
  void on_read_error(beast::error_code ec);
  void dispatch(message_type&& msg);
  bool try_upgrade(message_type& msg);
  void invoke(const handler& fn, request& req);
  void arm_timer(int ms, void (http_session::*on_fire)());
  void on_idle_timeout();
  void on_deadline();
  responder make_responder();
  void on_answer(response r);
  void send(response r, bool close);
  void on_write(bool close, beast::error_code ec, std::size_t bytes);
  void do_close();
  void on_linger(beast::error_code ec, std::size_t bytes);
  void finish();
  bool closing_after_response() const;

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  net::steady_timer timer_;           // idle wait, then the per-request deadline
  uint64_t timer_seq_ = 0;            // a fired timer whose sequence is stale does nothing
  std::optional<parser_type> parser_;
  std::shared_ptr<server_state> state_;
  bool admitted_;
  uint64_t track_key_ = 0;
  phase phase_ = phase::idle;
  bool drain_ = false;
  bool served_ = false;  // answered at least one request on this connection
  bool keep_alive_ = false;
  unsigned version_ = 11;
  std::string remote_ip_;
  request_summary current_;
  responder responder_;
  std::shared_ptr<wire_response> out_;                         // alive until written
  std::vector<char> discard_;  // lingering close; allocated only then
  std::weak_ptr<websocket_session> upgraded_;
};

} // namespace djdash::http
