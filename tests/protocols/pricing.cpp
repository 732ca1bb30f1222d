#define CAF_SUITE protocols.pricing

// get_quote: each pricing rule alone, their combination, rounding, and invalid input and rules.

#include "protocols/pricing.hpp"

#include <cmath>
#include <limits>

#include "protocols/app_errc.hpp"
#include "support/caf_test.hpp"

using namespace djdash;
using nlohmann::json;

namespace {

// 2026-06-10 is a Wednesday, 2026-06-13 a Saturday, 2026-01-14 a Wednesday.
const std::string june_wednesday = "2026-06-10";
const std::string june_saturday = "2026-06-13";
const std::string january_wednesday = "2026-01-14";

pricing::quote_input input(const std::string& type, double hours,
                           std::optional<std::string> date = std::nullopt,
                           std::vector<std::string> add_ons = {}) {
  pricing::quote_input in;
  in.event_type = type;
  in.hours = hours;
  in.date = std::move(date);
  in.add_ons = std::move(add_ons);
  return in;
}

/// Returns the quote, failing the test when there is none.
pricing::quote must(const caf::expected<pricing::quote>& q) {
  if (!q)
    CAF_FAIL("no quote: " << error_message(q.error()));
  return *q;
}

int64_t sum(const pricing::quote& q) {
  int64_t total = 0;
  for (auto& line : q.breakdown)
    total += line.amount_cents;
  return total;
}

std::vector<int64_t> amounts(const pricing::quote& q) {
  std::vector<int64_t> out;
  for (auto& line : q.breakdown)
    out.push_back(line.amount_cents);
  return out;
}

/// The error code of a failed quote (internal when it succeeded).
app_errc failure(const caf::expected<pricing::quote>& q) {
  return q ? app_errc::internal : app_code(q.error());
}

std::string message(const caf::expected<pricing::quote>& q) {
  return q ? std::string{} : error_message(q.error());
}

const json full_rules = {
  {"currency", "usd"},
  {"base_cents", {{"wedding", 120000}, {"corporate", 90000}, {"default", 60000}}},
  {"hourly_cents", 15000},
  {"included_hours", 0},
  {"minimum_hours", 3},
  {"weekend_multiplier", 1.15},
  {"weekend_days", {"fri", "sat"}},
  {"peak_months", {5, 6, 9, 10, 12}},
  {"peak_multiplier", 1.1},
  {"add_ons", {{"uplighting", 25000}, {"photo_booth", 45000}}},
};

} // namespace

CAF_TEST(defaults apply when the organization has no pricing rules) {
  for (auto rules : {json(), json::object()}) {
    auto q = must(pricing::get_quote(rules, input("wedding", 4, june_saturday)));
    CAF_CHECK_EQUAL(q.currency, "usd");
    // Base 600.00 + 4 h × 150.00; no multipliers by default.
    CAF_CHECK_EQUAL(amounts(q), (std::vector<int64_t>{60000, 60000}));
    CAF_CHECK_EQUAL(q.amount_cents, 120000);
    CAF_CHECK_EQUAL(q.billed_hours, 4.0);
  }
}

CAF_TEST(the base price follows the event type and unknown types take the default) {
  auto wedding = must(pricing::get_quote(full_rules, input("wedding", 4)));
  CAF_CHECK_EQUAL(wedding.breakdown.at(0).amount_cents, 120000);
  CAF_CHECK_EQUAL(wedding.breakdown.at(0).label, "Base price (wedding)");
  auto corporate = must(pricing::get_quote(full_rules, input("corporate", 4)));
  CAF_CHECK_EQUAL(corporate.breakdown.at(0).amount_cents, 90000);
  auto club = must(pricing::get_quote(full_rules, input("club", 4)));
  CAF_CHECK_EQUAL(club.breakdown.at(0).amount_cents, 60000);
  CAF_CHECK_EQUAL(club.amount_cents, 60000 + 4 * 15000);
  // No "default" entry: the built-in default base.
  auto bare = must(pricing::get_quote(json{{"base_cents", {{"wedding", 1}}}}, input("club", 4)));
  CAF_CHECK_EQUAL(bare.breakdown.at(0).amount_cents, 60000);
}

CAF_TEST(the hourly rate bills fractional hours) {
  auto q = must(pricing::get_quote(full_rules, input("club", 4.5)));
  CAF_CHECK_EQUAL(amounts(q), (std::vector<int64_t>{60000, 67500}));
  CAF_CHECK_EQUAL(q.billed_hours, 4.5);
  CAF_CHECK_EQUAL(q.breakdown.at(1).label, "4.5 h at 150.00/h");
  auto quarter = must(pricing::get_quote(json{{"minimum_hours", 0}}, input("club", 0.75)));
  CAF_CHECK_EQUAL(quarter.breakdown.at(1).amount_cents, 11250);
}

CAF_TEST(minimum hours are enforced) {
  auto q = must(pricing::get_quote(full_rules, input("club", 2)));
  CAF_CHECK_EQUAL(q.billed_hours, 3.0);
  CAF_CHECK_EQUAL(amounts(q), (std::vector<int64_t>{60000, 45000}));
  CAF_CHECK_EQUAL(q.breakdown.at(1).label, "3 h at 150.00/h (3 h minimum)");
  // At or above the minimum the asked hours are billed.
  auto more = must(pricing::get_quote(full_rules, input("club", 3.25)));
  CAF_CHECK_EQUAL(more.billed_hours, 3.25);
}

CAF_TEST(included hours are covered by the base price) {
  json rules{{"included_hours", 4}, {"minimum_hours", 4}, {"hourly_cents", 20000}};
  auto within = must(pricing::get_quote(rules, input("club", 4)));
  CAF_CHECK_EQUAL(amounts(within), (std::vector<int64_t>{60000}));
  auto beyond = must(pricing::get_quote(rules, input("club", 6)));
  CAF_CHECK_EQUAL(amounts(beyond), (std::vector<int64_t>{60000, 40000}));
  CAF_CHECK_EQUAL(beyond.breakdown.at(1).label, "2 h at 200.00/h beyond 4 h included");
}

CAF_TEST(the weekend multiplier applies on weekend days only) {
  // A January Saturday: weekend, not peak.
  auto sat = must(pricing::get_quote(full_rules, input("club", 3, "2026-01-17")));
  CAF_CHECK_EQUAL(amounts(sat), (std::vector<int64_t>{60000, 45000, 15750}));
  CAF_CHECK_EQUAL(sat.breakdown.at(2).label, "Weekend (sat) x1.15");
  auto fri = must(pricing::get_quote(full_rules, input("club", 3, "2026-01-16")));
  CAF_CHECK_EQUAL(fri.amount_cents, 105000 + 15750);
  auto wed = must(pricing::get_quote(full_rules, input("club", 3, january_wednesday)));
  CAF_CHECK_EQUAL(wed.amount_cents, 105000);
  // Other weekend days.
  auto rules = full_rules;
  rules["weekend_days"] = {"sun"};
  auto not_now = must(pricing::get_quote(rules, input("club", 3, "2026-01-16")));
  CAF_CHECK_EQUAL(not_now.amount_cents, 105000);
}

CAF_TEST(the peak multiplier applies in peak months only) {
  auto june = must(pricing::get_quote(full_rules, input("club", 3, june_wednesday)));
  CAF_CHECK_EQUAL(amounts(june), (std::vector<int64_t>{60000, 45000, 10500}));
  CAF_CHECK_EQUAL(june.breakdown.at(2).label, "Peak season (month 6) x1.1");
  auto january = must(pricing::get_quote(full_rules, input("club", 3, january_wednesday)));
  CAF_CHECK_EQUAL(january.breakdown.size(), 2u);
  // Without a date, neither multiplier applies.
  auto undated = must(pricing::get_quote(full_rules, input("club", 3)));
  CAF_CHECK_EQUAL(undated.amount_cents, 105000);
}

CAF_TEST(add ons are flat lines and never multiplied) {
  auto in = input("club", 3, june_wednesday, {"uplighting", "photo_booth"});
  auto q = must(pricing::get_quote(full_rules, in));
  CAF_CHECK_EQUAL(amounts(q), (std::vector<int64_t>{60000, 45000, 10500, 25000, 45000}));
  CAF_CHECK_EQUAL(q.breakdown.at(3).label, "Add-on: uplighting");
  CAF_CHECK_EQUAL(q.amount_cents, 185500);
}

CAF_TEST(every rule together) {
  // Wedding on a June Saturday, 2 h asked (3 h minimum), uplighting:
  // service 120000 + 45000 = 165000; weekend +24750 = 189750; peak +18975 = 208725; + 25000.
  auto q = must(pricing::get_quote(full_rules,
                                   input("wedding", 2, june_saturday, {"uplighting"})));
  CAF_CHECK_EQUAL(amounts(q), (std::vector<int64_t>{120000, 45000, 24750, 18975, 25000}));
  CAF_CHECK_EQUAL(q.amount_cents, 233725);
  CAF_CHECK_EQUAL(q.amount_cents, sum(q));
  CAF_CHECK_EQUAL(q.billed_hours, 3.0);
  auto j = pricing::to_json(q);
  CAF_CHECK_EQUAL(j["amount_cents"], 233725);
  CAF_CHECK_EQUAL(j["currency"], "usd");
  CAF_CHECK_EQUAL(j["breakdown"].size(), 5u);
  CAF_CHECK_EQUAL(j["breakdown"][4]["label"], "Add-on: uplighting");
}

CAF_TEST(multipliers and hourly amounts round half up to the cent) {
  json rules{{"base_cents", {{"default", 10}}}, {"hourly_cents", 0}, {"minimum_hours", 0},
             {"weekend_multiplier", 1.05}, {"weekend_days", {"sat"}}};
  // 10 × 0.05 = 0.5 cent → 1.
  auto half = must(pricing::get_quote(rules, input("club", 1, june_saturday)));
  CAF_CHECK_EQUAL(half.breakdown.back().amount_cents, 1);
  // 10 × 0.04 = 0.4 cent → 0.
  rules["weekend_multiplier"] = 1.04;
  auto below = must(pricing::get_quote(rules, input("club", 1, june_saturday)));
  CAF_CHECK_EQUAL(below.breakdown.back().amount_cents, 0);
  CAF_CHECK_EQUAL(below.amount_cents, sum(below));
  // 333 × 0.5 h = 166.5 → 167.
  auto hourly = must(pricing::get_quote(json{{"hourly_cents", 333}, {"minimum_hours", 0}},
                                        input("club", 0.5)));
  CAF_CHECK_EQUAL(hourly.breakdown.at(1).amount_cents, 167);
  // Both multipliers: each surcharge rounds on its own and the lines still sum to the total.
  json both{{"base_cents", {{"default", 12345}}}, {"hourly_cents", 0}, {"minimum_hours", 0},
            {"weekend_multiplier", 1.0333}, {"peak_multiplier", 1.0777}, {"peak_months", {6}}};
  auto q = must(pricing::get_quote(both, input("club", 1, june_saturday)));
  // 12345 × 0.0333 = 411.0885 → 411; 12756 × 0.0777 = 991.1412 → 991.
  CAF_CHECK_EQUAL(amounts(q), (std::vector<int64_t>{12345, 0, 411, 991}));
  CAF_CHECK_EQUAL(q.amount_cents, sum(q));
}

CAF_TEST(invalid input is a bad request naming the field) {
  for (double hours : {0.0, -1.0, 24.01, 25.0, 4.333, std::nan(""),
                       std::numeric_limits<double>::infinity()}) {
    auto q = pricing::get_quote(full_rules, input("club", hours));
    CAF_CHECK_EQUAL(failure(q), app_errc::bad_request);
    CAF_CHECK(message(q).find("hours") != std::string::npos);
  }
  CAF_CHECK(pricing::get_quote(full_rules, input("club", 24)));
  for (auto date : {"2026-02-30", "2026-13-01", "06/13/2026", "2025-02-29", "2026-6-13", "",
                    "2026-06-13T00:00:00Z", "1899-12-31"}) {
    auto q = pricing::get_quote(full_rules, input("club", 4, std::string{date}));
    CAF_CHECK_EQUAL(failure(q), app_errc::bad_request);
    CAF_CHECK(message(q).find("date") != std::string::npos);
  }
  CAF_CHECK(pricing::get_quote(full_rules, input("club", 4, std::string{"2024-02-29"})));
  auto unknown = pricing::get_quote(full_rules, input("club", 4, std::nullopt, {"fog_machine"}));
  CAF_CHECK_EQUAL(failure(unknown), app_errc::bad_request);
  CAF_CHECK_EQUAL(message(unknown), "add_ons: unknown add-on \"fog_machine\"");
  auto twice = pricing::get_quote(full_rules,
                                  input("club", 4, std::nullopt, {"uplighting", "uplighting"}));
  CAF_CHECK_EQUAL(failure(twice), app_errc::bad_request);
  auto guests = input("club", 4);
  guests.guests = -1;
  CAF_CHECK_EQUAL(failure(pricing::get_quote(full_rules, guests)), app_errc::bad_request);
  guests.guests = 250;
  CAF_CHECK(pricing::get_quote(full_rules, guests));
}

CAF_TEST(malformed rules are unprocessable and say which rule) {
  auto bad = [](const char* key, json value) {
    auto rules = full_rules;
    rules[key] = std::move(value);
    auto q = pricing::get_quote(rules, input("club", 4, june_saturday));
    CAF_CHECK_EQUAL(failure(q), app_errc::unprocessable);
    CAF_CHECK(message(q).find(std::string{"settings.pricing."} + key) != std::string::npos);
  };
  bad("hourly_cents", "150");
  bad("hourly_cents", -1);
  bad("hourly_cents", 12.5);
  bad("base_cents", {{"wedding", "lots"}});
  bad("base_cents", 5);
  bad("weekend_multiplier", 0.9);
  bad("weekend_multiplier", 11);
  bad("peak_multiplier", "1.1");
  bad("weekend_days", {"saturday"});
  bad("peak_months", {13});
  bad("minimum_hours", 30);
  bad("included_hours", -1);
  bad("currency", "USD");
  bad("add_ons", {{"fog", -5}});
  CAF_CHECK_EQUAL(failure(pricing::get_quote(json::array(), input("club", 4))),
                  app_errc::unprocessable);
}

CAF_TEST(weekday of calendar dates) {
  CAF_CHECK_EQUAL(pricing::weekday_of("1970-01-01").value_or(-1), 3);
  CAF_CHECK_EQUAL(pricing::weekday_of("2000-01-01").value_or(-1), 5);
  CAF_CHECK_EQUAL(pricing::weekday_of("2024-02-29").value_or(-1), 3);
  CAF_CHECK_EQUAL(pricing::weekday_of(june_saturday).value_or(-1), 5);
  CAF_CHECK_EQUAL(pricing::weekday_of("2026-11-29").value_or(-1), 6);
  CAF_CHECK(!pricing::weekday_of("2100-02-29"));
  CAF_CHECK(pricing::weekday_of("2000-02-29"));
}
