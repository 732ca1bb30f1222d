#include "actors/node_router.hpp"

#include <algorithm>
#include <functional>
#include <map>
#include <unordered_map>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <nlohmann/json.hpp>

#include "protocols/app_errc.hpp"
#include "protocols/cluster.hpp"
#include "protocols/metrics.hpp"
#include "protocols/type_ids.hpp"

namespace djdash::actors {

namespace {

// Two routers whose views differ for a moment (a join or a departure not yet seen everywhere)
// could pass a message back and forth; after this many hops it is delivered where it is.
constexpr uint8_t max_hops = 2;

// Safety net only: a lost peer fails its waiting messages as soon as the connection drops.
constexpr auto forward_timeout = std::chrono::seconds(60);

struct router_state {
  std::string node_id;
  caf::actor registry;
  std::vector<std::string> members;                       // sorted; empty: all local
  std::map<std::string, caf::actor> peer_routers;         // node id → its router
  std::unordered_map<caf::actor_addr, std::string> watched;  // monitored peer routers
  // Messages forwarded to a peer and not answered yet, so a lost peer fails them at once.
  std::map<std::string, std::map<uint64_t, caf::response_promise>> pending;
  uint64_t next_id = 0;
  static inline const char* name = "node_router";
};

using router_actor = caf::stateful_actor<router_state>;

void settle(router_actor* self, const std::string& node, uint64_t id,
            const std::function<void(caf::response_promise&)>& f) {
  auto& by_node = self->state.pending;
  auto n = by_node.find(node);
  if (n == by_node.end())
    return;
  auto i = n->second.find(id);
  if (i == n->second.end())
    return;  // already failed because the peer went down
  auto rp = std::move(i->second);
  n->second.erase(i);
  if (n->second.empty())
    by_node.erase(n);
  f(rp);
}

caf::result<caf::message> route(router_actor* self, entity_ref& ref, caf::message& msg,
                               uint8_t hops) {
  auto& st = self->state;
  auto owner = owner_of(st.members, ref);
  auto peer = st.peer_routers.find(owner);
  if (owner.empty() || owner == st.node_id || hops >= max_hops || peer == st.peer_routers.end())
    return self->delegate(st.registry, entity_atom_v, std::move(ref), std::move(msg));
  auto rp = self->make_response_promise();
  auto id = ++st.next_id;
  st.pending[owner].emplace(id, rp);
  auto& forwards = metrics::node_metrics().cluster_forwards;
  self
    ->request(peer->second, forward_timeout, caf::forward_atom_v,
              entity_envelope{std::move(ref), std::move(msg), static_cast<uint8_t>(hops + 1)})
    .then(
      [=, &forwards](std::string& out) {
        forwards.inc({"ok"});
        settle(self, owner, id, [&](caf::response_promise& p) { p.deliver(std::move(out)); });
      },
      [=, &forwards](caf::error& err) {
        forwards.inc({"error"});
        settle(self, owner, id, [&](caf::response_promise& p) { p.deliver(std::move(err)); });
      });
  return rp;
}

void on_view(router_actor* self, cluster_view& v) {
  auto& st = self->state;
  st.members = v.members;
  for (auto& p : v.peers) {
    if (!p.router)
      continue;
    auto addr = p.router.address();
    if (st.watched.count(addr) == 0) {
      self->monitor(p.router);
      st.watched.emplace(addr, p.node_id);
    }
    st.peer_routers[p.node_id] = p.router;
  }
  // Routers of nodes that left the view stay watched: messages already forwarded to a
  // departing node are still answered by it (it forwards them on), or fail when it goes.
  for (auto i = st.peer_routers.begin(); i != st.peer_routers.end();) {
    bool live = std::find(st.members.begin(), st.members.end(), i->first) != st.members.end();
    i = live ? std::next(i) : st.peer_routers.erase(i);
  }
  self->send(st.registry, caf::update_atom_v, std::move(v));
}

void on_peer_router_down(router_actor* self, const caf::down_msg& dm) {
  auto& st = self->state;
  auto w = st.watched.find(dm.source);
  if (w == st.watched.end())
    return;
  auto node = w->second;
  st.watched.erase(w);
  auto r = st.peer_routers.find(node);
  if (r != st.peer_routers.end() && r->second.address() == dm.source)
    st.peer_routers.erase(r);
  auto n = st.pending.find(node);
  if (n == st.pending.end())
    return;
  auto waiting = std::move(n->second);
  st.pending.erase(n);
  auto err = make_app_error(app_errc::entity_unavailable,
                            "the node holding this entity went down; retry");
  for (auto& [id, rp] : waiting) {
    metrics::node_metrics().cluster_forwards.inc({"peer_down"});
    rp.deliver(err);
  }
}

caf::behavior node_router(router_actor* self, caf::actor registry, std::string node_id) {
  self->state.registry = std::move(registry);
  self->state.node_id = std::move(node_id);
  self->set_down_handler([=](caf::down_msg& dm) { on_peer_router_down(self, dm); });
  return {
    [=](entity_atom, entity_ref& ref, caf::message& msg) { return route(self, ref, msg, 0); },
    [=](caf::forward_atom, entity_envelope& env) {
      return route(self, env.ref, env.msg, env.hops);
    },
    [=](caf::update_atom, cluster_view& v) { on_view(self, v); },
    [=](caf::get_atom, caf::pending_atom) {
      int n = 0;
      for (auto& [node, waiting] : self->state.pending)
        n += static_cast<int>(waiting.size());
      return n;
    },
    [=](caf::get_atom, const entity_ref& ref) {
      auto owner = owner_of(self->state.members, ref);
      if (owner.empty())
        owner = self->state.node_id;
      nlohmann::json out{{"kind", ref.kind},
                         {"key", ref.key},
                         {"owner", owner},
                         {"local", owner == self->state.node_id}};
      return out.dump();
    },
  };
}

} // namespace

caf::actor spawn_node_router(caf::actor_system& sys, caf::actor registry, std::string node_id) {
  return sys.spawn(node_router, std::move(registry), std::move(node_id));
}

} // namespace djdash::actors
