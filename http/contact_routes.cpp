#include "http/contact_routes.hpp"

#include "http/error_response.hpp"
#include "http/json_body.hpp"
#include "http/paging.hpp"
#include "http/route_helpers.hpp"

namespace djdash::http {

namespace {

using json = nlohmann::json;

void list_contacts(const node_services& svc, request& req, const responder& rsp) {
  auto args = page_args(req, rsp);
  if (!args)
    return;
  for (auto key : {"status", "source", "q"})
    if (auto& value = req.query_param(key); !value.empty())
      (*args)[key] = value;
  run_org_op(svc, req, rsp, "contacts.list", "member", *args, 200);
}

void create_contact(const node_services& svc, request& req, const responder& rsp) {
  auto body = json_object_body(req, rsp);
  if (!body)
    return;
  run_org_op(svc, req, rsp, "contacts.create", "member", *body, 201);
}

void get_contact(const node_services& svc, request& req, const responder& rsp) {
  if (!uuid_param(req, "id", rsp, "contact"))
    return;
  run_org_op(svc, req, rsp, "contacts.get", "member", {{"id", req.params["id"]}}, 200);
}

void update_contact(const node_services& svc, request& req, const responder& rsp) {
  if (!uuid_param(req, "id", rsp, "contact"))
    return;
  auto body = json_object_body(req, rsp);
  if (!body)
    return;
  run_org_op(svc, req, rsp, "contacts.update", "member",
             {{"id", req.params["id"]}, {"fields", std::move(*body)}}, 200);
}

void delete_contact(const node_services& svc, request& req, const responder& rsp) {
  if (!uuid_param(req, "id", rsp, "contact"))
    return;
  run_org_op(svc, req, rsp, "contacts.delete", "member", {{"id", req.params["id"]}}, 204);
}

constexpr auto contact_schema = R"({"type":"object","properties":{
  "id":{"type":"string","format":"uuid"},"organization_id":{"type":"string","format":"uuid"},
  "name":{"type":"string","nullable":true,"maxLength":200},
  "email":{"type":"string","nullable":true,"format":"email"},
  "phone":{"type":"string","nullable":true,"description":"E.164, e.g. +19015551234"},
  "status":{"type":"string","enum":["new","contacted","quoted","booked","lost"]},
  "source":{"type":"string","enum":["web","sms","email","manual"]},
  "tags":{"type":"array","maxItems":50,"items":{"type":"string","maxLength":50}},
  "notes":{"type":"string","maxLength":20000},
  "created_at":{"type":"string","format":"date-time"},
  "updated_at":{"type":"string","format":"date-time"},"version":{"type":"integer"}}})";

constexpr auto contact_input_schema = R"({"type":"object","additionalProperties":false,
  "description":"At least one of name, email, phone. Phones in common US spellings are normalized to E.164; emails are lower-cased. An email or phone that another contact of the organization has is 409 naming that contact.",
  "properties":{
  "name":{"type":"string","nullable":true,"maxLength":200},
  "email":{"type":"string","nullable":true},"phone":{"type":"string","nullable":true},
  "status":{"type":"string","enum":["new","contacted","quoted","booked","lost"]},
  "source":{"type":"string","enum":["web","sms","email","manual"]},
  "tags":{"type":"array","maxItems":50,"items":{"type":"string","maxLength":50}},
  "notes":{"type":"string","maxLength":20000}}})";

constexpr auto contact_patch_schema = R"({"type":"object","additionalProperties":false,
  "description":"Only the fields given change; null clears name, email or phone. version: 409 when the contact changed since.",
  "properties":{
  "name":{"type":"string","nullable":true,"maxLength":200},
  "email":{"type":"string","nullable":true},"phone":{"type":"string","nullable":true},
  "status":{"type":"string","enum":["new","contacted","quoted","booked","lost"]},
  "source":{"type":"string","enum":["web","sms","email","manual"]},
  "tags":{"type":"array","maxItems":50,"items":{"type":"string","maxLength":50}},
  "notes":{"type":"string","maxLength":20000},"version":{"type":"integer"}}})";

constexpr auto contact_page_schema = R"({"type":"object","properties":{
  "items":{"type":"array","items":{"type":"object"}},
  "next_cursor":{"type":"string","nullable":true}}})";

template <class F>
handler bind(const node_services& svc, F f) {
  return [svc, f](request& req, const responder& rsp) { f(svc, req, rsp); };
}

/// The same five routes under `base` ("/api/contacts" or "/api/leads").
void add_under(route_table& routes, const node_services& svc, const std::string& base,
               const std::string& noun) {
  routes.add("GET", base, bind(svc, list_contacts),
             route_doc{"List " + noun + ", oldest first; filters status, source, q (a "
                       "case-insensitive prefix of the name, surname, email or phone), limit, cursor",
                       "crm", true, {200, 400, 401, 403}, "", contact_page_schema});
  routes.add("POST", base, bind(svc, create_contact),
             route_doc{"Create a contact (status new and source manual unless given)", "crm", true,
                       {201, 400, 401, 403, 409}, contact_input_schema, contact_schema});
  routes.add("GET", base + "/{id}", bind(svc, get_contact),
             route_doc{"One contact", "crm", true, {200, 401, 403, 404}, "", contact_schema});
  routes.add("PATCH", base + "/{id}", bind(svc, update_contact),
             route_doc{"Change a contact (optional version: 409 when stale)", "crm", true,
                       {200, 400, 401, 403, 404, 409}, contact_patch_schema, contact_schema});
  routes.add("DELETE", base + "/{id}", bind(svc, delete_contact),
             route_doc{"Delete a contact: its tasks and events stay with contact_id cleared; 409 "
                       "while quotes, invoices or contracts reference it",
                       "crm", true, {204, 401, 403, 404, 409}});
}

} // namespace

void add_contact_routes(route_table& routes, node_services svc) {
  add_under(routes, svc, "/api/contacts", "contacts");
  add_under(routes, svc, "/api/leads", "leads (the same contacts, for the pipeline)");
}

} // namespace djdash::http
