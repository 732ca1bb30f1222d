#include "http/contract_routes.hpp"

#include <memory>

#include "config/settings.hpp"
#include "http/actor_bridge.hpp"
#include "http/auth_context.hpp"
#include "http/json_body.hpp"
#include "http/paging.hpp"
#include "http/rate_limiter.hpp"
#include "http/route_helpers.hpp"
#include "protocols/crypto.hpp"

namespace djdash::http {

namespace {

using json = nlohmann::json;

/// Signatures per client IP and window: plenty for people signing, little for a script.
constexpr int sign_ip_limit = 30;
constexpr std::chrono::seconds sign_ip_window{300};

constexpr auto public_prefix = "/api/public/contracts/";

struct contract_deps {
  node_services svc;
  std::shared_ptr<rate_limiter> limiter;

  std::chrono::milliseconds deadline() const {
    return std::chrono::milliseconds(svc.cfg->http.request_deadline_ms);
  }
};

void create_contract(const contract_deps& d, request& req, const responder& rsp) {
  auto body = json_object_body(req, rsp);
  if (!body)
    return;
  bool failed = false;
  auto event_id = string_field(*body, "event_id", 64, rsp, failed);
  auto tpl = string_field(*body, "template", 100000, rsp, failed);
  auto title = string_field(*body, "title", 800, rsp, failed);
  if (failed)
    return;
  if (!event_id || !is_uuid(*event_id))
    return rsp(error_response(app_errc::bad_request, "event_id must be an event's UUID"));
  json args{{"event_id", *event_id}};
  if (tpl)
    args["template"] = *tpl;
  if (title)
    args["title"] = *title;
  run_org_op(d.svc, req, rsp, "contracts.create", "member", args, 201);
}

void list_contracts(const contract_deps& d, request& req, const responder& rsp) {
  auto args = page_args(req, rsp);
  if (!args)
    return;
  if (auto& status = req.query_param("status"); !status.empty())
    (*args)["status"] = status;
  if (auto& event_id = req.query_param("event_id"); !event_id.empty()) {
    if (!is_uuid(event_id))
      return rsp(error_response(app_errc::bad_request, "event_id must be a UUID"));
    (*args)["event_id"] = event_id;
  }
  run_org_op(d.svc, req, rsp, "contracts.list", "member", *args, 200);
}

void get_contract(const contract_deps& d, request& req, const responder& rsp) {
  if (!uuid_param(req, "id", rsp, "contract"))
    return;
  run_org_op(d.svc, req, rsp, "contracts.get", "member", {{"id", req.params["id"]}}, 200);
}

/// A fresh 256-bit link token: only its SHA-256 reaches the database, the token itself is in
/// this one answer and nowhere else.
void send_contract(const contract_deps& d, request& req, const responder& rsp) {
  if (!uuid_param(req, "id", rsp, "contract"))
    return;
  auto who = authenticate(req, *d.svc.cfg, rsp);
  if (!who)
    return;
  auto token = crypto::random_token(32);
  json args{{"id", req.params["id"]}, {"token_hash", crypto::hex(crypto::sha256(token))}};
  ask(*d.svc.sys, d.svc.db, d.deadline(), rsp,
      [token](std::string& out) {
        auto contract = json::parse(out);
        contract["token"] = token;
        contract["url"] = public_prefix + token;
        return json_response(200, contract);
      },
      db_call{"contracts.send", who->scope("member"), args.dump()});
}

void void_contract(const contract_deps& d, request& req, const responder& rsp) {
  if (!uuid_param(req, "id", rsp, "contract"))
    return;
  run_org_op(d.svc, req, rsp, "contracts.void", "member", {{"id", req.params["id"]}}, 200);
}

/// The link token's hash, or nothing (after answering 404) when it cannot be one of ours.
std::optional<std::string> token_hash(const request& req, const responder& rsp) {
  auto i = req.params.find("token");
  if (i != req.params.end() && i->second.size() == 43) {
    auto bytes = crypto::base64url_decode(i->second);
    if (bytes && bytes->size() == 32)
      return crypto::hex(crypto::sha256(i->second));
  }
  rsp(error_response(app_errc::not_found, "no such contract"));
  return std::nullopt;
}

void public_read(const contract_deps& d, request& req, const responder& rsp) {
  auto hash = token_hash(req, rsp);
  if (!hash)
    return;
  ask(*d.svc.sys, d.svc.db, d.deadline(), rsp,
      [](std::string& out) { return json_response(200, json::parse(out)); },
      db_call{"contracts.public_get", db_scope{}, json{{"token_hash", *hash}}.dump()});
}

/// The User-Agent as recorded evidence: printable ASCII (anything else becomes '?'), 512 at most.
std::string recorded_user_agent(const request& req) {
  auto ua = req.header("user-agent").substr(0, 512);
  for (auto& c : ua)
    if (c < 0x20 || c > 0x7e)
      c = '?';
  return ua;
}

response too_many(int64_t wait_s) {
  auto r = error_response(app_errc::rate_limited, "too many signatures from here; try later");
  r.headers.emplace_back("Retry-After", std::to_string(wait_s));
  return r;
}

void public_sign(const contract_deps& d, request& req, const responder& rsp) {
  auto hash = token_hash(req, rsp);
  if (!hash)
    return;
  if (auto wait = d.limiter->hit("contract-sign-ip:" + req.remote_ip, sign_ip_limit,
                                 sign_ip_window))
    return rsp(too_many(wait));
  auto body = json_object_body(req, rsp);
  if (!body)
    return;
  bool failed = false;
  auto name = string_field(*body, "name", 800, rsp, failed);
  if (failed)
    return;
  if (!name)
    return rsp(error_response(app_errc::bad_request, "name (your full name) is required"));
  auto agree = body->find("agree");
  if (agree == body->end() || !agree->is_boolean() || !agree->get<bool>())
    return rsp(error_response(app_errc::bad_request, "agree must be true to sign"));
  json args{{"token_hash", *hash},
            {"name", *name},
            {"ip", req.remote_ip.substr(0, 100)},
            {"user_agent", recorded_user_agent(req)}};
  ask(*d.svc.sys, d.svc.db, d.deadline(), rsp,
      [](std::string& out) { return json_response(200, json::parse(out)); },
      db_call{"contracts.public_sign", db_scope{}, args.dump()});
}

constexpr auto contract_schema = R"({"type":"object","properties":{
  "id":{"type":"string","format":"uuid"},"organization_id":{"type":"string","format":"uuid"},
  "event_id":{"type":"string","format":"uuid"},
  "contact_id":{"type":"string","format":"uuid","nullable":true},
  "title":{"type":"string"},"body":{"type":"string"},
  "status":{"type":"string","enum":["draft","sent","signed","void"]},
  "sent_at":{"type":"string","format":"date-time","nullable":true},
  "signed_at":{"type":"string","format":"date-time","nullable":true},
  "signer_name":{"type":"string","nullable":true},"signer_ip":{"type":"string","nullable":true},
  "signer_user_agent":{"type":"string","nullable":true},
  "signed_sha256":{"type":"string","nullable":true},
  "voided_at":{"type":"string","format":"date-time","nullable":true},
  "created_at":{"type":"string","format":"date-time"},
  "updated_at":{"type":"string","format":"date-time"},"version":{"type":"integer"}}})";

constexpr auto create_schema = R"({"type":"object","required":["event_id"],"properties":{
  "event_id":{"type":"string","format":"uuid"},
  "template":{"type":"string","description":"placeholders: {{client_name}} {{client_email}} {{client_phone}} {{event_title}} {{event_type}} {{event_date}} {{start_time}} {{end_time}} {{venue}} {{guest_count}} {{price}} {{organization_name}}; default: settings.contract_template, else a standard DJ agreement"},
  "title":{"type":"string"}}})";

constexpr auto sent_schema = R"({"type":"object","properties":{
  "status":{"type":"string"},"token":{"type":"string"},
  "url":{"type":"string","description":"the client's link, shown only in this answer"}}})";

constexpr auto public_schema = R"({"type":"object","properties":{
  "title":{"type":"string"},"body":{"type":"string"},"body_sha256":{"type":"string"},
  "status":{"type":"string","enum":["sent","signed"]},"organization_name":{"type":"string"},
  "sent_at":{"type":"string","format":"date-time"},
  "signed_at":{"type":"string","format":"date-time","nullable":true},
  "signer_name":{"type":"string","nullable":true},
  "signed_sha256":{"type":"string","nullable":true}}})";

constexpr auto sign_schema = R"({"type":"object","required":["name","agree"],"properties":{
  "name":{"type":"string","description":"typed full name, 1 to 200 characters"},
  "agree":{"type":"boolean","enum":[true]}}})";

constexpr auto signature_schema = R"({"type":"object","properties":{
  "title":{"type":"string"},"status":{"type":"string"},
  "signed_at":{"type":"string","format":"date-time"},"signer_name":{"type":"string"},
  "signer_ip":{"type":"string"},"signer_user_agent":{"type":"string"},
  "signed_sha256":{"type":"string","description":"SHA-256 (hex) of the exact text signed"}}})";

template <class F>
handler bind(const contract_deps& d, F f) {
  return [d, f](request& req, const responder& rsp) { f(d, req, rsp); };
}

} // namespace

void add_contract_routes(route_table& routes, node_services svc) {
  contract_deps d{std::move(svc), std::make_shared<rate_limiter>()};
  routes.add("GET", "/api/contracts", bind(d, list_contracts),
             route_doc{"Contracts, oldest first; filters status, event_id", "contracts", true,
                       {200, 400, 401, 403}});
  routes.add("POST", "/api/contracts", bind(d, create_contract),
             route_doc{"Create a contract for an event from a template (text fixed at creation)",
                       "contracts", true, {201, 400, 401, 403, 404, 409}, create_schema,
                       contract_schema});
  routes.add("GET", "/api/contracts/{id}", bind(d, get_contract),
             route_doc{"One contract", "contracts", true, {200, 401, 403, 404}, "",
                       contract_schema});
  routes.add("POST", "/api/contracts/{id}/send", bind(d, send_contract),
             route_doc{"Send: a new secret signing link (replaces any earlier one)", "contracts",
                       true, {200, 401, 403, 404, 409}, "", sent_schema});
  routes.add("POST", "/api/contracts/{id}/void", bind(d, void_contract),
             route_doc{"Void a draft or sent contract; its link dies", "contracts", true,
                       {200, 401, 403, 404, 409}, "", contract_schema});
  routes.add("GET", "/api/public/contracts/{token}", bind(d, public_read),
             route_doc{"The client reads a sent contract by its secret link", "contracts", false,
                       {200, 404}, "", public_schema});
  routes.add("POST", "/api/public/contracts/{token}/sign", bind(d, public_sign),
             route_doc{"The client e-signs: typed name, time, IP, user agent and the SHA-256 of "
                       "the text are recorded",
                       "contracts", false, {200, 400, 404, 409, 429}, sign_schema,
                       signature_schema});
}

} // namespace djdash::http
