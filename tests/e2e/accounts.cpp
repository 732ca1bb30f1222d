#define CAF_SUITE e2e.accounts

// Accounts, product context and tenancy over the real binary: sign-up per product host, input
// validation, login and its rate limits, refresh rotation with reuse detection, logout, /me and
// access-token checks, organization switching, member-management rules, the platform-admin list,
// CORS and security headers. One node serves the whole suite (see shared_node).

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <set>
#include <stdexcept>

#include "accounts_harness.hpp"
#include "protocols/crypto.hpp"
#include "protocols/jwt.hpp"
#include "support/caf_test.hpp"

using namespace djdash;
using namespace std::chrono_literals;
using nlohmann::json;
using test::bearer;
using test::org_header;
using test::product;
using test::operator+;

namespace {

const std::string password = "correct horse battery";

/// One database and one node for every test of this suite, started on first use.
struct shared_node {
  test::pg_database db;
  std::string config_path;
  test::node n;

  shared_node()
    : config_path(test::write_config_file(test::relaxed_auth_config())),
      n(db.app_url(), db.owner_url(), {}, {"--config", config_path}) {
    if (!n.wait_listening())
      throw std::runtime_error("djdash did not start: " + n.process().output());
  }

  ~shared_node() {
    n.process().signal(SIGTERM);
    n.process().wait(20s);
    std::remove(config_path.c_str());
  }
};

shared_node& the_node() {
  static shared_node instance;
  return instance;
}

std::string unique_email(const std::string& tag) {
  static int counter = 0;
  return tag + "-" + std::to_string(++counter) + "-" + std::to_string(test::free_port())
         + "@example.com";
}

struct fixture {
  shared_node& s = the_node();
  test::api api{s.n.port()};

  const std::string& owner_url() const { return s.db.owner_url(); }

  /// Signs up a fresh account; requires 201.
  test::account make_account(const std::string& tag,
                             const test::header_list& where = product("tipjar"),
                             const std::string& org_name = {}) {
    auto email = unique_email(tag);
    auto r = api.signup(email, password, where, org_name);
    DJ_EXPECT_STATUS(r, 201, "signup " << email);
    CAF_REQUIRE_EQUAL(r->status, 201);
    return test::account::from(email, password, r->json());
  }

  /// Refreshes `a`'s tokens; requires 200.
  void refresh(test::account& a, const test::header_list& where = product("tipjar")) {
    auto r = api.refresh(a.refresh, where);
    DJ_EXPECT_STATUS(r, 200, "refresh of " << a.email);
    CAF_REQUIRE_EQUAL(r->status, 200);
    a.take_tokens(r->json());
  }

  /// Adds `who` to the current organization of `by` (optionally named by X-Organization-Id).
  std::optional<test::http_reply> add_member(const test::account& by, const std::string& email,
                                             const std::string& role,
                                             const test::header_list& extra = {}) {
    return api.call("POST", "/api/organizations/current/members",
                    json{{"email", email}, {"role", role}}, by.auth() + extra);
  }

  std::optional<test::http_reply> set_role(const test::account& by, const std::string& user_id,
                                           const std::string& role,
                                           const test::header_list& extra = {}) {
    return api.call("PATCH", "/api/organizations/current/members/" + user_id,
                    json{{"role", role}}, by.auth() + extra);
  }

  std::optional<test::http_reply> remove_member(const test::account& by,
                                                const std::string& user_id,
                                                const test::header_list& extra = {}) {
    return api.call("DELETE", "/api/organizations/current/members/" + user_id, std::string{},
                    by.auth() + extra);
  }
};

bool is_nonempty_string(const json& j, const char* key) {
  return j.is_object() && j.contains(key) && j[key].is_string() && !j[key].get<std::string>().empty();
}

bool has_keys(const json& j, std::initializer_list<const char*> keys) {
  if (!j.is_object())
    return false;
  for (auto k : keys)
    if (!j.contains(k))
      return false;
  return true;
}

int64_t now_s() {
  return static_cast<int64_t>(std::time(nullptr));
}

} // namespace

CAF_TEST_FIXTURE_SCOPE(accounts_tests, fixture)

CAF_TEST(signup on each product host yields the right product context organization and redirect) {
  struct host_case {
    test::header_list headers;
    std::string product_context;
    std::string redirect;
  };
  std::vector<host_case> cases{
    {{{"Host", "djdash.net"}}, "djdash", "/djdash/dashboard"},
    {{{"Host", "m10djcompany.com"}}, "m10dj", "/admin/dashboard"},
    {{{"Host", "tipjar.live"}}, "tipjar", "/tipjar/dashboard"},
    {{{"Host", "www.tipjar.live:443"}}, "tipjar", "/tipjar/dashboard"},
    {{{"Host", "app.djdash.net"}}, "djdash", "/djdash/dashboard"},
    {{{"Host", "www.m10djcompany.com"}}, "m10dj", "/admin/dashboard"},
    {{{"Host", "tipjar.live:8080"}}, "tipjar", "/tipjar/dashboard"},
    {{{"Host", "127.0.0.1"}, {"X-Product-Context", "djdash"}}, "djdash", "/djdash/dashboard"},
    {{{"Host", "localhost:8080"}, {"X-Product-Context", "m10dj"}}, "m10dj", "/admin/dashboard"},
    {{{"Host", "127.0.0.1"}, {"X-Product-Context", "tipjar"}}, "tipjar", "/tipjar/dashboard"},
    // A mapped host wins over the header.
    {{{"Host", "djdash.net"}, {"X-Product-Context", "tipjar"}}, "djdash", "/djdash/dashboard"},
    {{{"Host", "www.tipjar.live"}, {"X-Product-Context", "m10dj"}}, "tipjar", "/tipjar/dashboard"},
  };
  int i = 0;
  for (auto& c : cases) {
    auto host = c.headers.front().second;
    CAF_MESSAGE("host " << host << " -> " << c.product_context);
    // Mixed case in the address: stored and answered in lower case.
    auto email = "Host.Case" + std::to_string(++i) + "-" + std::to_string(test::free_port())
                 + "@Example.COM";
    json req{{"email", email}, {"password", password}, {"name", "DJ Number " + std::to_string(i)},
             {"organization_name", "Host Case " + std::to_string(i)}};
    auto r = api.call("POST", "/api/auth/signup", req, c.headers);
    DJ_EXPECT_STATUS(r, 201, "signup via " << host);
    if (r->status != 201)
      continue;
    auto body = r->json();
    auto user = body["user"];
    auto org = body["organization"];
    CAF_CHECK(is_nonempty_string(user, "id"));
    CAF_CHECK_EQUAL(user["email"], test::lower(email));
    CAF_CHECK_EQUAL(user["user_metadata"]["product_context"], c.product_context);
    CAF_CHECK_EQUAL(user["user_metadata"]["name"], req["name"]);
    CAF_CHECK(is_nonempty_string(org, "id"));
    CAF_CHECK(is_nonempty_string(org, "slug"));
    CAF_CHECK_EQUAL(org["name"], req["organization_name"]);
    CAF_CHECK_EQUAL(org["product_context"], c.product_context);
    CAF_CHECK_EQUAL(org["role"], "owner");
    CAF_REQUIRE(body["organizations"].is_array());
    CAF_CHECK_EQUAL(body["organizations"].size(), 1u);
    auto first = body["organizations"][0];
    CAF_CHECK_EQUAL(first["id"], org["id"]);
    CAF_CHECK_EQUAL(first["product_context"], c.product_context);
    CAF_CHECK_EQUAL(first["role"], "owner");
    CAF_CHECK(is_nonempty_string(body, "access_token"));
    CAF_CHECK(is_nonempty_string(body, "refresh_token"));
    CAF_CHECK_EQUAL(body["token_type"], "bearer");
    CAF_CHECK_EQUAL(body["expires_in"], 900);
    CAF_CHECK_EQUAL(body["redirect"], c.redirect);
    // The access token's claims.
    auto claims = test::jwt_payload(body.value("access_token", ""));
    CAF_REQUIRE(claims.is_object());
    CAF_CHECK_EQUAL(claims["sub"], user["id"]);
    CAF_CHECK_EQUAL(claims["email"], test::lower(email));
    CAF_CHECK_EQUAL(claims["role"], "authenticated");
    CAF_CHECK_EQUAL(claims["aud"], "authenticated");
    CAF_CHECK_EQUAL(claims["iss"], "djdash");
    CAF_REQUIRE(claims["iat"].is_number_integer() && claims["exp"].is_number_integer());
    auto iat = claims["iat"].get<int64_t>();
    auto exp = claims["exp"].get<int64_t>();
    CAF_CHECK_EQUAL(exp - iat, 900);
    CAF_CHECK_LESS_OR_EQUAL(std::abs(iat - now_s()), 60);
    CAF_CHECK(is_nonempty_string(claims, "session_id"));
    CAF_CHECK_EQUAL(claims["organization_id"], org["id"]);
    auto app_md = claims["app_metadata"];
    CAF_CHECK(has_keys(app_md, {"provider", "providers", "organization_ids", "platform_admin"}));
    auto org_ids = app_md["organization_ids"];
    CAF_CHECK_EQUAL(org_ids, json::array({org["id"]}));
    CAF_CHECK_EQUAL(app_md["platform_admin"], false);
    CAF_CHECK_EQUAL(claims["user_metadata"]["product_context"], c.product_context);
  }
}

CAF_TEST(signup without a product context is refused and creates nothing) {
  auto users_before = test::count_rows(owner_url(), "users");
  auto tenants_before = test::tenant_row_counts(owner_url());
  std::vector<test::header_list> no_product{
    {{"Host", "127.0.0.1"}},
    {{"Host", "localhost:8080"}},
    {{"Host", "djdash.net.evil.example"}},  // not a subdomain of a product domain
    {{"Host", "notdjdash.net"}},
    {{"Host", "tipjar.live.example.org"}},
  };
  for (auto& h : no_product) {
    auto email = unique_email("noproduct");
    auto r = api.signup(email, password, h);
    DJ_EXPECT_ERROR(r, 400, "bad_request", "signup via " << h.front().second);
  }
  // A header naming no product is no product either.
  auto r = api.signup(unique_email("badproduct"), password,
                      {{"Host", "127.0.0.1"}, {"X-Product-Context", "myspace"}});
  DJ_EXPECT_STATUS(r, 400, "X-Product-Context: myspace");
  auto users_after = test::count_rows(owner_url(), "users");
  auto tenants_after = test::tenant_row_counts(owner_url());
  CAF_CHECK_EQUAL(users_after, users_before);
  CAF_CHECK_EQUAL(test::describe(tenants_after), test::describe(tenants_before));
}

CAF_TEST(slugs come from the organization name or the user name and are made unique) {
  std::vector<std::string> slugs;
  for (int i = 0; i < 3; ++i) {
    auto a = make_account("slug", product("djdash"), "Slug Check Sound");
    slugs.push_back(a.org_slug);
  }
  CAF_CHECK_EQUAL(slugs[0], "slug-check-sound");
  CAF_CHECK_EQUAL(slugs[1], "slug-check-sound-2");
  CAF_CHECK_EQUAL(slugs[2], "slug-check-sound-3");
  // No organization name: the user's name.
  auto r = api.call("POST", "/api/auth/signup",
                    json{{"email", unique_email("named")}, {"password", password},
                         {"name", "Ana Lopez"}},
                    product("m10dj"));
  DJ_EXPECT_STATUS(r, 201, "signup with a name only");
  auto body = r->json();
  auto named_slug = body["organization"].value("slug", "");
  CAF_CHECK_EQUAL(named_slug.rfind("ana-lopez", 0), 0u);
  // Neither: still a valid, unique slug.
  auto bare1 = make_account("bare");
  auto bare2 = make_account("bare");
  CAF_CHECK(!bare1.org_slug.empty());
  CAF_CHECK_NOT_EQUAL(bare1.org_slug, bare2.org_slug);
}

CAF_TEST(invalid signup input is refused field by field and creates nothing) {
  auto users_before = test::count_rows(owner_url(), "users");
  auto tenants_before = test::tenant_row_counts(owner_url());
  auto sessions_before = test::count_rows(owner_url(), "sessions");
  auto e1 = unique_email("short");
  auto e2 = unique_email("long");
  auto e3 = unique_email("badname");
  auto e4 = unique_email("badorg");
  auto e5 = unique_email("numpass");
  struct bad_case {
    std::string what;
    std::string body;
  };
  std::vector<bad_case> cases{
    {"not JSON", "{\"email\": "},
    {"a JSON array", "[]"},
    {"a JSON string", "\"hello\""},
    {"an empty object", "{}"},
    {"no email", json{{"password", password}}.dump()},
    {"email not a string", json{{"email", 42}, {"password", password}}.dump()},
    {"email null", json{{"email", nullptr}, {"password", password}}.dump()},
    {"email empty", json{{"email", ""}, {"password", password}}.dump()},
    {"email without @", json{{"email", "no-at-sign.example.com"}, {"password", password}}.dump()},
    {"email without domain", json{{"email", "someone@"}, {"password", password}}.dump()},
    {"email without local part", json{{"email", "@example.com"}, {"password", password}}.dump()},
    {"email with a space", json{{"email", "sp ace@example.com"}, {"password", password}}.dump()},
    {"email too long",
     json{{"email", std::string(330, 'a') + "@example.com"}, {"password", password}}.dump()},
    {"no password", json{{"email", unique_email("nopass")}}.dump()},
    {"password of 7", json{{"email", e1}, {"password", "1234567"}}.dump()},
    {"password of 129", json{{"email", e2}, {"password", std::string(129, 'p')}}.dump()},
    {"password a number", json{{"email", e5}, {"password", 12345678}}.dump()},
    {"name not a string", json{{"email", e3}, {"password", password}, {"name", 42}}.dump()},
    {"organization_name not a string",
     json{{"email", e4}, {"password", password}, {"organization_name", json::object()}}.dump()},
  };
  for (auto& c : cases) {
    auto r = api.call("POST", "/api/auth/signup", c.body, product("tipjar"));
    DJ_EXPECT_STATUS(r, 400, "signup with " << c.what);
    auto body = r->json();
    CAF_CHECK(is_nonempty_string(body["error"], "code"));
    CAF_CHECK(is_nonempty_string(body["error"], "message"));
  }
  auto users_after = test::count_rows(owner_url(), "users");
  auto tenants_after = test::tenant_row_counts(owner_url());
  auto sessions_after = test::count_rows(owner_url(), "sessions");
  CAF_CHECK_EQUAL(users_after, users_before);
  CAF_CHECK_EQUAL(sessions_after, sessions_before);
  CAF_CHECK_EQUAL(test::describe(tenants_after), test::describe(tenants_before));
  // No account came into being: logging in with those addresses fails.
  for (auto& [email, pw] : std::vector<std::pair<std::string, std::string>>{
         {e1, "1234567"}, {e2, std::string(129, 'p')}, {e3, password}}) {
    auto r = api.login(email, pw);
    DJ_EXPECT_ERROR(r, 401, "unauthorized", "login after refused signup " << email);
  }
  // The boundaries are accepted: 8 and 128 characters.
  auto r8 = api.signup(unique_email("pw8"), "12345678", product("tipjar"));
  DJ_EXPECT_STATUS(r8, 201, "password of 8");
  auto r128 = api.signup(unique_email("pw128"), std::string(128, 'q'), product("tipjar"));
  DJ_EXPECT_STATUS(r128, 201, "password of 128");
  // An over-long organization name is a 4xx or a shortened name, never a 5xx.
  auto long_org = api.signup(unique_email("longorg"), password, product("tipjar"),
                             std::string(300, 'x'));
  CAF_REQUIRE(long_org);
  CAF_CHECK_LESS(long_org->status, 500);
}

CAF_TEST(an email already registered is a conflict whatever its case or product) {
  auto a = make_account("dup");
  auto tenants_before = test::tenant_row_counts(owner_url());
  auto users_before = test::count_rows(owner_url(), "users");
  auto upper = a.email;
  for (auto& c : upper)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  std::vector<std::pair<std::string, test::header_list>> attempts{
    {a.email, product("tipjar")},
    {upper, product("tipjar")},
    {a.email, {{"Host", "djdash.net"}}},
  };
  for (auto& [email, where] : attempts) {
    auto r = api.signup(email, "another password", where);
    DJ_EXPECT_ERROR(r, 409, "conflict", "second signup as " << email);
  }
  auto tenants_after = test::tenant_row_counts(owner_url());
  auto users_after = test::count_rows(owner_url(), "users");
  CAF_CHECK_EQUAL(users_after, users_before);
  CAF_CHECK_EQUAL(test::describe(tenants_after), test::describe(tenants_before));
  // The first password still works, with the address in any case.
  auto r = api.login(upper, password);
  DJ_EXPECT_STATUS(r, 200, "login with the upper-case address");
  auto body = r->json();
  CAF_CHECK_EQUAL(body["user"]["email"], a.email);
  CAF_CHECK_EQUAL(body["user"]["id"], a.user_id);
}

CAF_TEST(login answers the signup shape and one identical 401 for unknown email or wrong password) {
  auto a = make_account("login", {{"Host", "tipjar.live"}}, "Login Sound");
  auto r = api.login(a.email, password, {{"Host", "www.tipjar.live"}});
  DJ_EXPECT_STATUS(r, 200, "login");
  auto body = r->json();
  CAF_CHECK_EQUAL(body["user"]["id"], a.user_id);
  CAF_CHECK_EQUAL(body["user"]["email"], a.email);
  CAF_CHECK_EQUAL(body["user"]["user_metadata"]["product_context"], "tipjar");
  CAF_CHECK_EQUAL(body["organization"]["id"], a.org_id);
  CAF_CHECK_EQUAL(body["organization"]["slug"], a.org_slug);
  CAF_CHECK_EQUAL(body["organization"]["product_context"], "tipjar");
  CAF_CHECK_EQUAL(body["organization"]["role"], "owner");
  CAF_CHECK(body["organizations"].is_array());
  CAF_CHECK_EQUAL(body["organizations"].size(), 1u);
  CAF_CHECK_EQUAL(body["token_type"], "bearer");
  CAF_CHECK_EQUAL(body["expires_in"], 900);
  CAF_CHECK_EQUAL(body["redirect"], "/tipjar/dashboard");
  CAF_CHECK(is_nonempty_string(body, "refresh_token"));
  CAF_CHECK_NOT_EQUAL(body.value("refresh_token", ""), a.refresh);
  auto claims = test::jwt_payload(body.value("access_token", ""));
  auto signup_claims = test::jwt_payload(a.access);
  CAF_CHECK_EQUAL(claims["sub"], a.user_id);
  CAF_CHECK_EQUAL(claims["organization_id"], a.org_id);
  // A new sign-in is a new session.
  CAF_CHECK(is_nonempty_string(claims, "session_id"));
  CAF_CHECK_NOT_EQUAL(claims["session_id"], signup_claims["session_id"]);
  // The login's token works.
  auto me = api.get("/api/auth/me", bearer(body.value("access_token", "")));
  DJ_EXPECT_STATUS(me, 200, "/me with the login's token");
  // Wrong password and unknown email: the same status and the same bytes.
  auto wrong = api.login(a.email, "not the password");
  auto unknown = api.login(unique_email("nobody"), password);
  DJ_EXPECT_ERROR(wrong, 401, "unauthorized", "wrong password");
  DJ_EXPECT_ERROR(unknown, 401, "unauthorized", "unknown email");
  CAF_CHECK_EQUAL(wrong->body, unknown->body);
  auto wrong_body = wrong->json();
  auto expected = json::parse(R"({"error":{"code":"unauthorized","message":"invalid email or password"}})");
  CAF_CHECK_EQUAL(wrong_body, expected);
  // Malformed login input is a 400, not a 401 or a 5xx.
  auto garbage = api.call("POST", "/api/auth/login", std::string{"{\"email\":"}, product("tipjar"));
  DJ_EXPECT_STATUS(garbage, 400, "login with a body that is not JSON");
}

CAF_TEST(a brute force login loop is cut off with 429 and Retry-After even for the right password) {
  auto victim = make_account("victim");
  auto bystander = make_account("bystander");
  // Failed attempts with the address in varying case all count against the one account.
  std::vector<std::string> spellings{victim.email, test::lower(victim.email)};
  auto upper = victim.email;
  for (auto& c : upper)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  spellings.push_back(upper);
  for (int attempt = 1; attempt <= 5; ++attempt) {
    auto r = api.login(spellings[attempt % spellings.size()], "guess-" + std::to_string(attempt));
    DJ_EXPECT_ERROR(r, 401, "unauthorized", "failed attempt " << attempt);
  }
  auto limited = api.login(victim.email, "guess-6");
  DJ_EXPECT_ERROR(limited, 429, "rate_limited", "sixth failed attempt");
  auto retry_after = limited->header("retry-after");
  CAF_REQUIRE(!retry_after.empty());
  auto seconds = std::stol(retry_after);
  CAF_CHECK_GREATER(seconds, 0);
  CAF_CHECK_LESS_OR_EQUAL(seconds, 900);
  // Once limited, the right password is refused too.
  auto right = api.login(victim.email, password);
  DJ_EXPECT_ERROR(right, 429, "rate_limited", "right password after the limit");
  CAF_CHECK(!right->header("retry-after").empty());
  auto right_upper = api.login(upper, password);
  DJ_EXPECT_ERROR(right_upper, 429, "rate_limited", "right password, upper case, after the limit");
  // The limit is per account: another account still signs in.
  auto other = api.login(bystander.email, password);
  DJ_EXPECT_STATUS(other, 200, "another account during the lockout");
  // Unknown addresses are limited the same way (no account enumeration through the limiter).
  auto ghost = unique_email("ghost");
  for (int attempt = 1; attempt <= 5; ++attempt) {
    auto r = api.login(ghost, "guess-" + std::to_string(attempt));
    DJ_EXPECT_ERROR(r, 401, "unauthorized", "unknown account, attempt " << attempt);
  }
  auto ghost_limited = api.login(ghost, "guess-6");
  DJ_EXPECT_ERROR(ghost_limited, 429, "rate_limited", "unknown account, sixth attempt");
  CAF_CHECK(!ghost_limited->header("retry-after").empty());
}

CAF_TEST(per ip limits cut off signups and logins) {
  // Its own database and node: the per-IP counters must start from zero.
  test::pg_database db;
  auto config = test::relaxed_auth_config();
  config["auth"]["login_ip_limit"] = 3;
  config["auth"]["login_ip_window_s"] = 300;
  config["auth"]["signup_ip_limit"] = 2;
  config["auth"]["signup_ip_window_s"] = 3600;
  auto path = test::write_config_file(config);
  test::node n{db.app_url(), db.owner_url(), {}, {"--config", path}};
  CAF_REQUIRE(n.wait_listening());
  test::api local{n.port()};
  auto e1 = unique_email("ip1");
  auto e2 = unique_email("ip2");
  DJ_EXPECT_STATUS(local.signup(e1, password, product("tipjar")), 201, "first signup");
  DJ_EXPECT_STATUS(local.signup(e2, password, product("djdash")), 201, "second signup");
  auto third = local.signup(unique_email("ip3"), password, product("m10dj"));
  DJ_EXPECT_ERROR(third, 429, "rate_limited", "third signup from one IP");
  auto retry = third->header("retry-after");
  CAF_REQUIRE(!retry.empty());
  CAF_CHECK_GREATER(std::stol(retry), 0);
  CAF_CHECK_LESS_OR_EQUAL(std::stol(retry), 3600);
  // Logins: every attempt from the IP counts, successful or not.
  DJ_EXPECT_STATUS(local.login(e1, password), 200, "login 1");
  DJ_EXPECT_STATUS(local.login(e2, "wrong password"), 401, "login 2");
  DJ_EXPECT_STATUS(local.login(e2, password), 200, "login 3");
  auto fourth = local.login(e1, password);
  DJ_EXPECT_ERROR(fourth, 429, "rate_limited", "fourth login from one IP");
  auto login_retry = fourth->header("retry-after");
  CAF_REQUIRE(!login_retry.empty());
  CAF_CHECK_GREATER(std::stol(login_retry), 0);
  CAF_CHECK_LESS_OR_EQUAL(std::stol(login_retry), 300);
  n.process().signal(SIGTERM);
  n.process().wait(20s);
  std::remove(path.c_str());
}

CAF_TEST(refresh rotates the pair and reusing a rotated token revokes the whole family) {
  auto a = make_account("rotate");
  auto r0 = a.refresh;
  auto session = test::jwt_payload(a.access)["session_id"];
  auto first = api.refresh(r0);
  DJ_EXPECT_STATUS(first, 200, "first refresh");
  auto body = first->json();
  CAF_CHECK(has_keys(body, {"user", "organization", "organizations", "access_token",
                            "refresh_token", "token_type", "expires_in", "redirect"}));
  CAF_CHECK_EQUAL(body["user"]["id"], a.user_id);
  CAF_CHECK_EQUAL(body["organization"]["id"], a.org_id);
  CAF_CHECK_EQUAL(body["token_type"], "bearer");
  CAF_CHECK_EQUAL(body["expires_in"], 900);
  auto r1 = body.value("refresh_token", "");
  auto a1 = body.value("access_token", "");
  CAF_CHECK(!r1.empty());
  CAF_CHECK_NOT_EQUAL(r1, r0);
  CAF_CHECK_NOT_EQUAL(a1, a.access);
  auto claims1 = test::jwt_payload(a1);
  CAF_CHECK_EQUAL(claims1["session_id"], session);
  CAF_CHECK_EQUAL(claims1["sub"], a.user_id);
  DJ_EXPECT_STATUS(api.get("/api/auth/me", bearer(a1)), 200, "/me with the refreshed token");
  auto second = api.refresh(r1);
  DJ_EXPECT_STATUS(second, 200, "second refresh");
  auto r2 = second->json().value("refresh_token", "");
  CAF_CHECK(!r2.empty());
  // A second, independent session of the same user.
  auto other = api.login(a.email, password);
  DJ_EXPECT_STATUS(other, 200, "second session");
  auto other_refresh = other->json().value("refresh_token", "");
  // Reuse of the first, long-rotated token: 401 and the family is gone.
  auto reuse = api.refresh(r0);
  DJ_EXPECT_ERROR(reuse, 401, "unauthorized", "reuse of a rotated refresh token");
  auto newest = api.refresh(r2);
  DJ_EXPECT_ERROR(newest, 401, "unauthorized", "newest token of the revoked family");
  auto middle = api.refresh(r1);
  DJ_EXPECT_ERROR(middle, 401, "unauthorized", "middle token of the revoked family");
  // The other session is untouched.
  auto other_ok = api.refresh(other_refresh);
  DJ_EXPECT_STATUS(other_ok, 200, "refresh of the other session");
  // Unknown and malformed tokens.
  DJ_EXPECT_ERROR(api.refresh(crypto::random_token()), 401, "unauthorized", "unknown token");
  DJ_EXPECT_ERROR(api.refresh("not a token"), 401, "unauthorized", "garbage token");
  auto missing = api.call("POST", "/api/auth/refresh", json::object(), product("tipjar"));
  CAF_REQUIRE(missing);
  CAF_CHECK(missing->status == 400 || missing->status == 401);
}

CAF_TEST(logout revokes the refresh tokens of its session only) {
  auto a = make_account("logout");
  auto login = api.login(a.email, password);
  DJ_EXPECT_STATUS(login, 200, "login");
  auto session = test::account::from(a.email, password, login->json());
  DJ_EXPECT_ERROR(api.call("POST", "/api/auth/logout"), 401, "unauthorized",
                  "logout without a token");
  DJ_EXPECT_ERROR(api.call("POST", "/api/auth/logout", std::string{}, bearer("garbage")), 401,
                  "unauthorized", "logout with a garbage token");
  auto out = api.call("POST", "/api/auth/logout", std::string{}, session.auth());
  DJ_EXPECT_STATUS(out, 204, "logout");
  CAF_CHECK(out->body.empty());
  DJ_EXPECT_ERROR(api.refresh(session.refresh), 401, "unauthorized",
                  "refresh after logout");
  // The sign-up session is another session and still refreshes.
  DJ_EXPECT_STATUS(api.refresh(a.refresh), 200, "refresh of the other session");
}

CAF_TEST(me accepts only valid unexpired HS256 tokens signed with the node secret) {
  auto a = make_account("me", {{"Host", "djdash.net"}}, "Me Sound");
  auto me = api.get("/api/auth/me", a.auth());
  DJ_EXPECT_STATUS(me, 200, "/me");
  auto body = me->json();
  CAF_CHECK_EQUAL(body["user"]["id"], a.user_id);
  CAF_CHECK_EQUAL(body["user"]["email"], a.email);
  CAF_CHECK_EQUAL(body["organization"]["id"], a.org_id);
  CAF_CHECK_EQUAL(body["product_context"], "djdash");
  CAF_REQUIRE(body["organizations"].is_array());
  CAF_REQUIRE_EQUAL(body["organizations"].size(), 1u);
  auto first = body["organizations"][0];
  CAF_CHECK(has_keys(first, {"id", "slug", "name", "product_context", "role"}));
  CAF_CHECK_EQUAL(first["id"], a.org_id);
  CAF_CHECK_EQUAL(first["slug"], a.org_slug);
  CAF_CHECK_EQUAL(first["name"], "Me Sound");
  CAF_CHECK_EQUAL(first["product_context"], "djdash");
  CAF_CHECK_EQUAL(first["role"], "owner");

  auto claims = test::jwt_payload(a.access);
  CAF_REQUIRE(claims.is_object());
  auto secret = test::node_jwt_secret();
  // Control: the same claims re-signed with the node's secret are accepted, so the refusals
  // below are about the one thing each case changes.
  auto resigned = jwt::sign(claims, secret);
  DJ_EXPECT_STATUS(api.get("/api/auth/me", bearer(resigned)), 200, "re-signed token");

  auto with = [&](auto change) {
    auto c = claims;
    change(c);
    return c;
  };
  auto b64 = [](const std::string& s) { return crypto::base64url_encode(s); };
  auto dot1 = a.access.find('.');
  auto dot2 = a.access.find('.', dot1 + 1);
  auto real_signature = a.access.substr(dot2 + 1);
  auto expired = with([](json& c) {
    c["iat"] = now_s() - 2000;
    c["exp"] = now_s() - 1000;
  });
  auto tampered = with([](json& c) { c["sub"] = "00000000-0000-4000-8000-000000000000"; });
  struct bad_case {
    std::string what;
    test::header_list headers;
  };
  std::vector<bad_case> cases{
    {"no Authorization header", {}},
    {"an empty bearer", {{"Authorization", "Bearer "}}},
    {"garbage", bearer("garbage")},
    {"three garbage parts", bearer("a.b.c")},
    {"Basic scheme", {{"Authorization", "Basic " + a.access}}},
    {"the token without a scheme", {{"Authorization", a.access}}},
    {"another secret", bearer(jwt::sign(claims, std::string(64, 'x')))},
    {"expired, node secret", bearer(jwt::sign(expired, secret))},
    {"payload swapped under the real signature",
     bearer(b64(R"({"alg":"HS256","typ":"JWT"})") + "." + b64(tampered.dump()) + "."
            + real_signature)},
    {"alg none, no signature",
     bearer(b64(R"({"alg":"none","typ":"JWT"})") + "." + b64(claims.dump()) + ".")},
    {"alg none, real signature",
     bearer(b64(R"({"alg":"none","typ":"JWT"})") + "." + b64(claims.dump()) + "."
            + real_signature)},
    {"alg HS512 header",
     bearer(jwt::sign_raw(R"({"alg":"HS512","typ":"JWT"})", claims.dump(), secret))},
    {"another audience",
     bearer(jwt::sign(with([](json& c) { c["aud"] = "service_role"; }), secret))},
    {"another issuer", bearer(jwt::sign(with([](json& c) { c["iss"] = "evil"; }), secret))},
    {"a signature cut short", bearer(a.access.substr(0, a.access.size() - 4))},
  };
  for (auto& c : cases) {
    auto r = api.get("/api/auth/me", c.headers);
    DJ_EXPECT_ERROR(r, 401, "unauthorized", "/me with " << c.what);
  }
}

CAF_TEST(X-Organization-Id switches between the organizations of one user) {
  auto u = make_account("switcher", product("tipjar"), "Switcher Tips");
  auto v = make_account("host", {{"Host", "djdash.net"}}, "Host Dash");
  auto w = make_account("stranger", {{"Host", "m10djcompany.com"}}, "Stranger Co");
  auto added = add_member(v, u.email, "admin");
  DJ_EXPECT_STATUS(added, 201, "add u to v's org");
  auto member = added->json();
  CAF_CHECK(has_keys(member, {"id", "organization_id", "user_id", "email", "role", "created_at",
                              "updated_at", "version"}));
  CAF_CHECK_EQUAL(member["organization_id"], v.org_id);
  CAF_CHECK_EQUAL(member["user_id"], u.user_id);
  CAF_CHECK_EQUAL(member["email"], u.email);
  CAF_CHECK_EQUAL(member["role"], "admin");
  // A fresh token names both organizations; the current one stays the tipjar one.
  refresh(u, product("tipjar"));
  auto claims = test::jwt_payload(u.access);
  CAF_CHECK_EQUAL(claims["organization_id"], u.org_id);
  auto ids = claims["app_metadata"]["organization_ids"];
  CAF_REQUIRE(ids.is_array());
  std::set<std::string> id_set;
  for (auto& id : ids)
    id_set.insert(id.get<std::string>());
  CAF_CHECK_EQUAL(id_set, (std::set<std::string>{u.org_id, v.org_id}));

  auto current = api.get("/api/organizations/current", u.auth());
  DJ_EXPECT_STATUS(current, 200, "current org, no header");
  auto cur = current->json();
  CAF_CHECK_EQUAL(cur["id"], u.org_id);
  CAF_CHECK_EQUAL(cur["product_context"], "tipjar");
  auto other = api.get("/api/organizations/current", u.auth() + org_header(v.org_id));
  DJ_EXPECT_STATUS(other, 200, "current org, X-Organization-Id of the second org");
  auto oth = other->json();
  CAF_CHECK_EQUAL(oth["id"], v.org_id);
  CAF_CHECK_EQUAL(oth["name"], "Host Dash");
  CAF_CHECK_EQUAL(oth["product_context"], "djdash");
  CAF_CHECK(has_keys(oth, {"id", "product_context", "name", "slug", "sms_number", "timezone",
                           "settings", "stripe_connect_account_id", "created_at", "updated_at",
                           "version"}));
  auto me = api.get("/api/auth/me", u.auth() + org_header(v.org_id));
  DJ_EXPECT_STATUS(me, 200, "/me with X-Organization-Id");
  auto me_body = me->json();
  CAF_CHECK_EQUAL(me_body["organization"]["id"], v.org_id);
  CAF_REQUIRE(me_body["organizations"].is_array());
  CAF_CHECK_EQUAL(me_body["organizations"].size(), 2u);
  std::map<std::string, std::string> roles;
  for (auto& o : me_body["organizations"])
    roles[o.value("id", "")] = o.value("role", "");
  CAF_CHECK_EQUAL(roles[u.org_id], "owner");
  CAF_CHECK_EQUAL(roles[v.org_id], "admin");
  // u is an admin of v's org: the member list is open to them there.
  DJ_EXPECT_STATUS(api.get("/api/organizations/current/members", u.auth() + org_header(v.org_id)),
                   200, "members of the second org as its admin");
  // An organization u does not belong to, one that does not exist, and a malformed id.
  DJ_EXPECT_ERROR(api.get("/api/organizations/current", u.auth() + org_header(w.org_id)), 403,
                  "forbidden", "X-Organization-Id of a stranger's org");
  DJ_EXPECT_ERROR(api.get("/api/organizations/current",
                          u.auth() + org_header("6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b")),
                  403, "forbidden", "X-Organization-Id of no org");
  DJ_EXPECT_STATUS(api.get("/api/organizations/current", u.auth() + org_header("not-a-uuid")), 400,
                   "malformed X-Organization-Id");
  DJ_EXPECT_STATUS(api.get("/api/auth/me", u.auth() + org_header(w.org_id)), 403,
                   "/me with X-Organization-Id of a stranger's org");
  // Login on the djdash host picks the djdash organization as the current one.
  auto login = api.login(u.email, password, {{"Host", "app.djdash.net"}});
  DJ_EXPECT_STATUS(login, 200, "login on djdash");
  auto login_body = login->json();
  CAF_CHECK_EQUAL(login_body["organization"]["id"], v.org_id);
  CAF_CHECK_EQUAL(login_body["organization"]["role"], "admin");
  CAF_CHECK_EQUAL(login_body["redirect"], "/djdash/dashboard");
  CAF_CHECK_EQUAL(login_body["organizations"].size(), 2u);
  auto login_claims = test::jwt_payload(login_body.value("access_token", ""));
  CAF_CHECK_EQUAL(login_claims["organization_id"], v.org_id);
  // Removed from v's org, u loses it at once, although u's token still names it.
  DJ_EXPECT_STATUS(remove_member(v, u.user_id), 204, "remove u from v's org");
  DJ_EXPECT_ERROR(api.get("/api/organizations/current", u.auth() + org_header(v.org_id)), 403,
                  "forbidden", "X-Organization-Id of an org u was removed from");
  auto after = api.get("/api/auth/me", u.auth());
  DJ_EXPECT_STATUS(after, 200, "/me after removal");
  auto after_body = after->json();
  CAF_CHECK_EQUAL(after_body["organizations"].size(), 1u);
}

CAF_TEST(member management follows the role rules) {
  auto own = make_account("own", {{"Host", "djdash.net"}}, "Rules Dash");
  auto adm = make_account("adm");
  auto mem = make_account("mem");
  auto out = make_account("out");
  auto o = org_header(own.org_id);
  DJ_EXPECT_STATUS(add_member(own, adm.email, "admin"), 201, "owner adds an admin");
  DJ_EXPECT_STATUS(add_member(own, mem.email, "member"), 201, "owner adds a member");
  // Adding errors.
  DJ_EXPECT_ERROR(add_member(own, adm.email, "member"), 409, "conflict", "already a member");
  auto adm_upper = adm.email;
  for (auto& c : adm_upper)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  DJ_EXPECT_ERROR(add_member(own, adm_upper, "member"), 409, "conflict",
                  "already a member, upper-case address");
  DJ_EXPECT_ERROR(add_member(own, unique_email("nobody"), "member"), 404, "not_found",
                  "unknown email");
  DJ_EXPECT_STATUS(add_member(own, out.email, "superuser"), 400, "bad role");
  // The contract is {email, role}: a missing role is a 400 (a dedicated account, so that a
  // server that defaults the role does not disturb the rest of this test).
  auto norole = make_account("norole");
  DJ_EXPECT_STATUS(api.call("POST", "/api/organizations/current/members",
                            json{{"email", norole.email}}, own.auth()),
                   400, "no role");
  remove_member(own, norole.user_id);  // in case it was added anyway
  DJ_EXPECT_STATUS(api.call("POST", "/api/organizations/current/members",
                            json{{"role", "member"}}, own.auth()),
                   400, "no email");
  DJ_EXPECT_STATUS(api.call("POST", "/api/organizations/current/members", std::string{"[1,2"},
                            own.auth()),
                   400, "not JSON");
  // The list.
  auto list = api.get("/api/organizations/current/members", own.auth());
  DJ_EXPECT_STATUS(list, 200, "member list");
  auto list_body = list->json();
  CAF_CHECK(list_body.contains("next_cursor") && list_body["next_cursor"].is_null());
  CAF_REQUIRE(list_body["items"].is_array());
  CAF_CHECK_EQUAL(list_body["items"].size(), 3u);
  std::map<std::string, std::string> roles;
  for (auto& m : list_body["items"]) {
    CAF_CHECK(has_keys(m, {"id", "organization_id", "user_id", "email", "role", "created_at",
                           "updated_at", "version"}));
    CAF_CHECK_EQUAL(m["organization_id"], own.org_id);
    roles[m.value("email", "")] = m.value("role", "");
  }
  CAF_CHECK_EQUAL(roles, (std::map<std::string, std::string>{
                           {own.email, "owner"}, {adm.email, "admin"}, {mem.email, "member"}}));
  refresh(adm);
  refresh(mem);
  // A plain member: reads the org, manages nothing.
  DJ_EXPECT_STATUS(api.get("/api/organizations/current", mem.auth() + o), 200, "member reads org");
  DJ_EXPECT_ERROR(api.call("PATCH", "/api/organizations/current", json{{"name", "Mine now"}},
                           mem.auth() + o),
                  403, "forbidden", "member patches org");
  DJ_EXPECT_ERROR(api.get("/api/organizations/current/members", mem.auth() + o), 403, "forbidden",
                  "member lists members");
  DJ_EXPECT_ERROR(add_member(mem, out.email, "member", o), 403, "forbidden", "member adds");
  DJ_EXPECT_ERROR(set_role(mem, mem.user_id, "admin", o), 403, "forbidden",
                  "member promotes self");
  DJ_EXPECT_ERROR(set_role(mem, adm.user_id, "member", o), 403, "forbidden",
                  "member demotes admin");
  DJ_EXPECT_ERROR(remove_member(mem, adm.user_id, o), 403, "forbidden", "member removes admin");
  // An admin: manages members and admins, never the owner role.
  DJ_EXPECT_STATUS(api.get("/api/organizations/current/members", adm.auth() + o), 200,
                   "admin lists members");
  DJ_EXPECT_ERROR(add_member(adm, out.email, "owner", o), 403, "forbidden", "admin adds an owner");
  DJ_EXPECT_ERROR(set_role(adm, mem.user_id, "owner", o), 403, "forbidden",
                  "admin grants owner");
  DJ_EXPECT_ERROR(set_role(adm, adm.user_id, "owner", o), 403, "forbidden",
                  "admin grants self owner");
  DJ_EXPECT_ERROR(set_role(adm, own.user_id, "admin", o), 403, "forbidden",
                  "admin revokes owner");
  DJ_EXPECT_ERROR(remove_member(adm, own.user_id, o), 403, "forbidden", "admin removes owner");
  auto promoted = set_role(adm, mem.user_id, "admin", o);
  DJ_EXPECT_STATUS(promoted, 200, "admin promotes member to admin");
  auto promoted_body = promoted->json();
  CAF_CHECK_EQUAL(promoted_body["role"], "admin");
  CAF_CHECK_EQUAL(promoted_body["user_id"], mem.user_id);
  CAF_CHECK_EQUAL(promoted_body["organization_id"], own.org_id);
  CAF_CHECK(promoted_body["version"].is_number_integer()
            && promoted_body["version"].get<int64_t>() >= 2);
  DJ_EXPECT_STATUS(set_role(adm, mem.user_id, "member", o), 200, "admin demotes back");
  // Bad targets and bad roles.
  DJ_EXPECT_ERROR(set_role(own, out.user_id, "member"), 404, "not_found",
                  "patch a user who is not a member");
  DJ_EXPECT_ERROR(remove_member(own, out.user_id), 404, "not_found",
                  "remove a user who is not a member");
  DJ_EXPECT_ERROR(set_role(own, "not-a-uuid", "member"), 404, "not_found", "malformed user id");
  DJ_EXPECT_ERROR(remove_member(own, "not-a-uuid"), 404, "not_found", "remove malformed user id");
  DJ_EXPECT_STATUS(set_role(own, mem.user_id, "king"), 400, "patch to a bad role");
  DJ_EXPECT_STATUS(api.call("PATCH", "/api/organizations/current/members/" + mem.user_id,
                            json::object(), own.auth()),
                   400, "patch without a role");
  // The last owner can neither be demoted nor leave.
  DJ_EXPECT_ERROR(set_role(own, own.user_id, "admin"), 409, "conflict", "last owner demotes self");
  DJ_EXPECT_ERROR(remove_member(own, own.user_id), 409, "conflict", "last owner leaves");
  // Owners grant and revoke the owner role.
  DJ_EXPECT_STATUS(set_role(own, adm.user_id, "owner"), 200, "owner makes a second owner");
  DJ_EXPECT_STATUS(set_role(adm, own.user_id, "admin", o), 200, "second owner demotes the first");
  DJ_EXPECT_ERROR(set_role(own, adm.user_id, "admin"), 403, "forbidden",
                  "the demoted owner, now admin, revokes the owner");
  DJ_EXPECT_ERROR(remove_member(adm, adm.user_id, o), 409, "conflict", "the new last owner leaves");
  DJ_EXPECT_STATUS(set_role(adm, own.user_id, "owner", o), 200, "owner role restored");
  // An admin removes a member; anyone removes themselves.
  DJ_EXPECT_STATUS(remove_member(adm, mem.user_id, o), 204, "admin removes a member");
  DJ_EXPECT_ERROR(api.get("/api/organizations/current", mem.auth() + o), 403, "forbidden",
                  "removed member reads org");
  DJ_EXPECT_STATUS(add_member(own, mem.email, "member"), 201, "member added again");
  DJ_EXPECT_STATUS(remove_member(mem, mem.user_id, o), 204, "member leaves");
  DJ_EXPECT_ERROR(api.get("/api/organizations/current", mem.auth() + o), 403, "forbidden",
                  "member who left reads org");
  auto final_list = api.get("/api/organizations/current/members", own.auth());
  DJ_EXPECT_STATUS(final_list, 200, "final member list");
  auto final_body = final_list->json();
  std::map<std::string, std::string> final_roles;
  for (auto& m : final_body["items"])
    final_roles[m.value("email", "")] = m.value("role", "");
  CAF_CHECK_EQUAL(final_roles, (std::map<std::string, std::string>{{own.email, "owner"},
                                                                   {adm.email, "owner"}}));
}

CAF_TEST(the organization profile is read by members and updated by admins with validation) {
  auto a = make_account("profile", {{"Host", "m10djcompany.com"}}, "Profile Sound");
  auto b = make_account("rival", {{"Host", "m10djcompany.com"}}, "Rival Sound");
  auto got = api.get("/api/organizations/current", a.auth());
  DJ_EXPECT_STATUS(got, 200, "read org");
  auto org = got->json();
  CAF_CHECK(has_keys(org, {"id", "product_context", "name", "slug", "sms_number", "timezone",
                           "settings", "stripe_connect_account_id", "created_at", "updated_at",
                           "version"}));
  CAF_CHECK_EQUAL(org["id"], a.org_id);
  CAF_CHECK_EQUAL(org["product_context"], "m10dj");
  CAF_CHECK_EQUAL(org["name"], "Profile Sound");
  auto version = org.value("version", int64_t{0});
  auto patch = [&](const json& body, const test::account& who) {
    return api.call("PATCH", "/api/organizations/current", body, who.auth());
  };
  auto updated = patch(json{{"name", "Profile Sound II"},
                            {"timezone", "Europe/Berlin"},
                            {"sms_number", "+15551230001"},
                            {"settings", {{"accepting_requests", true}, {"minimum", 500}}}},
                       a);
  DJ_EXPECT_STATUS(updated, 200, "patch org");
  auto up = updated->json();
  CAF_CHECK_EQUAL(up["name"], "Profile Sound II");
  CAF_CHECK_EQUAL(up["timezone"], "Europe/Berlin");
  CAF_CHECK_EQUAL(up["sms_number"], "+15551230001");
  CAF_CHECK_EQUAL(up["settings"]["accepting_requests"], true);
  CAF_CHECK_EQUAL(up["settings"]["minimum"], 500);
  CAF_CHECK_GREATER(up.value("version", int64_t{0}), version);
  // Settings merge key by key; null deletes a key.
  auto merged = patch(json{{"settings", {{"minimum", nullptr}, {"theme", "dark"}}}}, a);
  DJ_EXPECT_STATUS(merged, 200, "merge settings");
  auto mg = merged->json();
  CAF_CHECK_EQUAL(mg["settings"], (json{{"accepting_requests", true}, {"theme", "dark"}}));
  // Optimistic concurrency.
  auto stale = patch(json{{"name", "Stale"}, {"version", version}}, a);
  DJ_EXPECT_ERROR(stale, 409, "conflict", "stale version");
  auto fresh = patch(json{{"name", "Fresh"}, {"version", mg.value("version", int64_t{0})}}, a);
  DJ_EXPECT_STATUS(fresh, 200, "current version");
  // Bad values and unknown fields.
  std::vector<std::pair<std::string, json>> bad{
    {"unknown field", json{{"owner_id", b.user_id}}},
    {"product_context is not writable", json{{"product_context", "tipjar"}}},
    {"bad timezone", json{{"timezone", "Mars/Olympus"}}},
    {"bad sms number", json{{"sms_number", "5551234"}}},
    {"bad slug", json{{"slug", "Bad Slug!"}}},
    {"empty name", json{{"name", ""}}},
    {"name not a string", json{{"name", 7}}},
    {"settings not an object", json{{"settings", "on"}}},
    {"version not a number", json{{"version", "one"}}},
  };
  for (auto& [what, body] : bad)
    DJ_EXPECT_STATUS(patch(body, a), 400, "patch with " << what);
  DJ_EXPECT_STATUS(api.call("PATCH", "/api/organizations/current", std::string{"{"}, a.auth()),
                   400, "patch with a body that is not JSON");
  // Taken slug and SMS number.
  DJ_EXPECT_ERROR(patch(json{{"slug", a.org_slug}}, b), 409, "conflict", "slug taken");
  DJ_EXPECT_ERROR(patch(json{{"sms_number", "+15551230001"}}, b), 409, "conflict",
                  "sms number taken");
  // sms_number null clears it; then b may take it.
  auto cleared = patch(json{{"sms_number", nullptr}}, a);
  DJ_EXPECT_STATUS(cleared, 200, "clear sms number");
  auto cl = cleared->json();
  CAF_CHECK(cl["sms_number"].is_null());
  DJ_EXPECT_STATUS(patch(json{{"sms_number", "+15551230001"}}, b), 200, "b takes the number");
  auto new_slug = a.org_slug + "-renamed";
  auto renamed = patch(json{{"slug", new_slug}}, a);
  DJ_EXPECT_STATUS(renamed, 200, "new slug");
  auto rn = renamed->json();
  CAF_CHECK_EQUAL(rn["slug"], new_slug);
  // b's org is untouched by a's changes.
  auto b_org = api.get("/api/organizations/current", b.auth());
  DJ_EXPECT_STATUS(b_org, 200, "b reads own org");
  auto bo = b_org->json();
  CAF_CHECK_EQUAL(bo["name"], "Rival Sound");
}

CAF_TEST(platform admins list every organization and others get 403) {
  auto p = make_account("padmin");
  auto n = make_account("plain");
  auto [rc, out] = test::djdash_command({"grant-platform-admin", p.email}, s.db.app_url(),
                                        s.db.owner_url());
  if (rc != 0)
    CAF_TEST_PRINT_ERROR("grant-platform-admin: " << out);
  CAF_CHECK_EQUAL(rc, 0);
  auto [bad_rc, bad_out] = test::djdash_command({"grant-platform-admin", unique_email("nobody")},
                                                s.db.app_url(), s.db.owner_url());
  CAF_CHECK_NOT_EQUAL(bad_rc, 0);
  // A new sign-in carries the flag.
  auto login = api.login(p.email, password);
  DJ_EXPECT_STATUS(login, 200, "platform admin login");
  auto admin = test::account::from(p.email, password, login->json());
  auto claims = test::jwt_payload(admin.access);
  CAF_CHECK_EQUAL(claims["app_metadata"]["platform_admin"], true);
  auto all = api.get("/api/admin/organizations?limit=200", admin.auth());
  DJ_EXPECT_STATUS(all, 200, "admin list");
  auto all_body = all->json();
  CAF_REQUIRE(all_body["items"].is_array());
  auto org_count = test::count_rows(owner_url(), "organizations");
  CAF_CHECK_EQUAL(static_cast<int64_t>(all_body["items"].size()), org_count);
  CAF_CHECK(all_body.contains("next_cursor") && all_body["next_cursor"].is_null());
  std::set<std::string> all_ids;
  for (auto& o : all_body["items"]) {
    CAF_CHECK(has_keys(o, {"id", "slug", "name", "product_context"}));
    all_ids.insert(o.value("id", ""));
  }
  CAF_CHECK(all_ids.count(n.org_id) == 1);
  CAF_CHECK(all_ids.count(p.org_id) == 1);
  // Paging with limit=2 walks every organization exactly once.
  std::set<std::string> paged;
  size_t pages = 0;
  std::string cursor;
  for (;;) {
    auto target = std::string{"/api/admin/organizations?limit=2"};
    if (!cursor.empty())
      target += "&cursor=" + test::url_encode(cursor);
    auto page = api.get(target, admin.auth());
    DJ_EXPECT_STATUS(page, 200, "page " << pages);
    if (page->status != 200)
      break;
    auto pb = page->json();
    CAF_CHECK_LESS_OR_EQUAL(pb["items"].size(), 2u);
    for (auto& o : pb["items"])
      CAF_CHECK(paged.insert(o.value("id", "")).second);
    ++pages;
    if (pb["next_cursor"].is_null() || pages > 500)
      break;
    CAF_REQUIRE(pb["next_cursor"].is_string());
    cursor = pb["next_cursor"].get<std::string>();
    // Opaque, but a token: no whitespace or control characters.
    auto clean = std::none_of(cursor.begin(), cursor.end(), [](char c) {
      return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f;
    });
    if (!clean)
      CAF_TEST_PRINT_ERROR("next_cursor has whitespace or control characters: " << json(cursor));
    CAF_CHECK(clean);
  }
  CAF_CHECK_EQUAL(paged, all_ids);
  for (auto q : {"limit=0", "limit=201", "limit=abc", "limit=-1", "cursor=%25%25garbage"})
    DJ_EXPECT_STATUS(api.get(std::string{"/api/admin/organizations?"} + q, admin.auth()), 400,
                     "admin list with " << q);
  // Not a platform admin: 403, even with a token that claims it (signed with the real secret).
  DJ_EXPECT_ERROR(api.get("/api/admin/organizations", n.auth()), 403, "forbidden",
                  "plain user lists orgs");
  auto forged_claims = test::jwt_payload(n.access);
  forged_claims["app_metadata"]["platform_admin"] = true;
  auto forged = jwt::sign(forged_claims, test::node_jwt_secret());
  DJ_EXPECT_ERROR(api.get("/api/admin/organizations", bearer(forged)), 403, "forbidden",
                  "plain user whose token claims platform_admin");
  DJ_EXPECT_ERROR(api.get("/api/admin/organizations"), 401, "unauthorized", "no token");
}

CAF_TEST(CORS and security headers) {
  auto check_common = [](const std::optional<test::http_reply>& r, const std::string& what) {
    CAF_REQUIRE(r);
    CAF_MESSAGE(what << ": " << r->status);
    auto& h = *r;
    if (h.header("x-request-id").empty())
      CAF_TEST_PRINT_ERROR(what << ": no X-Request-Id");
    CAF_CHECK(!h.header("x-request-id").empty());
    auto nosniff = h.header("x-content-type-options");
    auto frame = h.header("x-frame-options");
    auto referrer = h.header("referrer-policy");
    auto cache = h.header("cache-control");
    if (nosniff != "nosniff" || frame != "DENY" || referrer != "no-referrer" || cache != "no-store")
      CAF_TEST_PRINT_ERROR(what << ": security headers " << nosniff << "|" << frame << "|"
                                << referrer << "|" << cache);
    CAF_CHECK_EQUAL(nosniff, "nosniff");
    CAF_CHECK_EQUAL(frame, "DENY");
    CAF_CHECK_EQUAL(referrer, "no-referrer");
    CAF_CHECK_EQUAL(cache, "no-store");
  };
  auto a = make_account("cors");
  check_common(api.get("/healthz"), "healthz");
  check_common(api.get("/api/auth/me"), "me without token (401)");
  check_common(api.get("/api/auth/me", a.auth()), "me (200)");
  check_common(api.get("/api/no-such-route"), "unknown route (404)");
  check_common(api.signup(unique_email("cors"), password, product("tipjar")), "signup (201)");
  check_common(api.signup("bad", password, product("tipjar")), "bad signup (400)");
  check_common(api.get("/api/admin/organizations", a.auth()), "admin list (403)");

  // Allowed origins: product domains and their subdomains.
  for (auto origin : {"https://www.tipjar.live", "https://djdash.net", "https://app.djdash.net",
                      "https://m10djcompany.com"}) {
    auto r = api.get("/api/auth/me", a.auth() + test::header_list{{"Origin", origin}});
    check_common(r, std::string{"me from "} + origin);
    CAF_CHECK_EQUAL(r->header("access-control-allow-origin"), origin);
    CAF_CHECK(test::lower(r->header("vary")).find("origin") != std::string::npos);
  }
  // Errors carry CORS headers too, so browsers can read them.
  auto err = api.get("/api/auth/me", {{"Origin", "https://www.tipjar.live"}});
  CAF_REQUIRE(err);
  CAF_CHECK_EQUAL(err->status, 401);
  CAF_CHECK_EQUAL(err->header("access-control-allow-origin"), "https://www.tipjar.live");
  // Unknown origins and look-alikes get nothing.
  for (auto origin : {"https://evil.example", "https://tipjar.live.evil.example",
                      "https://nottipjar.live", "null"}) {
    auto r = api.get("/api/auth/me", a.auth() + test::header_list{{"Origin", origin}});
    check_common(r, std::string{"me from "} + origin);
    CAF_CHECK_EQUAL(r->status, 200);
    if (!r->header("access-control-allow-origin").empty())
      CAF_TEST_PRINT_ERROR("origin " << origin << " allowed as "
                                     << r->header("access-control-allow-origin"));
    CAF_CHECK(r->header("access-control-allow-origin").empty());
  }
  // Preflight.
  auto pre = api.call("OPTIONS", "/api/auth/login", std::string{},
                      {{"Origin", "https://www.tipjar.live"},
                       {"Access-Control-Request-Method", "POST"},
                       {"Access-Control-Request-Headers",
                        "authorization, content-type, x-organization-id"}});
  check_common(pre, "preflight");
  CAF_CHECK_EQUAL(pre->status, 204);
  CAF_CHECK_EQUAL(pre->header("access-control-allow-origin"), "https://www.tipjar.live");
  auto methods = pre->header("access-control-allow-methods");
  auto headers = test::lower(pre->header("access-control-allow-headers"));
  CAF_CHECK(methods.find("POST") != std::string::npos);
  CAF_CHECK(methods.find("PATCH") != std::string::npos);
  CAF_CHECK(methods.find("DELETE") != std::string::npos);
  for (auto h : {"authorization", "content-type", "x-organization-id"}) {
    if (headers.find(h) == std::string::npos)
      CAF_TEST_PRINT_ERROR("preflight allows headers '" << headers << "', missing " << h);
    CAF_CHECK(headers.find(h) != std::string::npos);
  }
  auto pre_evil = api.call("OPTIONS", "/api/auth/login", std::string{},
                           {{"Origin", "https://evil.example"},
                            {"Access-Control-Request-Method", "POST"}});
  CAF_REQUIRE(pre_evil);
  CAF_CHECK(pre_evil->header("access-control-allow-origin").empty());
}

CAF_TEST_FIXTURE_SCOPE_END()
