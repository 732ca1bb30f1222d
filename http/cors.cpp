#include "http/cors.hpp"

#include <algorithm>

#include "http/product_context.hpp"

namespace djdash::http {

namespace {

bool has_header(const response& r, const std::string& name) {
  return std::any_of(r.headers.begin(), r.headers.end(), [&](auto& h) {
    return h.first.size() == name.size()
           && std::equal(h.first.begin(), h.first.end(), name.begin(),
                         [](char a, char b) { return std::tolower(a) == std::tolower(b); });
  });
}

} // namespace

cors_policy::cors_policy(std::map<std::string, std::string> product_domains,
                         std::vector<std::string> extra_origins)
  : domains_(std::move(product_domains)), extra_(std::move(extra_origins)) {
  // nop
}

bool cors_policy::allows(const std::string& origin) const {
  if (origin.empty())
    return false;
  if (std::find(extra_.begin(), extra_.end(), origin) != extra_.end())
    return true;
  constexpr std::string_view https = "https://";
  if (origin.compare(0, https.size(), https) != 0)
    return false;
  auto host = origin.substr(https.size());
  if (host.find('/') != std::string::npos)
    return false;
  return product_from_host(host, domains_).has_value();
}

void cors_policy::decorate(const std::string& origin, response& r) const {
  r.headers.emplace_back("Vary", "Origin");
  if (!allows(origin))
    return;
  r.headers.emplace_back("Access-Control-Allow-Origin", origin);
  r.headers.emplace_back("Access-Control-Expose-Headers", "X-Request-Id, Retry-After");
}

std::optional<response> cors_policy::preflight(const request& req) const {
  if (req.method != "OPTIONS" || req.header("access-control-request-method").empty())
    return std::nullopt;
  response r;
  r.status = 204;
  r.content_type.clear();
  if (allows(req.header("origin"))) {
    r.headers.emplace_back("Access-Control-Allow-Methods", "GET, POST, PATCH, PUT, DELETE, OPTIONS");
    r.headers.emplace_back("Access-Control-Allow-Headers",
                           "Authorization, Content-Type, X-Organization-Id, X-Product-Context, "
                           "X-Request-Id");
    r.headers.emplace_back("Access-Control-Max-Age", "600");
  }
  return r;
}

void add_security_headers(response& r) {
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  r.headers.emplace_back("X-Frame-Options", "DENY");
  r.headers.emplace_back("Referrer-Policy", "no-referrer");
  if (!has_header(r, "Cache-Control"))
    r.headers.emplace_back("Cache-Control", "no-store");
}

} // namespace djdash::http
