#include "persistence/repo_util.hpp"

namespace djdash::persistence {

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
