#pragma once

// Which product a request is for: DJDash.net, M10DJCompany.com or TipJar.live, told apart by the
// Host header through the configured domain map (API.md, Conventions).

#include <map>
#include <optional>
#include <string>

#include "http/request.hpp"

namespace djdash::http {

/// Returns the product of `host` (port, case, `www.` and subdomains ignored), or nothing when
/// the host is outside `domains`.
std::optional<std::string> product_from_host(const std::string& host,
                                             const std::map<std::string, std::string>& domains);

/// Returns the request's product: from the Host header when it is mapped (the host wins), else
/// from a valid `X-Product-Context` header, else nothing.
std::optional<std::string> product_of(const request& req,
                                      const std::map<std::string, std::string>& domains);

/// Returns where the product's dashboard lives (`/tipjar/dashboard`, `/djdash/dashboard`,
/// `/admin/dashboard` for m10dj).
std::string dashboard_path(const std::string& product);

/// Returns whether `product` is tipjar, djdash or m10dj.
bool known_product(const std::string& product);

} // namespace djdash::http
