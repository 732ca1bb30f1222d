#pragma once

// Sign-up, sign-in, token refresh, sign-out and the caller's profile (API.md, /api/auth/*).

#include "http/node_services.hpp"
#include "http/route_table.hpp"

namespace djdash::http {

/// Registers POST /api/auth/signup, /login, /refresh, /logout and GET /api/auth/me.
void add_auth_routes(route_table& routes, node_services svc);

} // namespace djdash::http
