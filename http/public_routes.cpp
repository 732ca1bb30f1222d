#include "http/public_routes.hpp"

#include <nlohmann/json.hpp>

#include "config/settings.hpp"
#include "http/actor_bridge.hpp"
#include "protocols/type_ids.hpp"

namespace djdash::http {

namespace {

using json = nlohmann::json;

constexpr auto profile_schema = R"({"type":"object","properties":{
  "id":{"type":"string","format":"uuid"},"slug":{"type":"string"},"name":{"type":"string"},
  "product_context":{"type":"string","enum":["tipjar","djdash","m10dj"]},
  "accepting_requests":{"type":"boolean"},
  "minimum_amounts":{"type":"object","properties":{"song":{"type":"integer"},
    "shoutout":{"type":"integer"},"tip":{"type":"integer"}}},
  "currency":{"type":"string"}}})";

/// Slug → org id through the database, then the organization entity answers with its profile.
void get_public_org(const node_services& svc, request& req, const responder& rsp) {
  auto slug = req.params["slug"];
  if (!valid_slug(slug)) {
    rsp(error_response(app_errc::not_found, "no organization with this slug"));
    return;
  }
  auto deadline = std::chrono::milliseconds(svc.cfg->http.request_deadline_ms);
  auto router = svc.router;
  ask_chain(
    *svc.sys, svc.db, deadline, rsp,
    [router, deadline](caf::event_based_actor* self, responder rsp, std::string& row) {
      auto id = json::parse(row).at("id").get<std::string>();
      self->request(router, deadline, entity_atom_v, entity_ref{"organization", id},
                    caf::make_message(profile_atom_v))
        .then([rsp](std::string& profile) { rsp(json_response(200, json::parse(profile))); },
              [rsp](caf::error& err) { rsp(error_response(err)); });
    },
    db_call{"org.public_by_slug", db_scope{}, json{{"slug", slug}}.dump()});
}

} // namespace

bool valid_slug(const std::string& slug) {
  if (slug.empty() || slug.size() > 64 || slug.front() == '-' || slug.back() == '-')
    return false;
  for (char c : slug)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
      return false;
  return true;
}

void add_public_routes(route_table& routes, node_services svc) {
  routes.add("GET", "/api/public/orgs/{slug}",
             [svc](request& req, const responder& rsp) { get_public_org(svc, req, rsp); },
             route_doc{"Public profile of a DJ for the request page", "public", false,
                       {200, 404, 503}, "", profile_schema});
}

} // namespace djdash::http
