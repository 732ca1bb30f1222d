#pragma once

// Outbound HTTP/1.1 over plain TCP or TLS for the connectors (Stripe, Twilio, OpenAI). BLOCKING:
// use it only on detached actors or threads of its own, never on a scheduler or Beast I/O thread.
// One instance is one connection, reused across requests (keep-alive) and re-opened when the
// server closed it; it is not thread-safe. Transport failures come back as values, never as
// exceptions. Beast and OpenSSL stay in the .cpp.

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace djdash::http {

using header_fields = std::vector<std::pair<std::string, std::string>>;

/// A parsed `http://` or `https://` base URL; `prefix` is its path without a trailing '/'
/// (e.g. "/v1" for "https://api.openai.com/v1").
struct base_url {
  bool tls = false;
  std::string host;
  std::string port;
  std::string prefix;

  /// Returns the parts of `url`, or nullopt for another scheme, a missing host, a bad port, or a
  /// query / fragment / userinfo part.
  static std::optional<base_url> parse(const std::string& url);
};

struct client_options {
  std::chrono::milliseconds connect_timeout{5000};  // resolve + TCP connect + TLS handshake
  std::chrono::milliseconds total_timeout{30000};   // one request, connecting included
  std::size_t body_limit = 8 * 1024 * 1024;         // response bodies larger than this fail
  std::string user_agent = "djdash";
  /// PEM file of trusted CAs instead of the system store (tests with a private CA).
  std::string ca_file;
};

struct outbound_request {
  std::string method = "GET";
  std::string target;     // path and query, appended to the base URL's prefix ("/charges?x=1")
  header_fields headers;  // Host, User-Agent and Content-Length are set by the client
  std::string body;
};

struct outbound_response {
  int status = 0;
  header_fields headers;  // names lower-cased
  std::string body;

  /// Returns the first header named `lower_name`, or an empty string.
  std::string header(const std::string& lower_name) const;
};

enum class transport_errc {
  none = 0,
  bad_request,      // the request cannot be sent (bad method or target)
  resolve_failed,   // DNS
  connect_failed,   // refused, unreachable
  tls_failed,       // handshake or certificate verification
  timeout,          // connect or total timeout hit
  io_error,         // connection reset / closed mid-exchange, malformed response
};

/// The outcome of one request: a response (any status), or a transport error with a message.
struct fetch_result {
  transport_errc error = transport_errc::none;
  std::string message;
  outbound_response response;

  bool ok() const {
    return error == transport_errc::none;
  }
};

/// Returns a short name for `e` ("timeout", "connect_failed", ...).
const char* to_string(transport_errc e);

class https_client {
public:
  /// A client for `url`; every request fails with `bad_request` when the URL does not parse.
  https_client(const std::string& url, client_options opts = {});
  ~https_client();
  https_client(const https_client&) = delete;
  https_client& operator=(const https_client&) = delete;

  /// Sends `req` and waits for the whole response (bounded by `total_timeout`). Reuses the open
  /// connection; when a reused connection turns out to be closed before any response byte
  /// arrives, reconnects and sends once more.
  fetch_result request(const outbound_request& req);

  /// Closes the connection (the next request opens a new one).
  void close();

  /// Returns how many connections this client has opened (reuse shows as 1 for many requests).
  int connections_opened() const;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace djdash::http
