#include "http/product_context.hpp"

#include <algorithm>
#include <cctype>

namespace djdash::http {

namespace {

std::string normalized_host(const std::string& host) {
  std::string h = host;
  if (!h.empty() && h.front() == '[')  // IPv6 literal: never a product domain
    return {};
  if (auto colon = h.find(':'); colon != std::string::npos)
    h.erase(colon);
  while (!h.empty() && h.back() == '.')
    h.pop_back();  // a fully qualified name may end in a dot
  std::transform(h.begin(), h.end(), h.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return h;
}

} // namespace

std::optional<std::string> product_from_host(const std::string& host,
                                             const std::map<std::string, std::string>& domains) {
  auto h = normalized_host(host);
  if (h.empty())
    return std::nullopt;
  for (auto& [domain, product] : domains) {
    if (h == domain)
      return product;
    // A subdomain (www., app., …): the domain preceded by a dot.
    if (h.size() > domain.size() + 1 && h.compare(h.size() - domain.size(), domain.size(), domain) == 0
        && h[h.size() - domain.size() - 1] == '.')
      return product;
  }
  return std::nullopt;
}

std::optional<std::string> product_of(const request& req,
                                      const std::map<std::string, std::string>& domains) {
  if (auto p = product_from_host(req.header("host"), domains))
    return p;
  auto& hinted = req.header("x-product-context");
  if (known_product(hinted))
    return hinted;
  return std::nullopt;
}

std::string dashboard_path(const std::string& product) {
  return product == "m10dj" ? "/admin/dashboard" : "/" + product + "/dashboard";
}

bool known_product(const std::string& product) {
  return product == "tipjar" || product == "djdash" || product == "m10dj";
}

} // namespace djdash::http
