#pragma once

// An organization's crowd-request rules, read from `organizations.settings` (free-form JSON the
// DJ edits through PATCH /api/organizations/current). One reader with one set of defaults, so the
// public request page and the submit check can never disagree. Pure.

#include <cstdint>
#include <map>
#include <string>

#include <nlohmann/json_fwd.hpp>

namespace djdash {

struct request_settings {
  bool accepting_requests = true;
  std::string currency = "usd";
  // Minimum amount per kind in cents; 0 lets guests send that kind for free (tips never are).
  int64_t minimum_song_cents = 500;
  int64_t minimum_shoutout_cents = 500;
  int64_t minimum_tip_cents = 100;
  /// Paid priority tiers: name → extra cents on top of the minimum; a higher price plays earlier.
  std::map<std::string, int64_t> priority_prices;
  /// Requests one guest may have waiting (pending payment, queued or playing) at once.
  int64_t max_pending_per_requester = 3;
  /// The same song (title and artist, case and spaces ignored) is refused this long after it
  /// was last requested; 0 turns the check off.
  int64_t song_repeat_window_minutes = 60;
  /// Paid song requests are only authorized at checkout and captured when played.
  bool charge_on_play = true;

  /// The minimum for `kind` ("song", "shoutout", "tip").
  int64_t minimum_cents(const std::string& kind) const;
};

/// Reads the rules from an organization's settings object; a missing or malformed value falls
/// back to its default (settings are the DJ's own free-form data, never trusted to be typed).
request_settings read_request_settings(const nlohmann::json& settings);

/// What a guest's request page shows of the rules: accepting_requests, minimum_amounts,
/// priority_prices and currency.
nlohmann::json public_request_rules(const request_settings& rules);

} // namespace djdash
