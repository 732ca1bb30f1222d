#include "persistence/auth_repo.hpp"

#include <cctype>

#include "persistence/repo_util.hpp"

namespace djdash::persistence {

namespace {

using json = nlohmann::json;

json user_json(pqxx::transaction_base& tx) {
  auto rows = tx.exec("select id, email, user_metadata::text, app_metadata::text,"
                      " is_platform_admin, to_jsonb(created_at) #>> '{}',"
                      " to_jsonb(updated_at) #>> '{}', version"
                      " from users where id = app_user_id()");
  if (rows.empty())
    throw op_error(app_errc::unauthorized, "account no longer exists");
  auto r = rows[0];
  return {{"id", r[0].as<std::string>()},         {"email", r[1].as<std::string>()},
          {"user_metadata", jsonb(r[2])},         {"app_metadata", jsonb(r[3])},
          {"is_platform_admin", r[4].as<bool>()}, {"created_at", r[5].as<std::string>()},
          {"updated_at", r[6].as<std::string>()}, {"version", r[7].as<int64_t>()}};
}

json memberships(pqxx::transaction_base& tx) {
  json out = json::array();
  for (auto r : tx.exec("select id, slug, name, product_context, role from user_organizations()"))
    out.push_back({{"id", r[0].as<std::string>()},
                   {"slug", r[1].as<std::string>()},
                   {"name", r[2].as<std::string>()},
                   {"product_context", r[3].as<std::string>()},
                   {"role", r[4].as<std::string>()}});
  return out;
}

json preferred_org(const json& orgs, const std::string& product_context) {
  for (auto& o : orgs)
    if (o["product_context"] == product_context)
      return o;
  return orgs.empty() ? json(nullptr) : orgs.front();
}

/// The caller (app.user_id) with their organizations and the one to start in.
json session_result(pqxx::transaction_base& tx, const std::string& product_context,
                    const std::string& session_id) {
  auto orgs = memberships(tx);
  return {{"user", user_json(tx)},
          {"organizations", orgs},
          {"organization", preferred_org(orgs, product_context)},
          {"session_id", session_id}};
}

void audit(pqxx::transaction_base& tx, const json& org, const char* action, const json& args) {
  auto org_id = org.is_object() ? org["id"].get<std::string>() : std::string{};
  // The audit row belongs to the organization the user signs into (visible to its admins).
  set_local(tx, "app.org_id", org_id);
  tx.exec_params("insert into audit_log (organization_id, user_id, action, ip, details)"
                 " values (nullif($1, '')::uuid, app_user_id(), $2, $3,"
                 " jsonb_build_object('user_agent', $4::text))",
                 org_id, action, arg_opt_string(args, "ip"), arg_opt_string(args, "user_agent"));
}

/// Opens a session with its first refresh token for app.user_id; returns the session id.
std::string open_session(pqxx::transaction_base& tx, const json& args) {
  auto session_id = tx.exec_params1(
                        "insert into sessions (user_id, product_context, ip, user_agent)"
                        " values (app_user_id(), $1, $2, $3) returning id",
                        arg_opt_string(args, "product_context"), arg_opt_string(args, "ip"),
                        arg_opt_string(args, "user_agent"))[0]
                      .as<std::string>();
  tx.exec_params("insert into refresh_tokens (session_id, user_id, token_hash, expires_at)"
                 " values ($1::uuid, app_user_id(), $2, now() + make_interval(secs => $3))",
                 session_id, arg_string(args, "refresh_token_hash"),
                 arg_int(args, "refresh_ttl_s", 30 * 86400));
  tx.exec("update users set last_sign_in_at = now() where id = app_user_id()");
  return session_id;
}

std::string slug_base(const std::string& name) {
  std::string out;
  for (unsigned char c : name) {
    if (std::isalnum(c))
      out += static_cast<char>(std::tolower(c));
    else if (!out.empty() && out.back() != '-')
      out += '-';
    if (out.size() >= 48)
      break;
  }
  while (!out.empty() && out.back() == '-')
    out.pop_back();
  return out.empty() ? "dj" : out;
}

/// Inserts the organization under the first free slug derived from its name.
void insert_org(pqxx::transaction_base& tx, const std::string& org_id, const std::string& name,
                const std::string& product_context) {
  auto base = slug_base(name);
  for (int n = 1; n <= 100; ++n) {
    auto slug = n == 1 ? base : base + "-" + std::to_string(n);
    auto rows = tx.exec_params("insert into organizations (id, product_context, name, slug,"
                               " owner_id) values ($1::uuid, $2, $3, $4, app_user_id())"
                               " on conflict (slug) do nothing returning id",
                               org_id, product_context, name, slug);
    if (!rows.empty())
      return;
  }
  throw op_error(app_errc::conflict, "could not find a free slug for this organization name");
}

std::string default_org_name(const json& args, const std::string& email) {
  if (auto n = arg_opt_string(args, "organization_name"); n && !n->empty())
    return *n;
  if (auto n = arg_opt_string(args, "name"); n && !n->empty())
    return *n + "'s DJ business";
  return email.substr(0, email.find('@'));
}

json signup(pqxx::transaction_base& tx, const db_scope&, const json& args) {
  auto email = arg_string(args, "email");
  auto product = arg_string(args, "product_context");
  auto user_id = tx.exec1("select gen_random_uuid()")[0].as<std::string>();
  set_local(tx, "app.user_id", user_id);
  json metadata{{"product_context", product}};
  if (auto name = arg_opt_string(args, "name"))
    metadata["name"] = *name;
  json app_metadata{{"provider", "email"}, {"providers", {"email"}}};
  auto inserted = tx.exec_params("insert into users (id, email, password_hash, user_metadata,"
                                 " app_metadata) values ($1::uuid, $2, $3, $4::jsonb, $5::jsonb)"
                                 " on conflict (email) do nothing returning id",
                                 user_id, email, arg_string(args, "password_hash"),
                                 metadata.dump(), app_metadata.dump());
  if (inserted.empty())
    throw op_error(app_errc::conflict, "an account with this email already exists; sign in");
  auto org_id = tx.exec1("select gen_random_uuid()")[0].as<std::string>();
  set_local(tx, "app.org_id", org_id);
  insert_org(tx, org_id, default_org_name(args, email), product);
  tx.exec_params("insert into organization_members (organization_id, user_id, role)"
                 " values ($1::uuid, app_user_id(), 'owner')",
                 org_id);
  auto session_id = open_session(tx, args);
  auto result = session_result(tx, product, session_id);
  audit(tx, result["organization"], "sign_up", args);
  return result;
}

json login_lookup(pqxx::transaction_base& tx, const db_scope&, const json& args) {
  auto rows = tx.exec_params("select id, password_hash from auth_user_for_login($1)",
                             arg_string(args, "email"));
  if (rows.empty())
    return json::object();
  return {{"user_id", rows[0][0].as<std::string>()},
          {"password_hash", rows[0][1].as<std::string>()}};
}

json start_session(pqxx::transaction_base& tx, const db_scope& scope, const json& args) {
  if (scope.user_id.empty())
    throw op_error(app_errc::unauthorized, "no user");
  auto session_id = open_session(tx, args);
  auto result = session_result(tx, arg_string(args, "product_context"), session_id);
  audit(tx, result["organization"], "sign_in", args);
  return result;
}

json refresh(pqxx::transaction_base& tx, const db_scope&, const json& args) {
  auto r = tx.exec_params1("select status, user_id, session_id"
                           " from auth_rotate_refresh_token($1, $2, $3)",
                           arg_string(args, "refresh_token_hash"),
                           arg_string(args, "new_refresh_token_hash"),
                           arg_int(args, "refresh_ttl_s", 30 * 86400));
  auto status = r[0].as<std::string>();
  if (status != "ok")
    return {{"status", status}};  // committed: a reuse has just revoked the family
  set_local(tx, "app.user_id", r[1].as<std::string>());
  auto result = session_result(tx, arg_string(args, "product_context"), r[2].as<std::string>());
  result["status"] = "ok";
  return result;
}

json logout(pqxx::transaction_base& tx, const db_scope&, const json& args) {
  auto session_id = arg_string(args, "session_id");
  tx.exec_params("update sessions set revoked_at = now()"
                 " where id = $1::uuid and user_id = app_user_id() and revoked_at is null",
                 session_id);
  tx.exec_params("update refresh_tokens set revoked_at = now()"
                 " where session_id = $1::uuid and user_id = app_user_id() and revoked_at is null",
                 session_id);
  return json::object();
}

json me(pqxx::transaction_base& tx, const db_scope&, const json&) {
  return {{"user", user_json(tx)}, {"organizations", memberships(tx)}};
}

} // namespace

void add_auth_operations(std::map<std::string, operation>& ops) {
  ops.emplace("auth.signup", signup);
  ops.emplace("auth.login_lookup", login_lookup);
  ops.emplace("auth.start_session", start_session);
  ops.emplace("auth.refresh", refresh);
  ops.emplace("auth.logout", logout);
  ops.emplace("auth.me", me);
}

} // namespace djdash::persistence
