#pragma once

// What a route handler sees and answers with. No Beast or CAF here: this header is included by
// every route file, so it stays light.

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace djdash::http {

/// One parsed HTTP request.
struct request {
  std::string method;                            // "GET", "POST", ...
  std::string target;                            // raw request target
  std::string path;                              // target without the query, percent-decoded
  std::map<std::string, std::string> query;      // decoded query parameters (last one wins)
  std::map<std::string, std::string> headers;    // names lower-cased
  std::map<std::string, std::string> params;     // path parameters from the route pattern
  std::string body;
  std::string remote_ip;
  std::string request_id;                        // also sent back as X-Request-Id

  /// Returns the header `lower_name` or an empty string.
  const std::string& header(const std::string& lower_name) const;
  /// Returns the query parameter `name` or an empty string.
  const std::string& query_param(const std::string& name) const;
};

/// One response. `content_type` defaults to JSON.
struct response {
  int status = 200;
  std::string content_type = "application/json; charset=utf-8";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

/// Delivers a handler's response to its connection, from any thread, at most once: the first
/// answer wins (the per-request deadline may already have answered 504).
class responder {
public:
  using sink = std::function<void(response&&)>;
  responder() = default;
  explicit responder(sink fn);
  void operator()(response r) const;
  /// Returns whether an answer (or the deadline) already went out.
  bool answered() const;

private:
  struct state;
  std::shared_ptr<state> state_;
};

using handler = std::function<void(request&, const responder&)>;

} // namespace djdash::http
