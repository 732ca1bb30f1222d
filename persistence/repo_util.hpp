#pragma once

// Small helpers shared by the *_repo.cpp files: reading JSON arguments with clear client errors,
// and rows → JSON.

#include <functional>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "persistence/operations.hpp"

namespace djdash::persistence {

/// Returns the string argument `key`, or throws a bad_request naming it.
std::string arg_string(const nlohmann::json& args, const char* key);

/// Returns the optional string argument `key` (absent or null → nothing).
std::optional<std::string> arg_opt_string(const nlohmann::json& args, const char* key);

/// Returns the integer argument `key`, or `fallback` when absent.
int64_t arg_int(const nlohmann::json& args, const char* key, int64_t fallback);

/// Returns a text column as JSON: null when SQL NULL.
nlohmann::json text_or_null(const pqxx::field& f);

/// Parses a jsonb column (read as text) into JSON; `{}` when NULL.
nlohmann::json jsonb(const pqxx::field& f);

/// A keyset page request: at most `limit` rows after the row (`after_ts`, `after_id`).
struct page_request {
  int64_t limit = 50;
  std::string after_ts;  // empty: the first page
  std::string after_id;
};

/// Reads `limit` (1..200, default 50) and the opaque `cursor`; throws bad_request when the
/// cursor is not one of ours.
page_request read_page(const nlohmann::json& args);

/// Builds {"items", "next_cursor"} from rows fetched with `limit + 1`: the extra row only
/// says there is a next page. `ts_col` and `id_col` hold each row's sort key as text.
nlohmann::json page_result(const pqxx::result& rows, const page_request& page, int ts_col,
                           int id_col, const std::function<nlohmann::json(const pqxx::row&)>& item);

/// Returns 3 for owner, 2 for admin, 1 for member, 0 otherwise.
int role_rank(const std::string& role);

/// Sets one transaction-local setting (app.org_id, app.user_id) mid-transaction.
void set_local(pqxx::transaction_base& tx, const char* name, const std::string& value);

} // namespace djdash::persistence
