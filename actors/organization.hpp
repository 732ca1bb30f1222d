#pragma once

#include <string>

#include <nlohmann/json_fwd.hpp>

#include "actors/entity.hpp"

namespace djdash::actors {

/// The organization entity's state, loaded from PostgreSQL on activation.
struct organization_state {
  std::string id;
  std::string product_context;
  std::string name;
  std::string slug;
  std::string timezone;
  std::string settings_json = "{}";
  int64_t version = 0;
};

/// Returns what a guest sees on the request page: name, product, whether requests are accepted,
/// the minimum amounts (cents) per kind, the paid priority tiers and the currency. Pure.
nlohmann::json public_profile(const organization_state& org);

/// Spawns the `organization` entity for `ctx.ref.key` (an org id). Handles
/// `(profile_atom)` → public profile JSON text, `(get_atom)` → full state JSON text, and
/// `(put_atom, db_scope, patch JSON)` → the updated organization (the `org.update` operation),
/// and `(calendar_atom, db_scope, op, args JSON)` → the result of an `events.*` write, one at a
/// time (the organization is the single writer of its calendar), and `(queue_atom, db_scope,
/// op, args JSON)` → the result of `crowd_requests.submit` / `crowd_requests.update`: the DJ's
/// moves and status changes one at a time, each change announced on the realtime hub
/// (`org:<id>:queue`, `org:<id>:notifications`) when one is wired.
caf::actor spawn_organization(caf::actor_system& sys, const entity_context& ctx);

} // namespace djdash::actors
