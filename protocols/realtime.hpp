#pragma once

// The realtime hub's vocabulary, shared by actors/ (the hub) and http/ (the ws_client bridge).
//
// The hub is a dynamically typed `caf::actor` (one per node, actors/realtime_hub.hpp):
// - `(caf::publish_atom, topic, event, payload JSON text)`: anyone publishes; every local
//   subscriber of `topic` gets the frame once, and peer hubs get the event to deliver on theirs.
// - `(caf::subscribe_atom, topic, caf::actor subscriber)` → `caf::ok_atom`
// - `(caf::unsubscribe_atom, topic, caf::actor subscriber)` → `caf::ok_atom`
//   A subscriber is monitored: when it ends, all its subscriptions go with it.
// - `(caf::join_atom, caf::actor peer_hub)`: relay this node's publishes to a peer hub (the
//   cluster wires this); `(caf::forward_atom, realtime_event)` from a peer hub is
//   delivered locally only, so relays never loop.
// Subscribers receive `realtime_frame`: the serialized `{"type":"event",...}` text, built once
// per publish and shared by every subscriber and every socket's write queue.

#include <memory>
#include <string>

#include <caf/allowed_unsafe_message_type.hpp>

namespace djdash {

/// One server → client WebSocket text frame, immutable and shared. Local to a node: hubs
/// exchange (topic, event, payload) across nodes, never frames.
struct realtime_frame {
  std::shared_ptr<const std::string> text;
};

} // namespace djdash

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(djdash::realtime_frame)
