#pragma once

// Carrier keywords and plain-language opt-out requests in an inbound SMS (AGENTS.md "opt-out",
// Twilio's default keyword handling). Checked before any classification.

#include <string_view>

namespace djdash::agents {

/// True if the message asks for no more messages: a Twilio opt-out keyword as the whole message
/// (STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT, and Twilio's newer OPTOUT, REVOKE; case,
/// spacing and punctuation ignored, "stop please" too), or a plain-language request ("please
/// stop texting me", "remove me from your list", "dont text me again", "unsubscribe me").
/// Not: "stop by the venue", "don't stop the music", "can we cancel the 7pm start", or spam
/// whose footer says "Reply STOP to opt out".
bool is_opt_out(std::string_view text);

/// True if the whole message is a Twilio opt-in keyword: START, UNSTOP or YES. "YES" also
/// answers the assistant's offers (a booking), so callers treat it as an opt-in only for a
/// conversation that has opted out.
bool is_opt_in(std::string_view text);

/// True if the whole message is a Twilio help keyword: HELP or INFO.
bool is_help(std::string_view text);

} // namespace djdash::agents
