#pragma once

// Shared helpers for the http suites: settings with small timeouts, a started server on an
// ephemeral port, and delayed answers from helper threads. Include after support/caf_test.hpp.

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "config/settings.hpp"
#include "http/server.hpp"
#include "support/http_client.hpp"

namespace djdash::http::testing {

using namespace std::chrono_literals;

/// Settings for tests: loopback, ephemeral port, no access log, generous timeouts unless a test
/// shrinks one on purpose.
inline http_settings test_settings() {
  http_settings s;
  s.addr = "127.0.0.1";
  s.port = 0;
  s.threads = 2;
  s.access_log = false;
  s.read_timeout_ms = 5000;
  s.idle_timeout_ms = 10000;
  s.request_deadline_ms = 10000;
  s.drain_timeout_ms = 5000;
  return s;
}

/// Starts a server or fails the test.
inline std::unique_ptr<server> start_server(const http_settings& cfg, route_table routes) {
  auto srv = std::make_unique<server>(cfg, std::move(routes));
  auto err = srv->start();
  CAF_REQUIRE(!err);
  CAF_REQUIRE(srv->port() != 0);
  return srv;
}

/// Runs `fn` after `delay` on a helper thread; joins every helper on destruction.
class delayer {
public:
  ~delayer() {
    std::lock_guard<std::mutex> guard{mtx_};
    for (auto& t : threads_)
      t.join();
  }

  void after(std::chrono::milliseconds delay, std::function<void()> fn) {
    std::lock_guard<std::mutex> guard{mtx_};
    threads_.emplace_back([delay, fn] {
      std::this_thread::sleep_for(delay);
      fn();
    });
  }

private:
  std::mutex mtx_;
  std::vector<std::thread> threads_;
};

/// Polls `pred` until it holds or `within` passes; returns its last value.
inline bool eventually(const std::function<bool()>& pred,
                       std::chrono::milliseconds within = 5s) {
  auto until = std::chrono::steady_clock::now() + within;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > until)
      return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

inline response text(int status, std::string body) {
  response r;
  r.status = status;
  r.content_type = "text/plain";
  r.body = std::move(body);
  return r;
}

} // namespace djdash::http::testing
