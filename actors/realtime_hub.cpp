#include "actors/realtime_hub.hpp"

#include <map>
#include <memory>
#include <set>
#include <unordered_map>
#include <utility>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/make_message.hpp>
#include <caf/stateful_actor.hpp>
#include <nlohmann/json.hpp>

#include "actors/log.hpp"
#include "protocols/realtime.hpp"
#include "protocols/type_ids.hpp"

namespace djdash::actors {

namespace {

struct hub_state {
  // topic → its subscribers; a subscriber appears once per topic (exactly-once delivery).
  std::unordered_map<std::string, std::map<caf::actor_addr, caf::actor>> topics;
  // subscriber → its topics, so a dead subscriber is forgotten without scanning every topic.
  std::map<caf::actor_addr, std::set<std::string>> by_subscriber;
  // Peer nodes' hubs that get every local publish (cluster fan-out).
  std::map<caf::actor_addr, caf::actor> peers;
  static inline const char* name = "realtime_hub";
};

using hub_ptr = caf::stateful_actor<hub_state>*;

void add(hub_ptr self, const std::string& topic, const caf::actor& who) {
  auto& st = self->state;
  auto addr = who.address();
  auto& mine = st.by_subscriber[addr];
  if (mine.empty())
    self->monitor(who);
  mine.insert(topic);
  st.topics[topic].emplace(addr, who);
}

void remove(hub_ptr self, const std::string& topic, const caf::actor_addr& addr) {
  auto& st = self->state;
  if (auto t = st.topics.find(topic); t != st.topics.end()) {
    t->second.erase(addr);
    if (t->second.empty())
      st.topics.erase(t);
  }
  auto s = st.by_subscriber.find(addr);
  if (s == st.by_subscriber.end())
    return;
  s->second.erase(topic);
  if (s->second.empty()) {
    self->demonitor(addr);
    st.by_subscriber.erase(s);
  }
}

void forget(hub_ptr self, const caf::actor_addr& addr) {
  auto& st = self->state;
  st.peers.erase(addr);
  auto s = st.by_subscriber.find(addr);
  if (s == st.by_subscriber.end())
    return;
  for (auto& topic : s->second) {
    auto t = st.topics.find(topic);
    if (t == st.topics.end())
      continue;
    t->second.erase(addr);
    if (t->second.empty())
      st.topics.erase(t);
  }
  st.by_subscriber.erase(s);
}

/// Delivers to this node's subscribers: the frame is serialized once and the same message
/// (reference-counted) goes to every subscriber.
void deliver_local(hub_ptr self, const std::string& topic, const std::string& event,
                   const std::string& payload) {
  auto t = self->state.topics.find(topic);
  if (t == self->state.topics.end())
    return;
  auto text = make_event_frame(topic, event, payload);
  if (!text) {
    log().error("realtime: dropped event {} on {}: payload is not JSON", event, topic);
    return;
  }
  auto msg = caf::make_message(realtime_frame{std::make_shared<const std::string>(std::move(*text))});
  for (auto& [addr, who] : t->second)
    self->send(who, msg);
}

caf::behavior realtime_hub(hub_ptr self) {
  self->set_down_handler([=](caf::down_msg& dm) { forget(self, dm.source); });
  return {
    [=](caf::publish_atom, const std::string& topic, const std::string& event,
        const std::string& payload) {
      deliver_local(self, topic, event, payload);
      // Cross-node fan-out: the only place events leave this node.
      if (self->state.peers.empty())
        return;
      auto relayed = caf::make_message(caf::forward_atom_v, realtime_event{topic, event, payload});
      for (auto& [addr, peer] : self->state.peers)
        self->send(peer, relayed);
    },
    [=](caf::forward_atom, const realtime_event& ev) {
      deliver_local(self, ev.topic, ev.event, ev.payload);
    },
    [=](caf::subscribe_atom, const std::string& topic, const caf::actor& who) {
      if (who)
        add(self, topic, who);
      return caf::ok_atom_v;
    },
    [=](caf::unsubscribe_atom, const std::string& topic, const caf::actor& who) {
      if (who)
        remove(self, topic, who.address());
      return caf::ok_atom_v;
    },
    [=](caf::join_atom, const caf::actor& peer) {
      if (!peer || peer.address() == self->address())
        return;
      self->monitor(peer);
      self->state.peers.emplace(peer.address(), peer);
    },
    [=](caf::get_atom, const std::string& topic) {
      // Number of local subscribers of `topic` (ops and tests).
      auto t = self->state.topics.find(topic);
      return static_cast<int>(t == self->state.topics.end() ? 0 : t->second.size());
    },
  };
}

} // namespace

caf::actor spawn_realtime_hub(caf::actor_system& sys) {
  return sys.spawn(realtime_hub);
}

std::optional<std::string> make_event_frame(const std::string& topic, const std::string& event,
                                            const std::string& payload_json) {
  auto payload = nlohmann::json::parse(payload_json, nullptr, false);
  if (payload.is_discarded())
    return std::nullopt;
  nlohmann::json frame{{"type", "event"}, {"topic", topic}, {"event", event},
                       {"payload", std::move(payload)}};
  return frame.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

} // namespace djdash::actors
