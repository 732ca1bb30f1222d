#include "persistence/org_repo.hpp"

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "persistence/migrations.hpp"

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

} // namespace

void add_org_operations(std::map<std::string, operation>& ops) {
  ops.emplace("schema_status", schema_status);
  ops.emplace("org.load", load_org);
  ops.emplace("org.public_by_slug", public_by_slug);
}

} // namespace djdash::persistence
