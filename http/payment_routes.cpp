#include "http/payment_routes.hpp"

#include "http/paging.hpp"
#include "http/route_helpers.hpp"

namespace djdash::http {

namespace {

void list_payments(const node_services& svc, request& req, const responder& rsp) {
  auto args = page_args(req, rsp);
  if (!args)
    return;
  run_org_op(svc, req, rsp, "payments.list", "member", *args, 200);
}

constexpr auto payment_list_schema = R"({"type":"object","properties":{
  "items":{"type":"array","items":{"type":"object","properties":{
    "id":{"type":"string","format":"uuid"},"organization_id":{"type":"string","format":"uuid"},
    "amount_cents":{"type":"integer"},"platform_fee_cents":{"type":"integer",
      "description":"3.5% rounded half up plus 30 cents, at most the amount"},
    "net_cents":{"type":"integer","description":"amount minus platform fee"},
    "currency":{"type":"string"},
    "status":{"type":"string","enum":["authorized","succeeded","canceled","refunded"]},
    "crowd_request_id":{"type":"string","format":"uuid","nullable":true},
    "invoice_id":{"type":"string","format":"uuid","nullable":true},
    "stripe_checkout_session_id":{"type":"string","nullable":true},
    "stripe_payment_intent_id":{"type":"string"},
    "created_at":{"type":"string","format":"date-time"},
    "updated_at":{"type":"string","format":"date-time"},"version":{"type":"integer"}}}},
  "next_cursor":{"type":"string","nullable":true}}})";

} // namespace

void add_payment_routes(route_table& routes, node_services svc) {
  routes.add("GET", "/api/payments",
             [svc](request& req, const responder& rsp) { list_payments(svc, req, rsp); },
             route_doc{"Payments taken through Stripe, newest first, with platform fee and net",
                       "payments", true, {200, 400, 401, 403}, "", payment_list_schema});
}

} // namespace djdash::http
