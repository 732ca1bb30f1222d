#include "actors/entity_registry.hpp"

#include <deque>
#include <unordered_map>
#include <utility>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <nlohmann/json.hpp>

#include "actors/log.hpp"
#include "protocols/app_errc.hpp"
#include "protocols/cluster.hpp"
#include "protocols/metrics.hpp"

namespace djdash::actors {

namespace {

using time_point = caf::actor_clock::time_point;

struct buffered_message {
  caf::message msg;
  caf::response_promise promise;
};

/// One key's activation on this node.
struct slot {
  caf::actor handle;
  bool stopping = false;                  // passivation requested; new messages wait
  bool handoff = false;                   // another node owns the key now: waiting messages
                                          // go back through the router, to the new owner
  std::vector<buffered_message> waiting;  // delivered to the next activation
};

/// Crash history of one key, for the crash-loop breaker.
struct breaker {
  std::deque<time_point> crashes;
  time_point open_until{};
};

struct registry_state {
  entity_settings cfg;
  db_actor db;
  entity_services services;
  std::map<std::string, entity_spawner> kinds;
  std::map<std::string, std::unordered_map<std::string, slot>> slots;  // kind → key → slot
  std::map<std::string, std::unordered_map<std::string, breaker>> breakers;
  std::unordered_map<caf::actor_addr, entity_ref> refs;                // entity → its ref
  bool draining = false;  // no new activations once the node drains
  cluster_view view;      // the live members, from the router (empty: every key is ours)
  caf::actor router;      // where handed-over messages go
  std::vector<caf::response_promise> drain_waiters;
  static inline const char* name = "entity_registry";
};

using registry_actor = caf::stateful_actor<registry_state>;

caf::actor activate(registry_actor* self, const entity_ref& ref) {
  auto& st = self->state;
  entity_context ctx{caf::actor{self}, st.db, st.cfg, ref, st.services};
  auto handle = st.kinds.at(ref.kind)(self->system(), ctx);
  self->monitor(handle);
  st.refs.emplace(handle.address(), ref);
  st.slots[ref.kind][ref.key].handle = handle;
  metrics::node_metrics().actors_active.add({ref.kind}, 1);
  metrics::node_metrics().entity_activations.inc({ref.kind});
  return handle;
}

/// Returns an error when the key's breaker is open, else closes a breaker whose time is up.
caf::error breaker_check(registry_actor* self, const entity_ref& ref) {
  auto& by_key = self->state.breakers[ref.kind];
  auto i = by_key.find(ref.key);
  if (i == by_key.end() || i->second.open_until == time_point{})
    return {};
  if (self->clock().now() < i->second.open_until)
    return make_app_error(app_errc::entity_unavailable,
                          "temporarily unavailable after repeated failures");
  by_key.erase(i);
  return {};
}

/// Records a crash; returns true when the key just crossed the crash-loop limit.
bool record_crash(registry_actor* self, const entity_ref& ref) {
  auto& st = self->state;
  auto now = self->clock().now();
  auto& b = st.breakers[ref.kind][ref.key];
  b.crashes.push_back(now);
  auto window = std::chrono::milliseconds(st.cfg.crash_loop_window_ms);
  while (!b.crashes.empty() && now - b.crashes.front() > window)
    b.crashes.pop_front();
  if (b.crashes.size() < static_cast<size_t>(st.cfg.crash_loop_limit))
    return false;
  b.crashes.clear();
  b.open_until = now + std::chrono::milliseconds(st.cfg.crash_loop_cooldown_ms);
  return true;
}

/// Whether the current view places `ref` on another node.
bool owned_elsewhere(const registry_state& st, const entity_ref& ref) {
  auto owner = owner_of(st.view.members, ref);
  return !owner.empty() && owner != st.view.self;
}

/// Passivates an activation whose key another node owns now; what reaches it meanwhile waits and
/// is then re-routed, so nothing in flight is lost.
void hand_off(registry_actor* self, slot& s) {
  s.handoff = true;
  if (s.stopping)
    return;
  s.stopping = true;
  self->send(s.handle, passivate_atom_v);
}

void flush_waiting(registry_actor* self, const entity_ref& ref, std::vector<buffered_message> msgs,
                   bool handed_off) {
  if (msgs.empty())
    return;
  if (handed_off && self->state.router) {
    for (auto& m : msgs)
      m.promise.delegate(self->state.router, entity_atom_v, ref, std::move(m.msg));
    return;
  }
  auto err = self->state.draining
               ? make_app_error(app_errc::shutting_down, "node is shutting down")
               : breaker_check(self, ref);
  if (err) {
    for (auto& m : msgs)
      m.promise.deliver(err);
    return;
  }
  auto handle = activate(self, ref);
  for (auto& m : msgs)
    m.promise.delegate(handle, std::move(m.msg));
}

bool is_crash(const caf::error& reason) {
  return reason && reason != caf::exit_reason::user_shutdown
         && reason != caf::exit_reason::normal;
}

void on_entity_down(registry_actor* self, const caf::down_msg& dm) {
  auto& st = self->state;
  auto i = st.refs.find(dm.source);
  if (i == st.refs.end())
    return;
  auto ref = i->second;
  st.refs.erase(i);
  metrics::node_metrics().actors_active.add({ref.kind}, -1);
  auto& by_key = st.slots[ref.kind];
  auto s = by_key.find(ref.key);
  std::vector<buffered_message> waiting;
  bool handed_off = false;
  if (s != by_key.end() && s->second.handle.address() == dm.source) {
    waiting = std::move(s->second.waiting);
    handed_off = s->second.handoff;
    by_key.erase(s);
  }
  if (is_crash(dm.reason)) {
    metrics::node_metrics().entity_crashes.inc({ref.kind});
    auto tripped = record_crash(self, ref);
    log_fields(log(), spdlog::level::err, tripped ? "entity crash loop: breaker open" : "entity crashed",
               {{"kind", ref.kind}, {"key", ref.key}, {"reason", caf::to_string(dm.reason)}});
  }
  flush_waiting(self, ref, std::move(waiting), handed_off);
  if (st.refs.empty())
    for (auto& rp : std::exchange(st.drain_waiters, {}))
      rp.deliver(caf::ok_atom_v);
}

caf::result<caf::message> deliver(registry_actor* self, const entity_ref& ref, caf::message& msg) {
  auto& st = self->state;
  if (st.kinds.count(ref.kind) == 0)
    return make_app_error(app_errc::bad_request, "unknown entity kind");
  auto& by_key = st.slots[ref.kind];
  auto s = by_key.find(ref.key);
  if (s != by_key.end() && s->second.stopping) {
    auto rp = self->make_response_promise();
    s->second.waiting.push_back(buffered_message{std::move(msg), rp});
    return rp;
  }
  if (s != by_key.end())
    return self->delegate(s->second.handle, std::move(msg));
  if (st.draining)
    return make_app_error(app_errc::shutting_down, "node is shutting down");
  if (auto err = breaker_check(self, ref))
    return err;
  auto handle = activate(self, ref);
  auto result = self->delegate(handle, std::move(msg));
  // Sent here although another node owns the key (views differed for a moment): answer this
  // message, then hand the entity over so it does not stay active on two nodes.
  if (owned_elsewhere(st, ref))
    hand_off(self, st.slots[ref.kind][ref.key]);
  return result;
}

/// A new view: entities whose keys another node won are handed over.
void on_view(registry_actor* self, cluster_view& v) {
  auto& st = self->state;
  st.view = std::move(v);
  st.router = caf::actor_cast<caf::actor>(self->current_sender());
  size_t moved = 0;
  for (auto& [kind, by_key] : st.slots)
    for (auto& [key, s] : by_key)
      if (!s.handoff && owned_elsewhere(st, entity_ref{kind, key})) {
        hand_off(self, s);
        ++moved;
      }
  if (moved > 0)
    log_fields(log(), spdlog::level::info, "handing entities over to their new owners",
               {{"count", std::to_string(moved)}});
}

std::string active_keys_json(const registry_state& st, const std::string& kind) {
  auto keys = nlohmann::json::array();
  if (auto i = st.slots.find(kind); i != st.slots.end())
    for (auto& [key, s] : i->second)
      if (!s.stopping)
        keys.push_back(key);
  return nlohmann::json{{"kind", kind}, {"keys", keys}}.dump();
}

void on_passivate_request(registry_actor* self, const entity_ref& ref) {
  auto& by_key = self->state.slots[ref.kind];
  auto s = by_key.find(ref.key);
  auto sender = caf::actor_cast<caf::actor>(self->current_sender());
  if (s == by_key.end() || s->second.handle != sender || s->second.stopping)
    return;
  s->second.stopping = true;
  // Messages already in the entity's mailbox are handled before this one: nothing is lost.
  self->send(s->second.handle, passivate_atom_v);
}

std::string status_json(const registry_state& st) {
  nlohmann::json out = nlohmann::json::object();
  for (auto& [kind, spawner] : st.kinds) {
    auto i = st.slots.find(kind);
    out[kind] = i == st.slots.end() ? 0 : i->second.size();
  }
  return out.dump();
}

caf::behavior entity_registry(registry_actor* self, entity_settings cfg, db_actor db,
                              std::map<std::string, entity_spawner> kinds,
                              entity_services services) {
  self->state.cfg = cfg;
  self->state.db = std::move(db);
  self->state.services = std::move(services);
  self->state.kinds = std::move(kinds);
  self->set_down_handler([=](caf::down_msg& dm) { on_entity_down(self, dm); });
  // Entities are monitored, not linked (a killed entity must never take the registry down);
  // when the node stops the registry, its entities stop with it.
  self->set_exit_handler([=](caf::exit_msg& em) {
    for (auto& [addr, ref] : self->state.refs)
      self->send_exit(addr, em.reason);
    self->quit(em.reason);
  });
  return {
    [=](entity_atom, const entity_ref& ref, caf::message& msg) {
      return deliver(self, ref, msg);
    },
    [=](passivate_atom, const entity_ref& ref) { on_passivate_request(self, ref); },
    [=](caf::get_atom, const entity_ref& ref) -> caf::result<caf::actor> {
      auto& by_key = self->state.slots[ref.kind];
      auto s = by_key.find(ref.key);
      if (s == by_key.end())
        return make_app_error(app_errc::not_found, "entity not active");
      return s->second.handle;
    },
    [=](caf::get_atom, status_atom) { return status_json(self->state); },
    [=](caf::get_atom, const std::string& kind) { return active_keys_json(self->state, kind); },
    [=](caf::update_atom, cluster_view& v) { on_view(self, v); },
    [=](drain_atom) -> caf::result<caf::message> {
      auto& st = self->state;
      st.draining = true;
      if (st.refs.empty())
        return caf::make_message(caf::ok_atom_v);
      auto rp = self->make_response_promise();
      st.drain_waiters.push_back(rp);
      for (auto& [kind, by_key] : st.slots)
        for (auto& [key, s] : by_key)
          if (!s.stopping) {
            s.stopping = true;
            self->send(s.handle, passivate_atom_v);
          }
      return rp;
    },
  };
}

} // namespace

caf::actor spawn_entity_registry(caf::actor_system& sys, const entity_settings& cfg, db_actor db,
                                 std::map<std::string, entity_spawner> kinds,
                                 entity_services services) {
  return sys.spawn(entity_registry, cfg, std::move(db), std::move(kinds), std::move(services));
}

} // namespace djdash::actors
