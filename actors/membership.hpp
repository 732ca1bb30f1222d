#pragma once

// The node's cluster membership (DESIGN.md, "Cluster"): heartbeats this node's row in
// PostgreSQL, reads the rows inside the lease, connects to those peers with caf::io::middleman
// and monitors them, and tells the router (and through it the registry) and the realtime hub
// whenever the live member set changes.

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include <caf/fwd.hpp>

#include "protocols/actor_handles.hpp"

namespace djdash::actors {

struct membership_config {
  std::string node_id;
  std::string incarnation;  // random per process start
  std::string host;         // what peers connect to
  uint16_t http_port = 0;   // shown to ops
  int lease_ms = 3000;      // rows with an older heartbeat are not members
  int heartbeat_ms = 1000;  // how often this node writes its row and reads the others
  int connect_timeout_ms = 1000;
};

/// Spawns the membership actor. It does nothing until it gets `(caf::publish_atom, uint16_t
/// cluster_port)` — the port its middleman listens on, which goes into the row. Then:
/// - `(caf::join_atom, node_endpoints)` from a peer → this node's `node_endpoints`;
/// - `(caf::leave_atom, node_id, incarnation)` from a peer: it leaves (SIGTERM), stop placing
///   keys on it;
/// - `(caf::leave_atom)` locally → `caf::ok_atom` once this node's row is gone and every peer was
///   told: from then on the router places no key here (the registry hands its entities over);
/// - `(caf::get_atom, status_atom)` → {"node_id","incarnation","joined","draining","lease_ms",
///   "members":[...],"view":[...]} as JSON text.
/// `joined` becomes true after the first heartbeat once every peer inside the lease was tried.
caf::actor spawn_membership(caf::actor_system& sys, membership_config cfg, db_actor db,
                            caf::actor router, caf::actor hub,
                            std::shared_ptr<std::atomic<bool>> joined);

/// Returns a fresh random incarnation id (hex).
std::string new_incarnation();

} // namespace djdash::actors
