#pragma once

// Per-request bookkeeping once a response goes out: Prometheus metrics and the access log.

#include <chrono>
#include <string>
#include <string_view>

namespace djdash::http {

/// What is known about one request, from the moment it was read.
struct request_summary {
  std::string request_id;
  std::string method;        // as sent (access log)
  std::string path;          // without the query string
  std::string route = "unmatched";  // matched pattern: a bounded metrics label
  std::string remote_ip;
  std::string origin;  // the Origin header, for CORS
  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
};

/// Returns `method` when it is a standard method, else "OTHER": arbitrary tokens must not
/// become metric labels.
std::string method_label(std::string_view method);

/// Records metrics for a response with `status`, and logs it when `access_log`.
void observe_request(const request_summary& req, int status, bool access_log);

} // namespace djdash::http
