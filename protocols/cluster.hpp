#pragma once

// The cluster's vocabulary: what nodes exchange over caf::io::middleman and how an entity key is
// placed on a node. Every struct has an `inspect` overload and a type ID (type_ids.hpp), so a
// peer deserializes exactly what was sent.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <caf/actor.hpp>
#include <caf/message.hpp>
#include <caf/meta/type_name.hpp>

#include "protocols/messages.hpp"

namespace djdash {

/// Who a node is and the actors its peers talk to. Exchanged once per connection
/// (`(caf::join_atom, node_endpoints)` → the peer's `node_endpoints`).
struct node_endpoints {
  std::string node_id;
  std::string incarnation;  // random per process start: a restarted node is a new incarnation
  caf::actor membership;    // the published actor; monitored to notice a lost peer at once
  caf::actor router;        // takes forwarded entity messages
  caf::actor hub;           // takes relayed realtime events
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, node_endpoints& x) {
  return f(caf::meta::type_name("node_endpoints"), x.node_id, x.incarnation, x.membership,
           x.router, x.hub);
}

/// A message for an entity that a router hands to the owner's router:
/// `(caf::forward_atom, entity_envelope)` → the entity's reply (JSON text) or error.
/// `hops` counts routers passed, so two nodes with different views cannot bounce it forever.
struct entity_envelope {
  entity_ref ref;
  caf::message msg;
  uint8_t hops = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, entity_envelope& x) {
  return f(caf::meta::type_name("entity_envelope"), x.ref, x.msg, x.hops);
}

/// A realtime event relayed from the hub of the publishing node to every peer hub:
/// `(caf::forward_atom, realtime_event)`; peers deliver it to their local subscribers only.
struct realtime_event {
  std::string topic;
  std::string event;
  std::string payload;  // JSON text
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, realtime_event& x) {
  return f(caf::meta::type_name("realtime_event"), x.topic, x.event, x.payload);
}

/// The live members as one node sees them (membership → router → registry, on every change).
struct cluster_view {
  std::string self;                  // this node's id
  std::vector<std::string> members;  // sorted node ids placement hashes over; may lack `self`
                                     // while the node leaves
  std::vector<node_endpoints> peers; // connected live peers (not self)
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, cluster_view& x) {
  return f(caf::meta::type_name("cluster_view"), x.self, x.members, x.peers);
}

/// Rendezvous weight of `node_id` for an entity: FNV-1a 64 over the three fields (separated by
/// 0x1f) with the splitmix64 finalizer. Fixed arithmetic, so every build and platform agrees.
uint64_t placement_weight(std::string_view node_id, std::string_view kind, std::string_view key);

/// The member with the highest weight for `ref` (ties: the smaller node id), or "" when there
/// are no members. Adding a member moves only the keys the new member wins.
std::string owner_of(const std::vector<std::string>& members, const entity_ref& ref);

} // namespace djdash
