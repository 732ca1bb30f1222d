#pragma once

// Helpers for the accounts and tenant-isolation end-to-end suites: a JSON API client bound to one
// node, sign-up/login shortcuts, JWT payload decoding, a config file for the node, and row counts
// of every tenant table read through the owner role.

#include <cctype>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "node_harness.hpp"
#include "protocols/crypto.hpp"
#include "support/http_client.hpp"
#include "support/pg_fixture.hpp"

namespace djdash::test {

/// Checks that `reply` (evaluated once) arrived with `code`; prints `what` and the body when it
/// did not. A macro so that failures name the caller's line.
#define DJ_EXPECT_STATUS(reply, code, what)                                                     \
  do {                                                                                          \
    auto&& dj_r_ = (reply);                                                                     \
    CAF_REQUIRE(dj_r_);                                                                         \
    if (dj_r_->status != (code))                                                                \
      CAF_TEST_PRINT_ERROR(what << ": expected " << (code) << ", got " << dj_r_->status << " "  \
                                << dj_r_->body);                                                \
    CAF_CHECK_EQUAL(dj_r_->status, (code));                                                     \
  } while (false)

/// Same, plus the error code of the body.
#define DJ_EXPECT_ERROR(reply, code, err, what)                                                 \
  do {                                                                                          \
    auto&& dj_e_ = (reply);                                                                     \
    DJ_EXPECT_STATUS(dj_e_, code, what);                                                        \
    auto dj_err_code_ = dj_e_->error_code();                                                    \
    if (dj_err_code_ != std::string{err})                                                       \
      CAF_TEST_PRINT_ERROR(what << ": expected error code " << (err) << ", body "             \
                                << dj_e_->body);                                                \
    CAF_CHECK_EQUAL(dj_err_code_, std::string{err});                                            \
  } while (false)

inline header_list bearer(const std::string& token) {
  return {{"Authorization", "Bearer " + token}};
}

inline header_list operator+(header_list a, const header_list& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

/// A product context for localhost requests.
inline header_list product(const std::string& ctx) {
  return {{"X-Product-Context", ctx}};
}

inline header_list org_header(const std::string& org_id) {
  return {{"X-Organization-Id", org_id}};
}

/// A JSON client for one node: one fresh connection per call.
struct api {
  uint16_t port = 0;

  std::optional<http_reply> call(const std::string& method, const std::string& target,
                                 const std::string& body = {},
                                 const header_list& headers = {}) const {
    http_client c{port, std::chrono::seconds(20)};
    header_list all;
    if (!body.empty())
      all.emplace_back("Content-Type", "application/json");
    all.insert(all.end(), headers.begin(), headers.end());
    return c.request(method, target, body, all);
  }

  std::optional<http_reply> call(const std::string& method, const std::string& target,
                                 const nlohmann::json& body,
                                 const header_list& headers = {}) const {
    return call(method, target, body.dump(), headers);
  }

  std::optional<http_reply> get(const std::string& target, const header_list& headers = {}) const {
    return call("GET", target, std::string{}, headers);
  }

  std::optional<http_reply> signup(const std::string& email, const std::string& password,
                                   const header_list& headers,
                                   const std::string& org_name = {}) const {
    nlohmann::json body{{"email", email}, {"password", password}};
    if (!org_name.empty())
      body["organization_name"] = org_name;
    return call("POST", "/api/auth/signup", body, headers);
  }

  std::optional<http_reply> login(const std::string& email, const std::string& password,
                                  const header_list& headers = product("tipjar")) const {
    return call("POST", "/api/auth/login", nlohmann::json{{"email", email}, {"password", password}},
                headers);
  }

  std::optional<http_reply> refresh(const std::string& token,
                                    const header_list& headers = product("tipjar")) const {
    return call("POST", "/api/auth/refresh", nlohmann::json{{"refresh_token", token}}, headers);
  }
};

/// What a sign-up or login answered, pulled apart.
struct account {
  std::string email;
  std::string password;
  std::string user_id;
  std::string org_id;   // the current organization of the answer
  std::string org_slug;
  std::string access;
  std::string refresh;
  nlohmann::json body;

  header_list auth() const { return bearer(access); }

  /// Takes the tokens of a login/refresh answer (the account stays the same).
  void take_tokens(const nlohmann::json& j) {
    body = j;
    access = j.value("access_token", "");
    refresh = j.value("refresh_token", "");
    if (j.contains("organization") && j["organization"].is_object()) {
      org_id = j["organization"].value("id", "");
      org_slug = j["organization"].value("slug", "");
    }
  }

  static account from(const std::string& email, const std::string& password,
                      const nlohmann::json& j) {
    account a;
    a.email = email;
    a.password = password;
    if (j.contains("user") && j["user"].is_object())
      a.user_id = j["user"].value("id", "");
    a.take_tokens(j);
    return a;
  }
};

/// Returns the decoded payload of a compact JWT (a discarded value when it is not one).
inline nlohmann::json jwt_payload(const std::string& token) {
  auto first = token.find('.');
  auto second = first == std::string::npos ? first : token.find('.', first + 1);
  if (second == std::string::npos)
    return nlohmann::json::value_t::discarded;
  auto bytes = crypto::base64url_decode(std::string_view{token}.substr(first + 1,
                                                                       second - first - 1));
  if (!bytes)
    return nlohmann::json::value_t::discarded;
  return nlohmann::json::parse(*bytes, nullptr, false);
}

/// Writes `config` to a fresh file and returns its path.
inline std::string write_config_file(const nlohmann::json& config) {
  auto dir = std::getenv("TMPDIR") ? std::string{std::getenv("TMPDIR")} : std::string{"/tmp"};
  auto path = dir + "/djdash-e2e-config-" + std::to_string(free_port()) + "-"
              + std::to_string(std::chrono::steady_clock::now().time_since_epoch().count())
              + ".json";
  std::ofstream out{path};
  out << "// written by the e2e tests\n" << config.dump(2) << "\n";
  return path;
}

/// The rate limits of the main test nodes: the per-account login limit as in production, the
/// per-IP limits high because every test request comes from 127.0.0.1.
inline nlohmann::json relaxed_auth_config() {
  return {{"auth",
           {{"login_account_limit", 5},
            {"login_account_window_s", 900},
            {"login_ip_limit", 100000},
            {"login_ip_window_s", 300},
            {"signup_ip_limit", 100000},
            {"signup_ip_window_s", 3600},
            {"access_token_ttl_s", 900},
            {"issuer", "djdash"}}}};
}

/// Runs `fn(tx)` in a transaction of the owner role that sees every tenant
/// (app.platform_admin on), then rolls back.
template <class F>
auto as_platform_owner(const std::string& owner_url, F fn) {
  pqxx::connection conn{owner_url};
  pqxx::work tx{conn};
  tx.exec("select set_config('app.platform_admin', 'on', true)");
  return fn(tx);
}

/// Row counts of every tenant table: each base table of schema public with a column
/// `organization_id`, plus `organizations`; found through information_schema so tables of later
/// migrations are included without touching the tests.
inline std::map<std::string, int64_t> tenant_row_counts(const std::string& owner_url) {
  return as_platform_owner(owner_url, [](pqxx::work& tx) {
    std::map<std::string, int64_t> out;
    auto tables = tx.exec(
      "select t.table_name from information_schema.tables t "
      " where t.table_schema = 'public' and t.table_type = 'BASE TABLE' "
      "   and (t.table_name = 'organizations' or exists ("
      "        select 1 from information_schema.columns c "
      "         where c.table_schema = t.table_schema and c.table_name = t.table_name "
      "           and c.column_name = 'organization_id')) "
      " order by t.table_name");
    for (const auto& row : tables) {
      auto name = row[0].as<std::string>();
      out[name] = tx.exec1("select count(*) from " + tx.quote_name(name))[0].as<int64_t>();
    }
    return out;
  });
}

/// Rows of `table`, seen through the owner role with every tenant visible.
inline int64_t count_rows(const std::string& owner_url, const std::string& table) {
  return as_platform_owner(owner_url, [&](pqxx::work& tx) {
    return tx.exec1("select count(*) from " + tx.quote_name(table))[0].as<int64_t>();
  });
}

inline std::string describe(const std::map<std::string, int64_t>& counts) {
  std::ostringstream out;
  for (auto& [k, v] : counts)
    out << k << "=" << v << " ";
  return out.str();
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
inline std::string url_encode(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

/// Returns a header value lower-cased, for case-insensitive comparisons of lists.
inline std::string lower(std::string s) {
  for (auto& c : s)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

} // namespace djdash::test
