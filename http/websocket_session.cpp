#include "http/websocket_session.hpp"

#include <chrono>
#include <typeinfo>
#include <utility>

#include <boost/beast/websocket.hpp>
#include <caf/actor_system.hpp>
#include <caf/send.hpp>

#include "config/logging.hpp"
#include "config/settings.hpp"
#include "http/auth_context.hpp"
#include "http/realtime_protocol.hpp"
#include "http/ws_client.hpp"
#include "protocols/metrics.hpp"

namespace djdash::http {

namespace websocket = boost::beast::websocket;
namespace rt = realtime;

namespace {

spdlog::logger& log() {
  return logger("http");
}

struct realtime_metrics {
  metrics::gauge& sockets;
  metrics::gauge& queued_bytes;
  metrics::counter& dropped;
};

realtime_metrics& counters() {
  static realtime_metrics m{
    metrics::node_metrics().reg.make_gauge("djdash_realtime_sockets",
                                           "Open WebSocket connections on /api/realtime.", {}),
    metrics::node_metrics().reg.make_gauge(
      "djdash_realtime_queued_bytes", "Bytes waiting in WebSocket send queues (all sockets).", {}),
    metrics::node_metrics().reg.make_counter(
      "djdash_realtime_dropped_total",
      "WebSocket clients dropped because their send queue was full.", {})};
  return m;
}

int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

bool benign(beast::error_code ec) {
  return ec == websocket::error::closed || ec == net::error::operation_aborted
         || ec == net::error::eof || ec == beast::error::timeout
         || ec == net::error::connection_reset;
}

} // namespace

realtime_stats realtime_counters() {
  auto& m = counters();
  return realtime_stats{m.sockets.value({}), m.queued_bytes.value({}), m.dropped.value({})};
}

websocket_session::websocket_session(tcp::socket&& socket,
                                     std::shared_ptr<const realtime_context> ctx,
                                     std::shared_ptr<server_state> state,
                                     std::shared_ptr<void> anchor)
  : ws_(std::move(socket)),
    ctx_(std::move(ctx)),
    state_(std::move(state)),
    anchor_(std::move(anchor)) {
  // nop
}

websocket_session::~websocket_session() {
  if (bridge_)
    caf::anon_send_exit(bridge_, caf::exit_reason::user_shutdown);
  if (queued_bytes_ > 0)
    counters().queued_bytes.add({}, -static_cast<int64_t>(queued_bytes_));
  if (accepted_)
    counters().sockets.add({}, -1);
}

void websocket_session::post(std::function<void(websocket_session&)> fn) {
  // Called from actor threads: the gate keeps a late call from posting into an io_context that
  // the server is destroying.
  std::shared_lock<std::shared_mutex> lock{state_->gate()->mtx};
  if (!state_->gate()->open)
    return;
  net::post(ws_.get_executor(), [self = shared_from_this(), fn = std::move(fn)] { fn(*self); });
}

void websocket_session::run(wire_request req) {
  const auto& limits = ctx_->cfg->realtime;
  beast::get_lowest_layer(ws_).expires_never();  // the websocket timeouts below take over
  websocket::stream_base::timeout opt;
  opt.handshake_timeout = std::chrono::milliseconds(limits.handshake_timeout_ms);
  opt.idle_timeout = std::chrono::milliseconds(limits.idle_timeout_ms);
  opt.keep_alive_pings = true;  // browsers answer pings by themselves: a live tab stays open
  ws_.set_option(opt);
  ws_.read_message_max(limits.max_message_bytes);
  ws_.set_option(websocket::stream_base::decorator(
    [](websocket::response_type& res) { res.set(bhttp::field::server, "djdash"); }));
  ws_.async_accept(req, beast::bind_front_handler(&websocket_session::on_accept,
                                                  shared_from_this()));
}

void websocket_session::on_accept(beast::error_code ec) {
  if (ec)
    return;  // the handshake failed or timed out: Beast already answered what it could
  accepted_ = true;
  counters().sockets.add({}, 1);
  const auto& cfg = *ctx_->cfg;
  ws_client_limits limits{cfg.realtime.max_subscriptions,
                          std::chrono::milliseconds(cfg.http.request_deadline_ms)};
  bridge_ = spawn_ws_client(*ctx_->sys, weak_from_this(), state_->gate(), ctx_->hub, ctx_->db,
                            limits);
  if (state_->draining())
    start_close(websocket::close_code::going_away, "server is shutting down");
  do_read();  // also receives the client's answer to a close frame
}

// --- reading and handling ------------------------------------------------------------------

void websocket_session::do_read() {
  ws_.async_read(buffer_, beast::bind_front_handler(&websocket_session::on_read,
                                                    shared_from_this()));
}

void websocket_session::on_read(beast::error_code ec, std::size_t) {
  if (ec) {
    // Peer closed, idle timeout, oversize message (Beast sent 1009), reset: the socket is done.
    if (!benign(ec) && ec != websocket::error::message_too_big)
      log().debug("realtime read failed: {}", ec.message());
    return shutdown();
  }
  if (closing_) {  // waiting for the client's close: ignore what it still sends
    buffer_.consume(buffer_.size());
    return do_read();
  }
  if (!ws_.got_text()) {
    buffer_.consume(buffer_.size());
    start_close(websocket::close_code::unknown_data, "text frames of JSON only");
    return do_read();
  }
  auto text = beast::buffers_to_string(buffer_.data());
  buffer_.consume(buffer_.size());
  try {
    handle(text);
  } catch (const std::exception& e) {
    // A bug must not end the socket silently: the client hears of it, the log gets the type.
    log_fields(log(), spdlog::level::err, "realtime frame handler threw",
               {{"exception", typeid(e).name()}});
    reply(rt::error_reply(nullptr, "internal", "internal error"));
  }
  do_read();
}

void websocket_session::handle(const std::string& text) {
  auto parsed = rt::parse_client_frame(text);
  if (!parsed.frame)
    return reply(rt::error_reply(parsed.error.ref, parsed.error.code, parsed.error.message));
  auto& f = *parsed.frame;
  switch (f.type) {
    case rt::frame_type::ping:
      return reply(rt::ok_reply(f.ref));
    case rt::frame_type::auth:
      return on_auth(f.ref, f.token);
    case rt::frame_type::subscribe:
      return on_subscribe(f.ref, f.topic, true);
    case rt::frame_type::unsubscribe:
      return on_subscribe(f.ref, f.topic, false);
    case rt::frame_type::broadcast:
      return on_broadcast(f.ref, f.topic);
  }
}

void websocket_session::on_auth(const nlohmann::json& ref, const std::string& token) {
  // Same checks as a route's `Authorization: Bearer` (signature, exp, aud, iss, subject).
  request probe;
  probe.headers["authorization"] = "Bearer " + token;
  std::optional<response> refused;
  responder capture{[&refused](response&& r) { refused = std::move(r); }};
  auto who = authenticate(probe, *ctx_->cfg, capture);
  if (!who) {
    auth_.reset();  // a failed auth leaves the socket anonymous, never half-authenticated
    return reply(rt::error_reply(ref, "unauthorized", "invalid or expired access token"));
  }
  auto exp = who->claims.find("exp");
  auth_ = auth_state{who->user_id,
                     exp != who->claims.end() && exp->is_number() ? exp->get<int64_t>() : 0};
  reply(rt::ok_reply(ref));
}

void websocket_session::on_subscribe(const nlohmann::json& ref, const std::string& topic,
                                     bool subscribe) {
  auto info = rt::parse_topic(topic);
  if (!info)
    return reply(rt::error_reply(ref, "unknown_topic", "no such topic"));
  if (!rt::is_available(info->kind))
    return reply(rt::error_reply(ref, "topic_unavailable", "rooms are not available on this server"));
  auto ref_text = ref.dump();
  if (!subscribe)
    return caf::anon_send(bridge_, caf::unsubscribe_atom_v, info->canonical, ref_text);
  if (rt::access_of(info->kind) == rt::topic_access::anyone)
    return caf::anon_send(bridge_, caf::subscribe_atom_v, info->canonical, ref_text);
  if (!auth_)
    return reply(rt::error_reply(ref, "unauthorized", "authenticate first: this topic is for members"));
  if (auth_->expires_at != 0
      && unix_now() > auth_->expires_at + ctx_->cfg->auth.leeway_s) {
    auth_.reset();
    return reply(rt::error_reply(ref, "unauthorized", "access token expired: authenticate again"));
  }
  caf::anon_send(bridge_, caf::subscribe_atom_v, info->canonical, ref_text,
                 db_scope{info->id, auth_->user_id, false, "member"});
}

void websocket_session::on_broadcast(const nlohmann::json& ref, const std::string& topic) {
  auto info = rt::parse_topic(topic);
  if (!info)
    return reply(rt::error_reply(ref, "unknown_topic", "no such topic"));
  if (!rt::is_available(info->kind))
    return reply(rt::error_reply(ref, "topic_unavailable", "rooms are not available on this server"));
  // Every available topic today carries server events only.
  reply(rt::error_reply(ref, "forbidden", "clients cannot broadcast on this topic"));
}

// --- writing -------------------------------------------------------------------------------

bool websocket_session::send(const std::weak_ptr<websocket_session>& weak,
                             const std::shared_ptr<io_gate>& gate,
                             std::shared_ptr<const std::string> frame) {
  // The strong reference lives only inside the open gate: the server cannot get past closing
  // the gate (and then destroy its io_context) while this thread holds it, so a last reference
  // dropped here never destroys a socket after its io_context.
  std::shared_lock<std::shared_mutex> lock{gate->mtx};
  if (!gate->open)
    return false;
  auto self = weak.lock();
  if (!self)
    return false;
  net::post(self->ws_.get_executor(), [self, frame = std::move(frame)]() mutable {
    self->enqueue(std::move(frame));
  });
  return true;
}

void websocket_session::reply(std::string text) {
  enqueue(std::make_shared<const std::string>(std::move(text)));
}

void websocket_session::enqueue(std::shared_ptr<const std::string> frame) {
  if (closing_ || closed_ || !accepted_)
    return;
  const auto& limits = ctx_->cfg->realtime;
  if (queue_.size() >= static_cast<size_t>(limits.send_queue_frames)
      || queued_bytes_ + frame->size() > limits.send_queue_bytes)
    return drop_slow_consumer();
  queued_bytes_ += frame->size();
  counters().queued_bytes.add({}, static_cast<int64_t>(frame->size()));
  queue_.push_back(std::move(frame));
  if (!writing_)
    do_write();
}

void websocket_session::do_write() {
  writing_ = true;
  ws_.text(true);
  ws_.async_write(net::buffer(*queue_.front()),
                  beast::bind_front_handler(&websocket_session::on_write, shared_from_this()));
}

void websocket_session::on_write(beast::error_code ec, std::size_t) {
  writing_ = false;
  if (closed_)
    return;
  auto size = queue_.front()->size();
  queue_.pop_front();
  queued_bytes_ -= size;
  counters().queued_bytes.add({}, -static_cast<int64_t>(size));
  if (ec)
    return shutdown();
  if (closing_)
    return;  // a close frame is under way: nothing may be written after it
  if (!queue_.empty())
    return do_write();
  if (close_after_writes_)
    start_close(websocket::close_code::going_away, "server is shutting down");
}

void websocket_session::drop_slow_consumer() {
  // Its frames would only pile up: cut the connection (a close frame could not get through a
  // full socket anyway) and free the queue at once.
  counters().dropped.inc({});
  log().info("realtime: dropped a client that does not keep up ({} frames, {} bytes queued)",
             queue_.size(), queued_bytes_);
  shutdown();
}

// --- closing -------------------------------------------------------------------------------

void websocket_session::drain() {
  post([](websocket_session& s) {
    if (s.closed_ || s.closing_ || !s.accepted_)
      return;
    if (s.writing_)
      s.close_after_writes_ = true;  // what is queued still goes out, then the close frame
    else
      s.start_close(websocket::close_code::going_away, "server is shutting down");
  });
}

void websocket_session::force_close() {
  post([](websocket_session& s) { s.shutdown(); });
}

void websocket_session::start_close(websocket::close_code code, const char* why) {
  if (closing_ || closed_)
    return;
  closing_ = true;
  ws_.async_close(websocket::close_reason{code, why},
                  beast::bind_front_handler(&websocket_session::on_close, shared_from_this()));
}

void websocket_session::on_close(beast::error_code ec) {
  // After our close frame, Beast reads until the client's close (bounded by the handshake
  // timeout); either way the socket is finished now.
  shutdown();
}

void websocket_session::shutdown() {
  if (closed_)
    return;
  closed_ = true;
  closing_ = true;
  if (queued_bytes_ > 0)
    counters().queued_bytes.add({}, -static_cast<int64_t>(queued_bytes_));
  queued_bytes_ = 0;
  if (writing_) {
    // The pending write still refers to the front frame: keep it until its handler runs.
    while (queue_.size() > 1)
      queue_.pop_back();
  } else {
    queue_.clear();
  }
  beast::get_lowest_layer(ws_).close();  // cancels pending reads and writes
  if (bridge_) {
    caf::anon_send_exit(bridge_, caf::exit_reason::user_shutdown);
    bridge_ = nullptr;
  }
  // anchor_ (the upgraded HTTP connection, counted by drain) goes with this object, once the
  // cancelled operations' handlers have run.
}

} // namespace djdash::http
