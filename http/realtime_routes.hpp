#pragma once

// GET /api/realtime: the WebSocket endpoint. A WebSocket upgrade to this route is handed over by
// http_session to a websocket_session; any other GET gets 426 Upgrade Required.

#include <cstdint>
#include <memory>

#include <caf/actor.hpp>

#include "http/node_services.hpp"
#include "http/request.hpp"
#include "http/route_table.hpp"
#include "protocols/actor_handles.hpp"

namespace djdash {
struct settings;
} // namespace djdash

namespace djdash::http {

/// What every realtime socket of a node needs.
struct realtime_context {
  caf::actor_system* sys = nullptr;
  caf::actor hub;
  djdash::db_actor db;
  const djdash::settings* cfg = nullptr;  // JWT secret and checks, realtime limits
};

/// The route's handler. http_session recognizes it (std::function::target) to upgrade.
class realtime_endpoint {
public:
  explicit realtime_endpoint(std::shared_ptr<const realtime_context> ctx) : ctx_(std::move(ctx)) {}

  /// Answers a plain (non-upgrade) request: 426 with `Upgrade: websocket`.
  void operator()(request& req, const responder& rsp) const;

  const std::shared_ptr<const realtime_context>& context() const { return ctx_; }

private:
  std::shared_ptr<const realtime_context> ctx_;
};

/// Process-wide realtime figures (also on /metrics): open sockets, bytes queued for sending,
/// clients dropped for not keeping up.
struct realtime_stats {
  int64_t sockets = 0;
  int64_t queued_bytes = 0;
  uint64_t dropped = 0;
};
realtime_stats realtime_counters();

/// Registers GET /api/realtime (needs svc.sys, svc.hub, svc.db and svc.cfg).
void add_realtime_routes(route_table& routes, const node_services& svc);

} // namespace djdash::http
