#include "persistence/admin_tools.hpp"

#include <pqxx/pqxx>

#include "persistence/connection.hpp"
#include "protocols/app_errc.hpp"

namespace djdash::persistence {

caf::error grant_platform_admin(const std::string& owner_url, const std::string& email) {
  try {
    pqxx::connection conn{connection_string(owner_url, 10, 0)};
    pqxx::work tx{conn};
    tx.exec("select set_config('app.platform_admin', 'on', true)");
    auto rows = tx.exec_params("update users set is_platform_admin = true"
                               " where email = lower($1) returning id",
                               email);
    if (rows.empty())
      return make_app_error(app_errc::not_found, "no account with this email");
    tx.exec_params("insert into audit_log (user_id, action, target_user_id)"
                   " values (null, 'platform_admin_granted', $1::uuid)",
                   rows[0][0].as<std::string>());
    tx.commit();
    return {};
  } catch (const pqxx::broken_connection& e) {
    return make_app_error(app_errc::db_unavailable, e.what());
  } catch (const pqxx::sql_error& e) {
    return make_app_error(app_errc::internal, e.what());
  }
}

} // namespace djdash::persistence
