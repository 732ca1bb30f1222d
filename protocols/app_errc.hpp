#pragma once

#include <cstdint>
#include <string>

#include <caf/error.hpp>
#include <caf/make_message.hpp>

namespace djdash {

/// Every failure the application reports. `http/error_response.cpp` maps these to status codes
/// once; everything else passes them around as `caf::error`.
enum class app_errc : uint8_t {
  bad_request = 1,
  unauthorized,
  forbidden,
  not_found,
  method_not_allowed,
  conflict,
  payload_too_large,
  unprocessable,
  rate_limited,
  bad_signature,
  db_unavailable,
  db_overloaded,
  migrations_pending,
  entity_unavailable,
  upstream_timeout,
  upstream_error,
  shutting_down,
  cluster_unavailable,
  internal,
};

/// Returns the snake_case code used in the API's error objects.
std::string to_string(app_errc x);

/// Makes an error with a human-readable message (safe to show to clients).
caf::error make_app_error(app_errc code, std::string message);

/// Returns the human-readable message carried by `err`, or an empty string.
std::string error_message(const caf::error& err);

/// Returns the `app_errc` of `err`, or `app_errc::internal` for foreign categories.
app_errc app_code(const caf::error& err);

} // namespace djdash

CAF_ERROR_CODE_ENUM(djdash::app_errc, "app_errc")
