#include "http/ops_routes.hpp"

#include <chrono>
#include <mutex>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <nlohmann/json.hpp>

#include "config/settings.hpp"
#include "http/error_response.hpp"
#include "http/openapi.hpp"
#include "protocols/app_errc.hpp"
#include "protocols/messages.hpp"
#include "protocols/metrics.hpp"

namespace djdash::http {

namespace {

using nlohmann::json;

// A readiness probe must answer well inside the orchestrator's probe timeout.
constexpr std::chrono::milliseconds readiness_timeout{2000};

bool is_draining(const node_services& svc) {
  return svc.draining && svc.draining();
}

void healthz(const node_services& svc, const responder& rsp) {
  rsp(json_response(200, {{"status", "ok"}, {"node_id", svc.cfg ? svc.cfg->node_id : ""}}));
}

/// Any failure of the check is "database unavailable": a probe needs 503, not the 504/500 that
/// the same errors mean on other routes.
response db_check_failed(const caf::error& err) {
  auto detail = app_code(err) == app_errc::internal ? std::string{} : error_message(err);
  return error_response(app_errc::db_unavailable,
                        detail.empty() ? "database check failed" : "database check failed: " + detail);
}

void readyz(const node_services& svc, const responder& rsp) {
  if (is_draining(svc))
    return rsp(error_response(app_errc::shutting_down));
  if (svc.cluster_joined && !svc.cluster_joined())
    return rsp(error_response(app_errc::cluster_unavailable));
  if (!svc.sys || !svc.db)
    return rsp(error_response(app_errc::db_unavailable));
  svc.sys->spawn([db = svc.db, draining = svc.draining, rsp](caf::event_based_actor* self) {
    self->request(db, readiness_timeout, db_call{"schema_status", {}, "{}"})
      .then([draining, rsp](const std::string& reply) {
              rsp(readiness(reply, draining && draining()));
            },
            [rsp](caf::error& err) { rsp(db_check_failed(err)); });
  });
}

void metrics_text(const responder& rsp) {
  response r;
  r.content_type = "text/plain; version=0.0.4";
  r.body = metrics::node_metrics().reg.render();
  rsp(std::move(r));
}

/// Serves the document built on first use: routes never change once the server runs.
handler openapi_handler(std::weak_ptr<const std::vector<route>> routes) {
  struct cache {
    std::once_flag once;
    std::string body;
  };
  auto doc = std::make_shared<cache>();
  return [routes, doc](request&, const responder& rsp) {
    std::call_once(doc->once, [&] {
      if (auto rs = routes.lock())
        doc->body = openapi_document(*rs, "djdash", "0.1.0").dump(2);
    });
    response r;
    r.body = doc->body;
    rsp(std::move(r));
  };
}

} // namespace

route_doc ops_doc(std::string summary, std::vector<int> responses) {
  route_doc d;
  d.summary = std::move(summary);
  d.tag = "operations";
  d.responses = std::move(responses);
  return d;
}

response readiness(const std::string& schema_status_json, bool draining) {
  if (draining)
    return error_response(app_errc::shutting_down);
  auto j = json::parse(schema_status_json, nullptr, false);
  if (!j.is_object() || !j["current"].is_number_integer() || !j["expected"].is_number_integer())
    return error_response(app_errc::internal, "unexpected schema status reply");
  auto current = j["current"].get<long long>();
  auto expected = j["expected"].get<long long>();
  if (current < expected)
    return error_response(app_errc::migrations_pending,
                          "database schema is at version " + std::to_string(current) + ", "
                            + std::to_string(expected)
                            + " expected: run `djdash migrate`");
  if (current > expected)
    return error_response(app_errc::db_unavailable,
                          "database schema version " + std::to_string(current)
                            + " is newer than this build expects ("
                            + std::to_string(expected) + ")");
  return json_response(200, {{"status", "ready"}, {"schema_version", current}});
}

void add_ops_routes(route_table& routes, node_services svc) {
  routes.add("GET", "/healthz", [svc](request&, const responder& rsp) { healthz(svc, rsp); },
             ops_doc("Process is up", {200}));
  routes.add("GET", "/readyz", [svc](request&, const responder& rsp) { readyz(svc, rsp); },
             ops_doc("Ready to serve: database reachable and migrated, joined the cluster, not "
                     "draining",
                     {200, 503}));
  routes.add("GET", "/metrics", [](request&, const responder& rsp) { metrics_text(rsp); },
             ops_doc("Prometheus metrics (text format 0.0.4)", {200}));
  routes.add("GET", "/openapi.json", openapi_handler(routes.watch()),
             ops_doc("This OpenAPI document", {200}));
}

} // namespace djdash::http
