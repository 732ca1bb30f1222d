#include "http/realtime_protocol.hpp"

#include <algorithm>
#include <cctype>

#include "http/auth_context.hpp"

namespace djdash::http::realtime {

namespace {

using nlohmann::json;

constexpr size_t max_ref = 128;
constexpr size_t max_topic = 256;
constexpr size_t max_token = 8192;
constexpr size_t max_room_id = 64;
constexpr size_t max_table = 63;

parse_result fail(json ref, std::string code, std::string message) {
  return parse_result{std::nullopt, frame_error{std::move(ref), std::move(code), std::move(message)}};
}

parse_result bad(json ref, std::string message) {
  return fail(std::move(ref), "bad_request", std::move(message));
}

std::optional<frame_type> type_of(const std::string& t) {
  if (t == "auth")
    return frame_type::auth;
  if (t == "subscribe")
    return frame_type::subscribe;
  if (t == "unsubscribe")
    return frame_type::unsubscribe;
  if (t == "broadcast")
    return frame_type::broadcast;
  if (t == "ping")
    return frame_type::ping;
  return std::nullopt;
}

/// Reads a required string field; returns an error message when missing, mistyped or too long.
std::optional<std::string> read_string(const json& j, const char* key, size_t limit,
                                       std::string& out) {
  auto i = j.find(key);
  if (i == j.end() || !i->is_string())
    return std::string{"\""} + key + "\" must be a string";
  out = i->get<std::string>();
  if (out.empty())
    return std::string{"\""} + key + "\" must not be empty";
  if (out.size() > limit)
    return std::string{"\""} + key + "\" is longer than " + std::to_string(limit) + " characters";
  return std::nullopt;
}

bool is_room_id(std::string_view s) {
  return !s.empty() && s.size() <= max_room_id
         && std::all_of(s.begin(), s.end(), [](char c) {
              return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
            });
}

bool is_table(std::string_view s) {
  if (s.empty() || s.size() > max_table)
    return false;
  if (!(std::islower(static_cast<unsigned char>(s[0])) || s[0] == '_'))
    return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c))
           || c == '_';
  });
}

std::string lower(std::string_view s) {
  std::string out{s};
  for (auto& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

} // namespace

parse_result parse_client_frame(std::string_view text) {
  auto j = json::parse(text.begin(), text.end(), nullptr, false);
  if (j.is_discarded())
    return bad(nullptr, "frame is not valid JSON");
  if (!j.is_object())
    return bad(nullptr, "frame must be a JSON object");
  json ref = nullptr;
  if (auto r = j.find("ref"); r != j.end() && !r->is_null()) {
    bool ok = (r->is_string() && r->get_ref<const std::string&>().size() <= max_ref)
              || r->is_number_integer() || r->is_number_unsigned();
    if (!ok)
      return bad(nullptr, "\"ref\" must be a string of at most 128 characters or an integer");
    ref = *r;
  }
  auto t = j.find("type");
  if (t == j.end() || !t->is_string())
    return bad(ref, "\"type\" must be a string");
  auto type = type_of(t->get<std::string>());
  if (!type)
    return bad(ref, "unknown frame type \"" + t->get<std::string>() + "\"");
  client_frame f;
  f.type = *type;
  f.ref = ref;
  std::optional<std::string> problem;
  switch (f.type) {
    case frame_type::ping:
      break;
    case frame_type::auth:
      problem = read_string(j, "token", max_token, f.token);
      break;
    case frame_type::subscribe:
    case frame_type::unsubscribe:
      problem = read_string(j, "topic", max_topic, f.topic);
      break;
    case frame_type::broadcast:
      problem = read_string(j, "topic", max_topic, f.topic);
      if (!problem) {
        auto p = j.find("payload");
        if (p == j.end() || !p->is_object())
          problem = "\"payload\" must be an object";
        else
          f.payload = *p;
      }
      break;
  }
  if (problem)
    return bad(ref, *problem);
  return parse_result{std::move(f), {}};
}

std::optional<topic_info> parse_topic(std::string_view topic) {
  if (topic.size() > max_topic)
    return std::nullopt;
  auto colon = topic.find(':');
  if (colon == std::string_view::npos)
    return std::nullopt;
  auto scheme = topic.substr(0, colon);
  auto rest = topic.substr(colon + 1);
  auto second = rest.find(':');
  if (second == std::string_view::npos)
    return std::nullopt;
  auto id = rest.substr(0, second);
  auto tail = rest.substr(second + 1);
  topic_info info;
  if (scheme == "org") {
    if (!is_uuid(std::string{id}))
      return std::nullopt;
    info.id = lower(id);
    if (tail == "notifications") {
      info.kind = topic_kind::org_notifications;
    } else if (tail == "queue") {
      info.kind = topic_kind::org_queue;
    } else if (tail.rfind("changes:", 0) == 0 && is_table(tail.substr(8))) {
      info.kind = topic_kind::org_changes;
      info.table = std::string{tail.substr(8)};
    } else {
      return std::nullopt;
    }
    info.canonical = "org:" + info.id + ":" + std::string{tail};
    return info;
  }
  if (scheme == "room" && is_room_id(id)) {
    if (tail == "chat")
      info.kind = topic_kind::room_chat;
    else if (tail == "presence")
      info.kind = topic_kind::room_presence;
    else
      return std::nullopt;
    info.id = std::string{id};
    info.canonical = std::string{topic};
    return info;
  }
  return std::nullopt;
}

topic_access access_of(topic_kind kind) {
  switch (kind) {
    case topic_kind::org_notifications:
    case topic_kind::org_changes:
      return topic_access::org_members;
    case topic_kind::org_queue:
    case topic_kind::room_chat:
    case topic_kind::room_presence:
      break;
  }
  return topic_access::anyone;
}

bool is_available(topic_kind kind) {
  return kind != topic_kind::room_chat && kind != topic_kind::room_presence;
}

bool allows_broadcast(topic_kind kind) {
  // Only public rooms take client broadcasts; the org topics carry server events only.
  return is_available(kind) && (kind == topic_kind::room_chat || kind == topic_kind::room_presence);
}

std::string ok_reply(const nlohmann::json& ref) {
  return json{{"type", "reply"}, {"ref", ref}, {"status", "ok"}}.dump();
}

std::string error_reply(const nlohmann::json& ref, const std::string& code,
                        const std::string& message) {
  json j{{"type", "reply"},
         {"ref", ref},
         {"status", "error"},
         {"error", {{"code", code}, {"message", message}}}};
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

} // namespace djdash::http::realtime
