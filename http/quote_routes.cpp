#include "http/quote_routes.hpp"

#include "http/auth_context.hpp"
#include "http/error_response.hpp"
#include "http/json_body.hpp"
#include "http/paging.hpp"
#include "http/route_helpers.hpp"

namespace djdash::http {

namespace {

using json = nlohmann::json;

void list_quotes(const node_services& svc, request& req, const responder& rsp) {
  auto args = page_args(req, rsp);
  if (!args)
    return;
  if (auto& contact = req.query_param("contact_id"); !contact.empty()) {
    if (!is_uuid(contact))
      return rsp(error_response(app_errc::bad_request, "contact_id must be a UUID"));
    (*args)["contact_id"] = contact;
  }
  run_org_op(svc, req, rsp, "quotes.list", "member", *args, 200);
}

void create_quote(const node_services& svc, request& req, const responder& rsp) {
  auto body = json_object_body(req, rsp);
  if (!body)
    return;
  run_org_op(svc, req, rsp, "quotes.create", "member", *body, 201);
}

void get_quote(const node_services& svc, request& req, const responder& rsp) {
  if (!uuid_param(req, "id", rsp, "quote"))
    return;
  run_org_op(svc, req, rsp, "quotes.get", "member", {{"id", req.params["id"]}}, 200);
}

constexpr auto quote_schema = R"({"type":"object","properties":{
  "id":{"type":"string","format":"uuid"},"organization_id":{"type":"string","format":"uuid"},
  "contact_id":{"type":"string","format":"uuid","nullable":true},
  "event_type":{"type":"string"},"date":{"type":"string","format":"date","nullable":true},
  "hours":{"type":"number"},"billed_hours":{"type":"number"},
  "guests":{"type":"integer","nullable":true},"add_ons":{"type":"array","items":{"type":"string"}},
  "amount_cents":{"type":"integer"},"currency":{"type":"string"},
  "breakdown":{"type":"array","items":{"type":"object","properties":{
    "label":{"type":"string"},"amount_cents":{"type":"integer"}}}},
  "created_at":{"type":"string","format":"date-time"},
  "updated_at":{"type":"string","format":"date-time"},"version":{"type":"integer"}}})";

constexpr auto quote_request_schema = R"({"type":"object","required":["event_type","hours"],
  "properties":{"contact_id":{"type":"string","format":"uuid"},
  "event_type":{"type":"string","enum":["wedding","corporate","birthday","school_dance",
    "quinceanera","mitzvah","private_party","club","other"]},
  "date":{"type":"string","format":"date",
    "description":"YYYY-MM-DD, the organization's local date"},
  "hours":{"type":"number","minimum":0.01,"maximum":24},
  "guests":{"type":"integer","minimum":0,"maximum":100000},
  "add_ons":{"type":"array","items":{"type":"string"}}}})";

template <class F>
handler bind(const node_services& svc, F f) {
  return [svc, f](request& req, const responder& rsp) { f(svc, req, rsp); };
}

} // namespace

void add_quote_routes(route_table& routes, node_services svc) {
  routes.add("GET", "/api/quotes", bind(svc, list_quotes),
             route_doc{"Quotes, oldest first; filter contact_id", "billing", true,
                       {200, 400, 401, 403}, "", ""});
  routes.add("POST", "/api/quotes", bind(svc, create_quote),
             route_doc{"Price an event with the organization's pricing rules and store the quote "
                       "with its breakdown; a new or contacted contact becomes quoted",
                       "billing", true, {201, 400, 401, 403, 404, 422}, quote_request_schema,
                       quote_schema});
  routes.add("GET", "/api/quotes/{id}", bind(svc, get_quote),
             route_doc{"One quote with its breakdown", "billing", true, {200, 401, 403, 404}, "",
                       quote_schema});
}

} // namespace djdash::http
