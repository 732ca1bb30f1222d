#include "persistence/migrations.hpp"

#include <set>

#include <pqxx/pqxx>

#include "persistence/connection.hpp"
#include "persistence/log.hpp"
#include "protocols/app_errc.hpp"

namespace djdash::persistence {

namespace {

// Any 64-bit constant works; all nodes must agree on it.
constexpr int64_t migration_lock_key = 0x646a64617368; // "djdash"

void ensure_table(pqxx::connection& conn) {
  pqxx::work tx{conn};
  tx.exec0("create table if not exists schema_migrations ("
           " version integer primary key, name text not null,"
           " applied_at timestamptz not null default now())");
  tx.commit();
}

std::set<int> applied_versions(pqxx::connection& conn) {
  pqxx::work tx{conn};
  std::set<int> out;
  for (auto row : tx.exec("select version from schema_migrations"))
    out.insert(row[0].as<int>());
  return out;
}

void apply(pqxx::connection& conn, const migration& m) {
  pqxx::work tx{conn};
  tx.exec0(m.sql);
  tx.exec_params0("insert into schema_migrations (version, name) values ($1, $2)", m.version,
                  m.name);
  tx.commit();
}

/// The application role may read and write tenant tables (RLS still applies to it), read the
/// schema version, and nothing more.
void grant_app_role(pqxx::connection& conn, const std::string& app_role) {
  if (app_role.empty())
    return;
  pqxx::work tx{conn};
  auto owner = tx.exec1("select current_user")[0].as<std::string>();
  if (owner == app_role)
    return;
  auto role = tx.quote_name(app_role);
  tx.exec0("grant usage on schema public to " + role);
  tx.exec0("grant select, insert, update, delete on all tables in schema public to " + role);
  tx.exec0("grant usage, select on all sequences in schema public to " + role);
  tx.exec0("grant execute on all functions in schema public to " + role);
  tx.exec0("revoke insert, update, delete on schema_migrations from " + role);
  tx.commit();
}

} // namespace

int expected_schema_version() {
  auto& all = embedded_migrations();
  return all.empty() ? 0 : all.back().version;
}

std::string url_user(const std::string& url) {
  auto scheme = url.find("://");
  if (scheme == std::string::npos)
    return {};
  auto start = scheme + 3;
  auto at = url.find('@', start);
  if (at == std::string::npos)
    return {};
  auto creds = url.substr(start, at - start);
  return creds.substr(0, creds.find(':'));
}

caf::expected<int> run_migrations(const std::string& owner_url, const std::string& app_url) {
  try {
    pqxx::connection conn{connection_string(owner_url, 10, 0)};
    conn.set_variable("client_min_messages", "warning");
    {
      pqxx::nontransaction lock{conn};
      lock.exec_params("select pg_advisory_lock($1)", migration_lock_key);
    }
    ensure_table(conn);
    // Every migration not yet recorded runs, in version order: a version that lands later than
    // a higher one (branches merged in another order) is not skipped.
    auto done = applied_versions(conn);
    int applied = 0;
    for (auto& m : embedded_migrations()) {
      if (done.count(m.version) != 0)
        continue;
      log().info("applying migration {} ({})", m.version, m.name);
      apply(conn, m);
      ++applied;
    }
    grant_app_role(conn, url_user(app_url));
    pqxx::nontransaction unlock{conn};
    unlock.exec_params("select pg_advisory_unlock($1)", migration_lock_key);
    return applied;
  } catch (const pqxx::broken_connection& e) {
    return make_app_error(app_errc::db_unavailable,
                          std::string{"cannot connect to the database: "} + e.what());
  } catch (const pqxx::sql_error& e) {
    return make_app_error(app_errc::internal, std::string{"migration failed: "} + e.what());
  }
}

} // namespace djdash::persistence
