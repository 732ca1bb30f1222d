#pragma once

// Which browser origins may call the API: the product domains (and their subdomains) over
// https, plus configured extra origins (e.g. a local development site).

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "http/request.hpp"

namespace djdash::http {

class cors_policy {
public:
  cors_policy(std::map<std::string, std::string> product_domains,
              std::vector<std::string> extra_origins);

  /// Returns whether `origin` (scheme://host[:port]) may call the API.
  bool allows(const std::string& origin) const;

  /// Adds Access-Control-* headers to `r` when the request's Origin is allowed.
  void decorate(const std::string& origin, response& r) const;

  /// Returns the answer to a CORS preflight (OPTIONS with Access-Control-Request-Method), or
  /// nothing when `req` is not one.
  std::optional<response> preflight(const request& req) const;

private:
  std::map<std::string, std::string> domains_;
  std::vector<std::string> extra_;
};

/// Adds the headers every API response carries (nosniff, no framing, no referrer, no caching
/// unless the handler chose a policy).
void add_security_headers(response& r);

} // namespace djdash::http
