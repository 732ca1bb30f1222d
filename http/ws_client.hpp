#pragma once

// The bridge between one WebSocket session and the actor world (STYLE.md §3.5/§3.6): it holds
// the socket's subscriptions at the hub, authorizes members-only topics through the database,
// and hands frames to the session. It keeps only a weak_ptr to the session and quits once the
// session is gone; the hub, which monitors it, then forgets its subscriptions.
//
// Messages from the session (`ref` is the client's ref as JSON text, e.g. "\"1\"" or "null"):
// - `(caf::subscribe_atom, topic, ref)`: a public topic
// - `(caf::subscribe_atom, topic, ref, db_scope)`: a members-only topic; `realtime.authorize`
//   runs under `scope` (role "member") first
// - `(caf::unsubscribe_atom, topic, ref)`
// Each answers the client with a reply frame through the session.

#include <chrono>
#include <memory>

#include <caf/fwd.hpp>

#include "protocols/actor_handles.hpp"

namespace djdash::http {

class websocket_session;
struct io_gate;

struct ws_client_limits {
  int max_subscriptions = 100;
  std::chrono::milliseconds timeout{10000};  // for the hub and the database
};

/// Spawns the bridge for `session`; `gate` is its server's (frames are handed over only while
/// the server's io_context runs).
caf::actor spawn_ws_client(caf::actor_system& sys, std::weak_ptr<websocket_session> session,
                           std::shared_ptr<io_gate> gate, caf::actor hub, db_actor db,
                           ws_client_limits limits);

} // namespace djdash::http
