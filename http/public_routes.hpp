#pragma once

// Public (unauthenticated) routes of the sites' request pages.

#include "http/node_services.hpp"
#include "http/route_table.hpp"

namespace djdash::http {

/// Registers GET /api/public/orgs/{slug}.
void add_public_routes(route_table& routes, node_services svc);

/// Returns whether `slug` is a well-formed organization slug (lowercase letters, digits, inner
/// hyphens, at most 64 characters).
bool valid_slug(const std::string& slug);

} // namespace djdash::http
