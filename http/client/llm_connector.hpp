#pragma once

// The classifier's optional LLM backend: `llm_actor` (protocols/actor_handles.hpp) over an
// OpenAI-compatible chat-completions API with tool calling (PROTOCOLS.md §5). Each message is one
// POST {OPENAI_BASE_URL}/chat/completions that forces a `classify_message` call; the answer is
// validated (protocols/openai.hpp) before it counts. Blocking calls run on detached workers, each
// with its own keep-alive connection, and every call ends within the deadline.

#include <chrono>

#include <caf/fwd.hpp>

#include "protocols/actor_handles.hpp"

namespace djdash {
struct settings;
} // namespace djdash

namespace djdash::http {

struct llm_connector_options {
  int workers = 2;
  std::chrono::milliseconds connect_timeout{2000};
  /// The longest one classification may take, connecting included; the classifier falls back to
  /// its local model after that.
  std::chrono::milliseconds deadline{5000};
};

/// Spawns the connector for `cfg.services.openai_base_url`, `cfg.services.openai_model` and
/// `cfg.secrets.openai_api_key` (sent as `Authorization: Bearer`, never logged).
/// `(llm_atom, text, now RFC 3339, IANA timezone)` → `{"intent", "confidence", "entities"}` JSON
/// text. Errors: `upstream_timeout` when the deadline passed, `upstream_error` for a non-2xx
/// status, a transport failure or an answer that is not a valid classify_message call,
/// `unprocessable` when no API key is configured, `bad_request` for empty text.
djdash::llm_actor spawn_llm_connector(caf::actor_system& sys, const djdash::settings& cfg,
                                      const llm_connector_options& opts = {});

} // namespace djdash::http
