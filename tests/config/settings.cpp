#define CAF_SUITE config.settings

#include "config/settings.hpp"

#include <map>

#include "protocols/app_errc.hpp"
#include "support/caf_test.hpp"

using namespace djdash;

namespace {

constexpr auto db_url = "postgresql://app:pw@127.0.0.1:5432/djdash";

env_lookup env_of(std::map<std::string, std::string> vars) {
  return [vars](const std::string& name) -> std::optional<std::string> {
    auto i = vars.find(name);
    if (i == vars.end())
      return std::nullopt;
    return i->second;
  };
}

/// Returns the error message of loading `text` with `vars`, or "" when it loads.
std::string problem(const std::string& text, std::map<std::string, std::string> vars = {}) {
  vars.emplace("DJDASH_DATABASE_URL", db_url);
  auto s = load_settings_text(text, env_of(vars));
  return s ? std::string{} : error_message(s.error());
}

} // namespace

CAF_TEST(defaults apply when only the database is given) {
  auto s = load_settings_text("", env_of({{"DJDASH_DATABASE_URL", db_url}}));
  CAF_REQUIRE(s);
  CAF_CHECK_EQUAL(s->http.port, 8080);
  CAF_CHECK_EQUAL(s->database.url, db_url);
  CAF_CHECK_EQUAL(s->database.migrate_url, db_url);  // migrations default to the same URL
  CAF_CHECK(!s->node_id.empty());
  CAF_CHECK_EQUAL(s->product_domains.at("tipjar.live"), "tipjar");
}

CAF_TEST(the documented example file loads) {
  auto s = load_settings(std::string{DJDASH_SOURCE_DIR} + "/config/djdash.example.json",
                         env_of({}));
  CAF_REQUIRE_EQUAL(s ? std::string{} : error_message(s.error()), "");
  CAF_CHECK_EQUAL(s->node_id, "node-1");
  CAF_CHECK_EQUAL(s->http.request_deadline_ms, 10000);
}

CAF_TEST(the environment overrides the file) {
  auto s = load_settings_text(R"({"http": {"port": 8080}, "database": {"pool_size": 2}})",
                              env_of({{"DJDASH_DATABASE_URL", db_url},
                                      {"DJDASH_HTTP_PORT", "9090"},
                                      {"DJDASH_DB_POOL_SIZE", "7"},
                                      {"STRIPE_API_BASE", "http://127.0.0.1:1234"}}));
  CAF_REQUIRE(s);
  CAF_CHECK_EQUAL(s->http.port, 9090);
  CAF_CHECK_EQUAL(s->database.pool_size, 7);
  CAF_CHECK_EQUAL(s->services.stripe_api_base, "http://127.0.0.1:1234");
}

CAF_TEST(a bad value stops the start with a message naming it) {
  CAF_CHECK_EQUAL(problem(R"({"http": {"port": 70000}})"), "http.port: out of range, got 70000");
  CAF_CHECK_EQUAL(problem(R"({"http": {"port": "80"}})"), "http.port: must be an integer");
  CAF_CHECK_EQUAL(problem("", {{"DJDASH_HTTP_PORT", "eighty"}}),
                  "DJDASH_HTTP_PORT: must be an integer, got \"eighty\"");
  CAF_CHECK_EQUAL(problem(R"({"http": {"prot": 80}})"), "http.prot: unknown key");
  CAF_CHECK_EQUAL(problem(R"({"database": {"pool_size": 0}})"),
                  "database.pool_size: must be 1..256, got 0");
  CAF_CHECK_EQUAL(problem(R"({"log_level": "loud"})").rfind("log_level:", 0), 0u);
  CAF_CHECK_EQUAL(problem(R"({"product_domains": {"example.com": "myspace"}})"),
                  "product_domains.example.com: must be tipjar, djdash or m10dj");
  CAF_CHECK_EQUAL(problem(R"({"public_url": "ftp://x"})"),
                  "public_url: must start with http:// or https://");
  CAF_CHECK_EQUAL(problem("{not json"), "config: not valid JSON");
  CAF_CHECK_EQUAL(problem(R"([1, 2])"), "config: must be a JSON object");
}

CAF_TEST(the database URL is required) {
  auto s = load_settings_text("{}", env_of({}));
  CAF_REQUIRE(!s);
  CAF_CHECK_EQUAL(error_message(s.error()), "database.url: required (or set DJDASH_DATABASE_URL)");
  CAF_CHECK_EQUAL(problem("", {{"DJDASH_DATABASE_URL", "mysql://x"}}),
                  "database.url: must be a postgresql:// URL");
}

CAF_TEST(secrets come from the environment only) {
  CAF_CHECK_EQUAL(problem(R"({"secrets": {"jwt_secret": "x"}})"),
                  "secrets: secrets come from the environment only (see README)");
  CAF_CHECK_EQUAL(problem("", {{"DJDASH_JWT_SECRET", "short"}}),
                  "DJDASH_JWT_SECRET: must be at least 32 characters");
  auto s = load_settings_text("", env_of({{"DJDASH_DATABASE_URL", db_url},
                                          {"DJDASH_JWT_SECRET", std::string(40, 'k')},
                                          {"STRIPE_WEBHOOK_SECRET", "whsec_abc"}}));
  CAF_REQUIRE(s);
  CAF_CHECK_EQUAL(s->secrets.jwt_secret, std::string(40, 'k'));
  CAF_CHECK_EQUAL(s->secrets.stripe_webhook_secret, "whsec_abc");
}
