#include "protocols/jwt.hpp"

#include <algorithm>
#include <exception>
#include <optional>

#include "protocols/app_errc.hpp"
#include "protocols/crypto.hpp"

namespace djdash::jwt {

namespace {

using nlohmann::json;

constexpr std::string_view hs256_header = R"({"alg":"HS256","typ":"JWT"})";

caf::error reject(const char* reason) {
  return make_app_error(app_errc::unauthorized, reason);
}

/// A compact token cut into its three parts, still base64url-encoded.
struct parts {
  std::string_view header;
  std::string_view payload;
  std::string_view signature;
  std::string_view signing_input; // "header.payload", what the MAC covers
};

/// Returns the parts of `token`, or nullopt unless it has exactly two dots.
std::optional<parts> split(std::string_view token) {
  auto first = token.find('.');
  if (first == std::string_view::npos)
    return std::nullopt;
  auto second = token.find('.', first + 1);
  if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos)
    return std::nullopt;
  return parts{token.substr(0, first), token.substr(first + 1, second - first - 1),
               token.substr(second + 1), token.substr(0, second)};
}

/// Returns `text` parsed as a JSON object, or nullopt (never throws).
std::optional<json> parse_object(std::string_view text) {
  auto j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return std::nullopt;
  return j;
}

/// A token's decoded parts; the payload JSON stays unparsed until its MAC checks out.
struct decoded {
  json header;
  std::string payload;
  std::string mac;
};

/// Returns the decoded parts, or nullopt unless each is strict base64url, the header and payload
/// are non-empty, and the header is a JSON object.
std::optional<decoded> decode(const parts& p) {
  if (p.header.empty() || p.payload.empty())
    return std::nullopt;
  auto header_text = crypto::base64url_decode(p.header);
  auto payload = crypto::base64url_decode(p.payload);
  auto mac = crypto::base64url_decode(p.signature);
  if (!header_text || !payload || !mac)
    return std::nullopt;
  auto header = parse_object(*header_text);
  if (!header)
    return std::nullopt;
  return decoded{std::move(*header), std::move(*payload), std::move(*mac)};
}

/// Accepts only HS256. Runs before any MAC so that `alg` from the token never picks the check.
caf::error check_header(const json& header) {
  auto alg = header.find("alg");
  if (alg == header.end() || !alg->is_string() || *alg != "HS256")
    return reject("invalid algorithm");
  // RFC 7515 §4.1.11: we understand no critical extensions, so any "crit" must be refused.
  if (header.contains("crit"))
    return reject("invalid token");
  return {};
}

caf::error check_signature(const parts& p, std::string_view mac, std::string_view secret) {
  try {
    auto expected = crypto::hmac_sha256(secret, p.signing_input);
    if (!crypto::constant_time_equal(expected, mac))
      return reject("invalid signature");
    return {};
  } catch (const std::exception& e) {
    return make_app_error(app_errc::internal, e.what());
  }
}

/// Returns a NumericDate claim in seconds, or nullopt when it is not a JSON number.
std::optional<double> numeric_date(const json& v) {
  if (!v.is_number())
    return std::nullopt;
  return v.get<double>();
}

/// Checks `exp` (required) and `nbf` (optional). Compared as doubles, like jsonwebtoken's JS
/// numbers: expired when now >= exp + leeway, not yet active when nbf > now + leeway.
caf::error check_times(const json& claims, const verify_options& opts) {
  auto now = static_cast<double>(opts.now);
  auto leeway = static_cast<double>(opts.leeway_s);
  if (auto nbf = claims.find("nbf"); nbf != claims.end()) {
    auto t = numeric_date(*nbf);
    if (!t)
      return reject("invalid nbf value");
    if (*t > now + leeway)
      return reject("jwt not active");
  }
  auto exp = claims.find("exp");
  if (exp == claims.end())
    return reject("exp claim required");
  auto t = numeric_date(*exp);
  if (!t)
    return reject("invalid exp value");
  if (now >= *t + leeway)
    return reject("jwt expired");
  return {};
}

bool is_string_equal(const json& v, const std::string& want) {
  return v.is_string() && v.get_ref<const std::string&>() == want;
}

/// Returns whether `aud` is `want` or an array holding it (RFC 7519 §4.1.3).
bool audience_matches(const json& aud, const std::string& want) {
  if (aud.is_array())
    return std::any_of(aud.begin(), aud.end(),
                       [&](const json& a) { return is_string_equal(a, want); });
  return is_string_equal(aud, want);
}

caf::error check_audience_issuer(const json& claims, const verify_options& opts) {
  if (!opts.audience.empty()) {
    auto aud = claims.find("aud");
    if (aud == claims.end() || !audience_matches(*aud, opts.audience))
      return reject("jwt audience invalid");
  }
  if (!opts.issuer.empty()) {
    auto iss = claims.find("iss");
    if (iss == claims.end() || !is_string_equal(*iss, opts.issuer))
      return reject("jwt issuer invalid");
  }
  return {};
}

/// Checks the signed claims; the payload is parsed only after its MAC has been verified.
caf::expected<json> check_claims(std::string_view payload_text, const verify_options& opts) {
  auto claims = parse_object(payload_text);
  if (!claims)
    return reject("invalid token");
  if (auto err = check_times(*claims, opts))
    return err;
  if (auto err = check_audience_issuer(*claims, opts))
    return err;
  return std::move(*claims);
}

} // namespace

std::string sign_raw(std::string_view header_json, std::string_view payload_json,
                     std::string_view secret) {
  auto input = crypto::base64url_encode(header_json);
  input += '.';
  input += crypto::base64url_encode(payload_json);
  auto mac = crypto::hmac_sha256(secret, input);
  input += '.';
  input += crypto::base64url_encode(mac);
  return input;
}

std::string sign(const nlohmann::json& claims, std::string_view secret) {
  // `replace` keeps dump() from throwing on invalid UTF-8 in user-supplied strings.
  auto payload = claims.dump(-1, ' ', false, json::error_handler_t::replace);
  return sign_raw(hs256_header, payload, secret);
}

caf::expected<nlohmann::json> verify(std::string_view token, std::string_view secret,
                                     const verify_options& opts) {
  if (secret.empty())
    return make_app_error(app_errc::internal, "jwt secret not configured");
  if (token.size() > max_token_size)
    return reject("invalid token");
  auto p = split(token);
  if (!p)
    return reject("invalid token");
  auto d = decode(*p);
  if (!d)
    return reject("invalid token");
  if (d->mac.empty())
    return reject("jwt signature is required");
  if (auto err = check_header(d->header))
    return err;
  if (auto err = check_signature(*p, d->mac, secret))
    return err;
  return check_claims(d->payload, opts);
}

} // namespace djdash::jwt
