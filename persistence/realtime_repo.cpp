#include "persistence/realtime_repo.hpp"

#include "persistence/repo_util.hpp"

namespace djdash::persistence {

namespace {

using json = nlohmann::json;

json authorize(pqxx::transaction_base& tx, const db_scope&, const json&) {
  auto rows = tx.exec("select organization_id, user_id, role from organization_members"
                      " where organization_id = app_org_id() and user_id = app_user_id()");
  if (rows.empty())
    throw op_error(app_errc::forbidden, "you are not a member of this organization");
  return {{"organization_id", rows[0][0].as<std::string>()},
          {"user_id", rows[0][1].as<std::string>()},
          {"role", rows[0][2].as<std::string>()}};
}

} // namespace

void add_realtime_operations(std::map<std::string, operation>& ops) {
  ops.emplace("realtime.authorize", authorize);
}

} // namespace djdash::persistence
