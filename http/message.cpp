#include "http/message.hpp"

#include <algorithm>
#include <cctype>

#include "http/error_response.hpp"

namespace djdash::http {

namespace {

std::string lower(std::string_view s) {
  std::string out{s};
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool may_have_body(int status) {
  return status >= 200 && status != 204 && status != 304;
}

} // namespace

request to_request(wire_request&& msg) {
  request req;
  req.method = std::string{msg.method_string()};
  req.target = std::string{msg.target()};
  for (const auto& field : msg) {
    auto& slot = req.headers[lower(field.name_string())];
    if (!slot.empty())
      slot += ", ";  // repeated headers combine as RFC 9110 §5.3 allows
    slot += field.value();
  }
  req.body = std::move(msg.body());
  return req;
}

bool is_parse_error(beast::error_code ec) {
  return ec.category() == bhttp::make_error_code(bhttp::error::bad_target).category();
}

response parse_error_response(beast::error_code ec, std::size_t body_limit) {
  if (ec == bhttp::error::body_limit)
    return error_response(app_errc::payload_too_large,
                          "request body exceeds " + std::to_string(body_limit) + " bytes");
  if (ec == bhttp::error::header_limit)
    return error_body(431, "bad_request", "request headers too large");
  return error_response(app_errc::bad_request, "malformed HTTP request");
}

bool expects_continue(const wire_request& head) {
  return head.version() >= 11 && beast::iequals(head[bhttp::field::expect], "100-continue");
}

std::shared_ptr<wire_response> to_wire(response&& r, unsigned version,
                                       const std::string& request_id, bool close) {
  auto out = std::make_shared<wire_response>(static_cast<bhttp::status>(r.status), version);
  out->set(bhttp::field::server, "djdash");
  if (!r.content_type.empty())
    out->set(bhttp::field::content_type, r.content_type);
  out->set("X-Request-Id", request_id);
  for (auto& [name, value] : r.headers)
    out->insert(name, value);
  if (may_have_body(r.status))  // Beast refuses a body on 1xx, 204 and 304
    out->body() = std::move(r.body);
  out->keep_alive(!close);
  if (close)
    out->set(bhttp::field::connection, "close");  // HTTP/1.0 too, explicitly
  out->prepare_payload();
  return out;
}

} // namespace djdash::http
