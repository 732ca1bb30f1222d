#include "http/cluster_routes.hpp"

#include <regex>

#include <nlohmann/json.hpp>

#include "config/settings.hpp"
#include "http/actor_bridge.hpp"
#include "http/auth_context.hpp"
#include "http/ops_routes.hpp"
#include "protocols/crypto.hpp"
#include "protocols/type_ids.hpp"

namespace djdash::http {

namespace {

using json = nlohmann::json;

constexpr std::chrono::milliseconds ops_timeout{3000};

bool allowed(const node_services& svc, const request& req) {
  // A reverse proxy on the same machine connects from loopback on behalf of anyone: a request
  // that carries forwarding headers is never taken for a local one.
  bool forwarded = !req.header("x-forwarded-for").empty() || !req.header("forwarded").empty()
                   || !req.header("x-real-ip").empty();
  if (is_loopback(req.remote_ip) && !forwarded)
    return true;
  auto& token = svc.cfg->secrets.ops_token;
  const std::string prefix = "Bearer ";
  auto& auth = req.header("authorization");
  return !token.empty() && auth.rfind(prefix, 0) == 0
         && crypto::constant_time_equal(std::string_view{auth}.substr(prefix.size()), token);
}

/// Reads ?kind=&key= and checks their shape, so nothing odd reaches an entity.
std::optional<entity_ref> entity_param(const request& req, const responder& rsp) {
  static const std::regex kind_shape{"^[a-z_]{1,40}$"};
  entity_ref ref{req.query_param("kind"), req.query_param("key")};
  if (!std::regex_match(ref.kind, kind_shape)) {
    rsp(error_response(app_errc::bad_request, "kind: an entity kind such as organization"));
    return std::nullopt;
  }
  if (ref.key.empty() || ref.key.size() > 200) {
    rsp(error_response(app_errc::bad_request, "key: 1..200 characters"));
    return std::nullopt;
  }
  if (ref.kind == "organization" && !is_uuid(ref.key)) {
    rsp(error_response(app_errc::bad_request, "key: an organization id (UUID)"));
    return std::nullopt;
  }
  return ref;
}

// The actors answer JSON text; handed through as it is.
const auto json_text = [](std::string& text) { return json_response(200, json::parse(text)); };

/// Wraps an ops handler with the access check.
handler guarded_ops(const node_services& svc,
                    std::function<void(const node_services&, request&, const responder&)> f) {
  return [svc, f](request& req, const responder& rsp) {
    if (!allowed(svc, req))
      return rsp(error_response(app_errc::forbidden,
                                "ops endpoints answer loopback callers or the ops token"));
    f(svc, req, rsp);
  };
}

void members(const node_services& svc, request&, const responder& rsp) {
  ask(*svc.sys, svc.membership, ops_timeout, rsp, json_text, caf::get_atom_v, status_atom_v);
}

void owner(const node_services& svc, request& req, const responder& rsp) {
  if (auto ref = entity_param(req, rsp))
    ask(*svc.sys, svc.router, ops_timeout, rsp, json_text, caf::get_atom_v, *ref);
}

void entities(const node_services& svc, request& req, const responder& rsp) {
  auto kind = req.query_param("kind");
  if (kind.empty() || kind.size() > 40)
    return rsp(error_response(app_errc::bad_request, "kind: an entity kind such as organization"));
  auto node = svc.cfg->node_id;
  ask(*svc.sys, svc.registry, ops_timeout, rsp,
      [node](std::string& out) {
        auto j = json::parse(out);
        j["node_id"] = node;
        return json_response(200, j);
      },
      caf::get_atom_v, kind);
}

void ping(const node_services& svc, request& req, const responder& rsp) {
  if (auto ref = entity_param(req, rsp))
    ask(*svc.sys, svc.router, ops_timeout, rsp, json_text, entity_atom_v, *ref,
        caf::make_message(caf::ping_atom_v));
}

} // namespace

bool is_loopback(const std::string& ip) {
  return ip == "::1" || ip.rfind("127.", 0) == 0 || ip.rfind("::ffff:127.", 0) == 0;
}

void add_cluster_routes(route_table& routes, node_services svc) {
  routes.add("GET", "/debug/cluster", guarded_ops(svc, members),
             ops_doc("Cluster members as this node sees them, and the view keys are placed over",
                     {200, 403}));
  routes.add("GET", "/debug/cluster/owner", guarded_ops(svc, owner),
             ops_doc("The node that owns an entity key (?kind=&key=)", {200, 400, 403}));
  routes.add("GET", "/debug/cluster/entities", guarded_ops(svc, entities),
             ops_doc("Entity keys of a kind active on this node (?kind=)", {200, 400, 403}));
  routes.add("GET", "/debug/cluster/ping", guarded_ops(svc, ping),
             ops_doc("Routes a ping to an entity (activating it on its owner) and names the node "
                     "that answered (?kind=&key=)",
                     {200, 400, 403, 404, 503}));
}

} // namespace djdash::http
