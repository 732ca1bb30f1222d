#pragma once

// The Stripe connector: `stripe_actor` (protocols/actor_handles.hpp) over Stripe's REST API. A
// pool of detached workers, each with its own keep-alive connection, runs the blocking calls, so
// a slow Stripe holds a worker thread, never a scheduler thread.

#include <chrono>

#include <caf/fwd.hpp>

#include "protocols/actor_handles.hpp"

namespace djdash {
struct settings;
} // namespace djdash

namespace djdash::http {

struct stripe_connector_options {
  int workers = 2;
  int max_attempts = 3;                             // 5xx, 409, timeouts, connection errors
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds attempt_timeout{10000}; // one attempt, connecting included
  std::chrono::milliseconds backoff{500};           // before the 2nd attempt; doubles
  std::chrono::milliseconds max_backoff{4000};

  /// Returns the longest a call can take (31.5 s with the defaults); callers' request timeouts
  /// should exceed it, or they give up while a retry may still succeed.
  std::chrono::milliseconds worst_case() const;
};

/// Spawns the connector for `cfg.services.stripe_api_base` with `cfg.secrets.stripe_secret_key`
/// (`Authorization: Bearer`, `Stripe-Version` pinned to stripe::api_version). Calls are
/// `(stripe_atom, method GET|POST|DELETE, path "/v1/...", form body, idempotency key)`; GET and
/// DELETE send the form as the query string. A POST without a key gets a random one, and every
/// retry of a call reuses its key. Replies: the response JSON text on 2xx; `upstream_error` with
/// Stripe's message on a 4xx (or a 5xx Stripe marks as not retryable); `upstream_timeout` once
/// attempts are exhausted; `unprocessable` ("payments are not configured") without a secret key;
/// `internal` for a malformed call. The secret is never logged.
djdash::stripe_actor spawn_stripe_connector(caf::actor_system& sys, const djdash::settings& cfg,
                                            const stripe_connector_options& opts = {});

} // namespace djdash::http
