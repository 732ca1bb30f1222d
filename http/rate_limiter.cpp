#include "http/rate_limiter.hpp"

namespace djdash::http {

int64_t rate_limiter::wait_for(const window_count& w, int limit, clock::time_point now) const {
  if (w.count < limit || now >= w.start + w.length)
    return 0;
  auto left = std::chrono::duration_cast<std::chrono::seconds>(w.start + w.length - now).count();
  return left < 1 ? 1 : left;
}

int64_t rate_limiter::retry_after(const std::string& key, int limit, std::chrono::seconds window,
                                  clock::time_point now) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto i = windows_.find(key);
  return i == windows_.end() ? 0 : wait_for(i->second, limit, now);
}

int64_t rate_limiter::hit(const std::string& key, int limit, std::chrono::seconds window,
                          clock::time_point now) {
  std::lock_guard<std::mutex> guard{mtx_};
  prune(now);
  auto& w = windows_[key];
  if (w.count == 0 || now >= w.start + w.length)
    w = window_count{now, window, 0};
  ++w.count;
  return w.count > limit ? wait_for(w, limit, now) : 0;
}

void rate_limiter::reset(const std::string& key) {
  std::lock_guard<std::mutex> guard{mtx_};
  windows_.erase(key);
}

size_t rate_limiter::size() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return windows_.size();
}

void rate_limiter::prune(clock::time_point now) {
  // At most once a minute: walking every key on each hit would make floods cost more.
  if (now - last_prune_ < std::chrono::minutes(1))
    return;
  last_prune_ = now;
  for (auto i = windows_.begin(); i != windows_.end();) {
    if (now >= i->second.start + i->second.length)
      i = windows_.erase(i);
    else
      ++i;
  }
}

} // namespace djdash::http
