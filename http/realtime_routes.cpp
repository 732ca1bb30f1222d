#include "http/realtime_routes.hpp"

#include "http/error_response.hpp"

namespace djdash::http {

void realtime_endpoint::operator()(request&, const responder& rsp) const {
  auto r = error_body(426, "upgrade_required",
                      "this endpoint speaks WebSocket only: send a WebSocket upgrade request");
  r.headers.emplace_back("Upgrade", "websocket");
  rsp(std::move(r));
}

void add_realtime_routes(route_table& routes, const node_services& svc) {
  auto ctx = std::make_shared<realtime_context>();
  ctx->sys = svc.sys;
  ctx->hub = svc.hub;
  ctx->db = svc.db;
  ctx->cfg = svc.cfg;
  routes.add("GET", "/api/realtime", realtime_endpoint{std::move(ctx)},
             route_doc{"WebSocket: subscribe to live events (auth, subscribe, unsubscribe, "
                       "broadcast, ping; see API.md)",
                       "realtime", false, {101, 426}});
}

} // namespace djdash::http
