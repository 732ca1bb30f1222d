#include "persistence/org_repo.hpp"

#include <algorithm>
#include <regex>
#include <set>
#include <string_view>

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "persistence/migrations.hpp"
#include "persistence/repo_util.hpp"

namespace djdash::persistence {

namespace {

using json = nlohmann::json;

/// The database's schema version next to the one this build needs (readiness, `migrate`).
json schema_status(pqxx::transaction_base& tx, const db_scope&, const json&) {
  int current = 0;
  if (tx.exec1("select to_regclass('public.schema_migrations') is not null")[0].as<bool>())
    current = tx.exec1("select coalesce(max(version), 0) from schema_migrations")[0].as<int>();
  return {{"current", current}, {"expected", expected_schema_version()}};
}

/// The organization entity's state. RLS restricts it to the scope's org (or a platform admin).
json load_org(pqxx::transaction_base& tx, const db_scope&, const json& args) {
  auto id = args.at("id").get<std::string>();
  auto rows = tx.exec_params(
    "select id, product_context, name, slug, coalesce(sms_number, ''), timezone, settings::text,"
    " coalesce(stripe_connect_account_id, ''), version"
    " from organizations where id = $1::uuid",
    id);
  if (rows.empty())
    throw op_error(app_errc::not_found, "organization not found");
  auto r = rows[0];
  return {{"id", r[0].as<std::string>()},
          {"product_context", r[1].as<std::string>()},
          {"name", r[2].as<std::string>()},
          {"slug", r[3].as<std::string>()},
          {"sms_number", r[4].as<std::string>()},
          {"timezone", r[5].as<std::string>()},
          {"settings", json::parse(r[6].as<std::string>())},
          {"stripe_connect_account_id", r[7].as<std::string>()},
          {"version", r[8].as<int64_t>()}};
}

/// Public lookup by slug through the SECURITY DEFINER function (no tenant scope needed).
json public_by_slug(pqxx::transaction_base& tx, const db_scope&, const json& args) {
  auto slug = args.at("slug").get<std::string>();
  auto rows = tx.exec_params("select id, slug, name, product_context"
                             " from public_organization_by_slug($1)",
                             slug);
  if (rows.empty())
    throw op_error(app_errc::not_found, "no organization with this slug");
  auto r = rows[0];
  return {{"id", r[0].as<std::string>()},
          {"slug", r[1].as<std::string>()},
          {"name", r[2].as<std::string>()},
          {"product_context", r[3].as<std::string>()}};
}

constexpr auto org_columns
  = "id, product_context, name, slug, sms_number, timezone, settings::text,"
    " stripe_connect_account_id, to_jsonb(created_at) #>> '{}', to_jsonb(updated_at) #>> '{}',"
    " version";

json org_json(const pqxx::row& r) {
  return {{"id", r[0].as<std::string>()},
          {"product_context", r[1].as<std::string>()},
          {"name", r[2].as<std::string>()},
          {"slug", r[3].as<std::string>()},
          {"sms_number", text_or_null(r[4])},
          {"timezone", r[5].as<std::string>()},
          {"settings", jsonb(r[6])},
          {"stripe_connect_account_id", text_or_null(r[7])},
          {"created_at", r[8].as<std::string>()},
          {"updated_at", r[9].as<std::string>()},
          {"version", r[10].as<int64_t>()}};
}

json get_current(pqxx::transaction_base& tx, const db_scope&, const json&) {
  auto rows = tx.exec(std::string{"select "} + org_columns
                      + " from organizations where id = app_org_id()");
  if (rows.empty())
    throw op_error(app_errc::not_found, "organization not found");
  return org_json(rows[0]);
}

/// Checks the fields a PATCH may change; throws a bad_request naming the first bad one.
void validate_patch(pqxx::transaction_base& tx, const json& args) {
  static const std::set<std::string> allowed{"name",     "slug",     "sms_number",
                                             "timezone", "settings", "version"};
  for (auto& [key, value] : args.items())
    if (allowed.count(key) == 0)
      throw op_error(app_errc::bad_request, key + " cannot be changed here");
  if (auto name = arg_opt_string(args, "name"); name && (name->empty() || name->size() > 200))
    throw op_error(app_errc::bad_request, "name must be 1 to 200 characters");
  if (auto slug = arg_opt_string(args, "slug")) {
    static const std::regex re{"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$"};
    if (!std::regex_match(*slug, re))
      throw op_error(app_errc::bad_request,
                     "slug must be 1 to 64 lowercase letters, digits or inner hyphens");
  }
  if (auto sms = arg_opt_string(args, "sms_number")) {
    static const std::regex re{"^\\+[1-9][0-9]{6,14}$"};
    if (!std::regex_match(*sms, re))
      throw op_error(app_errc::bad_request, "sms_number must be an E.164 number like +19015551234");
  }
  if (auto tz = arg_opt_string(args, "timezone")) {
    auto known = tx.exec_params1("select exists (select 1 from pg_timezone_names where name = $1)",
                                 *tz)[0].as<bool>();
    if (!known)
      throw op_error(app_errc::bad_request, "timezone must be an IANA name like America/Chicago");
  }
  if (args.contains("settings") && !args["settings"].is_object())
    throw op_error(app_errc::bad_request, "settings must be an object");
  arg_int(args, "version", 0);
}

/// Settings merge key by key; a null value removes the key.
std::string merged_settings(pqxx::transaction_base& tx, const json& patch) {
  // Locks the row before reading it: two writers (two PATCHes, or two activations of the entity
  // while a key moves between nodes) merge one after the other and never lose each other's keys.
  auto current = jsonb(
    tx.exec1("select settings::text from organizations where id = app_org_id() for update")[0]);
  for (auto& [key, value] : patch.items()) {
    if (value.is_null())
      current.erase(key);
    else
      current[key] = value;
  }
  return current.dump();
}

json update_current(pqxx::transaction_base& tx, const db_scope&, const json& args) {
  validate_patch(tx, args);
  auto settings = args.contains("settings") ? std::optional<std::string>{merged_settings(tx, args["settings"])}
                                            : std::nullopt;
  auto sms_given = args.contains("sms_number");
  std::optional<int64_t> version;
  if (args.contains("version"))
    version = args["version"].get<int64_t>();
  try {
    auto rows = tx.exec_params(
      std::string{"update organizations set"
                  " name = coalesce($1, name), slug = coalesce($2, slug),"
                  " sms_number = case when $3 then $4 else sms_number end,"
                  " timezone = coalesce($5, timezone),"
                  " settings = coalesce($6::jsonb, settings)"
                  " where id = app_org_id() and ($7::bigint is null or version = $7)"
                  " returning "}
        + org_columns,
      arg_opt_string(args, "name"), arg_opt_string(args, "slug"), sms_given,
      arg_opt_string(args, "sms_number"), arg_opt_string(args, "timezone"), settings, version);
    if (!rows.empty())
      return org_json(rows[0]);
  } catch (const pqxx::unique_violation& e) {
    auto sms = std::string_view{e.what()}.find("sms_number") != std::string_view::npos;
    throw op_error(app_errc::conflict, sms ? "this SMS number belongs to another organization"
                                           : "this slug is taken");
  }
  if (tx.exec("select 1 from organizations where id = app_org_id()").empty())
    throw op_error(app_errc::not_found, "organization not found");
  throw op_error(app_errc::conflict, "the organization changed since you read it; reload and retry");
}

json list_all(pqxx::transaction_base& tx, const db_scope&, const json& args) {
  auto page = read_page(args);
  auto rows = tx.exec_params(std::string{"select "} + org_columns
                               + " from organizations where $1 = ''"
                                 " or (created_at, id) > ($1::timestamptz, nullif($2, '')::uuid)"
                                 " order by created_at, id limit $3",
                             page.after_ts, page.after_id, page.limit + 1);
  return page_result(rows, page, 8, 0, org_json);
}

} // namespace

void add_org_operations(std::map<std::string, operation>& ops) {
  ops.emplace("schema_status", schema_status);
  ops.emplace("org.load", load_org);
  ops.emplace("org.public_by_slug", public_by_slug);
  ops.emplace("org.get", get_current);
  ops.emplace("org.update", update_current);
  ops.emplace("org.list_all", list_all);
}

} // namespace djdash::persistence
