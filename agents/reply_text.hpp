#pragma once

// Building blocks for the assistant's SMS replies: money, dates, event types, and fitting a reply
// into two SMS segments. Pure.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace djdash::agents {

/// Returns `cents` as customers read it: "$1,725", "$431.25"; other currencies "1,725.00 EUR".
std::string money(int64_t cents, const std::string& currency);

/// Returns "Sat, Jun 14" for a YYYY-MM-DD date, with ", 2027" when its year is not `today`'s.
/// Returns the input unchanged when it is not a date.
std::string day_label(const std::string& date, const std::string& today);

/// Returns the event type as words: "wedding", "school dance", "corporate event", ...
std::string event_label(const std::string& event_type);

/// Returns "5 hours", "4.5 hours", "1 hour".
std::string hours_label(double hours);

/// Returns "5-hour", "4.5-hour" (as in "a 5-hour wedding").
std::string hours_adjective(double hours);

/// Returns "6pm", "6:30pm", "11am" for HH:MM.
std::string time_label(const std::string& hhmm);

/// Returns how many SMS segments `text` takes: GSM-7 (153 septets per segment when split,
/// extension characters count twice) unless it has a character outside GSM-7, then UCS-2
/// (67 characters per segment when split).
size_t sms_segments(const std::string& text);

/// Joins `parts` with spaces: the first always, each later one only while the whole still fits
/// in two SMS segments (a later part that does not fit is skipped, shorter ones may follow).
std::string fit_sms(const std::vector<std::string>& parts);

} // namespace djdash::agents
