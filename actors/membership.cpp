#include "actors/membership.hpp"

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/io/middleman.hpp>
#include <caf/stateful_actor.hpp>
#include <nlohmann/json.hpp>

#include "actors/log.hpp"
#include "protocols/app_errc.hpp"
#include "protocols/crypto.hpp"
#include "protocols/metrics.hpp"
#include "protocols/type_ids.hpp"

namespace djdash::actors {

namespace {

using json = nlohmann::json;
using ms = std::chrono::milliseconds;

/// What this node knows about one other node.
struct peer {
  std::string incarnation;  // from its row (or its hello)
  std::string host;
  int cluster_port = 0;
  int http_port = 0;
  int64_t heartbeat_age_ms = -1;
  bool in_lease = false;                // in the last heartbeat's rows (or said hello since)
  bool connecting = false;
  std::optional<node_endpoints> ep;     // set while connected
  std::string left_incarnation;         // this incarnation said it leaves: never place on it
};

struct membership_state {
  membership_config cfg;
  db_actor db;
  caf::actor router;
  caf::actor hub;
  std::shared_ptr<std::atomic<bool>> joined;
  uint16_t cluster_port = 0;
  std::map<std::string, peer> peers;
  std::vector<std::string> view;  // the members last announced
  bool started = false;
  bool leaving = false;
  bool first_round_done = false;  // the first heartbeat's rows were read
  int db_failures = 0;            // consecutive failed heartbeats (logged once per streak)
  static inline const char* name = "membership";
};

using membership_actor = caf::stateful_actor<membership_state>;

node_endpoints my_endpoints(membership_actor* self) {
  auto& st = self->state;
  return {st.cfg.node_id, st.cfg.incarnation, caf::actor{self}, st.router, st.hub};
}

bool is_live(const peer& p) {
  return p.ep && p.in_lease && p.left_incarnation != p.ep->incarnation;
}

/// Recomputes the live members; on a change tells the router (placement and handover) and
/// makes sure the hub relays to every connected peer.
void announce(membership_actor* self, bool force = false) {
  auto& st = self->state;
  cluster_view v;
  v.self = st.cfg.node_id;
  if (!st.leaving)
    v.members.push_back(st.cfg.node_id);
  for (auto& [id, p] : st.peers)
    if (is_live(p)) {
      v.members.push_back(id);
      v.peers.push_back(*p.ep);
    }
  std::sort(v.members.begin(), v.members.end());
  if (!force && v.members == st.view)
    return;
  st.view = v.members;
  metrics::node_metrics().cluster_members.set({}, static_cast<int64_t>(v.members.size()));
  std::string names;
  for (auto& m : v.members)
    names += (names.empty() ? "" : ",") + m;
  log_fields(log(), spdlog::level::info, "cluster view changed", {{"members", names}});
  self->send(st.router, caf::update_atom_v, std::move(v));
}

/// Every connection to a peer's incarnation is announced to the hub once; the hub monitors the
/// peer hub and forgets it when the connection goes.
void adopt(membership_actor* self, const std::string& id, node_endpoints ep) {
  auto& st = self->state;
  auto& p = st.peers[id];
  if (p.ep && p.ep->incarnation == ep.incarnation
      && p.ep->membership.address() == ep.membership.address())
    return;
  p.incarnation = ep.incarnation;
  p.in_lease = true;  // a peer heartbeats its row before it connects to anyone
  self->monitor(ep.membership);
  self->send(st.hub, caf::join_atom_v, ep.hub);
  log_fields(log(), spdlog::level::info, "cluster peer connected",
             {{"peer", id}, {"incarnation", ep.incarnation}});
  p.ep = std::move(ep);
}

void maybe_joined(membership_actor* self) {
  auto& st = self->state;
  if (!st.first_round_done || st.joined->load())
    return;
  for (auto& [id, p] : st.peers)
    if (p.connecting)
      return;
  st.joined->store(true);
  log_fields(log(), spdlog::level::info, "joined the cluster",
             {{"members", std::to_string(st.view.size())}});
}

/// Connects to a peer through the middleman (asynchronously: the actor never blocks), then
/// exchanges endpoints with its membership actor.
void connect(membership_actor* self, const std::string& id) {
  auto& st = self->state;
  auto& p = st.peers[id];
  p.connecting = true;
  auto timeout = ms(st.cfg.connect_timeout_ms);
  auto done = [=](bool ok) {
    auto i = self->state.peers.find(id);
    if (i != self->state.peers.end())
      i->second.connecting = false;
    if (ok)
      announce(self);
    maybe_joined(self);
  };
  auto mm = self->system().middleman().actor_handle();
  self->request(mm, timeout, caf::connect_atom_v, p.host, static_cast<uint16_t>(p.cluster_port))
    .then(
      [=](const caf::node_id&, caf::strong_actor_ptr& ptr, const std::set<std::string>&) {
        auto remote = caf::actor_cast<caf::actor>(ptr);
        if (!remote)
          return done(false);
        self->request(remote, timeout, caf::join_atom_v, my_endpoints(self))
          .then(
            [=](node_endpoints& theirs) {
              // A port reused by another node, or an old row: only the node we meant counts.
              if (theirs.node_id != id || self->state.leaving)
                return done(false);
              adopt(self, id, std::move(theirs));
              done(true);
            },
            [=](caf::error&) { done(false); });
      },
      [=](caf::error& err) {
        log().debug("cluster: cannot reach {} yet: {}", id, caf::to_string(err));
        done(false);
      });
}

void on_members(membership_actor* self, const std::string& reply) {
  auto& st = self->state;
  auto rows = json::parse(reply, nullptr, false);
  if (!rows.is_object() || !rows["members"].is_array())
    return;
  std::set<std::string> seen;
  for (auto& r : rows["members"]) {
    auto id = r.value("node_id", std::string{});
    if (id.empty() || id == st.cfg.node_id)
      continue;
    seen.insert(id);
    auto& p = st.peers[id];
    auto incarnation = r.value("incarnation", std::string{});
    p.host = r.value("host", std::string{});
    p.cluster_port = r.value("cluster_port", 0);
    p.http_port = r.value("http_port", 0);
    p.heartbeat_age_ms = r.value("heartbeat_age_ms", int64_t{-1});
    p.in_lease = incarnation != p.left_incarnation;
    if (!p.ep || p.ep->incarnation != incarnation)
      p.incarnation = incarnation;
    // A restarted node (new incarnation) replaces the old connection's entry.
    bool stale_connection = p.ep && p.ep->incarnation != incarnation;
    if (p.in_lease && (!p.ep || stale_connection) && !p.connecting)
      connect(self, id);
  }
  for (auto i = st.peers.begin(); i != st.peers.end();) {
    if (seen.count(i->first) == 0) {
      i->second.in_lease = false;
      i->second.heartbeat_age_ms = -1;
      if (!i->second.ep && !i->second.connecting) {
        i = st.peers.erase(i);
        continue;
      }
    }
    ++i;
  }
  st.first_round_done = true;
  announce(self);
  maybe_joined(self);
}

void heartbeat(membership_actor* self) {
  auto& st = self->state;
  if (st.leaving)
    return;
  json args{{"node_id", st.cfg.node_id},   {"incarnation", st.cfg.incarnation},
            {"host", st.cfg.host},         {"cluster_port", st.cluster_port},
            {"http_port", st.cfg.http_port}, {"lease_ms", st.cfg.lease_ms}};
  self->request(st.db, ms(st.cfg.lease_ms), db_call{"cluster.heartbeat", {}, args.dump()})
    .then(
      [=](const std::string& reply) {
        if (self->state.db_failures > 0)
          log().info("cluster heartbeat written again after {} failure(s)",
                     self->state.db_failures);
        self->state.db_failures = 0;
        on_members(self, reply);
      },
      [=](caf::error& err) {
        // Keep the current view: connections still tell who is alive, and peers drop this node
        // once its row leaves the lease.
        if (self->state.db_failures++ == 0)
          log().warn("cluster heartbeat failed: {}", error_message(err));
      });
  self->delayed_send(self, ms(st.cfg.heartbeat_ms), caf::tick_atom_v);
}

void on_peer_down(membership_actor* self, const caf::down_msg& dm) {
  for (auto& [id, p] : self->state.peers)
    if (p.ep && p.ep->membership.address() == dm.source) {
      log_fields(log(), spdlog::level::warn, "cluster peer connection lost",
                 {{"peer", id}, {"reason", caf::to_string(dm.reason)}});
      metrics::node_metrics().cluster_peer_losses.inc({});
      p.ep.reset();
      break;
    }
  announce(self);
}

json status(const membership_state& st) {
  auto members = json::array();
  members.push_back({{"node_id", st.cfg.node_id},
                     {"incarnation", st.cfg.incarnation},
                     {"host", st.cfg.host},
                     {"cluster_port", st.cluster_port},
                     {"http_port", st.cfg.http_port},
                     {"connected", true},
                     {"live", !st.leaving},
                     {"self", true}});
  for (auto& [id, p] : st.peers)
    members.push_back({{"node_id", id},
                       {"incarnation", p.ep ? p.ep->incarnation : p.incarnation},
                       {"host", p.host},
                       {"cluster_port", p.cluster_port},
                       {"http_port", p.http_port},
                       {"heartbeat_age_ms", p.heartbeat_age_ms},
                       {"connected", p.ep.has_value()},
                       {"live", is_live(p)},
                       {"self", false}});
  return {{"node_id", st.cfg.node_id}, {"incarnation", st.cfg.incarnation},
          {"joined", st.joined->load()}, {"draining", st.leaving},
          {"lease_ms", st.cfg.lease_ms}, {"members", members},
          {"view", st.view}};
}

caf::behavior membership(membership_actor* self, membership_config cfg, db_actor db,
                         caf::actor router, caf::actor hub,
                         std::shared_ptr<std::atomic<bool>> joined) {
  auto& st = self->state;
  st.cfg = std::move(cfg);
  st.db = std::move(db);
  st.router = std::move(router);
  st.hub = std::move(hub);
  st.joined = std::move(joined);
  self->set_down_handler([=](caf::down_msg& dm) { on_peer_down(self, dm); });
  return {
    [=](caf::publish_atom, uint16_t port) {
      auto& s = self->state;
      if (s.started)
        return;
      s.started = true;
      s.cluster_port = port;
      announce(self, true);  // until peers answer, this node places every key on itself
      heartbeat(self);
    },
    [=](caf::tick_atom) { heartbeat(self); },
    [=](caf::join_atom, node_endpoints& theirs) -> caf::result<node_endpoints> {
      if (theirs.node_id.empty() || theirs.node_id == self->state.cfg.node_id
          || !theirs.membership)
        return make_app_error(app_errc::bad_request, "not a peer");
      auto id = theirs.node_id;
      if (!self->state.leaving) {
        adopt(self, id, std::move(theirs));
        announce(self);
      }
      return my_endpoints(self);
    },
    [=](caf::leave_atom, const std::string& id, const std::string& incarnation) {
      auto i = self->state.peers.find(id);
      if (i == self->state.peers.end())
        return;
      log_fields(log(), spdlog::level::info, "cluster peer leaves", {{"peer", id}});
      i->second.left_incarnation = incarnation;
      announce(self);
    },
    [=](caf::leave_atom) -> caf::result<caf::ok_atom> {
      auto& s = self->state;
      if (s.leaving)
        return caf::ok_atom_v;
      s.leaving = true;
      for (auto& [id, p] : s.peers)
        if (p.ep)
          self->send(p.ep->membership, caf::leave_atom_v, s.cfg.node_id, s.cfg.incarnation);
      announce(self);
      auto rp = self->make_response_promise<caf::ok_atom>();
      json args{{"node_id", s.cfg.node_id}, {"incarnation", s.cfg.incarnation}};
      self->request(s.db, ms(s.cfg.lease_ms), db_call{"cluster.leave", {}, args.dump()})
        .then([=](const std::string&) mutable { rp.deliver(caf::ok_atom_v); },
              [=](caf::error& err) mutable {
                log().warn("cluster: could not remove this node's row ({}); it expires with "
                           "the lease",
                           error_message(err));
                rp.deliver(caf::ok_atom_v);
              });
      return rp;
    },
    [=](caf::get_atom, status_atom) { return status(self->state).dump(); },
  };
}

} // namespace

caf::actor spawn_membership(caf::actor_system& sys, membership_config cfg, db_actor db,
                            caf::actor router, caf::actor hub,
                            std::shared_ptr<std::atomic<bool>> joined) {
  return sys.spawn(membership, std::move(cfg), std::move(db), std::move(router), std::move(hub),
                   std::move(joined));
}

std::string new_incarnation() {
  return crypto::hex(crypto::random_bytes(8));
}

} // namespace djdash::actors
