#include "persistence/demo_seed.hpp"

#include <pqxx/pqxx>

#include "persistence/connection.hpp"
#include "protocols/app_errc.hpp"
#include "protocols/password.hpp"

namespace djdash::persistence {

namespace {

struct demo_org {
  const char* product;
  const char* slug;
  const char* name;
  const char* timezone;
  const char* settings;
};

constexpr demo_org demo_orgs[] = {
  {"tipjar", "demo-tipjar", "Demo TipJar DJ", "America/Chicago",
   R"({"accepting_requests": true, "minimum_amounts": {"song": 500, "shoutout": 500, "tip": 100}})"},
  {"djdash", "demo-djdash", "Demo DJ Dash Entertainment", "America/New_York",
   R"({"capacity": 2})"},
  {"m10dj", "demo-m10dj", "M10 DJ Company (demo)", "America/Chicago", R"({"capacity": 3})"},
};

void seed_one(pqxx::work& tx, const demo_org& org, const std::string& email,
              const std::string& hash) {
  auto meta = std::string{R"({"product_context": ")"} + org.product + "\"}";
  tx.exec_params("insert into users (email, password_hash, user_metadata)"
                 " values ($1, $2, $3::jsonb) on conflict (email) do nothing",
                 email, hash, meta);
  auto user_id = tx.exec_params1("select id from users where email = $1", email)[0]
                   .as<std::string>();
  tx.exec_params("insert into organizations (product_context, name, slug, owner_id, timezone,"
                 " settings) values ($1, $2, $3, $4::uuid, $5, $6::jsonb)"
                 " on conflict (slug) do nothing",
                 org.product, org.name, org.slug, user_id, org.timezone, org.settings);
  auto org_id = tx.exec_params1("select id from organizations where slug = $1", org.slug)[0]
                  .as<std::string>();
  tx.exec_params("insert into organization_members (organization_id, user_id, role)"
                 " values ($1::uuid, $2::uuid, 'owner') on conflict do nothing",
                 org_id, user_id);
}

} // namespace

caf::expected<std::vector<demo_login>> seed_demo(const std::string& owner_url,
                                                 const std::string& demo_password) {
  auto hash = password::hash(demo_password);
  if (!hash)
    return hash.error();
  std::vector<demo_login> logins;
  try {
    pqxx::connection conn{connection_string(owner_url, 10, 0)};
    pqxx::work tx{conn};
    tx.exec("select set_config('app.platform_admin', 'on', true)");
    for (auto& org : demo_orgs) {
      auto email = std::string{"demo@"} + org.slug + ".example";
      seed_one(tx, org, email, *hash);
      logins.push_back(demo_login{org.product, org.slug, email, demo_password});
    }
    tx.commit();
  } catch (const pqxx::broken_connection& e) {
    return make_app_error(app_errc::db_unavailable, e.what());
  } catch (const pqxx::sql_error& e) {
    return make_app_error(app_errc::internal, std::string{"seeding failed: "} + e.what());
  }
  return logins;
}

} // namespace djdash::persistence
