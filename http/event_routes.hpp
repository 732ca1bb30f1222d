#pragma once

// The calendar: events (holds and bookings) and availability.

#include "http/node_services.hpp"
#include "http/route_table.hpp"

namespace djdash::http {

/// Registers GET, POST /api/events; GET, PATCH, DELETE /api/events/{id};
/// GET /api/events/availability.
void add_event_routes(route_table& routes, node_services svc);

} // namespace djdash::http
