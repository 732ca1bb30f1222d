#pragma once

// X-Request-Id: echo a well-formed client id (so traces join up across proxies), otherwise mint one.

#include <string>
#include <string_view>

namespace djdash::http {

/// Returns whether `id` is 1..64 characters of [A-Za-z0-9-_.], safe to echo and to log.
bool valid_request_id(std::string_view id);

/// Returns a fresh random id shaped like a UUID v4.
std::string make_request_id();

/// Returns `incoming` when it is a valid id, else a fresh one.
std::string pick_request_id(std::string_view incoming);

} // namespace djdash::http
