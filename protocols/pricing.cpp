#include "protocols/pricing.hpp"

#include <array>
#include <cmath>
#include <regex>
#include <set>

#include "protocols/app_errc.hpp"

namespace djdash::pricing {

namespace {

using json = nlohmann::json;

constexpr int64_t max_cents = 1'000'000'000;
constexpr int64_t one_bp = 10'000;  // a multiplier of 1 in basis points
const std::array<const char*, 7> day_names{"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

/// Thrown inside this file only; get_quote turns it into the caf::error it returns.
struct pricing_failure {
  app_errc code;
  std::string message;
};

[[noreturn]] void bad_rules(const std::string& what) {
  throw pricing_failure{app_errc::unprocessable,
                        "the organization's pricing rules are invalid: settings.pricing." + what};
}

[[noreturn]] void bad_input(const std::string& what) {
  throw pricing_failure{app_errc::bad_request, what};
}

/// The parsed rules, amounts in cents, hours in hundredths, multipliers in basis points.
struct rules {
  std::string currency = "usd";
  json base = json::object();
  int64_t default_base = 60000;
  int64_t hourly = 15000;
  int64_t included_centi = 0;
  int64_t minimum_centi = 300;
  std::set<int> weekend_days{4, 5};
  int64_t weekend_bp = one_bp;
  std::set<int> peak_months;
  int64_t peak_bp = one_bp;
  json add_ons = json::object();
};

/// Returns `x` scaled by `scale` when it is a whole number at that scale, else nothing.
std::optional<int64_t> scaled(const json& x, int64_t scale) {
  if (!x.is_number())
    return std::nullopt;
  auto v = x.get<double>() * static_cast<double>(scale);
  auto r = std::llround(v);
  if (!std::isfinite(v) || std::fabs(v - static_cast<double>(r)) > 1e-6)
    return std::nullopt;
  return r;
}

int64_t cents_rule(const json& x, const std::string& name) {
  if (!x.is_number_integer() || x.get<int64_t>() < 0 || x.get<int64_t>() > max_cents)
    bad_rules(name + " must be an integer number of cents from 0 to 1000000000");
  return x.get<int64_t>();
}

int64_t hours_rule(const json& x, const std::string& name) {
  auto centi = scaled(x, 100);
  if (!centi || *centi < 0 || *centi > 2400)
    bad_rules(name + " must be a number of hours from 0 to 24 (steps of 0.01)");
  return *centi;
}

int64_t multiplier_rule(const json& x, const std::string& name) {
  auto bp = scaled(x, one_bp);
  if (!bp || *bp < one_bp || *bp > 10 * one_bp)
    bad_rules(name + " must be a number from 1 to 10 with at most 4 decimals");
  return *bp;
}

/// Returns `key` of `obj`, or null when absent.
const json& member(const json& obj, const char* key) {
  static const json null_value;
  auto i = obj.find(key);
  return i == obj.end() ? null_value : *i;
}

void read_prices(rules& r, const json& src) {
  if (auto& base = member(src, "base_cents"); !base.is_null()) {
    if (!base.is_object())
      bad_rules("base_cents must be an object of event type → cents");
    for (auto& [type, cents] : base.items())
      r.base[type] = cents_rule(cents, "base_cents." + type);
    if (r.base.contains("default"))
      r.default_base = r.base["default"].get<int64_t>();
  }
  if (auto& add_ons = member(src, "add_ons"); !add_ons.is_null()) {
    if (!add_ons.is_object())
      bad_rules("add_ons must be an object of add-on name → cents");
    for (auto& [name, cents] : add_ons.items())
      r.add_ons[name] = cents_rule(cents, "add_ons." + name);
  }
  if (auto& hourly = member(src, "hourly_cents"); !hourly.is_null())
    r.hourly = cents_rule(hourly, "hourly_cents");
}

void read_calendar(rules& r, const json& src) {
  if (auto& days = member(src, "weekend_days"); !days.is_null()) {
    if (!days.is_array())
      bad_rules("weekend_days must be an array like [\"fri\", \"sat\"]");
    r.weekend_days.clear();
    for (auto& d : days) {
      int found = -1;
      for (int i = 0; i < 7; ++i)
        if (d.is_string() && d.get<std::string>() == day_names[i])
          found = i;
      if (found < 0)
        bad_rules("weekend_days must name days as mon, tue, wed, thu, fri, sat or sun");
      r.weekend_days.insert(found);
    }
  }
  if (auto& months = member(src, "peak_months"); !months.is_null()) {
    if (!months.is_array())
      bad_rules("peak_months must be an array of month numbers 1 to 12");
    for (auto& m : months) {
      if (!m.is_number_integer() || m.get<int>() < 1 || m.get<int>() > 12)
        bad_rules("peak_months must be an array of month numbers 1 to 12");
      r.peak_months.insert(m.get<int>());
    }
  }
}

rules parse_rules(const json& src) {
  rules r;
  if (src.is_null())
    return r;
  if (!src.is_object())
    bad_rules("pricing must be an object");
  if (auto& c = member(src, "currency"); !c.is_null()) {
    static const std::regex re{"^[a-z]{3}$"};
    if (!c.is_string() || !std::regex_match(c.get<std::string>(), re))
      bad_rules("currency must be a lowercase ISO 4217 code like \"usd\"");
    r.currency = c.get<std::string>();
  }
  read_prices(r, src);
  read_calendar(r, src);
  if (auto& x = member(src, "included_hours"); !x.is_null())
    r.included_centi = hours_rule(x, "included_hours");
  if (auto& x = member(src, "minimum_hours"); !x.is_null())
    r.minimum_centi = hours_rule(x, "minimum_hours");
  if (auto& x = member(src, "weekend_multiplier"); !x.is_null())
    r.weekend_bp = multiplier_rule(x, "weekend_multiplier");
  if (auto& x = member(src, "peak_multiplier"); !x.is_null())
    r.peak_bp = multiplier_rule(x, "peak_multiplier");
  return r;
}

/// Rounds num / den half up (both non-negative).
int64_t div_half_up(int64_t num, int64_t den) {
  return (2 * num + den) / (2 * den);
}

/// "150.00": cents as a decimal amount.
std::string money(int64_t cents) {
  auto frac = std::to_string(cents % 100);
  return std::to_string(cents / 100) + "." + (frac.size() < 2 ? "0" + frac : frac);
}

/// "4.5", "3", "0.75": a scaled integer without trailing zeros.
std::string decimal(int64_t value, int64_t scale) {
  auto text = std::to_string(value / scale);
  auto frac = value % scale;
  if (frac == 0)
    return text;
  auto digits = std::to_string(scale + frac).substr(1);
  while (!digits.empty() && digits.back() == '0')
    digits.pop_back();
  return text + "." + digits;
}

int64_t input_hours(double hours) {
  auto centi = scaled(json(hours), 100);
  if (!std::isfinite(hours) || hours <= 0 || hours > 24 || !centi || *centi <= 0)
    bad_input("hours must be more than 0 and at most 24, in steps of 0.01 (e.g. 4.5)");
  return *centi;
}

/// The month (1 … 12) and weekday of the input's date, when it has one.
struct date_facts {
  int month = 0;
  int weekday = 0;
};

std::optional<date_facts> input_date(const quote_input& in) {
  if (!in.date)
    return std::nullopt;
  auto weekday = weekday_of(*in.date);
  if (!weekday)
    bad_input("date must be a calendar date written YYYY-MM-DD");
  return date_facts{std::stoi(in.date->substr(5, 2)), *weekday};
}

void add_service(quote& q, const rules& r, const quote_input& in, int64_t hours_centi) {
  auto base = r.base.contains(in.event_type) ? r.base.at(in.event_type).get<int64_t>()
                                             : r.default_base;
  auto label = in.event_type.empty() ? std::string{"other"} : in.event_type;
  q.breakdown.push_back({"Base price (" + label + ")", base});
  auto billed = std::max(hours_centi, r.minimum_centi);
  q.billed_hours = static_cast<double>(billed) / 100.0;
  auto extra = std::max<int64_t>(0, billed - r.included_centi);
  if (extra == 0)
    return;
  auto text = decimal(extra, 100) + " h at " + money(r.hourly) + "/h";
  if (r.included_centi > 0)
    text += " beyond " + decimal(r.included_centi, 100) + " h included";
  if (billed > hours_centi)
    text += " (" + decimal(r.minimum_centi, 100) + " h minimum)";
  q.breakdown.push_back({text, div_half_up(r.hourly * extra, 100)});
}

/// Adds a surcharge line for `bp` on the service so far (every line before the add-ons).
void add_surcharge(quote& q, int64_t bp, const std::string& label) {
  int64_t service = 0;
  for (auto& line : q.breakdown)
    service += line.amount_cents;
  q.breakdown.push_back({label + " x" + decimal(bp, one_bp), div_half_up(service * (bp - one_bp),
                                                                          one_bp)});
}

void add_multipliers(quote& q, const rules& r, const std::optional<date_facts>& date) {
  if (!date)
    return;
  if (r.weekend_days.count(date->weekday) > 0 && r.weekend_bp != one_bp)
    add_surcharge(q, r.weekend_bp, std::string{"Weekend ("} + day_names[date->weekday] + ")");
  if (r.peak_months.count(date->month) > 0 && r.peak_bp != one_bp)
    add_surcharge(q, r.peak_bp, "Peak season (month " + std::to_string(date->month) + ")");
}

void add_add_ons(quote& q, const rules& r, const quote_input& in) {
  std::set<std::string> seen;
  for (auto& name : in.add_ons) {
    if (!r.add_ons.contains(name))
      bad_input("add_ons: unknown add-on \"" + name + "\"");
    if (!seen.insert(name).second)
      bad_input("add_ons: \"" + name + "\" is listed twice");
    q.breakdown.push_back({"Add-on: " + name, r.add_ons.at(name).get<int64_t>()});
  }
}

quote compute(const json& rules_json, const quote_input& in) {
  auto r = parse_rules(rules_json);
  auto hours_centi = input_hours(in.hours);
  auto date = input_date(in);
  if (in.guests && (*in.guests < 0 || *in.guests > 100000))
    bad_input("guests must be from 0 to 100000");
  quote q;
  q.currency = r.currency;
  add_service(q, r, in, hours_centi);
  add_multipliers(q, r, date);
  add_add_ons(q, r, in);
  for (auto& line : q.breakdown)
    q.amount_cents += line.amount_cents;
  return q;
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
int64_t days_from_civil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2;
  auto era = (y >= 0 ? y : y - 399) / 400;
  auto yoe = y - era * 400;
  auto doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  auto doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

} // namespace

std::optional<int> weekday_of(const std::string& date) {
  static const std::regex re{"^([0-9]{4})-([0-9]{2})-([0-9]{2})$"};
  std::smatch m;
  if (!std::regex_match(date, m, re))
    return std::nullopt;
  auto y = std::stoi(m[1]), mo = std::stoi(m[2]), d = std::stoi(m[3]);
  auto leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  static const std::array<int, 12> lengths{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (y < 1900 || mo < 1 || mo > 12 || d < 1 || d > lengths[mo - 1] + (mo == 2 && leap ? 1 : 0))
    return std::nullopt;
  // 1970-01-01 was a Thursday (3 when Monday is 0).
  auto days = days_from_civil(y, mo, d);
  return static_cast<int>(((days + 3) % 7 + 7) % 7);
}

caf::expected<quote> get_quote(const nlohmann::json& rules_json, const quote_input& in) {
  try {
    return compute(rules_json, in);
  } catch (const pricing_failure& f) {
    return make_app_error(f.code, f.message);
  }
}

nlohmann::json to_json(const quote& q) {
  auto lines = json::array();
  for (auto& line : q.breakdown)
    lines.push_back({{"label", line.label}, {"amount_cents", line.amount_cents}});
  return {{"amount_cents", q.amount_cents},
          {"currency", q.currency},
          {"billed_hours", q.billed_hours},
          {"breakdown", lines}};
}

} // namespace djdash::pricing
