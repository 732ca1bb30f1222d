#pragma once

// The SMS assistant's classifier over HTTP: what it decides for a text (API.md).

#include "http/node_services.hpp"
#include "http/route_table.hpp"

namespace djdash::http {

/// Registers POST /api/agents/classify (members): `{text, now?}` → `{intent, confidence,
/// entities}`, relative dates resolved in the caller's organization's timezone.
void add_agent_routes(route_table& routes, node_services svc);

} // namespace djdash::http
