#include "http/json_body.hpp"

#include <algorithm>
#include <cctype>

#include "http/error_response.hpp"

namespace djdash::http {

std::optional<nlohmann::json> json_object_body(const request& req, const responder& rsp) {
  auto body = nlohmann::json::parse(req.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) {
    rsp(error_response(app_errc::bad_request, "the body must be a JSON object"));
    return std::nullopt;
  }
  return body;
}

std::optional<std::string> string_field(const nlohmann::json& body, const char* key,
                                        size_t max_length, const responder& rsp, bool& failed) {
  auto i = body.find(key);
  if (i == body.end() || i->is_null())
    return std::nullopt;
  if (!i->is_string()) {
    failed = true;
    rsp(error_response(app_errc::bad_request, std::string{key} + " must be a string"));
    return std::nullopt;
  }
  auto value = i->get<std::string>();
  if (value.size() > max_length) {
    failed = true;
    rsp(error_response(app_errc::bad_request, std::string{key} + " is too long (at most "
                                                + std::to_string(max_length) + " bytes)"));
    return std::nullopt;
  }
  return value;
}

std::optional<std::string> normalized_email(const std::string& email) {
  auto begin = email.find_first_not_of(" \t");
  auto end = email.find_last_not_of(" \t");
  if (begin == std::string::npos)
    return std::nullopt;
  auto e = email.substr(begin, end - begin + 1);
  std::transform(e.begin(), e.end(), e.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  auto at = e.find('@');
  if (e.size() < 3 || e.size() > 320 || at == 0 || at == std::string::npos
      || e.find('@', at + 1) != std::string::npos)
    return std::nullopt;
  auto domain = e.substr(at + 1);
  if (domain.size() < 3 || domain.find('.') == std::string::npos || domain.front() == '.'
      || domain.back() == '.')
    return std::nullopt;
  for (unsigned char c : e)
    if (c <= ' ' || c == 0x7f || c == '"' || c == '<' || c == '>' || c == ',' || c == ';')
      return std::nullopt;
  return e;
}

} // namespace djdash::http
