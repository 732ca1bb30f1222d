#include "http/auth_routes.hpp"

#include <memory>

#include "config/settings.hpp"
#include "http/actor_bridge.hpp"
#include "http/auth_context.hpp"
#include "http/json_body.hpp"
#include "http/product_context.hpp"
#include "http/rate_limiter.hpp"
#include "http/session_tokens.hpp"
#include "protocols/password.hpp"
#include "protocols/type_ids.hpp"

namespace djdash::http {

namespace {

using json = nlohmann::json;
using std::chrono::seconds;

constexpr auto invalid_login = "invalid email or password";

struct auth_deps {
  node_services svc;
  std::shared_ptr<rate_limiter> limiter;

  const settings& cfg() const { return *svc.cfg; }
  std::chrono::milliseconds deadline() const {
    return std::chrono::milliseconds(svc.cfg->http.request_deadline_ms);
  }
};

response too_many(int64_t wait_s) {
  auto r = error_response(app_errc::rate_limited, "too many attempts; try again later");
  r.headers.emplace_back("Retry-After", std::to_string(wait_s));
  return r;
}

/// The product a sign-in lands in: the request's, else the organization's.
std::string landing_product(const std::optional<std::string>& requested, const json& session) {
  if (requested)
    return *requested;
  auto& org = session["organization"];
  return org.is_object() ? org["product_context"].get<std::string>() : std::string{"djdash"};
}

json client_info(const request& req) {
  return {{"ip", req.remote_ip}, {"user_agent", req.header("user-agent").substr(0, 512)}};
}

/// Reads email and password; answers 400 and returns false when either is unusable.
bool read_credentials(const json& body, const responder& rsp, std::string& email,
                      std::string& pw) {
  bool failed = false;
  auto e = string_field(body, "email", 320, rsp, failed);
  auto p = string_field(body, "password", 1024, rsp, failed);
  if (failed)
    return false;
  if (!e || !p) {
    rsp(error_response(app_errc::bad_request, "email and password are required"));
    return false;
  }
  email = *e;
  pw = *p;
  return true;
}

void signup(const auth_deps& d, request& req, const responder& rsp) {
  auto product = product_of(req, d.cfg().product_domains);
  if (!product)
    return rsp(error_response(app_errc::bad_request,
                              "unknown product: call from a product domain or send "
                              "X-Product-Context (tipjar, djdash or m10dj)"));
  if (auto wait = d.limiter->hit("signup-ip:" + req.remote_ip, d.cfg().auth.signup_ip_limit,
                                 seconds(d.cfg().auth.signup_ip_window_s)))
    return rsp(too_many(wait));
  auto body = json_object_body(req, rsp);
  if (!body)
    return;
  std::string raw_email, pw;
  if (!read_credentials(*body, rsp, raw_email, pw))
    return;
  bool failed = false;
  auto name = string_field(*body, "name", 200, rsp, failed);
  auto org_name = string_field(*body, "organization_name", 200, rsp, failed);
  if (failed)
    return;
  auto email = normalized_email(raw_email);
  if (!email)
    return rsp(error_response(app_errc::bad_request, "email is not a valid address"));
  if (pw.size() < password::min_length || pw.size() > password::max_length)
    return rsp(error_response(app_errc::bad_request,
                              "password must be 8 to 128 characters long"));
  auto args = client_info(req);
  args.update({{"email", *email}, {"product_context", *product},
               {"refresh_ttl_s", d.cfg().auth.refresh_token_ttl_s}});
  if (name)
    args["name"] = *name;
  if (org_name)
    args["organization_name"] = *org_name;
  auto db = d.svc.db;
  auto cfg = d.svc.cfg;
  auto deadline = d.deadline();
  ask_chain(
    *d.svc.sys, d.svc.passwords, deadline, rsp,
    [=](caf::event_based_actor* self, responder rsp, std::string& hash) mutable {
      auto refresh = make_refresh_token();
      args["password_hash"] = hash;
      args["refresh_token_hash"] = refresh.hash;
      self->request(db, deadline, db_call{"auth.signup", db_scope{}, args.dump()})
        .then(
          [=](std::string& out) {
            rsp(json_response(201, session_body(json::parse(out), *product, refresh.token, *cfg,
                                                "password")));
          },
          [rsp](caf::error& err) { rsp(error_response(err)); });
    },
    hash_atom_v, pw);
}

/// After the password checked out: opens the session and answers with tokens.
void open_session(caf::event_based_actor* self, const auth_deps& d, responder rsp,
                  std::string user_id, std::optional<std::string> product, json info) {
  auto refresh = make_refresh_token();
  info.update({{"refresh_token_hash", refresh.hash},
               {"refresh_ttl_s", d.cfg().auth.refresh_token_ttl_s},
               {"product_context", product.value_or("")}});
  auto cfg = d.svc.cfg;
  self->request(d.svc.db, d.deadline(),
                db_call{"auth.start_session", db_scope{"", user_id, false, ""}, info.dump()})
    .then(
      [=](std::string& out) {
        auto session = json::parse(out);
        rsp(json_response(200, session_body(session, landing_product(product, session),
                                            refresh.token, *cfg, "password")));
      },
      [rsp](caf::error& err) { rsp(error_response(err)); });
}

void login(const auth_deps& d, request& req, const responder& rsp) {
  auto& a = d.cfg().auth;
  if (auto wait = d.limiter->hit("login-ip:" + req.remote_ip, a.login_ip_limit,
                                 seconds(a.login_ip_window_s)))
    return rsp(too_many(wait));
  auto body = json_object_body(req, rsp);
  if (!body)
    return;
  std::string raw_email, pw;
  if (!read_credentials(*body, rsp, raw_email, pw))
    return;
  // Unknown or malformed emails go through the same steps (and the same dummy-hash cost) as
  // wrong passwords, so neither answers nor timing tell whether an account exists.
  auto email = normalized_email(raw_email).value_or(raw_email.substr(0, 320));
  auto account_key = "login-account:" + email;
  if (auto wait = d.limiter->retry_after(account_key, a.login_account_limit,
                                         seconds(a.login_account_window_s)))
    return rsp(too_many(wait));
  auto product = product_of(req, d.cfg().product_domains);
  auto info = client_info(req);
  auto deps = d;
  ask_chain(
    *d.svc.sys, d.svc.db, d.deadline(), rsp,
    [=](caf::event_based_actor* self, responder rsp, std::string& found) {
      auto account = json::parse(found);
      auto user_id = account.value("user_id", std::string{});
      auto phc = account.value("password_hash", std::string{});
      self->request(deps.svc.passwords, deps.deadline(), verify_atom_v, phc, pw)
        .then(
          [=](bool ok) {
            if (!ok || user_id.empty()) {
              deps.limiter->hit(account_key, deps.cfg().auth.login_account_limit,
                                seconds(deps.cfg().auth.login_account_window_s));
              return rsp(error_response(app_errc::unauthorized, invalid_login));
            }
            deps.limiter->reset(account_key);
            open_session(self, deps, rsp, user_id, product, info);
          },
          [rsp](caf::error& err) { rsp(error_response(err)); });
    },
    db_call{"auth.login_lookup", db_scope{}, json{{"email", email}}.dump()});
}

void refresh(const auth_deps& d, request& req, const responder& rsp) {
  auto body = json_object_body(req, rsp);
  if (!body)
    return;
  bool failed = false;
  auto presented = string_field(*body, "refresh_token", 256, rsp, failed);
  if (failed)
    return;
  if (!presented || !plausible_refresh_token(*presented))
    return rsp(error_response(app_errc::unauthorized, "invalid refresh token"));
  auto product = product_of(req, d.cfg().product_domains);
  auto next = make_refresh_token();
  json args{{"refresh_token_hash", refresh_token_hash(*presented)},
            {"new_refresh_token_hash", next.hash},
            {"refresh_ttl_s", d.cfg().auth.refresh_token_ttl_s},
            {"product_context", product.value_or("")}};
  auto cfg = d.svc.cfg;
  ask(*d.svc.sys, d.svc.db, d.deadline(), rsp,
      [=](std::string& out) {
        auto result = json::parse(out);
        auto status = result.value("status", std::string{});
        if (status == "reused")
          return error_response(app_errc::unauthorized,
                                "refresh token already used: the session was signed out");
        if (status != "ok")
          return error_response(app_errc::unauthorized, "invalid refresh token");
        return json_response(200, session_body(result, landing_product(product, result),
                                               next.token, *cfg, "token"));
      },
      db_call{"auth.refresh", db_scope{}, args.dump()});
}

void logout(const auth_deps& d, request& req, const responder& rsp) {
  auto who = authenticate(req, d.cfg(), rsp);
  if (!who)
    return;
  ask(*d.svc.sys, d.svc.db, d.deadline(), rsp,
      [](std::string&) { return no_content(); },
      db_call{"auth.logout", db_scope{"", who->user_id, false, ""},
              json{{"session_id", who->session_id}}.dump()});
}

void me(const auth_deps& d, request& req, const responder& rsp) {
  auto who = authenticate(req, d.cfg(), rsp);
  if (!who)
    return;
  auto product = product_of(req, d.cfg().product_domains)
                   .value_or(who->claims.value("product_context", std::string{}));
  auto current = who->org_id;
  auto picked = !req.header("x-organization-id").empty();
  ask(*d.svc.sys, d.svc.db, d.deadline(), rsp,
      [=](std::string& out) {
        auto body = json::parse(out);
        body["organization"] = nullptr;
        for (auto& o : body["organizations"])
          if (o["id"] == current)
            body["organization"] = o;
        // Naming an organization you do not belong to is refused, as on every other route.
        if (picked && body["organization"].is_null())
          return error_response(app_errc::forbidden, "you are not a member of this organization");
        body["product_context"] = product;
        return json_response(200, body);
      },
      db_call{"auth.me", db_scope{"", who->user_id, false, ""}, "{}"});
}

constexpr auto session_schema = R"({"type":"object","properties":{
  "user":{"type":"object"},"organization":{"type":"object","nullable":true},
  "organizations":{"type":"array","items":{"type":"object"}},
  "access_token":{"type":"string"},"refresh_token":{"type":"string"},
  "token_type":{"type":"string","enum":["bearer"]},"expires_in":{"type":"integer"},
  "redirect":{"type":"string"}}})";

constexpr auto credentials_schema = R"({"type":"object","required":["email","password"],
  "properties":{"email":{"type":"string","format":"email"},
  "password":{"type":"string","minLength":8,"maxLength":128},
  "name":{"type":"string"},"organization_name":{"type":"string"}}})";

template <class F>
handler bind(const auth_deps& d, F f) {
  return [d, f](request& req, const responder& rsp) { f(d, req, rsp); };
}

} // namespace

void add_auth_routes(route_table& routes, node_services svc) {
  auth_deps d{std::move(svc), std::make_shared<rate_limiter>()};
  routes.add("POST", "/api/auth/signup", bind(d, signup),
             route_doc{"Create an account and its organization for the request's product", "auth",
                       false, {201, 400, 409, 429}, credentials_schema, session_schema});
  routes.add("POST", "/api/auth/login", bind(d, login),
             route_doc{"Sign in with email and password", "auth", false, {200, 400, 401, 429},
                       credentials_schema, session_schema});
  routes.add("POST", "/api/auth/refresh", bind(d, refresh),
             route_doc{"Trade a refresh token for a new token pair (single use)", "auth", false,
                       {200, 400, 401},
                       R"({"type":"object","required":["refresh_token"],
                          "properties":{"refresh_token":{"type":"string"}}})",
                       session_schema});
  routes.add("POST", "/api/auth/logout", bind(d, logout),
             route_doc{"Sign out: revoke this session's refresh tokens", "auth", true, {204, 401}});
  routes.add("GET", "/api/auth/me", bind(d, me),
             route_doc{"The caller, their memberships and roles, and the product", "auth", true,
                       {200, 401}});
}

} // namespace djdash::http
