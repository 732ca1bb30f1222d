#pragma once

// Access and refresh tokens for a session result from the database (auth.signup, auth.login,
// auth.refresh), and the JSON the sites get back (API.md, "Shapes the sites rely on").

#include <string>

#include <nlohmann/json.hpp>

namespace djdash {
struct settings;
} // namespace djdash

namespace djdash::http {

/// A fresh refresh token (256 random bits, base64url) and the SHA-256 hex stored for it.
struct refresh_token {
  std::string token;
  std::string hash;
};

refresh_token make_refresh_token();

/// Returns the SHA-256 hex under which `token` is stored.
std::string refresh_token_hash(const std::string& token);

/// Returns whether `token` looks like one of ours (43 base64url characters).
bool plausible_refresh_token(const std::string& token);

/// Returns the claims of an access token for `session` (user, organizations, organization,
/// session_id) in `product`.
nlohmann::json access_claims(const nlohmann::json& session, const std::string& product,
                             const settings& cfg, const std::string& auth_method);

/// Returns the sign-in response body: user, organization, organizations, tokens and redirect.
nlohmann::json session_body(const nlohmann::json& session, const std::string& product,
                            const std::string& refresh, const settings& cfg,
                            const std::string& auth_method);

} // namespace djdash::http
