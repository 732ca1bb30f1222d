#include "http/error_response.hpp"

#include <caf/sec.hpp>

#include "config/logging.hpp"

namespace djdash::http {

int status_of(app_errc code) {
  switch (code) {
    case app_errc::bad_request: return 400;
    case app_errc::unauthorized: return 401;
    case app_errc::forbidden: return 403;
    case app_errc::not_found: return 404;
    case app_errc::method_not_allowed: return 405;
    case app_errc::conflict: return 409;
    case app_errc::payload_too_large: return 413;
    case app_errc::unprocessable: return 422;
    case app_errc::rate_limited: return 429;
    case app_errc::bad_signature: return 400;  // webhook senders only need "rejected"
    case app_errc::db_unavailable: return 503;
    case app_errc::db_overloaded: return 503;
    case app_errc::migrations_pending: return 503;
    case app_errc::entity_unavailable: return 503;
    case app_errc::upstream_timeout: return 504;
    case app_errc::upstream_error: return 502;
    case app_errc::shutting_down: return 503;
    case app_errc::cluster_unavailable: return 503;
    case app_errc::internal: return 500;
  }
  return 500;
}

namespace {

const char* default_message(app_errc code) {
  switch (code) {
    case app_errc::bad_request: return "the request is malformed";
    case app_errc::unauthorized: return "authentication required";
    case app_errc::forbidden: return "not allowed";
    case app_errc::not_found: return "not found";
    case app_errc::method_not_allowed: return "method not allowed on this path";
    case app_errc::conflict: return "conflicts with the current state";
    case app_errc::payload_too_large: return "request body too large";
    case app_errc::unprocessable: return "the request is invalid";
    case app_errc::rate_limited: return "too many requests";
    case app_errc::bad_signature: return "signature check failed";
    case app_errc::db_unavailable: return "database unavailable";
    case app_errc::db_overloaded: return "database overloaded, retry later";
    case app_errc::migrations_pending: return "database migrations pending";
    case app_errc::entity_unavailable: return "temporarily unavailable, retry later";
    case app_errc::upstream_timeout: return "the request took too long";
    case app_errc::upstream_error: return "an upstream service failed";
    case app_errc::shutting_down: return "this node is shutting down";
    case app_errc::cluster_unavailable: return "this node has not joined the cluster yet";
    case app_errc::internal: return "internal error";
  }
  return "internal error";
}

} // namespace

response json_response(int status, const nlohmann::json& body) {
  response r;
  r.status = status;
  // `replace` keeps a stray invalid UTF-8 byte from turning into an exception mid-response.
  r.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return r;
}

response error_body(int status, const std::string& code, const std::string& message) {
  auto r = json_response(status, {{"error", {{"code", code}, {"message", message}}}});
  if (status == 503)
    r.headers.emplace_back("Retry-After", "1");
  return r;
}

response error_response(app_errc code, std::string message) {
  if (message.empty())
    message = default_message(code);
  return error_body(status_of(code), to_string(code), message);
}

response error_response(const caf::error& err) {
  if (!err) {
    // A success passed as an error is a bug in the caller; category() must not see `none`.
    log_fields(logger("http"), spdlog::level::err, "empty error answered with 500", {});
    return error_response(app_errc::internal);
  }
  if (err.category() == caf::atom("app_errc"))
    return error_response(app_code(err), error_message(err));
  if (err == caf::sec::request_timeout)
    return error_response(app_errc::upstream_timeout);
  if (err == caf::sec::request_receiver_down)
    return error_response(app_errc::entity_unavailable);
  log_fields(logger("http"), spdlog::level::err, "unmapped error answered with 500",
             {{"error", to_string(err)}});
  return error_response(app_errc::internal);
}

response no_content() {
  response r;
  r.status = 204;
  r.content_type.clear();
  return r;
}

} // namespace djdash::http
