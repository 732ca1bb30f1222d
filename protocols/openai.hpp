#pragma once

// OpenAI-compatible chat completions with tool calling (PROTOCOLS.md §5): request bodies and
// response parsing, pure. Used by the SMS classifier's optional LLM backend
// (http/client/llm_connector), which forces one `classify_message` tool call per message.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <caf/expected.hpp>
#include <nlohmann/json.hpp>

namespace djdash::openai {

/// A function the model may call.
struct tool_def {
  std::string name;
  std::string description;
  nlohmann::json parameters;  // JSON schema of the arguments object
  bool strict = false;        // strict mode: every property required, additionalProperties false
};

/// One request to `POST {base}/chat/completions`.
struct chat_request {
  std::string model;
  nlohmann::json messages = nlohmann::json::array();
  std::vector<tool_def> tools;
  nlohmann::json tool_choice;                // "auto", "none", "required" or a function object
  std::optional<bool> parallel_tool_calls;   // omitted when unset
  std::optional<double> temperature;         // omitted when unset
};

/// One tool call of an assistant message. `arguments_text` is the JSON string exactly as sent;
/// `arguments` is its parsed object, or unset with `arguments_error` saying why (the SDK's own
/// docs warn it may be invalid JSON).
struct tool_call {
  std::string id;
  std::string name;
  std::string arguments_text;
  std::optional<nlohmann::json> arguments;
  std::string arguments_error;
};

/// The first choice of a chat.completion response.
struct chat_response {
  std::optional<std::string> content;  // null (or absent) when the model only called tools
  std::vector<tool_call> tool_calls;
  std::string finish_reason;           // stop, length, tool_calls, content_filter, function_call
};

/// Returns the request body as JSON.
nlohmann::json to_json(const chat_request& req);

/// Parses a response body. Fails with `app_errc::upstream_error` when it is not a chat completion
/// (not JSON, no choices, a message or tool call of the wrong shape); a tool call whose arguments
/// string is not a JSON object is kept, with `arguments_error` set.
caf::expected<chat_response> parse_response(std::string_view body);

/// Returns the assistant message to append to the history before the tool results (its tool
/// calls with their original argument strings; content null when there was none).
nlohmann::json assistant_message(const chat_response& resp);

/// Returns the `{"role":"tool","tool_call_id","content"}` message answering one tool call.
nlohmann::json tool_message(const std::string& tool_call_id, const std::string& content);

// --- the SMS classifier's use: one forced `classify_message` call -------------------------

/// The `classify_message` tool: intent, confidence and the entities of AGENTS.md (strict schema;
/// an entity the message does not state is null).
tool_def classify_tool();

/// Returns the request that asks `model` to classify `text`, with `now` (RFC 3339) and the
/// organization's IANA timezone `tz` given so relative dates resolve as AGENTS.md says.
chat_request classify_request(const std::string& model, const std::string& text,
                              const std::string& now, const std::string& tz);

/// Returns `{"intent","confidence","entities"}` from the response's `classify_message` call:
/// the intent must be one of the six, confidence in [0, 1]; entities that are null or do not
/// follow AGENTS.md's formats are left out. Fails with `app_errc::upstream_error` otherwise.
caf::expected<nlohmann::json> classification_from(const chat_response& resp);

} // namespace djdash::openai
