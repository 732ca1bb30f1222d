#include "protocols/app_errc.hpp"

#include <caf/atom.hpp>
#include <caf/message.hpp>

namespace djdash {

std::string to_string(app_errc x) {
  switch (x) {
    case app_errc::bad_request: return "bad_request";
    case app_errc::unauthorized: return "unauthorized";
    case app_errc::forbidden: return "forbidden";
    case app_errc::not_found: return "not_found";
    case app_errc::method_not_allowed: return "method_not_allowed";
    case app_errc::conflict: return "conflict";
    case app_errc::payload_too_large: return "payload_too_large";
    case app_errc::unprocessable: return "unprocessable";
    case app_errc::rate_limited: return "rate_limited";
    case app_errc::bad_signature: return "bad_signature";
    case app_errc::db_unavailable: return "db_unavailable";
    case app_errc::db_overloaded: return "db_overloaded";
    case app_errc::migrations_pending: return "migrations_pending";
    case app_errc::entity_unavailable: return "entity_unavailable";
    case app_errc::upstream_timeout: return "upstream_timeout";
    case app_errc::upstream_error: return "upstream_error";
    case app_errc::shutting_down: return "shutting_down";
    case app_errc::cluster_unavailable: return "cluster_unavailable";
    case app_errc::internal: return "internal";
  }
  return "internal";
}

caf::error make_app_error(app_errc code, std::string message) {
  return caf::make_error(code, std::move(message));
}

std::string error_message(const caf::error& err) {
  const auto& ctx = err.context();
  if (ctx.match_elements<std::string>())
    return ctx.get_as<std::string>(0);
  return {};
}

app_errc app_code(const caf::error& err) {
  if (err.category() == caf::atom("app_errc"))
    return static_cast<app_errc>(err.code());
  return app_errc::internal;
}

} // namespace djdash
