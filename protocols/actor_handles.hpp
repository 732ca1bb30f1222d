#pragma once

// Typed handles the folders pass to each other (main.cpp wires them at spawn time), so actors and
// HTTP handlers never include persistence/ or each other.

#include <string>

#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "protocols/type_ids.hpp"

namespace djdash {

/// The database pool: runs a named operation in one transaction under a tenant scope and replies
/// with its JSON result, or `db_unavailable` / `db_overloaded` / an operation's own error.
using db_actor = caf::typed_actor<caf::replies_to<db_call>::with<std::string>>;

/// Password hashing (argon2id; CPU- and memory-heavy, so it runs on detached workers):
/// `(hash_atom, password)` → PHC string; `(verify_atom, phc_hash, password)` → match or not.
/// Verifying against an empty hash still spends the same time (a dummy hash), so callers can
/// treat unknown accounts exactly like wrong passwords.
using password_actor
  = caf::typed_actor<caf::replies_to<hash_atom, std::string>::with<std::string>,
                     caf::replies_to<verify_atom, std::string, std::string>::with<bool>>;

/// Stripe's REST API (http/client/stripe_connector): `(stripe_atom, method, path, form body,
/// idempotency key)` → the response JSON text. Retries 5xx and timeouts with backoff under the
/// same Idempotency-Key; a Stripe 4xx becomes `upstream_error` with Stripe's message, exhausted
/// retries `upstream_timeout`; without a configured secret key every call is `unprocessable`.
using stripe_actor = caf::typed_actor<caf::replies_to<stripe_atom, std::string, std::string,
                                                      std::string, std::string>::with<std::string>>;

/// Twilio's REST API (http/client/twilio_connector): `(twilio_atom, from, to, body,
/// status_callback_url)` → the created Message resource as JSON text (has "sid").
using twilio_actor = caf::typed_actor<caf::replies_to<twilio_atom, std::string, std::string,
                                                      std::string, std::string>::with<std::string>>;

/// The SMS classifier (agents/): `(classify_atom, text, now RFC 3339, IANA timezone)` →
/// `{"intent", "confidence", "entities"}` as JSON text (API.md, POST /api/agents/classify).
using classifier_actor
  = caf::typed_actor<caf::replies_to<classify_atom, std::string, std::string,
                                     std::string>::with<std::string>>;

/// An OpenAI-compatible chat-completions backend for the classifier (http/client/llm_connector):
/// `(llm_atom, text, now RFC 3339, IANA timezone)` → the same classification JSON text as
/// `classifier_actor`, obtained through tool calling; errors when the backend fails or times out.
using llm_actor = caf::typed_actor<caf::replies_to<llm_atom, std::string, std::string,
                                                   std::string>::with<std::string>>;

// The realtime hub is a dynamically typed `caf::actor` (actors/realtime_hub.hpp). Anyone
// publishes with `(caf::publish_atom, topic, event, payload JSON text)`; the hub delivers to
// every subscriber of `topic` as `{"type":"event","topic","event","payload"}`.

} // namespace djdash
