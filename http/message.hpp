#pragma once

// Conversions between Beast messages and the light request/response of http/request.hpp.
// Included by http/*.cpp only.

#include <cstddef>
#include <memory>
#include <string>

#include "http/net.hpp"
#include "http/request.hpp"

namespace djdash::http {

using wire_request = bhttp::request<bhttp::string_body>;
using wire_response = bhttp::response<bhttp::string_body>;

/// Returns method, target, headers (names lower-cased, repeats joined by ", ") and body.
request to_request(wire_request&& msg);

/// Returns whether `ec` comes from the HTTP parser (the client sent something invalid).
bool is_parse_error(beast::error_code ec);

/// Returns the answer to a parse error: 413, 431 or 400.
response parse_error_response(beast::error_code ec, std::size_t body_limit);

/// Returns whether the client waits for `100 Continue` before sending the body.
bool expects_continue(const wire_request& head);

/// Builds the wire form of `r` with the headers every answer carries (Server, X-Request-Id,
/// Content-Type, Content-Length, and Connection: close when `close`).
std::shared_ptr<wire_response> to_wire(response&& r, unsigned version,
                                       const std::string& request_id, bool close);

} // namespace djdash::http
