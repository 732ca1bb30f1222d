#include "http/checkout.hpp"

#include <chrono>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <nlohmann/json.hpp>

#include "config/settings.hpp"
#include "http/auth_context.hpp"
#include "protocols/app_errc.hpp"
#include "protocols/crypto.hpp"
#include "protocols/stripe.hpp"

namespace djdash::http {

namespace {

using json = nlohmann::json;
using done_fn = std::function<void(caf::expected<checkout_result>)>;

caf::error conflict(std::string message) {
  return make_app_error(app_errc::conflict, std::move(message));
}

/// The session's form: destination charge, fee, capture mode, and the metadata that lets a
/// PaymentIntent event find our row even when it overtakes checkout.session.completed.
caf::expected<std::string> session_form(const checkout_args& a, const std::string& account,
                                        const std::string& checkout_id, int64_t fee) {
  stripe::checkout_request req;
  req.amount_cents = a.amount_cents;
  req.currency = a.currency;
  req.product_name = a.description;
  req.application_fee_cents = fee;
  req.destination_account = account;
  req.manual_capture = a.manual_capture;
  req.client_reference_id = a.ref_id;
  req.metadata = {{"djdash_org", a.org_id},
                  {"djdash_checkout", checkout_id},
                  {"djdash_kind", a.kind},
                  {"djdash_ref", a.ref_id}};
  auto sep = a.return_url.find('?') == std::string::npos ? "?" : "&";
  req.success_url = a.return_url + sep + "session_id={CHECKOUT_SESSION_ID}";
  req.cancel_url = a.return_url;
  auto fields = stripe::checkout_session_form(req);
  if (!fields)
    return fields.error();
  return form::encode(*fields);
}

caf::error check_args(const checkout_args& a) {
  if (a.kind != "crowd_request" && a.kind != "invoice")
    return make_app_error(app_errc::bad_request, "kind must be crowd_request or invoice");
  if (!is_uuid(a.ref_id) || !is_uuid(a.org_id))
    return make_app_error(app_errc::bad_request, "org and ref ids must be UUIDs");
  if (a.amount_cents < 1)
    return make_app_error(app_errc::bad_request, "nothing to pay: the amount must be positive");
  if (a.description.empty())
    return make_app_error(app_errc::bad_request, "a checkout needs a description");
  if (a.return_url.rfind("https://", 0) != 0 && a.return_url.rfind("http://", 0) != 0)
    return make_app_error(app_errc::bad_request, "return_url must be an http(s) URL");
  return {};
}

/// Step 3: records the created session, then answers.
void record(caf::event_based_actor* self, const node_services& svc, const checkout_args& a,
            const std::string& account, const std::string& checkout_id, int64_t fee,
            const std::string& body, const done_fn& done) {
  auto session = json::parse(body, nullptr, false);
  auto id = session.is_object() ? session.value("id", "") : "";
  auto url = session.is_object() && session["url"].is_string() ? session["url"].get<std::string>()
                                                              : "";
  if (!stripe::valid_id(id, "cs_") || url.empty())
    return done(make_app_error(app_errc::upstream_error,
                               "Stripe answered the checkout without a session id or url"));
  json args{{"id", checkout_id},       {"kind", a.kind},
            {"ref_id", a.ref_id},      {"stripe_checkout_session_id", id},
            {"stripe_account_id", account}, {"amount_cents", a.amount_cents},
            {"platform_fee_cents", fee},    {"currency", a.currency},
            {"manual_capture", a.manual_capture}, {"url", url}};
  self
    ->request(svc.db, std::chrono::milliseconds(svc.cfg->http.request_deadline_ms),
              db_call{"checkout.record", db_scope{a.org_id, "", false, ""}, args.dump()})
    .then([=](const std::string&) { done(checkout_result{url, id}); },
          [=](caf::error& err) { done(std::move(err)); });
}

/// Step 2: creates the session at Stripe with a key derived from what is being paid.
void create_session(caf::event_based_actor* self, const node_services& svc,
                    const checkout_args& a, const std::string& account, const done_fn& done) {
  auto checkout_id = checkout_id_of(a);
  auto fee = stripe::platform_fee_cents(a.amount_cents);
  auto form = session_form(a, account, checkout_id, fee);
  if (!form)
    return done(form.error());
  auto key = "checkout-" + a.kind + "-" + a.ref_id + "-" + std::to_string(a.amount_cents)
             + (a.manual_capture ? "-hold" : "") + "-v1";
  self
    ->request(svc.stripe, std::chrono::seconds(60), stripe_atom_v, std::string{"POST"},
              std::string{"/v1/checkout/sessions"}, *form, key)
    .then(
      [=](const std::string& body) {
        record(self, svc, a, account, checkout_id, fee, body, done);
      },
      [=](caf::error& err) { done(std::move(err)); });
}

} // namespace

std::string checkout_id_of(const checkout_args& a) {
  auto h = crypto::hex(crypto::sha256("djdash-checkout|" + a.org_id + "|" + a.kind + "|"
                                      + a.ref_id + "|" + std::to_string(a.amount_cents) + "|"
                                      + a.currency + "|" + (a.manual_capture ? "hold" : "now")));
  // A name-based UUID (version 5 layout, SHA-256 digest): stable for the same checkout.
  h[12] = '5';
  h[16] = "89ab"[std::stoi(h.substr(16, 1), nullptr, 16) & 3];
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4)
         + "-" + h.substr(20, 12);
}

void start_checkout(const node_services& svc, const checkout_args& a, done_fn done) {
  // Without Stripe no checkout can succeed, whatever the request: say so first.
  if (svc.cfg->secrets.stripe_secret_key.empty() || !svc.stripe)
    return done(conflict("payments are not configured (Stripe)"));
  if (auto err = check_args(a))
    return done(std::move(err));
  svc.sys->spawn([svc, a, done](caf::event_based_actor* self) {
    self
      ->request(svc.db, std::chrono::milliseconds(svc.cfg->http.request_deadline_ms),
                db_call{"stripe.account", db_scope{a.org_id, "", false, ""}, "{}"})
      .then(
        [=](const std::string& out) {
          auto acct = json::parse(out, nullptr, false);
          if (!acct.is_object() || !acct.value("connected", false))
            return done(conflict("this organization has not connected a Stripe account yet "
                                 "(POST /api/stripe/connect/onboard)"));
          if (!acct.value("charges_enabled", false))
            return done(conflict("this organization's Stripe account cannot take charges yet: "
                                 "finish Stripe onboarding"));
          create_session(self, svc, a, acct["stripe_account_id"].get<std::string>(), done);
        },
        [=](caf::error& err) { done(std::move(err)); });
  });
}

} // namespace djdash::http
