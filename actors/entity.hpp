#pragma once

// What every entity kind (virtual actor) shares: how it is spawned and how it passivates.

#include <chrono>
#include <functional>
#include <string>

#include <caf/actor.hpp>
#include <caf/after.hpp>
#include <caf/behavior.hpp>
#include <caf/event_based_actor.hpp>

#include "config/settings.hpp"
#include "protocols/actor_handles.hpp"
#include "protocols/type_ids.hpp"

namespace djdash::actors {

/// Node-wide actors an entity may talk to besides the database; null handles when not wired
/// (tests spawn entities with only what they exercise).
struct entity_services {
  caf::actor hub;                // realtime: (caf::publish_atom, topic, event, payload JSON)
  stripe_actor stripe;
  twilio_actor twilio;
  classifier_actor classifier;
  /// The SMS agents (agents/): `(agent_atom, intent, context JSON)` → `{"reply", "tool_calls",
  /// "state"}` as JSON text.
  caf::actor agents;
  /// This node's id (cluster), reported by `(caf::ping_atom)`.
  std::string node_id;
};

/// Handed to an entity at spawn: who supervises it and what it may use.
struct entity_context {
  caf::actor registry;   // receives (passivate_atom, entity_ref) when the entity is idle
  db_actor db;           // loads and stores the entity's state
  entity_settings cfg;
  entity_ref ref;
  entity_services services;
};

/// Spawns one entity of a kind for `ctx.ref.key`. The entity loads its state itself.
using entity_spawner = std::function<caf::actor(caf::actor_system&, const entity_context&)>;

/// Returns `s` as a JSON string literal (no JSON library in this widely included header).
std::string json_quoted(const std::string& s);

/// Returns `handlers` plus what every entity answers:
/// - the passivation protocol: after `ctx.cfg.idle_timeout_ms` without a message the entity asks
///   the registry to passivate it; the registry answers with `passivate_atom` once no new message
///   can reach this activation (also when the key moves to another node), and the entity drops
///   its behavior: it still finishes the database calls it started, answering their callers,
///   and terminates normally once none is left;
/// - `(caf::ping_atom)` → {"node_id","kind","key"}: where this activation lives (ops, tests).
template <class... Handlers>
caf::behavior with_passivation(caf::event_based_actor* self, const entity_context& ctx,
                               Handlers... handlers) {
  auto registry = ctx.registry;
  auto ref = ctx.ref;
  auto where = "{\"node_id\":" + json_quoted(ctx.services.node_id)
               + ",\"kind\":" + json_quoted(ref.kind) + ",\"key\":" + json_quoted(ref.key) + "}";
  return {
    std::move(handlers)...,
    [=](passivate_atom) { self->unbecome(); },
    [=](caf::ping_atom) { return where; },
    caf::after(std::chrono::milliseconds(ctx.cfg.idle_timeout_ms)) >>
      [=] { self->send(registry, passivate_atom_v, ref); },
  };
}

/// Makes an entity whose state could not be loaded answer every queued message with `err`, then
/// ask to be passivated (the next message re-activates it and tries again).
void fail_activation(caf::event_based_actor* self, const entity_context& ctx, caf::error err);

} // namespace djdash::actors
