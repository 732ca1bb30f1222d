#include "protocols/request_settings.hpp"

#include <regex>

#include <nlohmann/json.hpp>

namespace djdash {

namespace {

using json = nlohmann::json;

// Beyond any plausible request and safely inside int64 arithmetic.
constexpr int64_t max_cents = 100'000'000;

void read_cents(const json& obj, const char* key, int64_t& out) {
  auto i = obj.find(key);
  if (i != obj.end() && i->is_number_integer() && i->get<int64_t>() >= 0
      && i->get<int64_t>() <= max_cents)
    out = i->get<int64_t>();
}

void read_count(const json& obj, const char* key, int64_t max, int64_t& out) {
  auto i = obj.find(key);
  if (i != obj.end() && i->is_number_integer() && i->get<int64_t>() >= 0
      && i->get<int64_t>() <= max)
    out = i->get<int64_t>();
}

void read_bool(const json& obj, const char* key, bool& out) {
  auto i = obj.find(key);
  if (i != obj.end() && i->is_boolean())
    out = i->get<bool>();
}

} // namespace

int64_t request_settings::minimum_cents(const std::string& kind) const {
  if (kind == "song")
    return minimum_song_cents;
  if (kind == "shoutout")
    return minimum_shoutout_cents;
  return minimum_tip_cents;
}

request_settings read_request_settings(const json& settings) {
  request_settings out;
  if (!settings.is_object())
    return out;
  read_bool(settings, "accepting_requests", out.accepting_requests);
  read_bool(settings, "charge_on_play", out.charge_on_play);
  if (auto i = settings.find("currency"); i != settings.end() && i->is_string()) {
    static const std::regex re{"^[a-z]{3}$"};
    auto c = i->get<std::string>();
    if (std::regex_match(c, re))
      out.currency = c;
  }
  if (auto i = settings.find("minimum_amounts"); i != settings.end() && i->is_object()) {
    read_cents(*i, "song", out.minimum_song_cents);
    read_cents(*i, "shoutout", out.minimum_shoutout_cents);
    read_cents(*i, "tip", out.minimum_tip_cents);
  }
  if (auto i = settings.find("priority_prices"); i != settings.end() && i->is_object()) {
    static const std::regex name{"^[a-z0-9_]{1,40}$"};
    for (auto& [tier, price] : i->items())
      if (std::regex_match(tier, name) && price.is_number_integer() && price.get<int64_t>() > 0
          && price.get<int64_t>() <= max_cents)
        out.priority_prices[tier] = price.get<int64_t>();
  }
  read_count(settings, "max_pending_per_requester", 1000, out.max_pending_per_requester);
  read_count(settings, "song_repeat_window_minutes", 7 * 24 * 60, out.song_repeat_window_minutes);
  return out;
}

json public_request_rules(const request_settings& rules) {
  auto prices = json::object();
  for (auto& [tier, price] : rules.priority_prices)
    prices[tier] = price;
  return {{"accepting_requests", rules.accepting_requests},
          {"minimum_amounts",
           {{"song", rules.minimum_song_cents},
            {"shoutout", rules.minimum_shoutout_cents},
            {"tip", rules.minimum_tip_cents}}},
          {"priority_prices", prices},
          {"currency", rules.currency}};
}

} // namespace djdash
