#include "http/server.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <optional>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include "config/logging.hpp"
#include "http/http_session.hpp"
#include "http/listener.hpp"
#include "http/net.hpp"
#include "http/server_state.hpp"
#include "protocols/app_errc.hpp"

namespace djdash::http {

namespace {

// How often drain checks whether the last connection is gone.
constexpr std::chrono::milliseconds drain_poll{10};

spdlog::logger& log() {
  return logger("http");
}

} // namespace

// Handlers below capture `this` (the impl): ~server stops and joins the io threads before the
// impl goes away, so no handler can run afterwards.
struct server::impl {
  using clock = std::chrono::steady_clock;

  impl(const http_settings& settings, route_table routes)
    : state(std::make_shared<server_state>(settings, std::move(routes))),
      ioc(std::max(1, settings.threads)),
      drain_timer(ioc) {
    // nop
  }

  caf::error start();
  void drain();
  void begin_drain();
  void poll_drain(bool forced);
  void stop_io();
  void run_io();

  std::shared_ptr<server_state> state;
  net::io_context ioc;
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work;
  std::shared_ptr<listener> acceptor;
  std::unique_ptr<net::signal_set> signals;
  net::steady_timer drain_timer;
  clock::time_point drain_deadline;
  std::atomic<bool> drain_requested{false};
  std::vector<std::thread> threads;
  uint16_t port = 0;
};

caf::error server::impl::start() {
  if (!threads.empty() || state->draining())
    return make_app_error(app_errc::internal, "http server already started or drained");
  const auto& cfg = state->settings();
  acceptor = std::make_shared<listener>(ioc, state);
  if (auto err = acceptor->open(cfg.addr, cfg.port))
    return err;
  port = acceptor->port();
  acceptor->run();
  work.emplace(net::make_work_guard(ioc));
  for (int i = 0; i < std::max(1, cfg.threads); ++i)
    threads.emplace_back([this] { run_io(); });
  log_fields(log(), spdlog::level::info, "http listening",
             {{"addr", cfg.addr}, {"port", std::to_string(port)}});
  return caf::none;
}

void server::impl::run_io() {
  // A throwing handler must not take the whole node down with std::terminate.
  for (;;) {
    try {
      ioc.run();
      return;
    } catch (const std::exception& e) {
      log_fields(log(), spdlog::level::err, "io handler threw", {{"exception", e.what()}});
    }
  }
}

void server::impl::drain() {
  if (drain_requested.exchange(true))
    return;
  state->start_draining();  // sessions check it before every wait and response
  net::post(ioc, [this] { begin_drain(); });
}

void server::impl::begin_drain() {
  log_fields(log(), spdlog::level::info, "http draining",
             {{"connections", std::to_string(state->connections())}});
  drain_deadline = clock::now() + std::chrono::milliseconds(state->settings().drain_timeout_ms);
  // Sessions and the connection count are looked at only once the listener is closed: the
  // connections it takes in on the way are served too, and none is reset by the exit.
  auto after_listener = [this] {
    net::post(ioc, [this] {
      for (auto& session : state->sessions())
        session->drain();
      poll_drain(false);
    });
  };
  if (acceptor)
    acceptor->stop(after_listener);
  else
    after_listener();
}

void server::impl::poll_drain(bool forced) {
  if (state->connections() == 0 || forced)
    return stop_io();
  if (clock::now() >= drain_deadline) {
    log_fields(log(), spdlog::level::warn, "drain timeout: closing remaining connections",
               {{"connections", std::to_string(state->connections())}});
    for (auto& session : state->sessions())
      session->force_close();
    forced = true;  // give the closes one poll interval to run
  }
  drain_timer.expires_after(drain_poll);
  drain_timer.async_wait([this, forced](beast::error_code ec) {
    if (!ec)
      poll_drain(forced);
  });
}

void server::impl::stop_io() {
  if (signals) {
    beast::error_code ec;
    signals->cancel(ec);
  }
  work.reset();
  ioc.stop();
}

server::server(const http_settings& settings, route_table routes)
  : impl_(std::make_unique<impl>(settings, std::move(routes))) {
  // nop
}

server::~server() {
  impl_->ioc.stop();
  wait();
  // From here on, late answers from actors are dropped instead of posted into a dead context.
  std::unique_lock<std::shared_mutex> lock{impl_->state->gate()->mtx};
  impl_->state->gate()->open = false;
}

caf::error server::start() {
  return impl_->start();
}

uint16_t server::port() const {
  return impl_->port;
}

void server::drain() {
  impl_->drain();
}

bool server::draining() const {
  return impl_->state->draining();
}

void server::wait() {
  for (auto& t : impl_->threads)
    if (t.joinable())
      t.join();
}

int server::connections() const {
  return impl_->state->connections();
}

void server::stop_on_signals(std::function<void()> on_signal) {
  auto* self = impl_.get();
  self->signals = std::make_unique<net::signal_set>(self->ioc, SIGTERM, SIGINT);
  self->signals->async_wait([self, on_signal](beast::error_code ec, int signo) {
    if (ec)
      return;
    log_fields(log(), spdlog::level::info, "signal received: draining",
               {{"signal", std::to_string(signo)}});
    if (on_signal)
      on_signal();
    self->drain();
  });
}

} // namespace djdash::http
