#pragma once

// A small blocking WebSocket client for tests (Beast, real sockets to 127.0.0.1). One read stays
// pending while the client runs, so frames that arrive in the meantime are queued in order and
// control frames (ping/close) are answered; every call is bounded by a timeout.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace djdash::test {

class ws_client {
public:
  using headers = std::vector<std::pair<std::string, std::string>>;

  ws_client();
  ~ws_client();
  ws_client(const ws_client&) = delete;
  ws_client& operator=(const ws_client&) = delete;

  /// Shrinks the kernel receive buffer (call before connect): lets a test make the server's
  /// writes back up quickly (slow-consumer tests).
  void set_receive_buffer(int bytes);

  /// Connects to 127.0.0.1:`port` and upgrades `path`; returns whether the upgrade succeeded
  /// (on refusal, handshake_status() holds the HTTP status the server answered).
  bool connect(uint16_t port, const std::string& path = "/api/realtime",
               const headers& extra = {},
               std::chrono::milliseconds timeout = std::chrono::seconds(10));

  /// Returns the HTTP status of the upgrade response (101 on success, 0 when none arrived).
  int handshake_status() const;

  /// Sends one text frame; returns whether it was written.
  bool send_text(const std::string& text,
                 std::chrono::milliseconds timeout = std::chrono::seconds(10));
  bool send_json(const nlohmann::json& j,
                 std::chrono::milliseconds timeout = std::chrono::seconds(10));
  /// Sends one binary frame.
  bool send_binary(const std::string& bytes,
                   std::chrono::milliseconds timeout = std::chrono::seconds(10));

  /// Returns the next received text frame, or nothing when none arrives within `timeout` (or
  /// the connection is closed and nothing is queued).
  std::optional<std::string> next(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  /// Like next(), parsed (a discarded value when the frame is not JSON).
  std::optional<nlohmann::json> next_json(std::chrono::milliseconds timeout
                                          = std::chrono::seconds(10));

  /// Waits for the `{"type":"reply"}` frame whose `ref` equals `ref`; other frames stay queued
  /// for next().
  std::optional<nlohmann::json> wait_reply(const std::string& ref,
                                           std::chrono::milliseconds timeout
                                           = std::chrono::seconds(10));

  /// Sends `{"type":..., "ref": ref, ...fields}` and waits for its reply.
  std::optional<nlohmann::json> call(nlohmann::json msg, const std::string& ref,
                                     std::chrono::milliseconds timeout = std::chrono::seconds(10));

  /// Reads (and discards) until the server closes the connection; returns false when it is
  /// still open after `timeout`.
  bool wait_closed(std::chrono::milliseconds timeout = std::chrono::seconds(10));

  /// Returns the close code the server sent (0 when none, e.g. the TCP connection was cut).
  int close_code() const;

  /// Returns whether the connection is still open.
  bool is_open() const;

  /// Sends a close frame and waits for the server's close (bounded by `timeout`).
  void close(std::chrono::milliseconds timeout = std::chrono::seconds(5));

  /// Returns the last error, for CAF_MESSAGE.
  const std::string& error() const;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace djdash::test
