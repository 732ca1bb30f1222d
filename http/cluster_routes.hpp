#pragma once

// Cluster operations endpoints (API.md, Operations): members, the owner of a key, the entities
// active on this node, and a ping through the router to an entity. Loopback callers only (a
// request with X-Forwarded-For / Forwarded / X-Real-IP came through a proxy and is not one), or
// `Authorization: Bearer <DJDASH_OPS_TOKEN>` when that token is set.

#include "http/node_services.hpp"
#include "http/route_table.hpp"

namespace djdash::http {

void add_cluster_routes(route_table& routes, node_services svc);

/// Whether `remote_ip` is a loopback address (127.0.0.0/8, ::1, IPv4-mapped 127.x).
bool is_loopback(const std::string& remote_ip);

} // namespace djdash::http
