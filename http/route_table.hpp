#pragma once

// Method + path-pattern routing. Patterns are literal segments and `{name}` parameters, e.g.
// `/api/public/orgs/{slug}`. Routes are registered before the server starts and never change
// afterwards, so matching needs no locks.

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "http/request.hpp"

namespace djdash::http {

/// What /openapi.json says about a route. Schemas are JSON Schema fragments as JSON text.
// Every member has an initializer so that `route_doc{"summary", "tag", true, {200}}` leaves the
// schemas out without -Wmissing-field-initializers.
struct route_doc {
  std::string summary{};
  std::string tag{};
  bool auth = false;              // needs `Authorization: Bearer`
  std::vector<int> responses{};   // documented status codes; empty means {200}
  std::string request_schema_json{};
  std::string response_schema_json{};
};

struct route {
  std::string method;
  std::string pattern;
  std::vector<std::string> segments;  // pattern split at '/', parameters kept as "{name}"
  handler fn;
  route_doc doc;
};

/// Outcome of a lookup: a route, or why there is none.
struct route_match {
  enum outcome_t { found, not_found, method_not_allowed, bad_path };
  outcome_t outcome = not_found;
  const route* matched = nullptr;
  std::map<std::string, std::string> params;  // decoded path parameters
  std::string allow;                          // for method_not_allowed, e.g. "GET, POST"
  const std::string* pattern = nullptr;       // a pattern the path matched (metrics label)
};

class route_table {
public:
  route_table();
  route_table(route_table&&) noexcept = default;
  route_table& operator=(route_table&&) noexcept = default;
  route_table(const route_table&) = delete;
  route_table& operator=(const route_table&) = delete;

  /// Registers `fn` for `method` and `pattern`. Throws std::invalid_argument on a malformed
  /// pattern, a duplicate route or a schema that is not JSON: these are startup bugs.
  void add(std::string method, std::string pattern, handler fn, route_doc doc = {});

  /// Looks up `path` (still percent-encoded: each segment is decoded after splitting, so an
  /// encoded '/' stays inside its parameter).
  route_match match(std::string_view method, std::string_view path) const;

  const std::vector<route>& routes() const;

  /// Sets the CORS policy applied to every response of the server using this table.
  void set_cors(std::shared_ptr<const class cors_policy> policy);

  /// Returns the CORS policy, or nullptr when none is set.
  const class cors_policy* cors() const;

  /// Returns a view of the routes that follows this table through moves, for documents built
  /// from the final table (/openapi.json). Weak: a handler holding it creates no cycle.
  std::weak_ptr<const std::vector<route>> watch() const;

private:
  std::shared_ptr<std::vector<route>> routes_;
  std::shared_ptr<const class cors_policy> cors_;
};

} // namespace djdash::http
