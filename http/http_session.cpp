#include "http/http_session.hpp"

#include <algorithm>
#include <chrono>
#include <limits>
#include <typeinfo>

#include "config/logging.hpp"
#include <boost/beast/websocket/rfc6455.hpp>

#include "http/cors.hpp"
#include "http/error_response.hpp"
#include "http/message.hpp"
#include "http/realtime_routes.hpp"
#include "http/request_id.hpp"
#include "http/url.hpp"
#include "http/websocket_session.hpp"

namespace djdash::http {

namespace {

// How long a connection accepted just before a drain may take to send its first request.
constexpr int fresh_connection_grace_ms = 250;

// After a response that closes the connection, unread request bytes would make the kernel send
// a RST that can destroy the response before the client reads it: discard input briefly first.
constexpr std::chrono::milliseconds linger_time{1000};

} // namespace

http_session::http_session(tcp::socket&& socket, std::shared_ptr<server_state> state,
                           bool admitted)
  : stream_(std::move(socket)),
    timer_(stream_.get_executor()),
    state_(std::move(state)),
    admitted_(admitted) {
  beast::error_code ec;
  stream_.socket().set_option(tcp::no_delay(true), ec);  // answers are small and complete
  auto peer = stream_.socket().remote_endpoint(ec);
  if (!ec)
    remote_ip_ = peer.address().to_string();
}

http_session::~http_session() {
  if (track_key_ != 0)
    state_->untrack(track_key_);
  if (admitted_)
    state_->release();
}

void http_session::run() {
  track_key_ = state_->track(weak_from_this());
  net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->do_wait(); });
}

void http_session::reject(response r) {
  net::dispatch(stream_.get_executor(), [self = shared_from_this(), r = std::move(r)]() mutable {
    self->current_.remote_ip = self->remote_ip_;
    self->current_.request_id = make_request_id();
    self->send(std::move(r), true);
  });
}

void http_session::drain() {
  net::post(stream_.get_executor(), [self = shared_from_this()] {
    self->drain_ = true;
    if (self->phase_ == phase::upgraded) {
      if (auto ws = self->upgraded_.lock())
        ws->drain();  // a close frame, then the socket closes
      return;
    }
    if (self->phase_ == phase::idle)
      self->close_idle_for_drain();
  });
}

// A drain must not drop a request the client already sent: bytes waiting in the socket are read
// and answered (with Connection: close), and a connection accepted just before the listener
// closed gets a moment for its first request. Only a quiet keep-alive connection closes at once.
void http_session::close_idle_for_drain() {
  beast::error_code ec;
  auto waiting = stream_.socket().available(ec);
  if (!ec && waiting > 0)
    return;  // on_readable fires and reads it
  if (!served_)
    return arm_timer(fresh_connection_grace_ms, &http_session::on_idle_timeout);
  finish();
}

void http_session::force_close() {
  net::post(stream_.get_executor(), [self = shared_from_this()] {
    if (self->phase_ == phase::upgraded) {
      if (auto ws = self->upgraded_.lock())
        ws->force_close();
      return;
    }
    self->finish();
  });
}

// --- waiting and reading -------------------------------------------------------------------

void http_session::do_wait() {
  if (buffer_.size() > 0)
    return do_read();  // a pipelined request is already buffered
  phase_ = phase::idle;
  if (drain_ || state_->draining()) {
    close_idle_for_drain();
    if (phase_ != phase::idle)
      return;  // closed
  } else {
    // The idle timeout runs until the first byte; only then does the read timeout start, so a
    // quiet keep-alive connection and a slow sender are told apart.
    arm_timer(state_->settings().idle_timeout_ms, &http_session::on_idle_timeout);
  }
  stream_.socket().async_wait(tcp::socket::wait_read,
                              beast::bind_front_handler(&http_session::on_readable,
                                                        shared_from_this()));
}

void http_session::on_readable(beast::error_code ec) {
  if (phase_ != phase::idle)
    return;
  if (ec)
    return finish();
  ++timer_seq_;
  timer_.cancel();
  do_read();
}

void http_session::on_idle_timeout() {
  if (phase_ == phase::idle)
    finish();
}

void http_session::do_read() {
  const auto& cfg = state_->settings();
  phase_ = phase::reading;
  parser_.emplace();
  parser_->body_limit(cfg.body_limit);
  parser_->header_limit(static_cast<std::uint32_t>(
    std::min<size_t>(cfg.header_limit, std::numeric_limits<std::uint32_t>::max())));
  // One deadline for the whole request: header, optional 100 Continue, body.
  stream_.expires_after(std::chrono::milliseconds(cfg.read_timeout_ms));
  bhttp::async_read_header(stream_, buffer_, *parser_,
                           beast::bind_front_handler(&http_session::on_header,
                                                     shared_from_this()));
}

void http_session::on_header(beast::error_code ec, std::size_t) {
  if (phase_ != phase::reading)
    return;
  if (ec)
    return on_read_error(ec);  // includes a Content-Length over the body limit: 413 at once
  if (parser_->is_done())
    return on_read({}, 0);
  if (expects_continue(parser_->get()))
    return send_continue();
  read_body();
}

void http_session::send_continue() {
  // Clients sending `Expect: 100-continue` (curl above 1 KiB, some webhook senders) otherwise
  // wait a second before sending the body.
  static constexpr std::string_view continue_line = "HTTP/1.1 100 Continue\r\n\r\n";
  net::async_write(stream_, net::buffer(continue_line.data(), continue_line.size()),
                   [self = shared_from_this()](beast::error_code ec, std::size_t) {
                     if (ec)
                       return self->finish();
                     self->read_body();
                   });
}

void http_session::read_body() {
  bhttp::async_read(stream_, buffer_, *parser_,
                    beast::bind_front_handler(&http_session::on_read, shared_from_this()));
}

void http_session::on_read(beast::error_code ec, std::size_t) {
  if (phase_ != phase::reading)
    return;
  if (ec)
    return on_read_error(ec);
  auto msg = parser_->release();
  parser_.reset();
  dispatch(std::move(msg));
}

void http_session::on_read_error(beast::error_code ec) {
  // Peer gone, read timeout (slow sender) or socket error: nothing useful to answer.
  if (ec == bhttp::error::end_of_stream || !is_parse_error(ec))
    return finish();
  // The stream is out of sync after a parse error: answer, then close.
  current_ = request_summary{};
  current_.remote_ip = remote_ip_;
  std::string incoming_id;
  if (parser_->is_header_done()) {
    const auto& head = parser_->get();
    current_.method = std::string{head.method_string()};
    current_.path = std::string{split_target(head.target()).first};
    incoming_id = std::string{head["X-Request-Id"]};
  }
  current_.request_id = pick_request_id(incoming_id);
  version_ = 11;
  send(parse_error_response(ec, state_->settings().body_limit), true);
}

// --- handling ------------------------------------------------------------------------------

void http_session::dispatch(message_type&& msg) {
  phase_ = phase::handling;
  stream_.expires_never();
  version_ = msg.version();
  keep_alive_ = msg.keep_alive();
  // A WebSocket upgrade to a WebSocket route hands the socket to a websocket_session.
  if (beast::websocket::is_upgrade(msg) && try_upgrade(msg))
    return;
  auto req = to_request(std::move(msg));
  req.remote_ip = remote_ip_;
  req.request_id = pick_request_id(req.header("x-request-id"));
  auto [raw_path, raw_query] = split_target(req.target);
  current_ = request_summary{};
  current_.request_id = req.request_id;
  current_.method = req.method;
  current_.path = std::string{raw_path};
  current_.remote_ip = remote_ip_;
  current_.origin = req.header("origin");
  if (auto cors = state_->routes().cors()) {
    if (auto answer = cors->preflight(req))
      return on_answer(std::move(*answer));
  }
  auto path = percent_decode(raw_path);
  auto query = parse_query(raw_query);
  if (!path || !query)
    return on_answer(error_response(app_errc::bad_request,
                                    "malformed percent-encoding in the request target"));
  req.path = std::move(*path);
  req.query = std::move(*query);
  auto m = state_->routes().match(req.method, raw_path);
  if (m.pattern)
    current_.route = *m.pattern;
  switch (m.outcome) {
    case route_match::found:
      req.params = std::move(m.params);
      return invoke(m.matched->fn, req);
    case route_match::method_not_allowed: {
      auto r = error_response(app_errc::method_not_allowed);
      r.headers.emplace_back("Allow", m.allow);
      return on_answer(std::move(r));
    }
    case route_match::bad_path:
      return on_answer(error_response(app_errc::bad_request, "malformed percent-encoding in the path"));
    case route_match::not_found:
      break;
  }
  on_answer(error_response(app_errc::not_found, "no route for this path"));
}

bool http_session::try_upgrade(message_type& msg) {
  auto raw_path = split_target(msg.target()).first;
  auto m = state_->routes().match(msg.method_string(), raw_path);
  if (m.outcome != route_match::found)
    return false;
  auto* endpoint = m.matched->fn.target<realtime_endpoint>();
  if (endpoint == nullptr)
    return false;  // not a WebSocket route: the handler answers as usual
  current_ = request_summary{};
  current_.request_id = pick_request_id(std::string{msg["X-Request-Id"]});
  current_.method = std::string{msg.method_string()};
  current_.path = std::string{raw_path};
  current_.route = m.matched->pattern;
  current_.remote_ip = remote_ip_;
  if (drain_ || state_->draining()) {
    keep_alive_ = false;
    on_answer(error_response(app_errc::shutting_down));
    return true;
  }
  phase_ = phase::upgraded;
  ++timer_seq_;
  timer_.cancel();
  observe_request(current_, 101, state_->settings().access_log);
  auto ws = std::make_shared<websocket_session>(stream_.release_socket(), endpoint->context(),
                                                state_, shared_from_this());
  upgraded_ = ws;
  ws->run(std::move(msg));
  return true;
}

void http_session::invoke(const handler& fn, request& req) {
  responder_ = make_responder();
  try {
    fn(req, responder_);
  } catch (const std::exception& e) {
    // The type only: what() of e.g. a JSON parse error quotes the body, which is never logged.
    log_fields(logger("http"), spdlog::level::err, "handler threw",
               {{"request_id", current_.request_id}, {"route", current_.route},
                {"exception", typeid(e).name()}});
    responder_(error_response(app_errc::internal));
  } catch (...) {
    log_fields(logger("http"), spdlog::level::err, "handler threw",
               {{"request_id", current_.request_id}, {"route", current_.route}});
    responder_(error_response(app_errc::internal));
  }
  if (!responder_.answered())
    arm_timer(state_->settings().request_deadline_ms, &http_session::on_deadline);
}

void http_session::on_deadline() {
  if (phase_ != phase::handling)
    return;
  log_fields(logger("http"), spdlog::level::warn, "request deadline exceeded",
             {{"request_id", current_.request_id}, {"route", current_.route}});
  responder_(error_response(app_errc::upstream_timeout,
                            "no answer within "
                              + std::to_string(state_->settings().request_deadline_ms) + " ms"));
}

void http_session::arm_timer(int ms, void (http_session::*on_fire)()) {
  auto seq = ++timer_seq_;
  timer_.expires_after(std::chrono::milliseconds(ms));
  timer_.async_wait([self = shared_from_this(), seq, on_fire](beast::error_code ec) {
    if (!ec && seq == self->timer_seq_)
      ((*self).*on_fire)();
  });
}

responder http_session::make_responder() {
  // Called from any thread: hop onto the strand. The gate keeps a late answer from posting
  // into an io_context that the server is destroying.
  return responder{[weak = weak_from_this(), gate = state_->gate()](response&& r) {
    std::shared_lock<std::shared_mutex> lock{gate->mtx};
    if (!gate->open)
      return;
    if (auto self = weak.lock())
      net::post(self->stream_.get_executor(),
                [self, r = std::move(r)]() mutable { self->on_answer(std::move(r)); });
  }};
}

void http_session::on_answer(response r) {
  if (phase_ != phase::handling)
    return;  // the connection was closed meanwhile
  ++timer_seq_;
  timer_.cancel();
  responder_ = responder{};
  send(std::move(r), closing_after_response());
}

bool http_session::closing_after_response() const {
  return !keep_alive_ || drain_ || state_->draining();
}

// --- writing and closing -------------------------------------------------------------------

void http_session::send(response r, bool close) {
  phase_ = phase::writing;
  served_ = true;
  add_security_headers(r);
  if (auto cors = state_->routes().cors())
    cors->decorate(current_.origin, r);
  auto status = r.status;
  out_ = to_wire(std::move(r), version_, current_.request_id, close);
  observe_request(current_, status, state_->settings().access_log);
  // Writes get the read timeout too: a client that stops reading must not pin the session.
  stream_.expires_after(std::chrono::milliseconds(state_->settings().read_timeout_ms));
  bhttp::async_write(stream_, *out_,
                     [self = shared_from_this(), close](beast::error_code ec, std::size_t n) {
                       self->on_write(close, ec, n);
                     });
}

void http_session::on_write(bool close, beast::error_code ec, std::size_t) {
  out_.reset();
  if (ec)
    return finish();
  if (close)
    return do_close();
  do_wait();
}

void http_session::do_close() {
  phase_ = phase::closing;
  beast::error_code ec;
  stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
  if (ec)
    return finish();
  stream_.expires_after(linger_time);
  discard_.resize(4096);
  stream_.async_read_some(net::buffer(discard_),
                          beast::bind_front_handler(&http_session::on_linger, shared_from_this()));
}

void http_session::on_linger(beast::error_code ec, std::size_t) {
  if (ec || phase_ != phase::closing)
    return finish();
  stream_.async_read_some(net::buffer(discard_),
                          beast::bind_front_handler(&http_session::on_linger, shared_from_this()));
}

void http_session::finish() {
  phase_ = phase::closed;
  ++timer_seq_;
  timer_.cancel();
  stream_.close();
}

} // namespace djdash::http
