#include "http/server_state.hpp"

#include "protocols/metrics.hpp"

namespace djdash::http {

server_state::server_state(http_settings settings, route_table routes)
  : settings_(std::move(settings)), routes_(std::move(routes)) {
  // nop
}

bool server_state::try_admit() {
  if (connections_.fetch_add(1, std::memory_order_acq_rel) >= settings_.max_connections) {
    connections_.fetch_sub(1, std::memory_order_acq_rel);
    return false;
  }
  metrics::node_metrics().http_connections.add({}, 1);
  return true;
}

void server_state::release() {
  connections_.fetch_sub(1, std::memory_order_acq_rel);
  metrics::node_metrics().http_connections.add({}, -1);
}

uint64_t server_state::track(std::weak_ptr<http_session> session) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto key = ++next_key_;
  sessions_.emplace(key, std::move(session));
  return key;
}

void server_state::untrack(uint64_t key) {
  std::lock_guard<std::mutex> guard{mtx_};
  sessions_.erase(key);
}

std::vector<std::shared_ptr<http_session>> server_state::sessions() const {
  std::vector<std::shared_ptr<http_session>> out;
  std::lock_guard<std::mutex> guard{mtx_};
  out.reserve(sessions_.size());
  for (auto& [key, weak] : sessions_)
    if (auto s = weak.lock())
      out.push_back(std::move(s));
  return out;
}

} // namespace djdash::http
