#pragma once

// List requests: `?limit=` (1..200, default 50) and an opaque `cursor` (API.md, Conventions).

#include <optional>

#include <nlohmann/json.hpp>

#include "http/request.hpp"

namespace djdash::http {

/// Returns {"limit": n, "cursor"?: "..."} for a list operation's arguments, or answers 400 and
/// returns nothing when `limit` is malformed.
std::optional<nlohmann::json> page_args(const request& req, const responder& rsp);

} // namespace djdash::http
