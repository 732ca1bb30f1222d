#include "http/stripe_routes.hpp"

#include <ctime>

#include <caf/send.hpp>

#include "config/settings.hpp"
#include "http/actor_bridge.hpp"
#include "http/auth_context.hpp"
#include "http/error_response.hpp"
#include "http/json_body.hpp"
#include "http/route_helpers.hpp"
#include "protocols/crypto.hpp"
#include "protocols/stripe.hpp"

namespace djdash::http {

namespace {

using json = nlohmann::json;

bool stripe_configured(const node_services& svc) {
  return !svc.cfg->secrets.stripe_secret_key.empty() && svc.stripe;
}

std::chrono::milliseconds deadline(const node_services& svc) {
  return std::chrono::milliseconds(svc.cfg->http.request_deadline_ms);
}

/// Where onboarding sends the DJ back: the body's URLs, else pages under the public URL.
struct onboard_urls {
  std::string return_url;
  std::string refresh_url;
  std::string country = "US";
};

std::optional<onboard_urls> read_onboard_body(const node_services& svc, const request& req,
                                              const responder& rsp) {
  json body = json::object();
  if (!req.body.empty()) {
    auto parsed = json_object_body(req, rsp);
    if (!parsed)
      return std::nullopt;
    body = *parsed;
  }
  onboard_urls out;
  bool failed = false;
  auto ret = string_field(body, "return_url", 2000, rsp, failed);
  auto refresh = failed ? std::nullopt : string_field(body, "refresh_url", 2000, rsp, failed);
  auto country = failed ? std::nullopt : string_field(body, "country", 2, rsp, failed);
  if (failed)
    return std::nullopt;
  auto base = svc.cfg->public_url;
  while (!base.empty() && base.back() == '/')
    base.pop_back();
  out.return_url = ret.value_or(base.empty() ? "" : base + "/stripe/connect/return");
  out.refresh_url = refresh.value_or(base.empty() ? "" : base + "/stripe/connect/refresh");
  if (country)
    out.country = *country;
  for (auto* url : {&out.return_url, &out.refresh_url})
    if (url->rfind("https://", 0) != 0 && url->rfind("http://", 0) != 0) {
      rsp(error_response(app_errc::bad_request,
                         "return_url and refresh_url must be http(s) URLs (no public URL is "
                         "configured to default them)"));
      return std::nullopt;
    }
  return out;
}

/// Mints a fresh onboarding link for `account` and answers with it.
void send_link(caf::event_based_actor* self, const node_services& svc, const responder& rsp,
               const std::string& account, const onboard_urls& urls) {
  auto form = stripe::account_link_form(account, urls.refresh_url, urls.return_url);
  if (!form)
    return rsp(error_response(form.error()));
  // Links are single use: every call asks for a new one, under its own key.
  auto key = "account-link-" + account + "-" + crypto::hex(crypto::random_token(12));
  self
    ->request(svc.stripe, std::chrono::seconds(60), stripe_atom_v, std::string{"POST"},
              std::string{"/v1/account_links"}, form::encode(*form), key)
    .then(
      [=](const std::string& out) {
        auto link = json::parse(out, nullptr, false);
        if (!link.is_object() || !link["url"].is_string())
          return rsp(error_response(app_errc::upstream_error,
                                    "Stripe answered the account link without a url"));
        rsp(json_response(200, {{"url", link["url"]},
                                {"stripe_account_id", account},
                                {"expires_at", link.value("expires_at", json())}}));
      },
      [=](caf::error& err) { rsp(error_response(err)); });
}

/// Creates the org's Express account (the key makes a retry find the same one), stores it,
/// then links the one that is stored (a concurrent onboarding may have stored it first).
void create_account(caf::event_based_actor* self, const node_services& svc,
                    const responder& rsp, const auth_context& who, const onboard_urls& urls) {
  auto form = stripe::express_account_form(urls.country, who.email,
                                           {{"organization_id", who.org_id}});
  if (!form)
    return rsp(error_response(form.error()));
  self
    ->request(svc.stripe, std::chrono::seconds(60), stripe_atom_v, std::string{"POST"},
              std::string{"/v1/accounts"}, form::encode(*form),
              "connect-account-" + who.org_id + "-v1")
    .then(
      [=](const std::string& out) {
        auto acct = json::parse(out, nullptr, false);
        auto id = acct.is_object() ? acct.value("id", "") : "";
        if (!stripe::valid_id(id, "acct_"))
          return rsp(error_response(app_errc::upstream_error,
                                    "Stripe answered the account without an id"));
        self
          ->request(svc.db, deadline(svc),
                    db_call{"stripe.account_save", who.scope("admin"),
                            json{{"stripe_account_id", id}}.dump()})
          .then(
            [=](const std::string& saved) {
              auto stored = json::parse(saved)["stripe_account_id"].get<std::string>();
              send_link(self, svc, rsp, stored, urls);
            },
            [=](caf::error& err) { rsp(error_response(err)); });
      },
      [=](caf::error& err) { rsp(error_response(err)); });
}

void onboard(const node_services& svc, request& req, const responder& rsp) {
  auto who = authenticate(req, *svc.cfg, rsp);
  if (!who)
    return;
  auto urls = read_onboard_body(svc, req, rsp);
  if (!urls)
    return;
  // The role is checked (by the account lookup) before anything is said about configuration.
  ask_chain(*svc.sys, svc.db, deadline(svc), rsp,
            [svc, who = *who, urls = *urls](caf::event_based_actor* self, responder rsp,
                                            std::string& out) {
              if (!stripe_configured(svc))
                return rsp(error_response(app_errc::conflict,
                                          "payments are not configured (Stripe)"));
              auto acct = json::parse(out);
              if (acct.value("connected", false))
                return send_link(self, svc, rsp, acct["stripe_account_id"].get<std::string>(),
                                 urls);
              create_account(self, svc, rsp, who, urls);
            },
            db_call{"stripe.account", who->scope("admin"), "{}"});
}

void status(const node_services& svc, request& req, const responder& rsp) {
  run_org_op(svc, req, rsp, "stripe.account", "member", json::object(), 200);
}

void webhook(const node_services& svc, request& req, const responder& rsp) {
  auto& secret = svc.cfg->secrets.stripe_webhook_secret;
  if (secret.empty())
    return rsp(error_response(app_errc::conflict, "Stripe webhooks are not configured"));
  auto& header = req.header("stripe-signature");
  if (header.empty())
    return rsp(error_response(app_errc::bad_signature, "Stripe-Signature header is missing"));
  auto checked = stripe::verify_webhook(header, req.body, secret,
                                        static_cast<int64_t>(std::time(nullptr)));
  if (!checked)
    return rsp(error_response(app_errc::bad_signature, error_message(checked.error())));
  auto ev = stripe::parse_event(req.body);
  if (!ev)
    return rsp(error_response(ev.error()));
  // A live endpoint also receives test-mode events of connected accounts: never let those
  // touch live records (acknowledged, so Stripe stops resending them).
  auto live_key = svc.cfg->secrets.stripe_secret_key.rfind("sk_live_", 0) == 0;
  if (live_key && !ev->livemode)
    return rsp(json_response(200, {{"received", true}, {"ignored", "test-mode event"}}));
  auto event = json::parse(req.body, nullptr, false);
  ask(*svc.sys, svc.db, deadline(svc), rsp,
      [svc](std::string& out) {
        auto result = json::parse(out);
        publish_events(svc, result["events"]);  // committed: the reply came after the commit
        return json_response(200, {{"received", true}, {"duplicate", result["duplicate"]}});
      },
      db_call{"stripe.webhook", db_scope{}, json{{"event", event}}.dump()});
}

template <class F>
handler bind(const node_services& svc, F f) {
  return [svc, f](request& req, const responder& rsp) { f(svc, req, rsp); };
}

constexpr auto account_schema = R"({"type":"object","properties":{
  "connected":{"type":"boolean"},"stripe_account_id":{"type":"string","nullable":true},
  "charges_enabled":{"type":"boolean"},"payouts_enabled":{"type":"boolean"},
  "details_submitted":{"type":"boolean"}}})";

constexpr auto onboard_schema = R"({"type":"object","properties":{
  "return_url":{"type":"string","format":"uri"},"refresh_url":{"type":"string","format":"uri"},
  "country":{"type":"string","example":"US"}}})";

constexpr auto link_schema = R"({"type":"object","properties":{
  "url":{"type":"string","format":"uri"},"stripe_account_id":{"type":"string"},
  "expires_at":{"type":"integer","nullable":true}}})";

} // namespace

void publish_events(const node_services& svc, const nlohmann::json& events) {
  if (!svc.hub || !events.is_array())
    return;
  for (auto& e : events)
    caf::anon_send(svc.hub, caf::publish_atom_v, e["topic"].get<std::string>(),
                   e["event"].get<std::string>(), e["payload"].dump());
}

void add_stripe_routes(route_table& routes, node_services svc) {
  routes.add("POST", "/api/stripe/connect/onboard", bind(svc, onboard),
             route_doc{"Creates the organization's Stripe Express account if needed and returns "
                       "a single-use onboarding link; 409 when Stripe is not configured",
                       "payments", true, {200, 400, 401, 403, 409, 502, 504}, onboard_schema,
                       link_schema});
  routes.add("GET", "/api/stripe/connect/status", bind(svc, status),
             route_doc{"The organization's connected account: charges and payouts enabled",
                       "payments", true, {200, 401, 403}, "", account_schema});
  routes.add("POST", "/api/webhooks/stripe", bind(svc, webhook),
             route_doc{"Stripe events (Stripe-Signature over the raw body); each event id takes "
                       "effect once; unknown events are acknowledged and ignored",
                       "payments", false, {200, 400, 409}, "", ""});
}

} // namespace djdash::http
