#pragma once

// The classifier behind a typed handle: `(classify_atom, text, now RFC 3339, IANA timezone)` →
// `{"intent", "confidence", "entities"}` JSON text (protocols/actor_handles.hpp).

#include <chrono>
#include <memory>

#include <caf/fwd.hpp>

#include "protocols/actor_handles.hpp"

namespace djdash {
struct settings;
} // namespace djdash

namespace djdash::agents {

class intent_model;

struct classifier_options {
  /// How long the LLM backend may take before the local model answers instead.
  std::chrono::milliseconds llm_deadline{1500};
  /// Actors sharing the model; 0: one per hardware thread.
  unsigned workers = 0;
  /// The model to use; null: default_intent_model() (trained on first use, about a second).
  std::shared_ptr<const intent_model> model;
};

/// Spawns a pool of classifier actors sharing one model. Opt-outs are decided by the rules and
/// never leave the process. With a non-null `llm`, every other message is first offered to it
/// within `opts.llm_deadline`; its answer is used when it is a valid classification (entities
/// from the rules still win), and the local result otherwise: on error, timeout or nonsense.
/// A `now` that is not RFC 3339 fails with `app_errc::bad_request`.
classifier_actor spawn_classifier(caf::actor_system& sys, llm_actor llm,
                                  classifier_options opts);

/// Same with the default options (the node's composition root uses this).
classifier_actor spawn_classifier(caf::actor_system& sys, const settings& cfg, llm_actor llm);

} // namespace djdash::agents
