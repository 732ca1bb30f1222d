#include "http/paging.hpp"

#include <charconv>

#include "http/error_response.hpp"

namespace djdash::http {

std::optional<nlohmann::json> page_args(const request& req, const responder& rsp) {
  nlohmann::json args{{"limit", 50}};
  if (auto& text = req.query_param("limit"); !text.empty()) {
    int n = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (ec != std::errc{} || end != text.data() + text.size() || n < 1 || n > 200) {
      rsp(error_response(app_errc::bad_request, "limit must be an integer from 1 to 200"));
      return std::nullopt;
    }
    args["limit"] = n;
  }
  if (auto& cursor = req.query_param("cursor"); !cursor.empty()) {
    if (cursor.size() > 512) {
      rsp(error_response(app_errc::bad_request, "cursor is not valid"));
      return std::nullopt;
    }
    args["cursor"] = cursor;
  }
  return args;
}

} // namespace djdash::http
