#pragma once

// Per-key attempt counting in fixed windows (login per IP and per account, signups per IP, …).
// Thread-safe; memory is bounded by pruning expired keys.

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

namespace djdash::http {

class rate_limiter {
public:
  using clock = std::chrono::steady_clock;

  /// Returns how many seconds `key` must wait (0: allowed now) given `limit` per `window`.
  /// Does not count an attempt.
  int64_t retry_after(const std::string& key, int limit, std::chrono::seconds window,
                      clock::time_point now = clock::now());

  /// Counts one attempt for `key`; returns the seconds to wait if it went over `limit`, else 0.
  int64_t hit(const std::string& key, int limit, std::chrono::seconds window,
              clock::time_point now = clock::now());

  /// Forgets `key` (e.g. failed logins after a successful one).
  void reset(const std::string& key);

  /// Returns how many keys are tracked.
  size_t size() const;

private:
  struct window_count {
    clock::time_point start;
    std::chrono::seconds length;
    int count = 0;
  };
  void prune(clock::time_point now);
  int64_t wait_for(const window_count& w, int limit, clock::time_point now) const;

  mutable std::mutex mtx_;
  std::unordered_map<std::string, window_count> windows_;
  clock::time_point last_prune_{};
};

} // namespace djdash::http
