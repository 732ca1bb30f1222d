#include "http/invoice_routes.hpp"

#include "config/settings.hpp"
#include "http/actor_bridge.hpp"
#include "http/auth_context.hpp"
#include "http/error_response.hpp"
#include "http/json_body.hpp"
#include "http/paging.hpp"
#include "http/route_helpers.hpp"

namespace djdash::http {

namespace {

using json = nlohmann::json;

void list_invoices(const node_services& svc, request& req, const responder& rsp) {
  auto args = page_args(req, rsp);
  if (!args)
    return;
  if (auto& status = req.query_param("status"); !status.empty())
    (*args)["status"] = status;  // checked by the operation
  if (auto& contact = req.query_param("contact_id"); !contact.empty()) {
    if (!is_uuid(contact))
      return rsp(error_response(app_errc::bad_request, "contact_id must be a UUID"));
    (*args)["contact_id"] = contact;
  }
  run_org_op(svc, req, rsp, "invoices.list", "member", *args, 200);
}

void create_invoice(const node_services& svc, request& req, const responder& rsp) {
  auto body = json_object_body(req, rsp);
  if (!body)
    return;
  run_org_op(svc, req, rsp, "invoices.create", "member", *body, 201);
}

void get_invoice(const node_services& svc, request& req, const responder& rsp) {
  if (!uuid_param(req, "id", rsp, "invoice"))
    return;
  run_org_op(svc, req, rsp, "invoices.get", "member", {{"id", req.params["id"]}}, 200);
}

void patch_invoice(const node_services& svc, request& req, const responder& rsp) {
  if (!uuid_param(req, "id", rsp, "invoice"))
    return;
  auto body = json_object_body(req, rsp);
  if (!body)
    return;
  if (body->contains("id"))
    return rsp(error_response(app_errc::bad_request, "id cannot be changed"));
  (*body)["id"] = req.params["id"];
  run_org_op(svc, req, rsp, "invoices.update", "member", *body, 200);
}

/// Payment links come with the payments capability (Stripe Checkout on the org's connected
/// account). Until then a payable invoice answers a clear 409, never a made-up URL; 404 and the
/// invoice's own state (draft, paid, void) are still checked first.
void checkout_invoice(const node_services& svc, request& req, const responder& rsp) {
  if (!uuid_param(req, "id", rsp, "invoice"))
    return;
  auto who = authenticate(req, *svc.cfg, rsp);
  if (!who)
    return;
  ask(*svc.sys, svc.db, std::chrono::milliseconds(svc.cfg->http.request_deadline_ms), rsp,
      [](std::string&) {
        return error_response(app_errc::conflict, "payments are not configured (Stripe)");
      },
      db_call{"invoices.checkout", who->scope("member"), json{{"id", req.params["id"]}}.dump()});
}

constexpr auto invoice_schema = R"({"type":"object","properties":{
  "id":{"type":"string","format":"uuid"},"organization_id":{"type":"string","format":"uuid"},
  "number":{"type":"string","example":"INV-0001"},"seq":{"type":"integer"},
  "status":{"type":"string","enum":["draft","sent","paid","void"]},
  "contact_id":{"type":"string","format":"uuid","nullable":true},
  "event_id":{"type":"string","format":"uuid","nullable":true},"currency":{"type":"string"},
  "line_items":{"type":"array","items":{"type":"object","properties":{
    "description":{"type":"string"},"quantity":{"type":"integer"},
    "unit_cents":{"type":"integer"},"amount_cents":{"type":"integer"}}}},
  "total_cents":{"type":"integer"},"deposit_cents":{"type":"integer"},
  "balance_cents":{"type":"integer","description":"total minus deposit"},
  "paid_cents":{"type":"integer"},
  "amount_due_cents":{"type":"integer","description":"what a payment takes now"},
  "due_date":{"type":"string","format":"date","nullable":true},
  "overdue":{"type":"boolean",
    "description":"sent and due_date before today in the organization timezone"},
  "notes":{"type":"string"},
  "sent_at":{"type":"string","format":"date-time","nullable":true},
  "paid_at":{"type":"string","format":"date-time","nullable":true},
  "voided_at":{"type":"string","format":"date-time","nullable":true},
  "created_at":{"type":"string","format":"date-time"},
  "updated_at":{"type":"string","format":"date-time"},"version":{"type":"integer"}}})";

constexpr auto invoice_create_schema = R"({"type":"object","required":["line_items"],
  "properties":{"line_items":{"type":"array","minItems":1,"maxItems":100,"items":{
    "type":"object","required":["description","quantity","unit_cents"],"properties":{
    "description":{"type":"string"},"quantity":{"type":"integer","minimum":1},
    "unit_cents":{"type":"integer","minimum":0}}}},
  "contact_id":{"type":"string","format":"uuid"},"event_id":{"type":"string","format":"uuid"},
  "deposit_cents":{"type":"integer","minimum":0},"due_date":{"type":"string","format":"date"},
  "currency":{"type":"string"},"notes":{"type":"string"}}})";

constexpr auto invoice_patch_schema = R"({"type":"object","properties":{
  "version":{"type":"integer"},"status":{"type":"string","enum":["draft","sent","paid","void"]},
  "line_items":{"type":"array"},"deposit_cents":{"type":"integer"},
  "contact_id":{"type":"string","format":"uuid","nullable":true},
  "event_id":{"type":"string","format":"uuid","nullable":true},"currency":{"type":"string"},
  "due_date":{"type":"string","format":"date","nullable":true},"notes":{"type":"string"}}})";

template <class F>
handler bind(const node_services& svc, F f) {
  return [svc, f](request& req, const responder& rsp) { f(svc, req, rsp); };
}

} // namespace

void add_invoice_routes(route_table& routes, node_services svc) {
  routes.add("GET", "/api/invoices", bind(svc, list_invoices),
             route_doc{"Invoices, oldest first; filters status (draft, sent, paid, void, unpaid = "
                       "sent and not paid, overdue) and contact_id",
                       "billing", true, {200, 400, 401, 403}, "", ""});
  routes.add("POST", "/api/invoices", bind(svc, create_invoice),
             route_doc{"Create a draft invoice with the organization's next number (INV-0001, "
                       "gapless)",
                       "billing", true, {201, 400, 401, 403, 404}, invoice_create_schema,
                       invoice_schema});
  routes.add("GET", "/api/invoices/{id}", bind(svc, get_invoice),
             route_doc{"One invoice", "billing", true, {200, 401, 403, 404}, "", invoice_schema});
  routes.add("PATCH", "/api/invoices/{id}", bind(svc, patch_invoice),
             route_doc{"Edit a draft, set the due date or notes, or move the status (draft -> "
                       "sent -> paid, draft/sent -> void); optional version (409 when stale)",
                       "billing", true, {200, 400, 401, 403, 404, 409}, invoice_patch_schema,
                       invoice_schema});
  routes.add("POST", "/api/invoices/{id}/checkout", bind(svc, checkout_invoice),
             route_doc{"A payment link for a sent invoice; 409 until payments (Stripe) are "
                       "configured",
                       "billing", true, {409, 401, 403, 404}, "", ""});
}

} // namespace djdash::http
