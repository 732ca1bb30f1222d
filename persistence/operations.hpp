#pragma once

// Named database operations: each is a plain function over one transaction that already runs
// under the caller's tenant scope (RLS applies). The DB pool looks them up by the name in
// `db_call::op`; new capabilities add their repo's operations in operations.cpp.

#include <functional>
#include <map>
#include <stdexcept>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "protocols/app_errc.hpp"
#include "protocols/messages.hpp"

namespace pqxx {
class transaction_base;
} // namespace pqxx

namespace djdash::persistence {

using operation
  = std::function<nlohmann::json(pqxx::transaction_base&, const db_scope&, const nlohmann::json&)>;

/// Thrown by an operation to fail with a client-facing error (not found, conflict, bad input).
struct op_error : std::runtime_error {
  op_error(app_errc c, const std::string& msg) : std::runtime_error(msg), code(c) {}
  app_errc code;
};

/// Returns the operation registered under `name`, or nullptr.
const operation* find_operation(const std::string& name);

/// Adds an operation at startup (before the pool serves calls), e.g. a test's own probe.
/// Returns false when the name is taken.
bool register_operation(const std::string& name, operation fn);

/// Returns every registered operation name (for diagnostics and tests).
std::vector<std::string> operation_names();

} // namespace djdash::persistence
