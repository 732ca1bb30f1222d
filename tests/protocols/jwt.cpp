#define CAF_SUITE protocols.jwt

#include "protocols/jwt.hpp"

#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "protocols/app_errc.hpp"
#include "protocols/crypto.hpp"
#include "support/caf_test.hpp"

using namespace djdash;
using nlohmann::json;

namespace {

const std::string secret = "unit-test-secret-unit-test-secret-0123456789";
constexpr int64_t t0 = 1767225600; // 2026-01-01T00:00:00Z

/// Returns jwt.json, or a discarded value if it cannot be read or parsed.
json load_vectors() {
  std::ifstream in(DJDASH_SHARED_DIR "/vectors/jwt.json", std::ios::binary);
  if (!in)
    return json(json::value_t::discarded);
  std::stringstream buf;
  buf << in.rdbuf();
  return json::parse(buf.str(), nullptr, false);
}

/// Returns "accepted" or the rejection reason, so failures name what happened.
std::string outcome(const caf::expected<json>& r) {
  return r ? "accepted" : error_message(r.error());
}

/// Maps a vector case's jsonwebtoken options onto ours.
jwt::verify_options options_of(const json& vo) {
  jwt::verify_options o;
  o.audience = vo.value("audience", "");
  o.issuer = vo.value("issuer", "");
  o.now = vo.at("clockTimestamp").get<int64_t>();
  o.leeway_s = vo.value("clockTolerance", int64_t{0});
  return o;
}

/// Returns "<name>: accepted" or "<name>: <reason>" as the vector expects it. jsonwebtoken appends
/// ". expected: <value>" to audience/issuer errors; our messages stop before that.
std::string expected_outcome(const json& c) {
  const auto& e = c.at("expected");
  auto name = c.at("name").get<std::string>() + ": ";
  if (e.at("accepted").get<bool>())
    return name + "accepted";
  auto msg = e.at("error_message").get<std::string>();
  return name + msg.substr(0, msg.find(". expected:"));
}

json claims_at(int64_t now) {
  return {{"sub", "0b4f5c3e-8d3a-4c2e-9f1a-2b3c4d5e6f70"},
          {"email", "jane@example.com"},
          {"role", "authenticated"},
          {"aud", "authenticated"},
          {"iat", now},
          {"exp", now + 3600},
          {"app_metadata", {{"provider", "email"}}},
          {"user_metadata", {{"product_context", "djdash"}}},
          {"org_ids", {"11111111-2222-3333-4444-555555555555"}}};
}

jwt::verify_options opts_at(int64_t now) {
  return {"authenticated", "", now, 0};
}

std::string b64(std::string_view s) {
  return crypto::base64url_encode(s);
}

/// Signs `payload` text under an arbitrary header text with the test secret.
std::string raw(std::string_view header, std::string_view payload) {
  return jwt::sign_raw(header, payload, secret);
}

std::string check(std::string_view token, int64_t now = t0 + 10) {
  return outcome(jwt::verify(token, secret, opts_at(now)));
}

} // namespace

CAF_TEST(every jsonwebtoken vector case gives the expected verdict) {
  auto v = load_vectors();
  if (v.is_discarded())
    CAF_FAIL("cannot read or parse " DJDASH_SHARED_DIR "/vectors/jwt.json");
  const auto& cases = v.at("cases");
  CAF_REQUIRE(cases.is_array() && !cases.empty());
  for (const auto& c : cases) {
    const auto& vo = c.at("verify_options");
    // Our whitelist is fixed to HS256; a case that omits `algorithms` gets jsonwebtoken's default
    // (HS256/384/512 for a secret), which is only ever looser than ours.
    if (vo.contains("algorithms"))
      CAF_CHECK(vo.at("algorithms") == json::array({"HS256"}));
    auto res = jwt::verify(c.at("token").get<std::string>(),
                           c.at("secret_used").get<std::string>(), options_of(vo));
    CAF_CHECK_EQUAL(c.at("name").get<std::string>() + ": " + outcome(res), expected_outcome(c));
    const auto& e = c.at("expected");
    if (res && e.contains("sub"))
      CAF_CHECK_EQUAL(res->at("sub"), e.at("sub"));
    if (res && e.contains("role"))
      CAF_CHECK_EQUAL(res->at("role"), e.at("role"));
    if (!res)
      CAF_CHECK(app_code(res.error()) == app_errc::unauthorized);
  }
  CAF_MESSAGE("ran " << cases.size() << " jsonwebtoken vector cases");
}

CAF_TEST(the byte exact mint vector is reproduced byte for byte) {
  auto v = load_vectors();
  CAF_REQUIRE(!v.is_discarded());
  const auto& m = v.at("byte_exact_mint_vector");
  auto secret_of_vectors = v.at("secret").get<std::string>();
  auto token = jwt::sign_raw(m.at("header_json").get<std::string>(),
                             m.at("payload_json").get<std::string>(), secret_of_vectors);
  CAF_CHECK_EQUAL(token, m.at("expected_jwt").get<std::string>());
  CAF_CHECK_EQUAL(token.substr(0, token.rfind('.')), m.at("signing_input").get<std::string>());
  auto claims = jwt::verify(token, secret_of_vectors, {"authenticated", "", t0 + 10, 0});
  CAF_REQUIRE(claims);
  CAF_CHECK_EQUAL(claims->at("sub"), m.at("jsonwebtoken_verify").at("sub"));
  CAF_CHECK_EQUAL(claims->at("role"), m.at("jsonwebtoken_verify").at("role"));
}

CAF_TEST(the supabase style token is reproduced from its JSON texts) {
  auto v = load_vectors();
  CAF_REQUIRE(!v.is_discarded());
  const auto& s = v.at("supabase_style_token");
  CAF_CHECK_EQUAL(jwt::sign_raw(s.at("header_json").get<std::string>(),
                                s.at("payload_json").get<std::string>(),
                                v.at("secret").get<std::string>()),
                  s.at("jwt").get<std::string>());
}

CAF_TEST(sign then verify round trips the claims) {
  auto claims = claims_at(t0);
  auto token = jwt::sign(claims, secret);
  CAF_CHECK_EQUAL(token.substr(0, token.find('.')), b64(R"({"alg":"HS256","typ":"JWT"})"));
  auto back = jwt::verify(token, secret, opts_at(t0 + 10));
  CAF_REQUIRE(back);
  CAF_CHECK(*back == claims);
  CAF_CHECK_EQUAL(back->at("user_metadata").at("product_context"), "djdash");
}

CAF_TEST(sign survives invalid utf8 in claims) {
  auto claims = claims_at(t0);
  claims["user_metadata"]["full_name"] = std::string("Jane \xff\xfe Doe");
  auto back = jwt::verify(jwt::sign(claims, secret), secret, opts_at(t0 + 10));
  CAF_REQUIRE(back);
  CAF_CHECK_EQUAL(back->at("sub"), claims.at("sub"));
}

CAF_TEST(tampering with any part is rejected) {
  auto token = jwt::sign(claims_at(t0), secret);
  auto d1 = token.find('.');
  auto d2 = token.rfind('.');
  auto header = b64(R"({"alg":"HS256","typ":"JWS"})");
  CAF_CHECK_EQUAL(check(header + token.substr(d1)), "invalid signature");
  auto forged = claims_at(t0);
  forged["role"] = "service_role";
  auto payload = b64(forged.dump());
  CAF_CHECK_EQUAL(check(token.substr(0, d1 + 1) + payload + token.substr(d2)), "invalid signature");
  auto sig = token;
  sig[d2 + 1] = sig[d2 + 1] == 'A' ? 'B' : 'A';
  CAF_CHECK_EQUAL(check(sig), "invalid signature");
  auto mac = crypto::base64url_decode(token.substr(d2 + 1)).value_or("");
  CAF_CHECK_EQUAL(check(token.substr(0, d2 + 1) + b64(mac.substr(0, 16))), "invalid signature");
  CAF_CHECK_EQUAL(check(token.substr(0, d2 + 1)), "jwt signature is required");
  CAF_CHECK_EQUAL(outcome(jwt::verify(token, secret + "x", opts_at(t0 + 10))), "invalid signature");
}

CAF_TEST(every single character change is rejected) {
  auto token = jwt::sign(claims_at(t0), secret);
  const std::string alphabet = "Aa0-_.=+/ \x80";
  for (size_t i = 0; i < token.size(); ++i)
    for (char c : alphabet) {
      if (token[i] == c)
        continue;
      auto t = token;
      t[i] = c;
      auto res = jwt::verify(t, secret, opts_at(t0 + 10));
      CAF_CHECK(!res);
      if (res)
        CAF_MESSAGE("accepted mutation at " << i << ": " << t);
    }
}

CAF_TEST(only HS256 is accepted and it is checked before the MAC) {
  auto payload = claims_at(t0).dump();
  for (auto header : {R"({"typ":"JWT"})", R"({"alg":"none"})", R"({"alg":"HS512"})",
                      R"({"alg":"RS256"})", R"({"alg":"hs256"})", R"({"alg":"HS256 "})",
                      R"({"alg":256})", R"({"alg":null})", R"({"alg":["HS256"]})"})
    CAF_CHECK_EQUAL(check(raw(header, payload)), "invalid algorithm");
  CAF_CHECK_EQUAL(check(raw(R"({"alg":"HS256"})", payload)), "accepted"); // typ is optional
  CAF_CHECK_EQUAL(check(raw(R"({"alg":"HS256","crit":["b64"]})", payload)), "invalid token");
  // alg:none with an empty signature, as jsonwebtoken words it.
  auto none = b64(R"({"alg":"none"})") + "." + b64(payload) + ".";
  CAF_CHECK_EQUAL(check(none), "jwt signature is required");
}

CAF_TEST(header and payload must be JSON objects) {
  auto payload = claims_at(t0).dump();
  for (auto header : {"[]", "\"HS256\"", "null", "{", "", "{\"alg\":\"HS256\"} x"})
    CAF_CHECK_EQUAL(check(raw(header, payload)), "invalid token");
  auto h = R"({"alg":"HS256","typ":"JWT"})";
  for (auto bad : {"[]", "1767229200", "\"x\"", "{\"exp\":", "", "{\"a\":\"\xff\"}"})
    CAF_CHECK_EQUAL(check(raw(h, bad)), "invalid token");
  std::string deep = std::string(2900, '[') + std::string(2900, ']');
  CAF_CHECK_EQUAL(check(raw(h, deep)), "invalid token");
}

CAF_TEST(exp is required and inclusive) {
  auto h = R"({"alg":"HS256","typ":"JWT"})";
  CAF_CHECK_EQUAL(check(raw(h, R"({"aud":"authenticated"})")), "exp claim required");
  CAF_CHECK_EQUAL(check(raw(h, R"({"aud":"authenticated","exp":"1767229200"})")),
                  "invalid exp value");
  CAF_CHECK_EQUAL(check(raw(h, R"({"aud":"authenticated","exp":null})")), "invalid exp value");
  auto token = jwt::sign(claims_at(t0), secret);
  CAF_CHECK_EQUAL(check(token, t0 + 3599), "accepted");
  CAF_CHECK_EQUAL(check(token, t0 + 3600), "jwt expired");
  CAF_CHECK_EQUAL(outcome(jwt::verify(token, secret, {"authenticated", "", t0 + 3629, 30})),
                  "accepted");
  CAF_CHECK_EQUAL(outcome(jwt::verify(token, secret, {"authenticated", "", t0 + 3630, 30})),
                  "jwt expired");
  CAF_CHECK_EQUAL(check(raw(h, R"({"aud":"authenticated","exp":1767229200.5})"), t0 + 3600),
                  "accepted"); // fractional NumericDate, as JS numbers compare
  CAF_CHECK_EQUAL(check(raw(h, R"({"aud":"authenticated","exp":1e300})")), "accepted");
  CAF_CHECK_EQUAL(check(raw(h, R"({"aud":"authenticated","exp":-1e300})")), "jwt expired");
  CAF_CHECK_EQUAL(check(raw(h, R"({"aud":"authenticated","exp":18446744073709551615})")),
                  "accepted");
}

CAF_TEST(nbf is honoured with leeway) {
  auto claims = claims_at(t0);
  claims["nbf"] = t0 + 100;
  auto token = jwt::sign(claims, secret);
  CAF_CHECK_EQUAL(check(token, t0 + 99), "jwt not active");
  CAF_CHECK_EQUAL(check(token, t0 + 100), "accepted");
  CAF_CHECK_EQUAL(outcome(jwt::verify(token, secret, {"authenticated", "", t0 + 70, 30})),
                  "accepted");
  CAF_CHECK_EQUAL(outcome(jwt::verify(token, secret, {"authenticated", "", t0 + 69, 30})),
                  "jwt not active");
  claims["nbf"] = "soon";
  CAF_CHECK_EQUAL(check(jwt::sign(claims, secret)), "invalid nbf value");
}

CAF_TEST(audience may be a string or an array and issuer must match) {
  auto claims = claims_at(t0);
  auto with_aud = [&](json aud) {
    auto c = claims;
    c["aud"] = std::move(aud);
    return check(jwt::sign(c, secret));
  };
  CAF_CHECK_EQUAL(with_aud(json::array({"x", "authenticated"})), "accepted");
  CAF_CHECK_EQUAL(with_aud(json::array({"x", "y"})), "jwt audience invalid");
  CAF_CHECK_EQUAL(with_aud(json::array()), "jwt audience invalid");
  CAF_CHECK_EQUAL(with_aud(json::array({json::array({"authenticated"})})), "jwt audience invalid");
  CAF_CHECK_EQUAL(with_aud(42), "jwt audience invalid");
  CAF_CHECK_EQUAL(with_aud(nullptr), "jwt audience invalid");
  claims.erase("aud");
  auto token = jwt::sign(claims, secret);
  CAF_CHECK_EQUAL(check(token), "jwt audience invalid");
  CAF_CHECK_EQUAL(outcome(jwt::verify(token, secret, {"", "https://iss", t0, 0})),
                  "jwt issuer invalid"); // no iss claim
  claims["iss"] = "https://iss";
  token = jwt::sign(claims, secret);
  CAF_CHECK_EQUAL(outcome(jwt::verify(token, secret, {"", "https://iss", t0, 0})), "accepted");
  CAF_CHECK_EQUAL(outcome(jwt::verify(token, secret, {"", "https://iss/", t0, 0})),
                  "jwt issuer invalid");
  CAF_CHECK_EQUAL(outcome(jwt::verify(token, secret, {"", "", t0, 0})), "accepted");
}

CAF_TEST(an empty secret is a server error not a pass) {
  auto token = jwt::sign_raw(R"({"alg":"HS256"})", claims_at(t0).dump(), "");
  auto res = jwt::verify(token, "", opts_at(t0));
  CAF_REQUIRE(!res);
  CAF_CHECK(app_code(res.error()) == app_errc::internal);
}

CAF_TEST(malformed tokens are rejected as invalid) {
  auto token = jwt::sign(claims_at(t0), secret);
  auto d1 = token.find('.');
  auto d2 = token.rfind('.');
  for (std::string bad : {std::string{}, std::string("."), std::string(".."), std::string("..."),
                          token + ".", "." + token, token + ".x", token.substr(0, d1),
                          token.substr(0, d2), token.substr(d1), token.substr(d1 + 1),
                          token.substr(0, d1 + 1) + token.substr(d2),   // empty payload
                          token.substr(d1) /* empty header */, token + "=",
                          token.substr(0, d1) + "=" + token.substr(d1), "Bearer " + token,
                          token + " ", token + "\n", token + std::string(1, '\0')})
    CAF_CHECK_EQUAL(check(bad), "invalid token");
  auto padded_header = token;
  padded_header.insert(d1, "=");
  CAF_CHECK_EQUAL(check(padded_header), "invalid token");
  auto std_alphabet = token;
  std_alphabet[d2 + 3] = '+';
  CAF_CHECK_EQUAL(check(std_alphabet), "invalid token");
}

CAF_TEST(token size is bounded before decoding) {
  auto claims = claims_at(t0);
  std::string biggest_ok;
  for (size_t pad = 5000;; ++pad) {
    claims["pad"] = std::string(pad, 'p');
    auto t = jwt::sign(claims, secret);
    if (t.size() > jwt::max_token_size) {
      CAF_CHECK_EQUAL(check(t), "invalid token");
      break;
    }
    biggest_ok = std::move(t);
  }
  CAF_CHECK_EQUAL(check(biggest_ok), "accepted");
  CAF_CHECK_EQUAL(check(std::string(1 << 20, 'A') + ".A.A"), "invalid token");
  CAF_CHECK_EQUAL(check(std::string(1 << 20, '.')), "invalid token");
}

CAF_TEST(random garbage is rejected without crashing) {
  std::mt19937 rng(20260101);
  const std::string url = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_..=";
  const auto prefix = b64(R"({"alg":"HS256","typ":"JWT"})") + ".";
  auto pick = [&](size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng); };
  for (int i = 0; i < 4000; ++i) {
    std::string s;
    auto len = pick(400);
    for (size_t k = 0; k < len; ++k)
      s += i % 2 == 0 ? static_cast<char>(pick(256)) : url[pick(url.size())];
    if (i % 4 == 1)
      s = prefix + s;
    auto res = jwt::verify(s, secret, opts_at(t0));
    CAF_CHECK(!res);
    if (!res)
      CAF_CHECK(app_code(res.error()) == app_errc::unauthorized);
  }
}

CAF_TEST(random signed JSON-ish payloads never crash the claim checks) {
  // Random claim sets, sometimes corrupted, reach the claim checks behind a valid MAC.
  const std::vector<std::string> keys = {R"("exp")", R"("nbf")", R"("aud")", R"("iss")", R"("x")"};
  const std::vector<std::string> values = {
    "1767229200", "1767225600", "1e400", "-0", "0.5", "99999999999999999999999", "-1e308",
    R"("authenticated")", R"(["authenticated"])", R"([[]])", R"({})", "null", "true",
    R"("\u0000")", R"("\ud800")", "[", "}", ",", "\""};
  std::mt19937 rng(7);
  auto pick = [&](size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng); };
  int accepted = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string s = "{";
    for (auto n = pick(5); n > 0; --n)
      s += keys[pick(keys.size())] + ":" + values[pick(values.size())] + (n > 1 ? "," : "");
    s += "}";
    auto res = jwt::verify(raw(R"({"alg":"HS256"})", s), secret, {"authenticated", "", t0, 0});
    if (res) {
      CAF_CHECK(res->is_object());
      ++accepted;
    }
  }
  CAF_CHECK(accepted > 0); // proves the generator reaches acceptance, not only early rejections
  CAF_MESSAGE(accepted << " random payloads happened to be valid");
}
