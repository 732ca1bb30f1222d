#pragma once

// The /api/realtime wire protocol (API.md "WebSocket protocol"): parsing and validating client
// frames, classifying topics, and building server replies. Pure: no I/O, no actors.

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace djdash::http::realtime {

enum class frame_type { auth, subscribe, unsubscribe, broadcast, ping };

/// One valid client frame. `ref` is null when the client sent none.
struct client_frame {
  frame_type type = frame_type::ping;
  nlohmann::json ref;       // string or number as sent, or null
  std::string topic;        // subscribe, unsubscribe, broadcast
  std::string token;        // auth
  nlohmann::json payload;   // broadcast: an object
};

/// Why a client frame was refused: answered with an error reply (ref null if unknown).
struct frame_error {
  nlohmann::json ref;
  std::string code;         // snake_case, e.g. "bad_request"
  std::string message;
};

/// Returns the frame in `text`, or why it is not a valid client frame (malformed JSON, unknown
/// type, missing or mistyped fields). Never throws.
struct parse_result {
  std::optional<client_frame> frame;
  frame_error error;
};
parse_result parse_client_frame(std::string_view text);

enum class topic_kind { org_notifications, org_changes, org_queue, room_chat, room_presence };

/// Who may follow a topic: anyone, or authenticated members of the topic's organization.
enum class topic_access { anyone, org_members };

/// A recognized topic, with its canonical spelling (lower-case ids) used for routing.
struct topic_info {
  topic_kind kind = topic_kind::org_queue;
  std::string id;      // organization (UUID) or room id
  std::string table;   // org_changes only
  std::string canonical;
};

/// Returns what `topic` names, or nothing when it is not a topic this server knows:
/// `org:<uuid>:notifications`, `org:<uuid>:changes:<table>`, `org:<uuid>:queue`,
/// `room:<id>:chat`, `room:<id>:presence`.
std::optional<topic_info> parse_topic(std::string_view topic);

/// Returns who may subscribe to topics of `kind`.
topic_access access_of(topic_kind kind);

/// Returns whether rooms of this kind exist on this server yet (room topics do not).
bool is_available(topic_kind kind);

/// Returns whether clients may broadcast to topics of `kind` (only public rooms will).
bool allows_broadcast(topic_kind kind);

/// Returns `{"type":"reply","ref":ref,"status":"ok"}`.
std::string ok_reply(const nlohmann::json& ref);

/// Returns `{"type":"reply","ref":ref,"status":"error","error":{"code","message"}}`.
std::string error_reply(const nlohmann::json& ref, const std::string& code,
                        const std::string& message);

} // namespace djdash::http::realtime
