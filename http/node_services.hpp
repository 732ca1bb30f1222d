#pragma once

// What route files may reach on this node. main.cpp fills it in; tests pass stubs.

#include <functional>

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

#include "protocols/actor_handles.hpp"

namespace djdash {
struct settings;
} // namespace djdash

namespace djdash::http {

struct node_services {
  caf::actor_system* sys = nullptr;
  djdash::db_actor db;
  djdash::password_actor passwords;
  caf::actor router;
  /// Realtime hub: `(caf::publish_atom, topic, event, payload JSON)`; null when not wired.
  caf::actor hub;
  djdash::stripe_actor stripe;
  djdash::twilio_actor twilio;
  djdash::classifier_actor classifier;
  const djdash::settings* cfg = nullptr;
  /// Returns whether this node is draining (readiness fails while it does).
  std::function<bool()> draining;
  /// Cluster membership: `(caf::get_atom, status_atom)` → members and view (actors/membership).
  caf::actor membership;
  /// The entity registry: `(caf::get_atom, kind)` → the keys active on this node (ops).
  caf::actor registry;
  /// Returns whether this node has joined the cluster (readiness fails until it has).
  std::function<bool()> cluster_joined;
};

} // namespace djdash::http
