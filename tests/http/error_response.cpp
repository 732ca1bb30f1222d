#define CAF_SUITE http.error_response

#include "http/error_response.hpp"

#include "support/caf_test.hpp"

#include <caf/sec.hpp>

using namespace djdash;
using namespace djdash::http;

namespace {

nlohmann::json body_of(const response& r) {
  return nlohmann::json::parse(r.body);
}

const std::string& header(const response& r, const std::string& name) {
  static const std::string empty;
  for (auto& [k, v] : r.headers)
    if (k == name)
      return v;
  return empty;
}

} // namespace

CAF_TEST(every app_errc maps to its status) {
  std::pair<app_errc, int> table[] = {
    {app_errc::bad_request, 400},        {app_errc::unauthorized, 401},
    {app_errc::forbidden, 403},          {app_errc::not_found, 404},
    {app_errc::method_not_allowed, 405}, {app_errc::conflict, 409},
    {app_errc::payload_too_large, 413},  {app_errc::unprocessable, 422},
    {app_errc::rate_limited, 429},       {app_errc::bad_signature, 400},
    {app_errc::db_unavailable, 503},     {app_errc::db_overloaded, 503},
    {app_errc::migrations_pending, 503}, {app_errc::entity_unavailable, 503},
    {app_errc::upstream_timeout, 504},   {app_errc::upstream_error, 502},
    {app_errc::shutting_down, 503},      {app_errc::internal, 500},
  };
  for (auto [code, status] : table) {
    auto r = error_response(make_app_error(code, ""));
    CAF_CHECK_EQUAL(r.status, status);
    CAF_CHECK_EQUAL(status_of(code), status);
    auto j = body_of(r);
    CAF_CHECK_EQUAL(j["error"]["code"], to_string(code));
    CAF_CHECK(!j["error"]["message"].get<std::string>().empty());
    CAF_CHECK_EQUAL(r.content_type, "application/json; charset=utf-8");
    CAF_CHECK_EQUAL(header(r, "Retry-After"), status == 503 ? "1" : "");
  }
}

CAF_TEST(the error message reaches the client) {
  auto r = error_response(make_app_error(app_errc::conflict, "that date is taken"));
  CAF_CHECK_EQUAL(r.status, 409);
  auto r_json = body_of(r);
  CAF_CHECK_EQUAL(r_json["error"]["message"], "that date is taken");
  auto direct = error_response(app_errc::unprocessable, "amount_cents must be positive");
  CAF_CHECK_EQUAL(direct.status, 422);
  auto direct_json = body_of(direct);
  CAF_CHECK_EQUAL(direct_json["error"]["code"], "unprocessable");
}

CAF_TEST(CAF errors map to timeouts unavailability or a generic 500) {
  auto timeout = error_response(caf::make_error(caf::sec::request_timeout));
  CAF_CHECK_EQUAL(timeout.status, 504);
  auto timeout_json = body_of(timeout);
  CAF_CHECK_EQUAL(timeout_json["error"]["code"], "upstream_timeout");
  auto down = error_response(caf::make_error(caf::sec::request_receiver_down));
  CAF_CHECK_EQUAL(down.status, 503);
  auto down_json = body_of(down);
  CAF_CHECK_EQUAL(down_json["error"]["code"], "entity_unavailable");
  auto other = error_response(caf::make_error(caf::sec::runtime_error, "secret detail"));
  CAF_CHECK_EQUAL(other.status, 500);
  auto other_json = body_of(other);
  CAF_CHECK_EQUAL(other_json["error"]["code"], "internal");
  CAF_CHECK(other.body.find("secret") == std::string::npos);
  auto none = error_response(caf::error{});
  CAF_CHECK_EQUAL(none.status, 500);
}

CAF_TEST(json_response serializes any JSON) {
  auto r = json_response(201, {{"id", "a"}, {"bad_utf8", "\xff"}});
  CAF_CHECK_EQUAL(r.status, 201);
  CAF_CHECK(nlohmann::json::parse(r.body, nullptr, false).is_object());
}
