#include "persistence/repo_util.hpp"

#include <algorithm>

#include "protocols/crypto.hpp"

namespace djdash::persistence {

page_request read_page(const nlohmann::json& args) {
  page_request page;
  page.limit = std::clamp<int64_t>(arg_int(args, "limit", 50), 1, 200);
  auto cursor = arg_opt_string(args, "cursor");
  if (!cursor || cursor->empty())
    return page;
  auto decoded = crypto::base64url_decode(*cursor);
  auto bar = decoded ? decoded->find('|') : std::string::npos;
  if (bar == std::string::npos)
    throw op_error(app_errc::bad_request, "cursor is not valid");
  page.after_ts = decoded->substr(0, bar);
  page.after_id = decoded->substr(bar + 1);
  return page;
}

nlohmann::json page_result(const pqxx::result& rows, const page_request& page, int ts_col,
                           int id_col,
                           const std::function<nlohmann::json(const pqxx::row&)>& item) {
  auto items = nlohmann::json::array();
  nlohmann::json next = nullptr;
  for (size_t i = 0; i < rows.size(); ++i) {
    if (static_cast<int64_t>(i) == page.limit) {
      auto last = rows[i - 1];
      next = crypto::base64url_encode(last[ts_col].as<std::string>() + "|"
                                      + last[id_col].as<std::string>());
      break;
    }
    items.push_back(item(rows[i]));
  }
  return {{"items", items}, {"next_cursor", next}};
}

std::string arg_string(const nlohmann::json& args, const char* key) {
  auto i = args.find(key);
  if (i == args.end() || !i->is_string())
    throw op_error(app_errc::bad_request, std::string{key} + " is required");
  return i->get<std::string>();
}

std::optional<std::string> arg_opt_string(const nlohmann::json& args, const char* key) {
  auto i = args.find(key);
  if (i == args.end() || i->is_null())
    return std::nullopt;
  if (!i->is_string())
    throw op_error(app_errc::bad_request, std::string{key} + " must be a string");
  return i->get<std::string>();
}

int64_t arg_int(const nlohmann::json& args, const char* key, int64_t fallback) {
  auto i = args.find(key);
  if (i == args.end() || i->is_null())
    return fallback;
  if (!i->is_number_integer())
    throw op_error(app_errc::bad_request, std::string{key} + " must be an integer");
  return i->get<int64_t>();
}

nlohmann::json text_or_null(const pqxx::field& f) {
  if (f.is_null())
    return nullptr;
  return f.as<std::string>();
}

nlohmann::json jsonb(const pqxx::field& f) {
  if (f.is_null())
    return nlohmann::json::object();
  return nlohmann::json::parse(f.as<std::string>());
}

int role_rank(const std::string& role) {
  return role == "owner" ? 3 : role == "admin" ? 2 : role == "member" ? 1 : 0;
}

void set_local(pqxx::transaction_base& tx, const char* name, const std::string& value) {
  tx.exec_params("select set_config($1, $2, true)", name, value);
}

} // namespace djdash::persistence
