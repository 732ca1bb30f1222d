#include "http/ws_client.hpp"

#include <map>
#include <string>
#include <utility>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <nlohmann/json.hpp>

#include "http/error_response.hpp"
#include "http/realtime_protocol.hpp"
#include "http/websocket_session.hpp"
#include "protocols/realtime.hpp"
#include "protocols/type_ids.hpp"

namespace djdash::http {

namespace {

namespace rt = realtime;

struct ws_client_state {
  std::weak_ptr<websocket_session> session;
  std::shared_ptr<io_gate> gate;
  caf::actor hub;
  db_actor db;
  ws_client_limits limits;
  // Topics this socket wants, each with the generation of its latest subscribe: a subscribe
  // that finishes after a later unsubscribe or subscribe of the same topic must not win.
  std::map<std::string, uint64_t> wanted;
  uint64_t generation = 0;
  static inline const char* name = "ws_client";
};

using client_ptr = caf::stateful_actor<ws_client_state>*;

/// Sends `text` to the client; quits when the socket is gone.
void to_client(client_ptr self, std::shared_ptr<const std::string> frame) {
  if (!websocket_session::send(self->state.session, self->state.gate, std::move(frame)))
    self->quit();
}

void to_client(client_ptr self, std::string text) {
  to_client(self, std::make_shared<const std::string>(std::move(text)));
}

nlohmann::json parse_ref(const std::string& ref_text) {
  auto ref = nlohmann::json::parse(ref_text, nullptr, false);
  return ref.is_discarded() ? nlohmann::json{} : ref;
}

/// Turns an actor-side failure into the client's `{"code","message"}` (same codes as HTTP).
void reply_error(client_ptr self, const std::string& ref_text, const caf::error& err) {
  auto body = nlohmann::json::parse(error_response(err).body, nullptr, false);
  std::string code = "internal";
  std::string message = "internal error";
  if (body.is_object() && body.contains("error") && body["error"].is_object()) {
    code = body["error"].value("code", code);
    message = body["error"].value("message", message);
  }
  to_client(self, rt::error_reply(parse_ref(ref_text), code, message));
}

bool still_wanted(client_ptr self, const std::string& topic, uint64_t gen) {
  auto i = self->state.wanted.find(topic);
  return i != self->state.wanted.end() && i->second == gen;
}

/// Reserves `topic` for a new subscribe; answers the client and returns 0 when over the limit.
uint64_t reserve(client_ptr self, const std::string& topic, const std::string& ref) {
  auto& st = self->state;
  if (st.wanted.count(topic) == 0 && st.wanted.size() >= static_cast<size_t>(st.limits.max_subscriptions)) {
    to_client(self, rt::error_reply(parse_ref(ref), "too_many_subscriptions",
                                    "this socket follows "
                                      + std::to_string(st.limits.max_subscriptions)
                                      + " topics already"));
    return 0;
  }
  return st.wanted[topic] = ++st.generation;
}

/// Unsubscribes at the hub without answering anyone. A request, not a send: the hub's ok reply
/// to a plain send would reach this actor as an unexpected message.
void leave(client_ptr self, const std::string& topic) {
  self->request(self->state.hub, self->state.limits.timeout, caf::unsubscribe_atom_v, topic,
                caf::actor_cast<caf::actor>(self))
    .then([](caf::ok_atom) {}, [](caf::error&) {});
}

/// Subscribes at the hub, then answers the client.
void join(client_ptr self, const std::string& topic, const std::string& ref, uint64_t gen) {
  auto me = caf::actor_cast<caf::actor>(self);
  self->request(self->state.hub, self->state.limits.timeout, caf::subscribe_atom_v, topic, me)
    .then(
      [=](caf::ok_atom) {
        if (!still_wanted(self, topic, gen)) {
          // A later unsubscribe won: undo, and say this subscribe did not stand.
          if (self->state.wanted.count(topic) == 0)
            leave(self, topic);
          return to_client(self, rt::error_reply(parse_ref(ref), "superseded",
                                                 "a later request for this topic replaced this one"));
        }
        to_client(self, rt::ok_reply(parse_ref(ref)));
      },
      [=](caf::error& err) {
        if (still_wanted(self, topic, gen))
          self->state.wanted.erase(topic);
        reply_error(self, ref, err);
      });
}

caf::behavior ws_client(client_ptr self, std::weak_ptr<websocket_session> session,
                        std::shared_ptr<io_gate> gate, caf::actor hub, db_actor db,
                        ws_client_limits limits) {
  self->state.session = std::move(session);
  self->state.gate = std::move(gate);
  self->state.hub = std::move(hub);
  self->state.db = std::move(db);
  self->state.limits = limits;
  return {
    [=](const realtime_frame& frame) { to_client(self, frame.text); },
    [=](caf::subscribe_atom, const std::string& topic, const std::string& ref) {
      if (auto gen = reserve(self, topic, ref))
        join(self, topic, ref, gen);
    },
    [=](caf::subscribe_atom, const std::string& topic, const std::string& ref,
        const db_scope& scope) {
      auto gen = reserve(self, topic, ref);
      if (gen == 0)
        return;
      // Membership is checked in the database on every subscribe, so a removed member cannot
      // follow the organization with a token that is still valid.
      self->request(self->state.db, self->state.limits.timeout,
                    db_call{"realtime.authorize", scope, "{}"})
        .then([=](const std::string&) { join(self, topic, ref, gen); },
              [=](caf::error& err) {
                if (still_wanted(self, topic, gen)) {
                  self->state.wanted.erase(topic);  // refused: an earlier subscription ends too
                  leave(self, topic);
                }
                reply_error(self, ref, err);
              });
    },
    [=](caf::unsubscribe_atom, const std::string& topic, const std::string& ref) {
      self->state.wanted.erase(topic);
      self->request(self->state.hub, self->state.limits.timeout, caf::unsubscribe_atom_v, topic,
                    caf::actor_cast<caf::actor>(self))
        .then([=](caf::ok_atom) { to_client(self, rt::ok_reply(parse_ref(ref))); },
              [=](caf::error& err) { reply_error(self, ref, err); });
    },
  };
}

} // namespace

caf::actor spawn_ws_client(caf::actor_system& sys, std::weak_ptr<websocket_session> session,
                           std::shared_ptr<io_gate> gate, caf::actor hub, db_actor db,
                           ws_client_limits limits) {
  return sys.spawn(ws_client, std::move(session), std::move(gate), std::move(hub), std::move(db),
                   limits);
}

} // namespace djdash::http
