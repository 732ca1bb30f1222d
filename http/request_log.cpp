#include "http/request_log.hpp"

#include <fmt/format.h>

#include "config/logging.hpp"
#include "protocols/metrics.hpp"

namespace djdash::http {

std::string method_label(std::string_view method) {
  for (const char* known : {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})
    if (method == known)
      return std::string{method};
  return "OTHER";
}

void observe_request(const request_summary& req, int status, bool access_log) {
  using namespace std::chrono;
  auto elapsed = duration<double>(steady_clock::now() - req.start).count();
  auto& m = metrics::node_metrics();
  auto code = std::to_string(status);
  m.http_requests.inc({req.route, method_label(req.method), code});
  m.http_latency.observe({req.route}, elapsed);
  if (!access_log)
    return;
  log_fields(logger("http"), spdlog::level::info, "request",
             {{"request_id", req.request_id},
              {"method", req.method},
              {"path", req.path},
              {"status", code},
              {"duration_ms", fmt::format("{:.3f}", elapsed * 1000.0)},
              {"remote_ip", req.remote_ip}});
}

} // namespace djdash::http
