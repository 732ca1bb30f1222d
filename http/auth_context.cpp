#include "http/auth_context.hpp"

#include <chrono>

#include "config/settings.hpp"
#include "http/error_response.hpp"
#include "protocols/jwt.hpp"

namespace djdash::http {

namespace {

int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

std::string bearer_token(const request& req) {
  auto& h = req.header("authorization");
  constexpr std::string_view prefix = "Bearer ";
  if (h.size() <= prefix.size())
    return {};
  for (size_t i = 0; i < prefix.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(h[i]))
        != std::tolower(static_cast<unsigned char>(prefix[i])))
      return {};
  return h.substr(prefix.size());
}

std::string claim_string(const nlohmann::json& claims, const char* key) {
  auto i = claims.find(key);
  return i != claims.end() && i->is_string() ? i->get<std::string>() : std::string{};
}

} // namespace

db_scope auth_context::scope(const std::string& role) const {
  return db_scope{org_id, user_id, false, role};
}

bool is_uuid(const std::string& s) {
  if (s.size() != 36)
    return false;
  for (size_t i = 0; i < s.size(); ++i) {
    auto c = s[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-')
        return false;
    } else if (!std::isxdigit(static_cast<unsigned char>(c))) {
      return false;
    }
  }
  return true;
}

std::optional<auth_context> authenticate(const request& req, const settings& cfg,
                                         const responder& rsp) {
  auto token = bearer_token(req);
  if (token.empty()) {
    rsp(error_response(app_errc::unauthorized, "sign in first (Authorization: Bearer token)"));
    return std::nullopt;
  }
  jwt::verify_options opts{"authenticated", cfg.auth.issuer, unix_now(), cfg.auth.leeway_s};
  auto claims = jwt::verify(token, cfg.secrets.jwt_secret, opts);
  if (!claims) {
    rsp(error_response(app_errc::unauthorized, "invalid or expired access token"));
    return std::nullopt;
  }
  auth_context ctx;
  ctx.user_id = claim_string(*claims, "sub");
  ctx.email = claim_string(*claims, "email");
  ctx.session_id = claim_string(*claims, "session_id");
  ctx.org_id = claim_string(*claims, "organization_id");
  auto meta = claims->value("app_metadata", nlohmann::json::object());
  ctx.platform_admin = meta.is_object() && meta.value("platform_admin", false) == true;
  if (!is_uuid(ctx.user_id)) {
    rsp(error_response(app_errc::unauthorized, "invalid or expired access token"));
    return std::nullopt;
  }
  if (auto& picked = req.header("x-organization-id"); !picked.empty()) {
    if (!is_uuid(picked)) {
      rsp(error_response(app_errc::bad_request, "X-Organization-Id must be an organization id"));
      return std::nullopt;
    }
    ctx.org_id = picked;
  }
  ctx.claims = std::move(*claims);
  return ctx;
}

} // namespace djdash::http
