#include "persistence/db_worker.hpp"

#include <chrono>
#include <memory>
#include <string_view>

#include <caf/actor_system.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "persistence/connection.hpp"
#include "persistence/log.hpp"
#include "persistence/operations.hpp"

namespace djdash::persistence {

namespace {

struct db_worker_state {
  db_settings cfg;
  std::unique_ptr<pqxx::connection> conn;
  std::chrono::steady_clock::time_point last_outage_log{};
  static inline const char* name = "db_worker";

  pqxx::connection& connection() {
    if (!conn || !conn->is_open())
      conn = std::make_unique<pqxx::connection>(
        connection_string(cfg.url, cfg.connect_timeout_s, cfg.statement_timeout_ms));
    return *conn;
  }
};

/// Sets the tenant scope first thing in the transaction. A plain scope needs only set_config
/// (which also works on a database that is not migrated yet, for /readyz); a scope that asks for a
/// role or platform-admin rights goes through app_enter, which checks them in this transaction.
void set_scope(pqxx::transaction_base& tx, const db_scope& scope) {
  if (!scope.platform_admin && scope.role.empty()) {
    tx.exec_params("select set_config('app.org_id', $1, true), set_config('app.user_id', $2, true),"
                   " set_config('app.platform_admin', 'off', true)",
                   scope.org_id, scope.user_id);
    return;
  }
  auto verdict = tx.exec_params1("select app_enter($1, $2, $3, $4)", scope.org_id, scope.user_id,
                                 scope.platform_admin, scope.role)[0]
                   .as<std::string>();
  if (verdict == "not_admin")
    throw op_error(app_errc::forbidden, "platform administrators only");
  if (verdict == "not_member")
    throw op_error(app_errc::forbidden, "you are not a member of this organization");
  if (verdict == "forbidden_role")
    throw op_error(app_errc::forbidden, "this needs the " + scope.role + " role or higher");
}

caf::error sql_failure(const db_call& call, const pqxx::sql_error& e) {
  auto state = e.sqlstate();
  // Invalid text representation (e.g. a malformed uuid) and other data errors: the input's fault.
  if (state.rfind("22", 0) == 0)
    return make_app_error(app_errc::bad_request, "invalid value in request");
  if (state == "57014")
    return make_app_error(app_errc::db_unavailable, "database query timed out");
  // Raised by triggers that guard records which must not change (a signed contract).
  if (state == "ZC409")
    return make_app_error(app_errc::conflict, "this record can no longer be changed");
  log().error("db op {} failed: sqlstate={} {}", call.op, state, e.what());
  return make_app_error(app_errc::internal, "database error");
}

/// The one try/catch around libpqxx: maps every failure to an app_errc.
caf::result<std::string> run_call(db_worker_state& st, const db_call& call) {
  auto op = find_operation(call.op);
  if (op == nullptr)
    return make_app_error(app_errc::internal, "unknown database operation");
  auto args = nlohmann::json::parse(call.args.empty() ? "{}" : call.args, nullptr, false);
  if (args.is_discarded())
    return make_app_error(app_errc::bad_request, "malformed arguments");
  try {
    pqxx::work tx{st.connection()};
    set_scope(tx, call.scope);
    auto out = (*op)(tx, call.scope, args);
    tx.commit();
    return out.dump();
  } catch (const op_error& e) {
    return make_app_error(e.code, e.what());
  } catch (const pqxx::broken_connection& e) {
    st.conn.reset();
    // While the database is down every call fails here: one line per worker every 5 s is enough.
    auto now = std::chrono::steady_clock::now();
    if (now - st.last_outage_log > std::chrono::seconds(5)) {
      st.last_outage_log = now;
      log().warn("database unavailable: {}", e.what());
    }
    return make_app_error(app_errc::db_unavailable, "database unavailable");
  } catch (const pqxx::in_doubt_error& e) {
    st.conn.reset();
    return make_app_error(app_errc::db_unavailable, "database connection lost during commit");
  } catch (const pqxx::unique_violation&) {
    return make_app_error(app_errc::conflict, "already exists");
  } catch (const pqxx::insufficient_privilege& e) {
    // Row-level security refused the write: the row belongs to another tenant, which must look
    // exactly like a row that does not exist. Any other privilege error is a deployment bug.
    if (std::string_view{e.what()}.find("row-level security") != std::string_view::npos)
      return make_app_error(app_errc::not_found, "not found");
    log().error("db op {} failed: {}", call.op, e.what());
    return make_app_error(app_errc::internal, "database error");
  } catch (const pqxx::foreign_key_violation& e) {
    // Deleting a row others still point at is a conflict; pointing at a missing row is bad input.
    if (std::string_view{e.what()}.find("still referenced") != std::string_view::npos)
      return make_app_error(app_errc::conflict, "other records still refer to this one");
    return make_app_error(app_errc::bad_request, "the request refers to a record that does not exist");
  } catch (const pqxx::integrity_constraint_violation&) {
    return make_app_error(app_errc::bad_request, "the request violates a data constraint");
  } catch (const pqxx::sql_error& e) {
    return sql_failure(call, e);
  } catch (const nlohmann::json::exception& e) {
    return make_app_error(app_errc::bad_request, "malformed arguments");
  } catch (const std::exception& e) {
    // libpqxx reports a lost connection outside a query as a plain failure.
    if (st.conn && !st.conn->is_open())
      st.conn.reset();
    log().error("db op {} failed: {}", call.op, e.what());
    return make_app_error(app_errc::db_unavailable, "database unavailable");
  }
}

db_actor::behavior_type db_worker(db_actor::stateful_pointer<db_worker_state> self,
                                  db_settings cfg) {
  self->state.cfg = std::move(cfg);
  return {
    [=](const db_call& call) -> caf::result<std::string> { return run_call(self->state, call); },
  };
}

} // namespace

db_actor spawn_db_worker(caf::actor_system& sys, const db_settings& cfg, bool detached) {
  if (detached)
    return sys.spawn<caf::detached>(db_worker, cfg);
  return sys.spawn(db_worker, cfg);
}

} // namespace djdash::persistence
