#include "http/invoice_routes.hpp"

#include "config/settings.hpp"
#include "http/actor_bridge.hpp"
#include "http/auth_context.hpp"
#include "http/checkout.hpp"
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

/// Where Stripe sends the payer back: the body's return_url, else the invoice's page under the
/// public URL; empty when neither is known.
std::string invoice_return_url(const node_services& svc, const json& body, const std::string& id) {
  if (body.contains("return_url") && body["return_url"].is_string())
    return body["return_url"].get<std::string>();
  auto base = svc.cfg->public_url;
  while (!base.empty() && base.back() == '/')
    base.pop_back();
  return base.empty() ? std::string{} : base + "/invoices/" + id + "/paid";
}

/// A Stripe Checkout link for what the invoice takes now (the deposit first, then the rest),
/// paid to the organization's connected account. The invoice (404, draft/paid/void: 409) is
/// checked first, then whether payments can be taken at all (409 with the reason).
void checkout_invoice(const node_services& svc, request& req, const responder& rsp) {
  if (!uuid_param(req, "id", rsp, "invoice"))
    return;
  auto who = authenticate(req, *svc.cfg, rsp);
  if (!who)
    return;
  json body = json::object();
  if (!req.body.empty()) {
    auto parsed = json_object_body(req, rsp);
    if (!parsed)
      return;
    body = *parsed;
    for (auto& [key, value] : body.items())
      if (key != "return_url" || !value.is_string() || value.get<std::string>().size() > 2000)
        return rsp(error_response(app_errc::bad_request,
                                  "the body may only hold return_url (an http(s) URL)"));
  }
  auto id = req.params["id"];
  ask_chain(
    *svc.sys, svc.db, std::chrono::milliseconds(svc.cfg->http.request_deadline_ms), rsp,
    [svc, body, id, org = who->org_id](caf::event_based_actor*, responder rsp, std::string& out) {
      auto invoice = json::parse(out);
      checkout_args a{org,
                      "invoice",
                      id,
                      invoice["amount_due_cents"].get<int64_t>(),
                      invoice["currency"].get<std::string>(),
                      false,
                      "Invoice " + invoice["number"].get<std::string>(),
                      invoice_return_url(svc, body, id)};
      if (a.return_url.empty() && !svc.cfg->secrets.stripe_secret_key.empty())
        return rsp(error_response(app_errc::bad_request,
                                  "return_url is required (no public URL is configured)"));
      start_checkout(svc, a, [rsp, a](caf::expected<checkout_result> r) {
        if (!r)
          return rsp(error_response(r.error()));
        rsp(json_response(200, {{"url", r->url},
                                {"session_id", r->session_id},
                                {"amount_cents", a.amount_cents},
                                {"currency", a.currency}}));
      });
    },
    db_call{"invoices.checkout", who->scope("member"), json{{"id", id}}.dump()});
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
             route_doc{"A Stripe Checkout link for what a sent invoice takes now (deposit, then "
                       "the rest), paid to the organization's connected account; optional body "
                       "{return_url}; 409 when Stripe or the organization's account cannot take "
                       "payments yet",
                       "billing", true, {200, 400, 401, 403, 404, 409, 502, 504},
                       R"({"type":"object","properties":{"return_url":{"type":"string"}}})",
                       R"({"type":"object","properties":{"url":{"type":"string"},)"
                       R"("session_id":{"type":"string"},"amount_cents":{"type":"integer"},)"
                       R"("currency":{"type":"string"}}})"});
}

} // namespace djdash::http
