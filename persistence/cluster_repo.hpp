#pragma once

#include <map>
#include <string>

#include "persistence/operations.hpp"

namespace djdash::persistence {

/// Registers the cluster membership operations (no tenant scope; the table holds no org data):
/// - `cluster.heartbeat` {node_id, incarnation, host, cluster_port, http_port, lease_ms} →
///   {"members": [{node_id, incarnation, host, cluster_port, http_port, heartbeat_age_ms}]}:
///   writes this node's row (a restarted node with the same id simply takes its row over, so a
///   stale row never blocks a restart) and returns the other rows inside the lease. Rows dead
///   for much longer than the lease are deleted on the way.
/// - `cluster.leave` {node_id, incarnation} → {"left": bool}: removes this incarnation's row
///   (a newer incarnation's row is left alone).
void add_cluster_operations(std::map<std::string, operation>& ops);

} // namespace djdash::persistence
