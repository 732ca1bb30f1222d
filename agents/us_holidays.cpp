#include "agents/us_holidays.hpp"

namespace djdash::agents {

using namespace date;

namespace {

year_month_day nth(year y, month m, weekday wd, unsigned n) {
  return year_month_day{sys_days{year_month_weekday{y, m, wd[n]}}};
}

year_month_day last(year y, month m, weekday wd) {
  return year_month_day{sys_days{year_month_weekday_last{y, m, weekday_last{wd}}}};
}

} // namespace

year_month_day easter_sunday(year y) {
  // Anonymous Gregorian algorithm (Meeus/Jones/Butcher).
  int Y = static_cast<int>(y);
  int a = Y % 19, b = Y / 100, c = Y % 100, d = b / 4, e = b % 4;
  int f = (b + 8) / 25, g = (b - f + 1) / 3;
  int h = (19 * a + b - d - g + 15) % 30;
  int i = c / 4, k = c % 4;
  int l = (32 + 2 * e + 2 * i - h - k) % 7;
  int m = (a + 11 * h + 22 * l) / 451;
  int month_ = (h + l - 7 * m + 114) / 31;
  int day_ = ((h + l - 7 * m + 114) % 31) + 1;
  return year_month_day{y, month{static_cast<unsigned>(month_)}, day{static_cast<unsigned>(day_)}};
}

std::optional<year_month_day> us_holiday(std::string_view key, year y) {
  if (key == "new_years_day") return y / January / 1;
  if (key == "mlk_day") return nth(y, January, Monday, 3);
  if (key == "valentines_day") return y / February / 14;
  if (key == "presidents_day") return nth(y, February, Monday, 3);
  if (key == "st_patricks_day") return y / March / 17;
  if (key == "good_friday") return year_month_day{sys_days{easter_sunday(y)} - days{2}};
  if (key == "easter") return easter_sunday(y);
  if (key == "cinco_de_mayo") return y / May / 5;
  if (key == "mothers_day") return nth(y, May, Sunday, 2);
  if (key == "memorial_day") return last(y, May, Monday);
  if (key == "juneteenth") return y / June / 19;
  if (key == "fathers_day") return nth(y, June, Sunday, 3);
  if (key == "independence_day") return y / July / 4;
  if (key == "labor_day") return nth(y, September, Monday, 1);
  if (key == "columbus_day") return nth(y, October, Monday, 2);
  if (key == "halloween") return y / October / 31;
  if (key == "veterans_day") return y / November / 11;
  if (key == "thanksgiving") return nth(y, November, Thursday, 4);
  if (key == "black_friday")
    return year_month_day{sys_days{nth(y, November, Thursday, 4)} + days{1}};
  if (key == "christmas_eve") return y / December / 24;
  if (key == "christmas") return y / December / 25;
  if (key == "new_years_eve") return y / December / 31;
  return std::nullopt;
}

} // namespace djdash::agents
