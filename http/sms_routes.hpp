#pragma once

#include "http/node_services.hpp"
#include "http/route_table.hpp"

namespace djdash::http {

/// Twilio's webhooks (POST /api/sms/incoming → TwiML, POST /api/sms/status), both checked
/// against X-Twilio-Signature over DJDASH_PUBLIC_URL + the request target; and the members'
/// view of conversations and drafts (GET /api/sms/conversations, GET .../{id}, PATCH, POST
/// .../drafts/{message_id}/send and /cancel).
void add_sms_routes(route_table& routes, node_services svc);

} // namespace djdash::http
