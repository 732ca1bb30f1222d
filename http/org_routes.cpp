#include "http/org_routes.hpp"

#include "config/settings.hpp"
#include "http/actor_bridge.hpp"
#include "http/auth_context.hpp"
#include "http/json_body.hpp"
#include "http/paging.hpp"
#include "http/route_helpers.hpp"
#include "protocols/type_ids.hpp"

namespace djdash::http {

namespace {

using json = nlohmann::json;

std::chrono::milliseconds deadline(const node_services& svc) {
  return std::chrono::milliseconds(svc.cfg->http.request_deadline_ms);
}

void run_op(const node_services& svc, request& req, const responder& rsp, const char* op,
            const char* role, json args, int status) {
  run_org_op(svc, req, rsp, op, role, args, status);
}

void get_current(const node_services& svc, request& req, const responder& rsp) {
  run_op(svc, req, rsp, "org.get", "member", json::object(), 200);
}

/// Organization changes go through the organization entity, the single writer of its state.
void patch_current(const node_services& svc, request& req, const responder& rsp) {
  auto who = authenticate(req, *svc.cfg, rsp);
  if (!who)
    return;
  auto body = json_object_body(req, rsp);
  if (!body)
    return;
  if (!is_uuid(who->org_id))
    return rsp(error_response(app_errc::forbidden, "no organization selected"));
  ask(*svc.sys, svc.router, deadline(svc), rsp,
      [](std::string& out) { return json_response(200, json::parse(out)); }, entity_atom_v,
      entity_ref{"organization", who->org_id},
      caf::make_message(caf::put_atom_v, who->scope("admin"), body->dump()));
}

void list_members(const node_services& svc, request& req, const responder& rsp) {
  run_op(svc, req, rsp, "members.list", "admin", json::object(), 200);
}

void add_member(const node_services& svc, request& req, const responder& rsp) {
  auto body = json_object_body(req, rsp);
  if (!body)
    return;
  bool failed = false;
  auto email = string_field(*body, "email", 320, rsp, failed);
  auto role = string_field(*body, "role", 16, rsp, failed);
  if (failed)
    return;
  auto normalized = email ? normalized_email(*email) : std::nullopt;
  if (!normalized)
    return rsp(error_response(app_errc::bad_request, "email must be a valid address"));
  if (!role)
    return rsp(error_response(app_errc::bad_request, "role is required (owner, admin or member)"));
  json args{{"email", *normalized}, {"role", *role}};
  run_op(svc, req, rsp, "members.add", "admin", std::move(args), 201);
}

bool member_id_ok(request& req, const responder& rsp) {
  return uuid_param(req, "user_id", rsp, "member");
}

void update_member(const node_services& svc, request& req, const responder& rsp) {
  if (!member_id_ok(req, rsp))
    return;
  auto body = json_object_body(req, rsp);
  if (!body)
    return;
  bool failed = false;
  auto role = string_field(*body, "role", 16, rsp, failed);
  if (failed)
    return;
  if (!role)
    return rsp(error_response(app_errc::bad_request, "role is required"));
  run_op(svc, req, rsp, "members.update", "admin",
         {{"user_id", req.params["user_id"]}, {"role", *role}}, 200);
}

void remove_member(const node_services& svc, request& req, const responder& rsp) {
  if (!member_id_ok(req, rsp))
    return;
  // Anyone may leave; removing someone else needs admin (checked by the operation).
  run_op(svc, req, rsp, "members.remove", "member", {{"user_id", req.params["user_id"]}}, 204);
}

void list_audit(const node_services& svc, request& req, const responder& rsp) {
  auto args = page_args(req, rsp);
  if (!args)
    return;
  run_op(svc, req, rsp, "audit.list", "admin", std::move(*args), 200);
}

void list_notifications(const node_services& svc, request& req, const responder& rsp) {
  auto args = page_args(req, rsp);
  if (!args)
    return;
  run_op(svc, req, rsp, "notifications.list", "member", std::move(*args), 200);
}

void list_all_orgs(const node_services& svc, request& req, const responder& rsp) {
  auto who = authenticate(req, *svc.cfg, rsp);
  if (!who)
    return;
  auto args = page_args(req, rsp);
  if (!args)
    return;
  ask(*svc.sys, svc.db, deadline(svc), rsp,
      [](std::string& out) { return json_response(200, json::parse(out)); },
      db_call{"org.list_all", db_scope{"", who->user_id, true, ""}, args->dump()});
}

constexpr auto org_schema = R"({"type":"object","properties":{
  "id":{"type":"string","format":"uuid"},"product_context":{"type":"string"},
  "name":{"type":"string"},"slug":{"type":"string"},"sms_number":{"type":"string","nullable":true},
  "timezone":{"type":"string"},"settings":{"type":"object"},
  "stripe_connect_account_id":{"type":"string","nullable":true},
  "created_at":{"type":"string","format":"date-time"},
  "updated_at":{"type":"string","format":"date-time"},"version":{"type":"integer"}}})";

constexpr auto org_patch_schema = R"({"type":"object","properties":{
  "name":{"type":"string"},"slug":{"type":"string"},"sms_number":{"type":"string","nullable":true},
  "timezone":{"type":"string"},"settings":{"type":"object"},"version":{"type":"integer"}}})";

constexpr auto member_schema = R"({"type":"object","properties":{
  "id":{"type":"string"},"organization_id":{"type":"string"},"user_id":{"type":"string"},
  "email":{"type":"string"},"role":{"type":"string","enum":["owner","admin","member"]},
  "created_at":{"type":"string"},"updated_at":{"type":"string"},"version":{"type":"integer"}}})";

template <class F>
handler bind(const node_services& svc, F f) {
  return [svc, f](request& req, const responder& rsp) { f(svc, req, rsp); };
}

} // namespace

void add_org_routes(route_table& routes, node_services svc) {
  routes.add("GET", "/api/organizations/current", bind(svc, get_current),
             route_doc{"The current organization (X-Organization-Id picks another membership)",
                       "organizations", true, {200, 401, 403}, "", org_schema});
  routes.add("PATCH", "/api/organizations/current", bind(svc, patch_current),
             route_doc{"Change the organization's profile, slug, SMS number, timezone or "
                       "settings (admin)",
                       "organizations", true, {200, 400, 401, 403, 409}, org_patch_schema,
                       org_schema});
  routes.add("GET", "/api/organizations/current/members", bind(svc, list_members),
             route_doc{"Members and their roles (admin)", "organizations", true, {200, 401, 403}});
  routes.add("POST", "/api/organizations/current/members", bind(svc, add_member),
             route_doc{"Add an existing account by email (admin)", "organizations", true,
                       {201, 400, 401, 403, 404, 409},
                       R"({"type":"object","required":["email","role"],"properties":{
                          "email":{"type":"string"},
                          "role":{"type":"string","enum":["owner","admin","member"]}}})",
                       member_schema});
  routes.add("PATCH", "/api/organizations/current/members/{user_id}", bind(svc, update_member),
             route_doc{"Change a member's role (admin; owner role: owners only)", "organizations",
                       true, {200, 400, 401, 403, 404, 409},
                       R"({"type":"object","required":["role"],"properties":{
                          "role":{"type":"string","enum":["owner","admin","member"]}}})",
                       member_schema});
  routes.add("DELETE", "/api/organizations/current/members/{user_id}", bind(svc, remove_member),
             route_doc{"Remove a member, or leave (the last owner cannot)", "organizations", true,
                       {204, 401, 403, 404, 409}});
  routes.add("GET", "/api/organizations/current/audit-log", bind(svc, list_audit),
             route_doc{"Sign-ins, role changes, removals and platform-admin access, newest first "
                       "(admin)",
                       "organizations", true, {200, 400, 401, 403}});
  routes.add("GET", "/api/organizations/current/notifications", bind(svc, list_notifications),
             route_doc{"Reminders for the DJ (overdue invoices, due follow-ups), newest first",
                       "organizations", true, {200, 400, 401, 403}});
  routes.add("GET", "/api/admin/organizations", bind(svc, list_all_orgs),
             route_doc{"Every organization (platform admins)", "admin", true, {200, 400, 401, 403}});
}

} // namespace djdash::http
