#include "http/listener.hpp"

#include <chrono>

#include "config/logging.hpp"
#include "http/error_response.hpp"
#include "http/http_session.hpp"
#include "protocols/app_errc.hpp"

namespace djdash::http {

namespace {

// Accept errors such as EMFILE repeat at once: pause instead of spinning.
constexpr std::chrono::milliseconds accept_backoff{50};

caf::error bind_error(const std::string& what, const std::string& addr, uint16_t port,
                      beast::error_code ec) {
  return make_app_error(app_errc::internal, "http " + what + " " + addr + ":"
                                              + std::to_string(port) + ": " + ec.message());
}

} // namespace

listener::listener(net::io_context& ioc, std::shared_ptr<server_state> state)
  : ioc_(ioc),
    acceptor_(net::make_strand(ioc)),
    backoff_(acceptor_.get_executor()),
    state_(std::move(state)) {
  // nop
}

caf::error listener::open(const std::string& addr, uint16_t port) {
  beast::error_code ec;
  auto ip = net::ip::make_address(addr, ec);
  if (ec)
    return bind_error("bad address", addr, port, ec);
  tcp::endpoint ep{ip, port};
  acceptor_.open(ep.protocol(), ec);
  if (!ec)
    acceptor_.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec)
    acceptor_.bind(ep, ec);
  if (!ec)
    acceptor_.listen(net::socket_base::max_listen_connections, ec);
  if (ec)
    return bind_error("cannot listen on", addr, port, ec);
  return caf::none;
}

uint16_t listener::port() const {
  beast::error_code ec;
  auto ep = acceptor_.local_endpoint(ec);
  return ec ? 0 : ep.port();
}

void listener::run() {
  net::dispatch(acceptor_.get_executor(), [self = shared_from_this()] { self->do_accept(); });
}

void listener::stop(std::function<void()> done) {
  net::post(acceptor_.get_executor(), [self = shared_from_this(), done = std::move(done)] {
    beast::error_code ec;
    self->backoff_.cancel();
    // Connections the kernel already accepted would be reset by the close, although their
    // clients may have sent a request: take them in first (each is served, then closed).
    self->acceptor_.non_blocking(true, ec);
    while (!ec && self->acceptor_.is_open()) {
      tcp::socket socket{net::make_strand(self->ioc_)};
      self->acceptor_.accept(socket, ec);
      if (!ec)
        self->admit(std::move(socket));
    }
    self->acceptor_.close(ec);
    if (done)
      done();
  });
}

void listener::do_accept() {
  // Each connection gets its own strand, so its handlers never run concurrently.
  acceptor_.async_accept(net::make_strand(ioc_),
                         beast::bind_front_handler(&listener::on_accept, shared_from_this()));
}

void listener::on_accept(beast::error_code ec, tcp::socket socket) {
  if (!ec)
    admit(std::move(socket));  // even while stopping: the client may have sent its request
  if (!acceptor_.is_open())
    return;  // stopped
  if (ec) {
    log_fields(logger("http"), spdlog::level::warn, "accept failed", {{"error", ec.message()}});
    backoff_.expires_after(accept_backoff);
    backoff_.async_wait([self = shared_from_this()](beast::error_code wait_ec) {
      if (!wait_ec && self->acceptor_.is_open())
        self->do_accept();
    });
    return;
  }
  do_accept();
}

// A connection admitted while the server drains is still served: a request already sent is
// answered (Connection: close), a silent one gets a moment and is closed (http_session).
void listener::admit(tcp::socket socket) {
  if (state_->try_admit()) {
    std::make_shared<http_session>(std::move(socket), state_, true)->run();
    return;
  }
  std::make_shared<http_session>(std::move(socket), state_, false)
    ->reject(error_body(503, "unavailable", "too many connections, retry later"));
}

} // namespace djdash::http
