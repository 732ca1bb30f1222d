#include "http/session_tokens.hpp"

#include <chrono>

#include "config/settings.hpp"
#include "http/product_context.hpp"
#include "protocols/crypto.hpp"
#include "protocols/jwt.hpp"

namespace djdash::http {

namespace {

using json = nlohmann::json;

int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

json organization_ids(const json& session) {
  json ids = json::array();
  for (auto& o : session["organizations"])
    ids.push_back(o["id"]);
  return ids;
}

} // namespace

refresh_token make_refresh_token() {
  auto token = crypto::random_token(32);
  return {token, refresh_token_hash(token)};
}

std::string refresh_token_hash(const std::string& token) {
  return crypto::hex(crypto::sha256(token));
}

bool plausible_refresh_token(const std::string& token) {
  if (token.size() != 43)
    return false;
  for (unsigned char c : token)
    if (!std::isalnum(c) && c != '-' && c != '_')
      return false;
  return true;
}

json access_claims(const json& session, const std::string& product, const settings& cfg,
                   const std::string& auth_method) {
  auto now = unix_now();
  auto& user = session["user"];
  auto app_metadata = user.value("app_metadata", json::object());
  app_metadata["organization_ids"] = organization_ids(session);
  app_metadata["platform_admin"] = user.value("is_platform_admin", false);
  auto& org = session["organization"];
  return {{"iss", cfg.auth.issuer},
          {"sub", user["id"]},
          {"aud", "authenticated"},
          {"exp", now + cfg.auth.access_token_ttl_s},
          {"iat", now},
          {"email", user["email"]},
          {"phone", ""},
          {"app_metadata", app_metadata},
          {"user_metadata", user.value("user_metadata", json::object())},
          {"role", "authenticated"},
          {"aal", "aal1"},
          {"amr", {{{"method", auth_method}, {"timestamp", now}}}},
          {"session_id", session["session_id"]},
          {"is_anonymous", false},
          {"organization_id", org.is_object() ? org["id"] : json(nullptr)},
          {"product_context", product}};
}

json session_body(const json& session, const std::string& product, const std::string& refresh,
                  const settings& cfg, const std::string& auth_method) {
  auto claims = access_claims(session, product, cfg, auth_method);
  auto user = session["user"];
  user.erase("is_platform_admin");  // carried in app_metadata instead
  return {{"user", user},
          {"organization", session["organization"]},
          {"organizations", session["organizations"]},
          {"access_token", jwt::sign(claims, cfg.secrets.jwt_secret)},
          {"refresh_token", refresh},
          {"token_type", "bearer"},
          {"expires_in", cfg.auth.access_token_ttl_s},
          {"expires_at", claims["exp"]},
          {"redirect", dashboard_path(product)}};
}

} // namespace djdash::http
