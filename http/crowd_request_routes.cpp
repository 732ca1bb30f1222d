#include "http/crowd_request_routes.hpp"

#include <memory>
#include <regex>
#include <set>

#include "config/settings.hpp"
#include "http/actor_bridge.hpp"
#include "http/auth_context.hpp"
#include "http/checkout.hpp"
#include "http/cors.hpp"
#include "http/json_body.hpp"
#include "http/paging.hpp"
#include "http/public_routes.hpp"
#include "http/rate_limiter.hpp"
#include "http/route_helpers.hpp"
#include "protocols/type_ids.hpp"

namespace djdash::http {

namespace {

using json = nlohmann::json;

struct crowd_deps {
  node_services svc;
  std::shared_ptr<rate_limiter> limiter;
  std::shared_ptr<cors_policy> sites;  // where a payer may be sent back to

  std::chrono::milliseconds deadline() const {
    return std::chrono::milliseconds(svc.cfg->http.request_deadline_ms);
  }
};

response too_many(int64_t wait_s) {
  auto r = error_response(app_errc::rate_limited, "too many requests from here; try again soon");
  r.headers.emplace_back("Retry-After", std::to_string(wait_s));
  return r;
}

/// scheme://host[:port] of an absolute http(s) URL, or nothing.
std::optional<std::string> origin_of(const std::string& url) {
  static const std::regex re{"^(https?://[A-Za-z0-9.-]+(?::[0-9]{1,5})?)(?:[/?#].*)?$"};
  std::smatch m;
  if (url.size() > 2000 || !std::regex_match(url, m, re))
    return std::nullopt;
  return m[1].str();
}

/// Where Stripe sends the payer back: the page they submitted from (an explicit return_url,
/// else the Referer) when it belongs to one of our sites, else the org's TipJar page.
std::string return_url_for(const crowd_deps& d, const request& req,
                           const std::optional<std::string>& explicit_url,
                           const std::string& slug) {
  for (auto& candidate : {explicit_url.value_or(""), req.header("referer")})
    if (auto origin = origin_of(candidate); origin && d.sites->allows(*origin))
      return candidate;
  std::string domain = "tipjar.live";
  for (auto& [host, product] : d.svc.cfg->product_domains)
    if (product == "tipjar")
      domain = host;
  return "https://" + domain + "/" + slug;
}

std::string checkout_description(const json& request, const std::string& org_name) {
  auto kind = request.value("kind", "");
  std::string what = kind == "tip" ? "Tip" : kind == "shoutout" ? "Shout-out" : "Song request";
  if (kind == "song" && request["song_title"].is_string()) {
    what += ": " + request["song_title"].get<std::string>();
    if (request["artist"].is_string())
      what += " by " + request["artist"].get<std::string>();
  }
  what += " for " + org_name;
  // Stripe limits a product name's length; cut on a character boundary.
  if (what.size() > 250) {
    size_t cut = 250;
    while (cut > 0 && (static_cast<unsigned char>(what[cut]) & 0xC0) == 0x80)
      --cut;
    what = what.substr(0, cut) + "...";
  }
  return what;
}

json submitted(const json& request, const std::optional<std::string>& checkout_url) {
  json out{{"request_id", request["id"]},
           {"status", request["status"]},
           {"payment_status", request["payment_status"]},
           {"payment_code", request["payment_code"]}};
  if (checkout_url)
    out["checkout_url"] = *checkout_url;
  return out;
}

/// Runs `call` and then answers `answer` whatever its outcome (follow-up bookkeeping whose
/// failure must not change what the guest is told).
void then_answer(const node_services& svc, db_call call, response answer, const responder& rsp) {
  auto db = svc.db;
  auto timeout = std::chrono::milliseconds(svc.cfg->http.request_deadline_ms);
  svc.sys->spawn([db, timeout, call, answer, rsp](caf::event_based_actor* self) {
    self->request(db, timeout, call)
      .then([=](const std::string&) { rsp(answer); },
            [=](caf::error&) { rsp(answer); });
  });
}

/// A paid request exists as pending_payment: start its checkout. On success the guest gets the
/// checkout URL; on failure the request is cancelled before the error is answered.
void start_payment(const crowd_deps& d, const request& req, const json& request,
                   const std::string& slug, const std::string& org_name,
                   const std::optional<std::string>& return_url, const responder& rsp) {
  checkout_args a;
  a.org_id = request["organization_id"].get<std::string>();
  a.kind = "crowd_request";
  a.ref_id = request["id"].get<std::string>();
  a.amount_cents = request["amount_cents"].get<int64_t>();
  a.currency = request["currency"].get<std::string>();
  a.manual_capture = request.value("charge_on_play", false);
  a.description = checkout_description(request, org_name);
  a.return_url = return_url_for(d, req, return_url, slug);
  auto svc = d.svc;
  start_checkout(svc, a, [svc, request, rsp, a](caf::expected<checkout_result> out) {
    db_scope scope{a.org_id, "", false, ""};
    if (!out) {
      then_answer(svc,
                  db_call{"crowd_requests.cancel_unpaid", scope, json{{"id", a.ref_id}}.dump()},
                  error_response(out.error()), rsp);
      return;
    }
    then_answer(svc,
                db_call{"crowd_requests.attach_checkout", scope,
                        json{{"id", a.ref_id}, {"session_id", out->session_id}}.dump()},
                json_response(201, submitted(request, out->url)), rsp);
  });
}

void submit(const crowd_deps& d, request& req, const responder& rsp) {
  auto& auth = d.svc.cfg->auth;
  if (auto wait = d.limiter->hit("crowd-submit-ip:" + req.remote_ip, auth.request_ip_limit,
                                 std::chrono::seconds(auth.request_ip_window_s)))
    return rsp(too_many(wait));
  auto body = json_object_body(req, rsp);
  if (!body)
    return;
  static const std::set<std::string> fields{"org_slug", "kind",          "song_title",
                                            "artist",   "requester_name", "message",
                                            "amount_cents", "priority",   "requester_key",
                                            "return_url"};
  for (auto& [key, value] : body->items())
    if (fields.count(key) == 0)
      return rsp(error_response(app_errc::bad_request, key + " is not a field of a request"));
  bool failed = false;
  auto slug = string_field(*body, "org_slug", 64, rsp, failed);
  if (failed)
    return;
  if (!slug)
    return rsp(error_response(app_errc::bad_request, "org_slug is required"));
  if (!valid_slug(*slug))
    return rsp(error_response(app_errc::not_found, "no organization with this slug"));
  // The requester's handle for the per-guest limits: the page's own device key when it sends
  // one (guests at a venue often share one IP), else the IP.
  auto key = string_field(*body, "requester_key", 128, rsp, failed);
  if (failed)
    return;
  static const std::regex key_re{"^[A-Za-z0-9_-]{8,128}$"};
  if (key && !std::regex_match(*key, key_re))
    return rsp(error_response(app_errc::bad_request,
                              "requester_key must be 8 to 128 letters, digits, - or _"));
  auto return_url = string_field(*body, "return_url", 2000, rsp, failed);
  if (failed)
    return;
  if (return_url) {
    auto origin = origin_of(*return_url);
    if (!origin || !d.sites->allows(*origin))
      return rsp(error_response(app_errc::bad_request,
                                "return_url must be a page of one of our sites"));
  }
  auto args = *body;
  args.erase("org_slug");
  args.erase("return_url");
  args["requester_key"] = key ? "k:" + *key : "ip:" + req.remote_ip;
  args["requester_ip"] = req.remote_ip;
  args["payments_configured"]
    = !d.svc.cfg->secrets.stripe_secret_key.empty() && static_cast<bool>(d.svc.stripe);
  auto router = d.svc.router;
  auto deadline = d.deadline();
  auto org_slug = *slug;
  ask_chain(
    *d.svc.sys, d.svc.db, deadline, rsp,
    [d, req, router, deadline, args, org_slug, return_url](caf::event_based_actor* self,
                                                           responder rsp, std::string& row) {
      auto org = json::parse(row);
      auto org_id = org.at("id").get<std::string>();
      auto org_name = org.value("name", "");
      self
        ->request(router, deadline, entity_atom_v, entity_ref{"organization", org_id},
                  caf::make_message(queue_atom_v, db_scope{org_id, "", false, ""},
                                    std::string{"crowd_requests.submit"}, args.dump()))
        .then(
          [=](std::string& out) {
            auto request = json::parse(out);
            if (request.value("status", "") != "pending_payment")
              return rsp(json_response(201, submitted(request, std::nullopt)));
            start_payment(d, req, request, org_slug, org_name, return_url, rsp);
          },
          [rsp](caf::error& err) { rsp(error_response(err)); });
    },
    db_call{"org.public_by_slug", db_scope{}, json{{"slug", org_slug}}.dump()});
}

void get_public(const crowd_deps& d, request& req, const responder& rsp) {
  if (!uuid_param(req, "id", rsp, "request"))
    return;
  ask(*d.svc.sys, d.svc.db, d.deadline(), rsp,
      [](std::string& out) { return json_response(200, json::parse(out)); },
      db_call{"crowd_requests.get_public", db_scope{}, json{{"id", req.params["id"]}}.dump()});
}

void list_queue(const crowd_deps& d, request& req, const responder& rsp) {
  auto args = page_args(req, rsp);
  if (!args)
    return;
  if (auto& status = req.query_param("status"); !status.empty())
    (*args)["status"] = status;  // checked by the operation
  run_org_op(d.svc, req, rsp, "crowd_requests.list", "member", *args, 200);
}

void get_one(const crowd_deps& d, request& req, const responder& rsp) {
  if (!uuid_param(req, "id", rsp, "request"))
    return;
  run_org_op(d.svc, req, rsp, "crowd_requests.get", "member", {{"id", req.params["id"]}}, 200);
}

/// Status changes and moves go through the organization entity, which decides them one at a
/// time and announces each on the realtime hub.
void patch(const crowd_deps& d, request& req, const responder& rsp) {
  if (!uuid_param(req, "id", rsp, "request"))
    return;
  auto body = json_object_body(req, rsp);
  if (!body)
    return;
  if (body->contains("id"))
    return rsp(error_response(app_errc::bad_request, "id cannot be changed"));
  if (!body->contains("status") && !body->contains("position"))
    return rsp(error_response(app_errc::bad_request, "send status and/or position"));
  auto who = authenticate(req, *d.svc.cfg, rsp);
  if (!who)
    return;
  if (!is_uuid(who->org_id))
    return rsp(error_response(app_errc::forbidden, "no organization selected"));
  (*body)["id"] = req.params["id"];
  ask(*d.svc.sys, d.svc.router, d.deadline(), rsp,
      [](std::string& out) { return json_response(200, json::parse(out)); }, entity_atom_v,
      entity_ref{"organization", who->org_id},
      caf::make_message(queue_atom_v, who->scope("member"),
                        std::string{"crowd_requests.update"}, body->dump()));
}

constexpr auto submit_schema = R"json({"type":"object","required":["org_slug","kind","amount_cents"],
  "properties":{
  "org_slug":{"type":"string"},"kind":{"type":"string","enum":["song","shoutout","tip"]},
  "song_title":{"type":"string","description":"required for songs, 1 to 200 characters"},
  "artist":{"type":"string","description":"songs only, up to 200 characters"},
  "requester_name":{"type":"string","description":"up to 100 characters"},
  "message":{"type":"string","description":"required for shout-outs, up to 500 characters"},
  "amount_cents":{"type":"integer","minimum":0,
    "description":"at least the kind's minimum plus the priority tier's price; 0 only where the minimum is 0 (never for tips)"},
  "priority":{"type":"string","description":"a tier of the organization's priority_prices"},
  "requester_key":{"type":"string","description":"the guest device's own stable key (8-128 of A-Z a-z 0-9 - _), for the per-guest limit; default: the IP"},
  "return_url":{"type":"string","description":"a page of one of our sites Stripe sends the payer back to; default: the Referer"}}})json";

constexpr auto submitted_schema = R"json({"type":"object","properties":{
  "request_id":{"type":"string","format":"uuid"},
  "status":{"type":"string","enum":["pending_payment","queued"]},
  "payment_status":{"type":"string","enum":["none","pending"]},
  "payment_code":{"type":"string","description":"short code the guest can show the DJ"},
  "checkout_url":{"type":"string","description":"paid requests: Stripe Checkout to pay"}}})json";

constexpr auto public_schema = R"json({"type":"object","properties":{
  "id":{"type":"string","format":"uuid"},"organization_id":{"type":"string","format":"uuid"},
  "kind":{"type":"string","enum":["song","shoutout","tip"]},
  "song_title":{"type":"string","nullable":true},"artist":{"type":"string","nullable":true},
  "requester_name":{"type":"string","nullable":true},"message":{"type":"string","nullable":true},
  "amount_cents":{"type":"integer"},"currency":{"type":"string"},
  "priority_tier":{"type":"string","nullable":true},
  "status":{"type":"string","enum":["pending_payment","queued","playing","played","skipped","cancelled"]},
  "payment_status":{"type":"string","enum":["none","pending","authorized","paid","released","refunded"]},
  "payment_code":{"type":"string"},
  "position":{"type":"integer","nullable":true,"description":"queued only: 1 = next"},
  "created_at":{"type":"string","format":"date-time"},
  "updated_at":{"type":"string","format":"date-time"}}})json";

constexpr auto request_schema = R"json({"type":"object","properties":{
  "id":{"type":"string","format":"uuid"},"organization_id":{"type":"string","format":"uuid"},
  "kind":{"type":"string","enum":["song","shoutout","tip"]},
  "song_title":{"type":"string","nullable":true},"artist":{"type":"string","nullable":true},
  "requester_name":{"type":"string","nullable":true},"message":{"type":"string","nullable":true},
  "amount_cents":{"type":"integer"},"currency":{"type":"string"},
  "priority_tier":{"type":"string","nullable":true},"priority_cents":{"type":"integer"},
  "status":{"type":"string","enum":["pending_payment","queued","playing","played","skipped","cancelled"]},
  "payment_status":{"type":"string","enum":["none","pending","authorized","paid","released","refunded"]},
  "payment_code":{"type":"string"},
  "position":{"type":"integer","nullable":true,"description":"queued only: 1 = next"},
  "charge_on_play":{"type":"boolean"},"requester_ip":{"type":"string","nullable":true},
  "stripe_checkout_session_id":{"type":"string","nullable":true},
  "stripe_payment_intent_id":{"type":"string","nullable":true},
  "queued_at":{"type":"string","format":"date-time","nullable":true},
  "created_at":{"type":"string","format":"date-time"},
  "updated_at":{"type":"string","format":"date-time"},"version":{"type":"integer"}}})json";

constexpr auto patch_schema = R"json({"type":"object","properties":{
  "status":{"type":"string","enum":["queued","playing","played","skipped","cancelled"]},
  "position":{"type":"integer","minimum":1,"description":"place among queued requests, 1 = next"},
  "version":{"type":"integer","description":"optional optimistic check"}}})json";

template <class F>
handler bind(const crowd_deps& d, F f) {
  return [d, f](request& req, const responder& rsp) { f(d, req, rsp); };
}

} // namespace

void add_crowd_request_routes(route_table& routes, node_services svc) {
  auto sites = std::make_shared<cors_policy>(svc.cfg->product_domains, svc.cfg->cors_origins);
  crowd_deps d{std::move(svc), std::make_shared<rate_limiter>(), std::move(sites)};
  routes.add("POST", "/api/crowd-request/submit", bind(d, submit),
             route_doc{"A guest requests a song, sends a shout-out or a tip (free ones are queued "
                       "at once; paid ones get a Stripe Checkout URL)",
                       "crowd requests", false, {201, 400, 404, 409, 422, 429, 502, 504},
                       submit_schema, submitted_schema});
  routes.add("GET", "/api/crowd-request/{id}", bind(d, get_public),
             route_doc{"The guest's view of one request: status, payment status, place in the "
                       "queue",
                       "crowd requests", false, {200, 404}, "", public_schema});
  routes.add("GET", "/api/crowd-requests", bind(d, list_queue),
             route_doc{"The DJ's queue: playing, then queued in play order (paid priority, then "
                       "time, the DJ's moves win); status=all or one status for the rest",
                       "crowd requests", true, {200, 400, 401, 403}});
  routes.add("GET", "/api/crowd-requests/{id}", bind(d, get_one),
             route_doc{"One request with its private fields", "crowd requests", true,
                       {200, 401, 403, 404}, "", request_schema});
  routes.add("PATCH", "/api/crowd-requests/{id}", bind(d, patch),
             route_doc{"Play, finish, skip or cancel a request, or move it in the queue (played "
                       "captures a held payment, skipped or cancelled releases it)",
                       "crowd requests", true, {200, 400, 401, 403, 404, 409}, patch_schema,
                       request_schema});
}

} // namespace djdash::http
