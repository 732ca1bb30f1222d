#pragma once

// Rule-based entity extraction for inbound customer texts (AGENTS.md "Entities"). The statistical
// intent model is bad at exactly these: dates relative to `now` in the org's timezone, holidays,
// times, durations, numbers written as words, emails, money. Pure function, no I/O.

#include <chrono>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace djdash::agents {

/// Whole seconds since the Unix epoch (the same type as C++20's std::chrono::sys_seconds and
/// date::sys_seconds; the project builds as C++17).
using sys_seconds = std::chrono::time_point<std::chrono::system_clock, std::chrono::seconds>;

/// Returns a JSON object holding only the entities `text` states:
/// - `date` "YYYY-MM-DD": resolved against `now` in `iana_tz` (an unknown zone falls back to
///   UTC). A month-day without a year is its next occurrence (today counts); "the 14th" is the
///   next 14th; "friday" / "this friday" is the next Friday (today counts); "next friday" is
///   Friday a week out when said on a Thursday or Friday, and is left out when said on any other
///   day (ambiguous); today / tonight / tomorrow; US holidays (us_holiday() keys) in their next
///   occurrence; "the friday before memorial day", "the day after christmas". A holiday that
///   names a party's theme ("valentines party saturday night", "christmas party") yields to
///   another named day, and christmas / halloween / easter / st patrick's themes never give a
///   date. Weekdays, today and tomorrow count only when no calendar day is named. Left out when
///   two different days are named, for ranges ("june 14-15"), for "the weekend of ...",
///   "around / after / before <date>", "<holiday> weekend", "every saturday".
/// - `time` "HH:MM" (24 h): the start time. Without am/pm, hours 1-11 are read as pm (DJ events
///   start in the afternoon or evening) unless the message speaks of morning / brunch; 12 is noon.
///   A range's start wins over single times; times introduced by until / end / setup / arrive are
///   not start times; a ceremony time only when nothing else is given; a changed start ("move it
///   to 8", "cancel the 7pm start and do 8") replaces the earlier one.
/// - `hours` number: hours of DJ service ("4 hrs", "an hour and a half", "45 min" -> 0.75, or the
///   length of a time range "6pm to midnight" -> 6, or of a start and an end "7pm start, done by
///   11"). Not durations of driving, setup, ceremony, response windows ("in 2 hours"), or extras
///   ("an extra hour"). Left out for "3-4 hours".
/// - `guests` integer ("150 guests", "about two hundred people", "party of 80", "50 adults and 20
///   kids" -> 70). Left out for ranges ("100-150 people").
/// - `event_type`: wedding, corporate, birthday, school_dance, quinceanera, mitzvah,
///   private_party, club, other (AGENTS.md mapping).
/// - `venue`: the place as written after "at" / "venue is", without a leading lower-case "the";
///   not a private home ("at my house").
/// - `name`: the sender's own ("this is Maria", "my name is John Smith", "- Tasha").
/// - `email`: as written.
/// - `budget_cents` integer: a budget the customer states ("budget is around $800", "we have
///   1.5k"), never a price someone quoted or a payment made.
nlohmann::json extract_entities(std::string_view text, sys_seconds now, const std::string& iana_tz);

} // namespace djdash::agents
