#pragma once

// The vocabulary that crosses actor boundaries. Every struct here has an `inspect` overload and a
// type ID (type_ids.hpp), so it can also cross cluster nodes.

#include <cstdint>
#include <string>

#include <caf/meta/type_name.hpp>

namespace djdash {

/// Who a database transaction runs for. The DB worker sets these as transaction-local settings
/// (`app.org_id`, `app.user_id`, `app.platform_admin`) before anything else, so row-level
/// security applies to every statement.
///
/// When `role` is set ("member", "admin" or "owner"), the same transaction first checks that
/// `user_id` belongs to `org_id` with at least that role (`forbidden` otherwise), so a removed or
/// demoted user loses access at once, whatever their token says. `platform_admin` is honoured
/// only if the user really is one (checked in the database, and audited).
struct db_scope {
  std::string org_id;       // UUID or empty (no tenant: RLS hides every tenant row)
  std::string user_id;      // UUID or empty
  bool platform_admin = false;
  std::string role;         // minimum membership role required, or empty
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, db_scope& x) {
  return f(caf::meta::type_name("db_scope"), x.org_id, x.user_id, x.platform_admin, x.role);
}

/// One named database operation (registered in persistence/operations.cpp) with JSON arguments.
/// The reply is the operation's JSON result as a string, or an `app_errc` error.
struct db_call {
  std::string op;
  db_scope scope;
  std::string args;  // JSON object
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, db_call& x) {
  return f(caf::meta::type_name("db_call"), x.op, x.scope, x.args);
}

/// Names one virtual actor: its kind ("organization", ...) and key (e.g. the org id).
struct entity_ref {
  std::string kind;
  std::string key;
};

inline bool operator==(const entity_ref& a, const entity_ref& b) {
  return a.kind == b.kind && a.key == b.key;
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, entity_ref& x) {
  return f(caf::meta::type_name("entity_ref"), x.kind, x.key);
}

} // namespace djdash
