#pragma once

// Reading untrusted JSON request bodies: a malformed body is a 400 that names the problem.

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "http/request.hpp"

namespace djdash::http {

/// Returns the body as a JSON object, or answers `rsp` with 400 and returns nothing.
std::optional<nlohmann::json> json_object_body(const request& req, const responder& rsp);

/// Returns the string field `key`, nothing when absent or null; answers 400 (and sets `failed`)
/// when it is present with another type or longer than `max_length`.
std::optional<std::string> string_field(const nlohmann::json& body, const char* key,
                                        size_t max_length, const responder& rsp, bool& failed);

/// Returns `email` trimmed and lower-cased when it is a plausible address, else nothing.
std::optional<std::string> normalized_email(const std::string& email);

} // namespace djdash::http
