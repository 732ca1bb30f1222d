#pragma once

// A small real HTTP/1.1 server on 127.0.0.1 for tests that stand in for Stripe, Twilio, OpenAI
// and friends: an ephemeral port, one thread per connection, keep-alive, and a record of every
// request it received. It knows nothing about any vendor; the handler speaks their wire format.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace djdash::test {

using field_list = std::vector<std::pair<std::string, std::string>>;

struct fake_request {
  std::string method;   // "POST"
  std::string target;   // "/v1/checkout/sessions?x=1", as sent
  std::string path;     // "/v1/checkout/sessions"
  std::string query;    // "x=1" (raw, without '?')
  field_list headers;   // names lower-cased, in arrival order
  std::string body;     // raw bytes
  /// Decoded application/x-www-form-urlencoded body (bracket keys verbatim), in order; empty for
  /// other content types or a malformed body.
  field_list form;
  /// Decoded query parameters, in order.
  field_list query_params;
  /// Which accepted connection carried the request (1, 2, ...): shows keep-alive reuse.
  int connection = 0;

  /// Returns the first header named `lower_name`, or an empty string.
  std::string header(const std::string& lower_name) const;
  /// Returns the first form field named `name`, or nullopt.
  std::optional<std::string> form_value(const std::string& name) const;
};

struct fake_response {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  field_list headers;  // extra headers
  /// Waits this long before answering (cut short by stop()): simulates a hanging upstream.
  std::chrono::milliseconds delay{0};
  /// Sends the response with `Connection: close` and closes the connection afterwards.
  bool close = false;
  /// Closes the connection without sending anything (a dropped connection).
  bool drop = false;
};

using fake_handler = std::function<fake_response(const fake_request&)>;

/// Serve HTTPS with this certificate chain and key (PEM; see support/test_pki.hpp).
struct fake_tls {
  std::string cert_pem;
  std::string key_pem;
};

class fake_http_server {
public:
  /// Listens on 127.0.0.1 on an ephemeral port and serves every request with `handler` (called
  /// on the connection's thread; it may block). Throws std::runtime_error if it cannot listen.
  explicit fake_http_server(fake_handler handler);
  /// The same over TLS: every connection starts with a handshake; base_url() says https.
  fake_http_server(fake_handler handler, fake_tls tls);
  ~fake_http_server();
  fake_http_server(const fake_http_server&) = delete;
  fake_http_server& operator=(const fake_http_server&) = delete;

  uint16_t port() const;
  /// Returns "http://127.0.0.1:PORT" ("https://..." with TLS).
  std::string base_url() const;

  /// Returns a copy of every request received so far, in arrival order.
  std::vector<fake_request> requests() const;
  /// Returns how many connections were accepted so far.
  int connections() const;
  /// Returns how many TLS handshakes failed (a client that rejected the certificate).
  int failed_handshakes() const;

  /// Closes the listener and every connection, cuts short pending delays, joins all threads.
  /// Idempotent; the destructor calls it.
  void stop();

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace djdash::test
