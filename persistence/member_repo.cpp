#include "persistence/member_repo.hpp"

#include <algorithm>

#include "persistence/repo_util.hpp"

namespace djdash::persistence {

namespace {

using json = nlohmann::json;

constexpr auto member_columns
  = "id, organization_id, user_id, email, role, to_jsonb(created_at) #>> '{}',"
    " to_jsonb(updated_at) #>> '{}', version";

json member_json(const pqxx::row& r) {
  return {{"id", r[0].as<std::string>()},      {"organization_id", r[1].as<std::string>()},
          {"user_id", r[2].as<std::string>()}, {"email", r[3].as<std::string>()},
          {"role", r[4].as<std::string>()},    {"created_at", r[5].as<std::string>()},
          {"updated_at", r[6].as<std::string>()}, {"version", r[7].as<int64_t>()}};
}

json load_member(pqxx::transaction_base& tx, const std::string& user_id) {
  auto rows = tx.exec_params(std::string{"select "} + member_columns
                               + " from organization_member_list() where user_id = $1::uuid",
                             user_id);
  if (rows.empty())
    throw op_error(app_errc::not_found, "no such member");
  return member_json(rows[0]);
}

std::string valid_role(const json& args) {
  auto role = arg_string(args, "role");
  if (role != "owner" && role != "admin" && role != "member")
    throw op_error(app_errc::bad_request, "role must be owner, admin or member");
  return role;
}

std::string caller_role(pqxx::transaction_base& tx) {
  auto rows = tx.exec("select role from organization_members"
                      " where organization_id = app_org_id() and user_id = app_user_id()");
  return rows.empty() ? std::string{} : rows[0][0].as<std::string>();
}

/// Locks the target's membership row; returns its role.
std::string lock_target(pqxx::transaction_base& tx, const std::string& user_id) {
  auto rows = tx.exec_params("select role from organization_members where organization_id ="
                             " app_org_id() and user_id = $1::uuid for update",
                             user_id);
  if (rows.empty())
    throw op_error(app_errc::not_found, "no such member");
  return rows[0][0].as<std::string>();
}

/// Locks every owner row of the org and returns how many there are: two owners demoting each
/// other at once serialize here, so one of them always remains.
int64_t lock_owners(pqxx::transaction_base& tx) {
  return tx.exec("select id from organization_members where organization_id = app_org_id()"
                 " and role = 'owner' for update")
    .size();
}

void audit(pqxx::transaction_base& tx, const char* action, const std::string& target,
           const json& details) {
  tx.exec_params("insert into audit_log (organization_id, user_id, action, target_user_id,"
                 " details) values (app_org_id(), app_user_id(), $1, $2::uuid, $3::jsonb)",
                 action, target, details.dump());
}

void require_owner_for(const std::string& caller, bool touches_owner) {
  if (touches_owner && caller != "owner")
    throw op_error(app_errc::forbidden, "only owners can grant, revoke or remove the owner role");
}

json list(pqxx::transaction_base& tx, const db_scope&, const json&) {
  json items = json::array();
  for (auto r : tx.exec(std::string{"select "} + member_columns
                        + " from organization_member_list()"))
    items.push_back(member_json(r));
  return {{"items", items}, {"next_cursor", nullptr}};
}

json add(pqxx::transaction_base& tx, const db_scope&, const json& args) {
  auto role = valid_role(args);
  require_owner_for(caller_role(tx), role == "owner");
  auto found = tx.exec_params1("select user_id_by_email($1)", arg_string(args, "email"))[0];
  if (found.is_null())
    throw op_error(app_errc::not_found, "no account with this email; they need to sign up first");
  auto user_id = found.as<std::string>();
  auto rows = tx.exec_params("insert into organization_members (organization_id, user_id, role)"
                             " values (app_org_id(), $1::uuid, $2)"
                             " on conflict (organization_id, user_id) do nothing returning id",
                             user_id, role);
  if (rows.empty())
    throw op_error(app_errc::conflict, "already a member of this organization");
  audit(tx, "member_added", user_id, {{"role", role}});
  return load_member(tx, user_id);
}

json update(pqxx::transaction_base& tx, const db_scope&, const json& args) {
  auto user_id = arg_string(args, "user_id");
  auto role = valid_role(args);
  auto caller = caller_role(tx);
  auto current = lock_target(tx, user_id);
  require_owner_for(caller, current == "owner" || role == "owner");
  if (current == role)
    return load_member(tx, user_id);
  if (current == "owner" && lock_owners(tx) <= 1)
    throw op_error(app_errc::conflict,
                   "the last owner cannot be demoted; make someone else owner first");
  tx.exec_params("update organization_members set role = $2"
                 " where organization_id = app_org_id() and user_id = $1::uuid",
                 user_id, role);
  audit(tx, "role_changed", user_id, {{"from", current}, {"to", role}});
  return load_member(tx, user_id);
}

json remove(pqxx::transaction_base& tx, const db_scope& scope, const json& args) {
  auto user_id = arg_string(args, "user_id");
  auto caller = caller_role(tx);
  auto self = user_id == scope.user_id;
  if (!self && role_rank(caller) < role_rank("admin"))
    throw op_error(app_errc::forbidden, "this needs the admin role or higher");
  auto current = lock_target(tx, user_id);
  require_owner_for(caller, !self && current == "owner");
  if (current == "owner" && lock_owners(tx) <= 1)
    throw op_error(app_errc::conflict,
                   "the last owner cannot leave; make someone else owner first");
  tx.exec_params("delete from organization_members"
                 " where organization_id = app_org_id() and user_id = $1::uuid",
                 user_id);
  audit(tx, self ? "member_left" : "member_removed", user_id, {{"role", current}});
  return json::object();
}

json audit_json(const pqxx::row& r) {
  return {{"id", r[0].as<std::string>()},          {"organization_id", text_or_null(r[1])},
          {"user_id", text_or_null(r[2])},         {"action", r[3].as<std::string>()},
          {"target_user_id", text_or_null(r[4])},  {"details", jsonb(r[5])},
          {"ip", text_or_null(r[6])},              {"created_at", r[7].as<std::string>()}};
}

/// The organization's audit log, newest first, page by page.
json audit_list(pqxx::transaction_base& tx, const db_scope&, const json& args) {
  auto page = read_page(args);
  auto rows = tx.exec_params(
    "select id, organization_id, user_id, action, target_user_id, details::text, ip,"
    " to_jsonb(created_at) #>> '{}' from audit_log where organization_id = app_org_id()"
    " and ($1 = '' or (created_at, id) < ($1::timestamptz, nullif($2, '')::uuid))"
    " order by created_at desc, id desc limit $3",
    page.after_ts, page.after_id, page.limit + 1);
  return page_result(rows, page, 7, 0, audit_json);
}

} // namespace

void add_member_operations(std::map<std::string, operation>& ops) {
  ops.emplace("members.list", list);
  ops.emplace("members.add", add);
  ops.emplace("members.update", update);
  ops.emplace("members.remove", remove);
  ops.emplace("audit.list", audit_list);
}

} // namespace djdash::persistence
