#pragma once

// Twilio's REST API behind a typed actor (protocols/actor_handles.hpp, `twilio_actor`).

#include <caf/fwd.hpp>

#include "protocols/actor_handles.hpp"

namespace djdash {
struct settings;
} // namespace djdash

namespace djdash::http {

/// Spawns the connector: `(twilio_atom, from, to, body, status_callback)` POSTs
/// {TWILIO_API_BASE}/2010-04-01/Accounts/{TWILIO_ACCOUNT_SID}/Messages.json with Basic auth and
/// answers Twilio's Message JSON (201: has "sid" and "status"). An empty `status_callback` means
/// DJDASH_PUBLIC_URL + "/api/sms/status" (none when no public URL is set).
///
/// The blocking HTTP calls run on a few detached workers (each with its own keep-alive
/// connection). Errors: no account SID / auth token → `unprocessable`; Twilio's 4xx →
/// `upstream_error` with Twilio's message; 5xx or transport failure → `upstream_error`, a
/// timeout → `upstream_timeout`. A send is never retried once the request may have reached
/// Twilio (the REST API has no idempotency key, a retry could text the customer twice); only a
/// failed connect is.
twilio_actor spawn_twilio_connector(caf::actor_system& sys, const settings& cfg);

} // namespace djdash::http
