#pragma once

// The only place that maps errors to HTTP statuses. Clients get a status, a stable snake_case
// code and a short message; details of unexpected errors go to the log, never to the client.

#include <string>

#include <caf/error.hpp>
#include <nlohmann/json.hpp>

#include "http/request.hpp"
#include "protocols/app_errc.hpp"

namespace djdash::http {

/// Returns the HTTP status for `code`.
int status_of(app_errc code);

/// Returns a JSON response with `body` serialized.
response json_response(int status, const nlohmann::json& body);

/// Returns a 204 with no body.
response no_content();

/// Returns `{"error":{"code","message"}}` with `code`'s status (an empty message gets the
/// code's default text). 503 answers carry `Retry-After: 1`.
response error_response(app_errc code, std::string message = {});

/// Maps any error: app_errc as above, CAF's request timeout to 504, a dead receiver to 503,
/// anything else to a generic 500 (logged with its detail).
response error_response(const caf::error& err);

/// For the few answers outside app_errc (the connection cap's 503 "unavailable").
response error_body(int status, const std::string& code, const std::string& message);

} // namespace djdash::http
