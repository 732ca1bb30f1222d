#define CAF_SUITE http.accounts_units

// The pure pieces of sign-in: product context, rate limits, CORS, email checks, tokens.

#include <nlohmann/json.hpp>

#include "config/settings.hpp"
#include "http/cors.hpp"
#include "http/json_body.hpp"
#include "http/product_context.hpp"
#include "http/rate_limiter.hpp"
#include "http/session_tokens.hpp"
#include "protocols/jwt.hpp"
#include "support/caf_test.hpp"

using namespace djdash;
using namespace djdash::http;
using json = nlohmann::json;

namespace {

const std::map<std::string, std::string> domains{
  {"djdash.net", "djdash"}, {"m10djcompany.com", "m10dj"}, {"tipjar.live", "tipjar"}};

request with_headers(std::map<std::string, std::string> headers) {
  request r;
  r.headers = std::move(headers);
  return r;
}

} // namespace

CAF_TEST(the host tells the product with subdomains ports and case ignored) {
  CAF_CHECK_EQUAL(product_from_host("tipjar.live", domains).value_or(""), "tipjar");
  CAF_CHECK_EQUAL(product_from_host("WWW.TipJar.Live:443", domains).value_or(""), "tipjar");
  CAF_CHECK_EQUAL(product_from_host("app.djdash.net", domains).value_or(""), "djdash");
  CAF_CHECK_EQUAL(product_from_host("m10djcompany.com.", domains).value_or(""), "m10dj");
  CAF_CHECK(!product_from_host("evil-tipjar.live", domains));
  CAF_CHECK(!product_from_host("tipjar.live.evil.com", domains));
  CAF_CHECK(!product_from_host("localhost:8080", domains));
  CAF_CHECK(!product_from_host("", domains));
}

CAF_TEST(X-Product-Context counts only for hosts outside the map) {
  auto local = with_headers({{"host", "localhost:8080"}, {"x-product-context", "m10dj"}});
  CAF_CHECK_EQUAL(product_of(local, domains).value_or(""), "m10dj");
  auto mapped = with_headers({{"host", "tipjar.live"}, {"x-product-context", "m10dj"}});
  CAF_CHECK_EQUAL(product_of(mapped, domains).value_or(""), "tipjar");
  auto bogus = with_headers({{"host", "localhost"}, {"x-product-context", "myspace"}});
  CAF_CHECK(!product_of(bogus, domains));
  CAF_CHECK_EQUAL(dashboard_path("tipjar"), "/tipjar/dashboard");
  CAF_CHECK_EQUAL(dashboard_path("djdash"), "/djdash/dashboard");
  CAF_CHECK_EQUAL(dashboard_path("m10dj"), "/admin/dashboard");
}

CAF_TEST(the rate limiter cuts off after the limit until the window passes) {
  rate_limiter rl;
  auto t0 = rate_limiter::clock::now();
  auto window = std::chrono::seconds(60);
  for (int i = 0; i < 5; ++i)
    CAF_CHECK_EQUAL(rl.hit("k", 5, window, t0), 0);
  CAF_CHECK(rl.hit("k", 5, window, t0) > 0);
  CAF_CHECK_EQUAL(rl.retry_after("k", 5, window, t0 + std::chrono::seconds(10)), 50);
  CAF_CHECK_EQUAL(rl.retry_after("other", 5, window, t0), 0);
  CAF_CHECK_EQUAL(rl.retry_after("k", 5, window, t0 + window), 0);
  CAF_CHECK_EQUAL(rl.hit("k", 5, window, t0 + window), 0);  // a new window
  rl.reset("k");
  CAF_CHECK_EQUAL(rl.retry_after("k", 1, window, t0), 0);
}

CAF_TEST(CORS allows the product domains over https and configured extras only) {
  cors_policy cors{domains, {"http://localhost:3000"}};
  CAF_CHECK(cors.allows("https://tipjar.live"));
  CAF_CHECK(cors.allows("https://www.m10djcompany.com"));
  CAF_CHECK(cors.allows("http://localhost:3000"));
  CAF_CHECK(!cors.allows("http://tipjar.live"));
  CAF_CHECK(!cors.allows("https://evil.com"));
  CAF_CHECK(!cors.allows("https://tipjar.live.evil.com"));
  CAF_CHECK(!cors.allows(""));
  response r;
  cors.decorate("https://evil.com", r);
  for (auto& [k, v] : r.headers)
    CAF_CHECK_NOT_EQUAL(k, "Access-Control-Allow-Origin");
  auto pre = with_headers({{"origin", "https://djdash.net"},
                           {"access-control-request-method", "PATCH"}});
  pre.method = "OPTIONS";
  auto answer = cors.preflight(pre);
  CAF_REQUIRE(answer);
  CAF_CHECK_EQUAL(answer->status, 204);
}

CAF_TEST(emails are normalised and implausible ones refused) {
  CAF_CHECK_EQUAL(normalized_email("  Jo@Example.COM ").value_or(""), "jo@example.com");
  for (auto bad : {"", "jo", "@example.com", "jo@", "jo@example", "jo@@example.com",
                   "jo doe@example.com", "jo@.com", "jo@example.com."})
    CAF_CHECK(!normalized_email(bad));
}

CAF_TEST(access tokens carry the session and verify with the node secret) {
  settings cfg;
  cfg.secrets.jwt_secret = std::string(40, 's');
  json session{{"user", {{"id", "08d003b2-2345-486a-a152-99f7932a50be"},
                         {"email", "jo@example.com"},
                         {"is_platform_admin", true},
                         {"user_metadata", {{"product_context", "tipjar"}}},
                         {"app_metadata", {{"provider", "email"}}}}},
               {"organizations", {{{"id", "fa5b7f4f-cf8f-4782-8b29-04dd2a0e2a4e"}}}},
               {"organization", {{"id", "fa5b7f4f-cf8f-4782-8b29-04dd2a0e2a4e"}}},
               {"session_id", "5d6e7f80-1a2b-4c3d-8e9f-0a1b2c3d4e5f"}};
  auto refresh = make_refresh_token();
  CAF_CHECK(plausible_refresh_token(refresh.token));
  CAF_CHECK_EQUAL(refresh.hash, refresh_token_hash(refresh.token));
  CAF_CHECK_EQUAL(refresh.hash.size(), 64u);
  auto body = session_body(session, "tipjar", refresh.token, cfg, "password");
  CAF_CHECK_EQUAL(body["redirect"], "/tipjar/dashboard");
  CAF_CHECK_EQUAL(body["token_type"], "bearer");
  CAF_CHECK(!body["user"].contains("is_platform_admin"));
  auto now = body["expires_at"].get<int64_t>() - cfg.auth.access_token_ttl_s;
  auto claims = jwt::verify(body["access_token"].get<std::string>(), cfg.secrets.jwt_secret,
                            jwt::verify_options{"authenticated", "djdash", now, 0});
  CAF_REQUIRE(claims);
  CAF_CHECK_EQUAL((*claims)["sub"], "08d003b2-2345-486a-a152-99f7932a50be");
  CAF_CHECK_EQUAL((*claims)["organization_id"], "fa5b7f4f-cf8f-4782-8b29-04dd2a0e2a4e");
  CAF_CHECK_EQUAL((*claims)["app_metadata"]["platform_admin"], true);
  CAF_CHECK_EQUAL((*claims)["app_metadata"]["organization_ids"].size(), 1u);
  CAF_CHECK_EQUAL((*claims)["session_id"], "5d6e7f80-1a2b-4c3d-8e9f-0a1b2c3d4e5f");
  auto other = jwt::verify(body["access_token"].get<std::string>(), std::string(40, 'x'),
                           jwt::verify_options{"authenticated", "djdash", now, 0});
  CAF_CHECK(!other);
}
