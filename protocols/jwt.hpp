#pragma once

// HS256 JSON Web Tokens for the backend's own access tokens (PROTOCOLS.md §4). Only HS256 is ever
// accepted; the HMAC key is the raw bytes of the secret string, as Supabase Auth does.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <caf/expected.hpp>
#include <nlohmann/json.hpp>

namespace djdash::jwt {

/// Tokens longer than this are rejected before any decoding.
constexpr std::size_t max_token_size = 8 * 1024;

/// What `verify` checks beyond the signature. Empty strings are not checked.
struct verify_options {
  std::string audience; ///< `aud` (string, or array with a matching element) must equal this
  std::string issuer;   ///< `iss` must equal this
  int64_t now = 0;      ///< current time, unix seconds
  int64_t leeway_s = 0; ///< clock skew tolerated for `exp` and `nbf`
};

/// Returns a compact HS256 token for `claims` with header `{"alg":"HS256","typ":"JWT"}`.
/// Precondition: `secret` is not empty. Invalid UTF-8 in claims is replaced, never thrown; only an
/// OpenSSL failure throws (std::runtime_error).
std::string sign(const nlohmann::json& claims, std::string_view secret);

/// Returns base64url(header).base64url(payload).base64url(HMAC) for exact JSON texts; lets tests
/// reproduce a token byte for byte.
std::string sign_raw(std::string_view header_json, std::string_view payload_json,
                     std::string_view secret);

/// Returns the claims of `token` if it is a well-formed HS256 token signed with `secret` that is
/// valid under `opts`; otherwise `app_errc::unauthorized` with a short reason ("invalid token",
/// "invalid algorithm", "invalid signature", "jwt expired", ...). An empty `secret` is a server
/// misconfiguration and yields `app_errc::internal`. Never throws.
caf::expected<nlohmann::json> verify(std::string_view token, std::string_view secret,
                                     const verify_options& opts);

} // namespace djdash::jwt
