#pragma once

// Quotes from an organization's pricing rules (`settings.pricing`): one pure function shared by
// the quotes API and the SMS pricing agent. No I/O, no clock: the same rules and input always
// give the same quote.
//
// The rules (every key optional; the defaults in brackets):
//   {
//     "currency": "usd",                        ["usd"] ISO 4217, lowercase
//     "base_cents": {"wedding": 120000,         [{"default": 60000}] per event type;
//                    "default": 60000},         types without an entry use "default"
//     "hourly_cents": 15000,                    [15000] per billed hour beyond included_hours
//     "included_hours": 0,                      [0] hours the base price already covers
//     "minimum_hours": 3,                       [3] billed hours = max(hours, minimum_hours)
//     "weekend_days": ["fri", "sat"],           [["fri", "sat"]] mon … sun
//     "weekend_multiplier": 1.15,               [1] on a weekend day
//     "peak_months": [5, 6, 9, 10, 12],         [[]] 1 … 12
//     "peak_multiplier": 1.1,                   [1] in a peak month
//     "add_ons": {"uplighting": 25000}          [{}] flat prices, never multiplied
//   }
// Amounts are integer cents (0 … 10^9); multipliers 1 … 10 with at most 4 decimals; hours
// 0 … 24 in steps of 0.01.
//
// The quote: base + hourly (billed hours × hourly_cents, beyond included_hours) is the service;
// the weekend multiplier applies to the service, then the peak multiplier to the service plus the
// weekend surcharge (both apply when both match); each surcharge is one breakdown line rounded
// half up to the cent; add-ons follow as flat lines. The breakdown's lines sum exactly to
// `amount_cents`.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <caf/expected.hpp>
#include <nlohmann/json.hpp>

namespace djdash::pricing {

/// What the customer asks about. `date` is YYYY-MM-DD in the organization's local time.
struct quote_input {
  std::string event_type;
  std::optional<std::string> date;
  double hours = 0;
  std::optional<int64_t> guests;  // validated (0 … 100000) and echoed, not priced
  std::vector<std::string> add_ons;
};

/// One line of a quote.
struct quote_line {
  std::string label;
  int64_t amount_cents = 0;
};

/// A computed quote.
struct quote {
  int64_t amount_cents = 0;
  std::string currency;
  double billed_hours = 0;
  std::vector<quote_line> breakdown;
};

/// Computes the quote for `in` under `rules` (the `settings.pricing` object; null or absent keys
/// take the defaults above). Fails with `app_errc::bad_request` naming the field for bad input
/// (hours outside (0, 24], an invalid date, an unknown add-on, guests out of range) and with
/// `app_errc::unprocessable` when the rules themselves are malformed.
caf::expected<quote> get_quote(const nlohmann::json& rules, const quote_input& in);

/// Returns {amount_cents, currency, billed_hours, breakdown: [{label, amount_cents}]}.
nlohmann::json to_json(const quote& q);

/// Returns the day of the week of a valid YYYY-MM-DD date (0 = Monday … 6 = Sunday), or nothing
/// when `date` is not a real calendar date.
std::optional<int> weekday_of(const std::string& date);

} // namespace djdash::pricing
