#include "protocols/twilio.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>
#include <stdexcept>

#include <openssl/evp.h>

#include "protocols/crypto.hpp"

namespace djdash::twilio {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/// Decodes one form component: '+' is a space, a valid %XX its byte, anything else literal.
std::string decode_component(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    auto c = s[i];
    if (c == '+') {
      out += ' ';
    } else if (c == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0
               && hex_value(s[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

std::string hmac_sha1(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  std::size_t len = 0;
  // EVP_Q_mac takes size_t lengths and is not deprecated in OpenSSL 3 (HMAC() caps at INT_MAX).
  auto* res = EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA1", nullptr, key.data(), key.size(),
                        reinterpret_cast<const unsigned char*>(data.data()), data.size(), out,
                        sizeof out, &len);
  if (res == nullptr)
    throw std::runtime_error("HMAC-SHA1 failed");
  return std::string(reinterpret_cast<const char*>(out), len);
}

/// The parts of an absolute URL around its authority's port.
struct url_parts {
  std::string scheme;       // "https"
  std::string before_port;  // "https://user@host"
  std::string port;         // "443" or empty
  std::string rest;         // "/path?query"
  bool ok = false;
};

url_parts split_url(std::string_view url) {
  url_parts p;
  auto sep = url.find("://");
  if (sep == std::string_view::npos || sep == 0)
    return p;
  p.scheme = std::string{url.substr(0, sep)};
  std::transform(p.scheme.begin(), p.scheme.end(), p.scheme.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  auto auth_begin = sep + 3;
  auto auth_end = url.find_first_of("/?#", auth_begin);
  if (auth_end == std::string_view::npos)
    auth_end = url.size();
  auto authority = url.substr(auth_begin, auth_end - auth_begin);
  auto at = authority.rfind('@');
  auto host_begin = at == std::string_view::npos ? 0 : at + 1;
  auto colon = authority.rfind(':');
  auto bracket = authority.rfind(']');  // an IPv6 literal's colons are not a port
  std::string_view host_port = authority;
  if (colon != std::string_view::npos && colon >= host_begin
      && (bracket == std::string_view::npos || colon > bracket)) {
    p.port = std::string{authority.substr(colon + 1)};
    host_port = authority.substr(0, colon);
  }
  p.before_port = std::string{url.substr(0, auth_begin)} + std::string{host_port};
  p.rest = std::string{url.substr(auth_end)};
  p.ok = true;
  return p;
}

std::string default_port(const std::string& scheme) {
  if (scheme == "https")
    return "443";
  if (scheme == "http")
    return "80";
  return {};
}

bool any_variant_matches(std::string_view auth_token, std::string_view header,
                         std::string_view url, const form_params& params) {
  bool match = false;
  // Every variant is computed and compared, so timing does not reveal which one matched.
  for (auto& candidate : url_variants(url))
    match |= crypto::constant_time_equal(signature(auth_token, candidate, params), header);
  return match;
}

} // namespace

form_params parse_form(std::string_view body) {
  form_params out;
  std::size_t pos = 0;
  while (pos <= body.size()) {
    auto end = body.find('&', pos);
    if (end == std::string_view::npos)
      end = body.size();
    auto segment = body.substr(pos, end - pos);
    if (!segment.empty()) {
      auto eq = segment.find('=');
      if (eq == std::string_view::npos)
        out.emplace_back(decode_component(segment), std::string{});
      else
        out.emplace_back(decode_component(segment.substr(0, eq)),
                         decode_component(segment.substr(eq + 1)));
    }
    pos = end + 1;
  }
  return out;
}

std::optional<std::string> form_value(const form_params& params, std::string_view key) {
  for (auto& [k, v] : params)
    if (k == key)
      return v;
  return std::nullopt;
}

std::string signing_string(std::string_view url, const form_params& params) {
  // std::string compares bytes as unsigned char: plain byte order, like a bytewise JS sort.
  std::map<std::string, std::set<std::string>> grouped;
  for (auto& [k, v] : params)
    grouped[k].insert(v);
  std::string data{url};
  for (auto& [k, values] : grouped)
    for (auto& v : values) {
      data += k;
      data += v;
    }
  return data;
}

std::string signature(std::string_view auth_token, std::string_view url,
                      const form_params& params) {
  return crypto::base64_encode(hmac_sha1(auth_token, signing_string(url, params)));
}

std::vector<std::string> url_variants(std::string_view url) {
  std::vector<std::string> out{std::string{url}};
  auto p = split_url(url);
  if (!p.ok)
    return out;
  auto add = [&](std::string candidate) {
    if (std::find(out.begin(), out.end(), candidate) == out.end())
      out.push_back(std::move(candidate));
  };
  if (!p.port.empty()) {
    add(p.before_port + p.rest);
  } else if (auto port = default_port(p.scheme); !port.empty()) {
    add(p.before_port + ":" + port + p.rest);
  }
  return out;
}

bool validate_request(std::string_view auth_token, std::string_view header, std::string_view url,
                      const form_params& params) {
  if (auth_token.empty() || header.empty())
    return false;
  return any_variant_matches(auth_token, header, url, params);
}

bool validate_request_with_body(std::string_view auth_token, std::string_view header,
                                std::string_view url, std::string_view raw_body) {
  if (auth_token.empty() || header.empty())
    return false;
  auto q = url.find('?');
  if (q == std::string_view::npos)
    return false;
  auto query = parse_form(url.substr(q + 1));
  auto claimed = form_value(query, "bodySHA256");
  if (!claimed)
    return false;
  auto body_ok = crypto::constant_time_equal(crypto::hex(crypto::sha256(raw_body)), *claimed);
  auto sig_ok = any_variant_matches(auth_token, header, url, {});
  return body_ok && sig_ok;
}

std::string xml_escape_text(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (auto c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string xml_escape_attribute(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (auto c : text) {
    if (c == '"')
      out += "&quot;";
    else
      out += xml_escape_text(std::string_view{&c, 1});
  }
  return out;
}

namespace {
constexpr auto xml_declaration = R"(<?xml version="1.0" encoding="UTF-8"?>)";
} // namespace

std::string twiml_reply(const std::optional<std::string>& text) {
  std::string out = xml_declaration;
  if (!text)
    return out + "<Response/>";
  return out + "<Response><Message>" + xml_escape_text(*text) + "</Message></Response>";
}

std::string twiml_response(const twiml_message& message) {
  std::string out = xml_declaration;
  out += "<Response><Message";
  for (auto& [name, value] : message.attributes)
    out += " " + name + "=\"" + xml_escape_attribute(value) + "\"";
  out += ">";
  out += "<Body>" + xml_escape_text(message.body) + "</Body>";
  for (auto& url : message.media)
    out += "<Media>" + xml_escape_text(url) + "</Media>";
  out += "</Message></Response>";
  return out;
}

std::string form_encode_component(std::string_view text) {
  static constexpr char hex_digits[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    bool keep = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
                || c == '-' || c == '_' || c == '.' || c == '~' || c == '!' || c == '*'
                || c == '\'' || c == '(' || c == ')';
    if (keep) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex_digits[c >> 4];
      out += hex_digits[c & 15];
    }
  }
  return out;
}

std::string send_form(const send_request& req) {
  std::string out;
  auto add = [&](const char* key, const std::string& value) {
    if (value.empty())
      return;
    if (!out.empty())
      out += '&';
    out += key;
    out += '=';
    out += form_encode_component(value);
  };
  add("To", req.to);
  add("StatusCallback", req.status_callback);
  add("From", req.from);
  add("MessagingServiceSid", req.messaging_service_sid);
  add("Body", req.body);
  for (auto& url : req.media_urls)
    add("MediaUrl", url);
  return out;
}

std::string messages_path(std::string_view account_sid) {
  return "/2010-04-01/Accounts/" + form_encode_component(account_sid) + "/Messages.json";
}

std::string basic_authorization(std::string_view user, std::string_view password) {
  std::string pair{user};
  pair += ':';
  pair += password;
  return "Basic " + crypto::base64_encode(pair);
}

} // namespace djdash::twilio
