#pragma once

// Dates of the US holidays customers name when they book a DJ ("Labor Day", "the day after
// Thanksgiving", "NYE"). Federal rules (nth weekday of a month) plus Easter (Gregorian computus).

#include <optional>
#include <string_view>

#include <date/date.h>

namespace djdash::agents {

/// Returns the date of holiday `key` in year `y`, nullopt for an unknown key. Keys:
/// new_years_day, mlk_day, valentines_day, presidents_day, st_patricks_day, good_friday, easter,
/// cinco_de_mayo, mothers_day, memorial_day, juneteenth, fathers_day, independence_day,
/// labor_day, columbus_day, halloween, veterans_day, thanksgiving, black_friday, christmas_eve,
/// christmas, new_years_eve.
std::optional<date::year_month_day> us_holiday(std::string_view key, date::year y);

/// Easter Sunday (Western churches) of year `y`.
date::year_month_day easter_sunday(date::year y);

} // namespace djdash::agents
