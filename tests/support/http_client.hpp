#pragma once

// A small blocking HTTP/1.1 client for tests: real sockets to 127.0.0.1, every call bounded by
// a timeout, plus raw byte access for misbehaving-client tests (slowloris, garbage).

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace djdash::test {

struct http_reply {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;

  /// Returns the header `lower_name` or an empty string.
  const std::string& header(const std::string& lower_name) const;
  /// Returns the body parsed as JSON (a discarded value when it is not JSON).
  nlohmann::json json() const;
  /// Returns `error.code` of an error body, or an empty string.
  std::string error_code() const;
};

using header_list = std::vector<std::pair<std::string, std::string>>;

class http_client {
public:
  /// Connects to 127.0.0.1:`port`; every later call waits at most `timeout`.
  explicit http_client(uint16_t port,
                       std::chrono::milliseconds timeout = std::chrono::seconds(10));
  ~http_client();
  http_client(const http_client&) = delete;
  http_client& operator=(const http_client&) = delete;

  /// Returns whether the connection is established.
  bool connected() const;

  /// Sends one request on this connection and reads the reply; nothing on error or timeout.
  std::optional<http_reply> request(const std::string& method, const std::string& target,
                                    const std::string& body = {},
                                    const header_list& headers = {});
  std::optional<http_reply> get(const std::string& target, const header_list& headers = {});

  /// Writes `bytes` as they are; returns whether the write succeeded.
  bool send_raw(const std::string& bytes);

  /// Reads one reply.
  std::optional<http_reply> read_reply();

  /// Waits up to `within` for the server to close the connection (any bytes it sends first
  /// are skipped); returns false when it is still open afterwards.
  bool wait_closed(std::chrono::milliseconds within);

  /// Returns the last error, for CAF_MESSAGE.
  const std::string& error() const;

  /// Returns whether a fresh connection to `port` is accepted by the kernel.
  static bool can_connect(uint16_t port);

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace djdash::test
