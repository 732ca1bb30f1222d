#include "agents/entity_extractor.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <optional>
#include <regex>
#include <string>
#include <utility>
#include <vector>

#include <date/date.h>
#include <date/tz.h>

#include "agents/number_words.hpp"
#include "agents/text_util.hpp"
#include "agents/us_holidays.hpp"

namespace djdash::agents {

namespace {

using namespace date;
using std::regex;
using std::smatch;
using std::string;

// --- regex plumbing ------------------------------------------------------------------------------

regex rx(const string& pattern) {
  return regex(pattern, regex::ECMAScript | regex::optimize);
}

template <class F>
void each_match(const string& s, const regex& re, F&& f) {
  for (auto it = std::sregex_iterator(s.begin(), s.end(), re); it != std::sregex_iterator(); ++it)
    f(*it);
}

/// True if `re` matches somewhere in `s` (std::regex_search on a temporary-free string).
bool found(const string& s, const regex& re) {
  return std::regex_search(s, re);
}

/// The up to `n` bytes before `pos` (for "does the text just before this end with ..." checks,
/// with patterns anchored by `$`).
string before(const string& s, std::size_t pos, std::size_t n = 40) {
  auto b = pos > n ? pos - n : 0;
  return s.substr(b, pos - b);
}

/// The up to `n` bytes from `pos` on (for "does the text right after start with ..." checks,
/// with patterns anchored by `^`).
string after(const string& s, std::size_t pos, std::size_t n = 40) {
  return pos >= s.size() ? string() : s.substr(pos, n);
}

/// The part of `s` before `pos` that belongs to the same clause (back to the last . ! ? ; or
/// newline), at most `n` bytes.
string clause_before(const string& s, std::size_t pos, std::size_t n = 60) {
  auto b = before(s, pos, n);
  auto cut = b.find_last_of(".!?;\n");
  return cut == string::npos ? b : b.substr(cut + 1);
}

struct span_set {
  std::vector<std::pair<std::size_t, std::size_t>> v;
  bool overlaps(std::size_t b, std::size_t e) const {
    for (auto& [x, y] : v)
      if (b < y && x < e)
        return true;
    return false;
  }
  void add(std::size_t b, std::size_t e) { v.emplace_back(b, e); }
};

int to_int(const string& s) {
  int v = 0;
  for (char c : s) {
    if (c < '0' || c > '9')
      break;
    v = v * 10 + (c - '0');
    if (v > 1000000)
      break;
  }
  return v;
}

// --- shared vocabulary --------------------------------------------------------------------------

const string months_re =
  "(january|janurary|jan|february|febuary|feburary|feb|march|mar|april|apr|may|june|jun|july|jul|"
  "august|aug|september|sept|sep|october|oct|november|nov|december|dec)";

const string weekdays_long_re =
  "(monday|tuesday|tues|wednesday|wensday|wednsday|weds|thursday|thurs|thrusday|friday|saturday|"
  "satruday|saterday|sunday)";

const string weekdays_any_re =
  "(monday|tuesday|tues|tue|wednesday|wensday|wednsday|weds|wed|thursday|thurs|thrusday|thur|thu|"
  "friday|fri|saturday|satruday|saterday|sat|sunday|sun)";

unsigned month_of(const string& name) {
  static const char* keys[] = {"jan", "feb", "mar", "apr", "may", "jun",
                               "jul", "aug", "sep", "oct", "nov", "dec"};
  for (unsigned i = 0; i < 12; ++i)
    if (name.compare(0, 3, keys[i]) == 0)
      return i + 1;
  return 0;
}

/// 0 = Sunday ... 6 = Saturday (date::weekday encoding), 7 if unknown.
unsigned weekday_of(const string& name) {
  if (name.compare(0, 3, "sun") == 0) return 0;
  if (name.compare(0, 3, "mon") == 0) return 1;
  if (name.compare(0, 2, "tu") == 0) return 2;
  if (name.compare(0, 2, "we") == 0) return 3;
  if (name.compare(0, 2, "th") == 0) return 4;
  if (name.compare(0, 3, "fri") == 0) return 5;
  if (name.compare(0, 3, "sat") == 0) return 6;
  return 7;
}

const string guest_nouns_re =
  "(?:guests?|people|ppl|peeps|persons?|personas|invitados|pax|attendees|adults|heads|folks|"
  "invitees|rsvps?|kids|children|students|teens|teenagers|employees|staff|members|ppls|"
  "classmates|girls|guys|boys|ladies|women|men|friends|coworkers|colleagues|graduates|grads)";

// --- the text in its three forms ----------------------------------------------------------------

struct message {
  string orig;  // as received (truncated), for venue / name / email "as written"
  string lower; // orig with ASCII letters lower-cased: same byte offsets as orig
  string norm;  // folded, lower-case, numbers in words replaced by digits
  year_month_day today;
  bool all_caps = false; // no lower-case letter at all: capitalisation carries no signal
};

// --- date ---------------------------------------------------------------------------------------

struct date_result {
  std::vector<year_month_day> dates; // every day the message names as the event day
  bool ambiguous = false;            // a range, two alternatives, "the weekend of", ...
  // "valentine's day party": the holiday may only be the theme; it counts when nothing else
  // names the day ("valentines party saturday night" is on the Saturday).
  std::optional<year_month_day> theme_day;
};

std::optional<year_month_day> next_month_day(const year_month_day& today, unsigned m, unsigned d) {
  for (int k = 0; k <= 8; ++k) {
    year_month_day c{today.year() + years{k}, month{m}, day{d}};
    if (c.ok() && sys_days{c} >= sys_days{today})
      return c;
  }
  return std::nullopt;
}

std::optional<year_month_day> next_day_of_month(const year_month_day& today, unsigned d) {
  if (d < 1 || d > 31)
    return std::nullopt;
  auto ym = today.year() / today.month();
  for (int k = 0; k < 13; ++k) {
    auto cand = ym + months{k};
    year_month_day c{cand.year(), cand.month(), day{d}};
    if (c.ok() && sys_days{c} >= sys_days{today})
      return c;
  }
  return std::nullopt;
}

std::optional<year_month_day> with_year(unsigned m, unsigned d, const string& y) {
  int yy = to_int(y);
  if (y.size() == 2)
    yy += 2000;
  year_month_day c{year{yy}, month{m}, day{d}};
  if (!c.ok())
    return std::nullopt;
  return c;
}

/// Text right after a date that makes it one end of a range or one of two alternatives:
/// "june 14 or 15", "the 14th-15th", "june 14 and 21".
bool followed_by_alternative(const message& m, std::size_t end) {
  static const regex re = rx(
    "^\\s*(?:(?:or|/|-|to|thru|through|and|&)\\s*(?:the\\s+)?\\d{1,2}(?:st|nd|rd|th)?|,\\s*(?:the\\s+)?"
    "\\d{1,2}(?:st|nd|rd|th))(?![\\d:])"
    "(?!\\s*(?:am|pm|a\\.m|p\\.m|[ap]\\b|hours?|hrs?|guests|people|ppl|o'?clock|min|to\\b|til|-|:))");
  return found(after(m.norm, end), re);
}

/// Text right before a date that means it is not itself the event day.
bool preceded_by_vague(const message& m, std::size_t begin) {
  static const regex re = rx(
    "\\b(?:weekend|week|wknd|after|before|since|until|till|til|around|near|between)\\s+"
    "(?:of\\s+)?(?:the\\s+)?$");
  return found(before(m.norm, begin), re);
}

/// Text right before a date that rules that day out ("not june 14", "last year on june 14").
bool preceded_by_negation(const message& m, std::size_t begin) {
  static const regex re = rx(
    "\\b(?:not|except|besides|other than|instead of|last year|last|past|happy|merry)\\s+(?:on\\s+)?"
    "(?:the\\s+)?$");
  return found(before(m.norm, begin), re);
}

/// "the friday before memorial day" / "saturday after thanksgiving": moves `d` to that weekday.
/// Returns the shifted day and the start of the qualifier, or nullopt when there is none.
std::optional<std::pair<year_month_day, std::size_t>>
weekday_qualifier(const message& m, std::size_t begin, year_month_day d) {
  static const regex re =
    rx("\\b(day|" + weekdays_long_re.substr(1, weekdays_long_re.size() - 2) +
       ")\\s+(before|after)\\s+(?:the\\s+)?$");
  auto b = before(m.norm, begin);
  smatch sm;
  if (!std::regex_search(b, sm, re))
    return std::nullopt;
  auto step = sm[2].str() == "before" ? days{-1} : days{1};
  sys_days x{d};
  if (sm[1].str() == "day") {
    x += step; // "the day after christmas"
  } else {
    unsigned wd = weekday_of(sm[1].str());
    if (wd > 6)
      return std::nullopt;
    do {
      x += step;
    } while (weekday{x}.c_encoding() != wd);
  }
  return std::make_pair(year_month_day{x}, begin - (b.size() - sm.position(0)));
}

struct holiday_rule {
  string pattern;
  const char* key;
  int offset_days;
  bool theme_word; // "christmas party" / "halloween party" name a theme, not the day
};

const std::vector<std::pair<regex, holiday_rule>>& holiday_rules() {
  static const auto rules = [] {
    std::vector<holiday_rule> r = {
      {"(?:the\\s+)?(?:day|friday)\\s+after\\s+thanksgiving|black\\s+friday", "thanksgiving", 1,
       false},
      {"(?:the\\s+)?saturday\\s+after\\s+thanksgiving", "thanksgiving", 2, false},
      {"(?:the\\s+)?sunday\\s+after\\s+thanksgiving", "thanksgiving", 3, false},
      {"(?:the\\s+)?day\\s+before\\s+thanksgiving|thanksgiving\\s+eve", "thanksgiving", -1, false},
      {"thanks?giving(?:\\s+day)?", "thanksgiving", 0, false},
      {"(?:christmas|xmas|x-mas)\\s*eve", "christmas_eve", 0, false},
      {"(?:christmas|xmas|x-mas)(?:\\s+day)?", "christmas", 0, true},
      {"new\\s*years?'?s?\\s*eve|\\bnye", "new_years_eve", 0, false},
      {"new\\s*years?'?s?\\s*day", "new_years_day", 0, false},
      {"(?:4th|fourth)\\s+of\\s+july|independence\\s+day", "independence_day", 0, false},
      {"memorial\\s+day", "memorial_day", 0, false},
      {"labou?r\\s+day", "labor_day", 0, false},
      {"good\\s+friday", "good_friday", 0, false},
      {"easter(?:\\s+sunday)?", "easter", 0, true},
      {"father'?s?'?\\s+day", "fathers_day", 0, false},
      {"mother'?s?'?\\s+day", "mothers_day", 0, false},
      {"hall?oween", "halloween", 0, true},
      {"valentine'?s?'?(?:\\s+day)?", "valentines_day", 0, false},
      {"(?:mlk|martin\\s+luther\\s+king(?:\\s+jr\\.?)?)(?:\\s+jr\\.?)?\\s+day|mlk", "mlk_day", 0,
       false},
      {"presidents?'?\\s+day", "presidents_day", 0, false},
      {"columbus\\s+day|indigenous\\s+peoples?'?\\s+day", "columbus_day", 0, false},
      {"veterans?'?\\s+day", "veterans_day", 0, false},
      {"juneteenth", "juneteenth", 0, false},
      {"cinco\\s+de\\s+mayo", "cinco_de_mayo", 0, false},
      {"(?:st\\.?|saint)\\s+(?:patrick|patty|paddy)'?s?\\s+day|st\\.?\\s+(?:patty|paddy)'?s",
       "st_patricks_day", 0, true},
    };
    std::vector<std::pair<regex, holiday_rule>> out;
    for (auto& h : r)
      out.emplace_back(rx("\\b(?:" + h.pattern + ")\\b(?:\\s*,?\\s*(\\d{4})\\b)?"), h);
    return out;
  }();
  return rules;
}

date_result find_dates(const message& m) {
  date_result res;
  span_set used;
  const auto& s = m.norm;
  const auto& today = m.today;

  auto add = [&](std::size_t b, std::size_t e, std::optional<year_month_day> d, bool check_alt) {
    used.add(b, e);
    if (!d)
      return;
    if (auto q = weekday_qualifier(m, b, *d)) {
      used.add(q->second, b);
      d = q->first;
    } else if (preceded_by_negation(m, b)) {
      return;
    } else if (preceded_by_vague(m, b)) {
      res.ambiguous = true;
      return;
    }
    if (check_alt && followed_by_alternative(m, e))
      res.ambiguous = true;
    static const regex weekend_next = rx("^\\s*(?:weekend|wknd)\\b");
    if (found(after(s, e, 12), weekend_next)) {
      res.ambiguous = true; // "the 4th of july weekend"
      return;
    }
    res.dates.push_back(*d);
  };

  // "the second saturday in may", "last friday of october"
  static const regex nth_weekday =
    rx("\\b(1st|2nd|3rd|4th|5th|last)\\s+" + weekdays_long_re + "\\s+(?:in|of)\\s+" + months_re +
       "\\b(?:\\s*,?\\s*(\\d{4})\\b)?");
  each_match(s, nth_weekday, [&](const smatch& x) {
    auto b = static_cast<std::size_t>(x.position(0));
    auto e = b + static_cast<std::size_t>(x.length(0));
    unsigned wd = weekday_of(x[2]), mo = month_of(x[3]);
    if (wd > 6 || mo == 0)
      return;
    auto on = [&](year y) -> std::optional<year_month_day> {
      weekday w{wd};
      year_month_day r;
      if (x[1].str() == "last")
        r = year_month_day{sys_days{year_month_weekday_last{y, month{mo}, weekday_last{w}}}};
      else {
        year_month_weekday ymw{y, month{mo}, w[static_cast<unsigned>(x[1].str()[0] - '0')]};
        if (!ymw.ok())
          return std::nullopt;
        r = year_month_day{sys_days{ymw}};
      }
      return r;
    };
    std::optional<year_month_day> c;
    if (x[4].matched)
      c = on(year{to_int(x[4])});
    else {
      c = on(today.year());
      if (!c || sys_days{*c} < sys_days{today})
        c = on(today.year() + years{1});
    }
    add(b, e, c, false);
  });

  // 2027-06-14
  static const regex iso = rx("\\b(\\d{4})-(\\d{1,2})-(\\d{1,2})\\b");
  each_match(s, iso, [&](const smatch& x) {
    auto b = static_cast<std::size_t>(x.position(0));
    year_month_day c{year{to_int(x[1])}, month{static_cast<unsigned>(to_int(x[2]))},
                     day{static_cast<unsigned>(to_int(x[3]))}};
    add(b, b + x.length(0), c.ok() ? std::optional<year_month_day>(c) : std::nullopt, false);
  });

  // 6/14, 6/14/27, 06-14-2027. Not fractions ("1 1/2 hours") nor "24/7".
  static const regex numeric =
    rx("(^|[^\\d/$.:,-])(\\d{1,2})([/.-])(\\d{1,2})(?:\\3(\\d{4}|\\d{2}))?(?![\\d/-]|\\.\\d)");
  static const regex fraction_unit = rx("^\\s*(?:hours?|hrs?|hr|h\\b|mins?|of|price|off)");
  static const regex mixed_number = rx("\\d\\s+$");
  each_match(s, numeric, [&](const smatch& x) {
    auto b = static_cast<std::size_t>(x.position(2));
    auto e = static_cast<std::size_t>(x.position(0) + x.length(0));
    if (used.overlaps(b, e))
      return;
    if (x[3].str() != "/" && !x[5].matched)
      return; // "7-11" is a time range and "2.5" a number, not dates
    if (found(after(s, e), fraction_unit) || found(before(s, b), mixed_number))
      return;
    unsigned mo = static_cast<unsigned>(to_int(x[2])), d = static_cast<unsigned>(to_int(x[4]));
    if (mo < 1 || mo > 12 || d < 1 || d > 31)
      return;
    auto c = x[5].matched ? with_year(mo, d, x[5]) : next_month_day(today, mo, d);
    add(b, e, c, true);
  });

  // June 14th, jun 14, june 14 2027, june the 14th
  static const regex month_day =
    rx("\\b" + months_re +
       "\\.?\\s*(?:the\\s+)?(\\d{1,2})(?:st|nd|rd|th)?(?![\\d:])(?:\\s*,?\\s*(\\d{4})\\b)?");
  static const regex not_a_day =
    rx("^\\s*(?:people|guests|ppl|kids|adults|persons|hours?|hrs?|min|minutes|am|pm|a\\.m|p\\.m|"
       "years?|yrs?|y/o|yo\\b|%|k\\b|-\\s*\\d{1,2}\\s*(?:am|pm))");
  each_match(s, month_day, [&](const smatch& x) {
    auto b = static_cast<std::size_t>(x.position(0));
    auto e = b + static_cast<std::size_t>(x.length(0));
    if (used.overlaps(b, e))
      return;
    auto day_end = static_cast<std::size_t>(x.position(2) + x.length(2));
    if (found(after(s, day_end), not_a_day) && !x[3].matched)
      return;
    unsigned mo = month_of(x[1]), d = static_cast<unsigned>(to_int(x[2]));
    auto c = x[3].matched ? with_year(mo, d, x[3]) : next_month_day(today, mo, d);
    add(b, e, c, true);
  });

  // 14 June, 14th of june
  static const regex day_month =
    rx("\\b(\\d{1,2})(?:st|nd|rd|th)?\\s+(?:of\\s+)?" + months_re +
       "\\b\\.?(?:\\s*,?\\s*(\\d{4})\\b)?");
  each_match(s, day_month, [&](const smatch& x) {
    auto b = static_cast<std::size_t>(x.position(0));
    auto e = b + static_cast<std::size_t>(x.length(0));
    if (used.overlaps(b, e) || (b > 0 && s[b - 1] == '$'))
      return;
    unsigned mo = month_of(x[2]), d = static_cast<unsigned>(to_int(x[1]));
    auto c = x[3].matched ? with_year(mo, d, x[3]) : next_month_day(today, mo, d);
    add(b, e, c, false);
  });

  // Holidays.
  static const regex weekend_after = rx("^\\s*(?:weekend|wknd|week)\\b");
  static const regex theme_after =
    rx("^\\s*(?:party|parties|bash|theme|themed|celebration|costume|gala|ball|dance|formal|"
       "social|mixer|bar crawl|pub crawl|event)\\b");
  for (const auto& [re, h] : holiday_rules()) {
    each_match(s, re, [&](const smatch& x) {
      auto b = static_cast<std::size_t>(x.position(0));
      auto e = b + static_cast<std::size_t>(x.length(0));
      if (used.overlaps(b, e))
        return;
      if (found(after(s, e), weekend_after)) {
        used.add(b, e);
        res.ambiguous = true;
        return;
      }
      if (h.theme_word && found(after(s, e), theme_after)) {
        used.add(b, e);
        return;
      }
      bool theme = found(after(s, e), theme_after);
      std::optional<year_month_day> c;
      auto resolve = [&](year y) -> std::optional<year_month_day> {
        auto base = us_holiday(h.key, y);
        if (!base)
          return std::nullopt;
        return year_month_day{sys_days{*base} + days{h.offset_days}};
      };
      if (x[1].matched) {
        c = resolve(year{to_int(x[1])});
      } else {
        c = resolve(today.year());
        if (c && sys_days{*c} < sys_days{today})
          c = resolve(today.year() + years{1});
      }
      if (theme && !x[1].matched) {
        used.add(b, e);
        if (c && !res.theme_day)
          res.theme_day = c;
        return;
      }
      add(b, e, c, false);
    });
  }

  // the 14th, on the 21st, saturday the 14th. Only where a day-of-month fits: "the 1st dance"
  // and "the 50th anniversary" are not dates.
  static const regex ordinal =
    rx("\\b(?:the|on|for|" + weekdays_any_re + ")\\s+(\\d{1,2})(st|nd|rd|th)\\b");
  static const regex date_follow =
    rx("^\\s*(?:$|[.,!?;:)\\-]|(?:at|for|or|and|is|works?|if|please|pls|would|could|possible|"
       "available|avail|still|open|free|we|i|from|in|to|this|next|thru|through|until|til|till|"
       "night|evening|afternoon|morning|party|wedding|event|gig|starting|start|ok|okay)\\b|"
       "of\\s+(?:this|next)\\s+month)");
  each_match(s, ordinal, [&](const smatch& x) {
    auto b = static_cast<std::size_t>(x.position(2));
    auto e = static_cast<std::size_t>(x.position(3) + x.length(3));
    if (used.overlaps(b, e) || !found(after(s, e), date_follow))
      return;
    add(b, e, next_day_of_month(today, static_cast<unsigned>(to_int(x[2]))), true);
  });

  if (!res.dates.empty() || res.ambiguous) {
    res.theme_day.reset();
    return res;
  }

  // Softer mentions only count when the message names no calendar day.
  // Weekdays: "friday", "this friday", "next sunday", "sat night".
  static const regex wd_re =
    rx("\\b(this\\s+coming\\s+|this\\s+|next\\s+|coming\\s+|on\\s+|last\\s+|every\\s+|any\\s+|"
       "some\\s+|a\\s+)?" + weekdays_any_re + "\\b(\\s+(?:nights?|nites?|evenings?|afternoons?|mornings?)\\b)?");
  static const regex next_week_after = rx("^\\s*(?:of\\s+)?next\\s+week\\b");
  each_match(s, wd_re, [&](const smatch& x) {
    auto b = static_cast<std::size_t>(x.position(0));
    auto e = b + static_cast<std::size_t>(x.length(0));
    if (used.overlaps(b, e))
      return;
    string prefix = x[1].matched ? x[1].str() : string();
    prefix.erase(std::remove(prefix.begin(), prefix.end(), ' '), prefix.end());
    string name = x[2];
    bool long_form = name.size() > 4 || name == "tues" || name == "weds";
    if (!long_form && prefix.empty() && !x[3].matched)
      return; // "sat", "sun", "wed" alone are ordinary words
    used.add(b, e);
    if (x[3].matched && x[3].str().back() == 's')
      return; // "saturday nights": a habit, not a day
    if (prefix == "last" || prefix == "every" || prefix == "any" || prefix == "some"
        || prefix == "a")
      return;
    unsigned wd = weekday_of(name);
    if (wd > 6)
      return;
    auto today_wd = weekday{sys_days{today}}.c_encoding();
    unsigned ahead = (wd + 7 - today_wd) % 7;
    if (found(after(s, e), next_week_after)) {
      // "saturday next week": the weekday in the following Monday-to-Sunday week.
      unsigned to_monday = (8 - today_wd) % 7;
      if (to_monday == 0)
        to_monday = 7;
      unsigned from_monday = (wd + 6) % 7;
      res.dates.push_back(year_month_day{sys_days{today} + days{to_monday + from_monday}});
      return;
    }
    if (prefix == "next") {
      // Said the day before or on that weekday, "next X" can only mean a week out; said earlier
      // in the week it may mean this one or the one after (AGENTS.md: leave it out).
      if (ahead == 0)
        ahead = 7;
      else if (ahead == 1)
        ahead = 8;
      else {
        res.ambiguous = true;
        return;
      }
    }
    res.dates.push_back(year_month_day{sys_days{today} + days{ahead}});
  });

  // today / tonight / tomorrow; not when it is about something else happening then ("i'll send
  // the deposit tomorrow", "call me today").
  static const regex rel = rx(
    "\\b(?:(day\\s+after\\s+(?:tomorrow|tmrw|tmr|tomorow))|(tomorrow|tmrw|tmrow|tmr|2morrow|2moro|"
    "tomorow|tommorow|tommorrow|tomorrw)|(today|tonight|tonite|2nite|2night|this\\s+evening|"
    "this\\s+afternoon))\\b");
  static const regex other_action = rx(
    "\\b(?:send|sent|sending|pay|paid|paying|sign|signed|call|calling|text|texting|email|emailing|"
    "mail|mailed|reply|respond|talk|speak|decide|deciding|confirm|know|hear|heard|review|look|"
    "check|get back|got|received|submit|submitted|venmo|zelle|transfer|deposit|drop off)\\b");
  each_match(s, rel, [&](const smatch& x) {
    auto b = static_cast<std::size_t>(x.position(0));
    auto e = b + static_cast<std::size_t>(x.length(0));
    if (used.overlaps(b, e))
      return;
    used.add(b, e);
    if (found(clause_before(s, b, 40), other_action))
      return;
    int plus = x[1].matched ? 2 : x[2].matched ? 1 : 0;
    res.dates.push_back(year_month_day{sys_days{today} + days{plus}});
  });
  if (res.dates.empty() && !res.ambiguous && res.theme_day)
    res.dates.push_back(*res.theme_day);
  return res;
}

// --- time and hours -----------------------------------------------------------------------------

struct clock_time {
  int h = -1;       // as written
  int min = 0;
  char mer = 0;     // 'a', 'p' or 0
  int special = 0;  // 1 noon, 2 midnight
};

const string time_token_re =
  "(noon|midnight|midday|([01]?\\d|2[0-4])(?::([0-5]\\d))?(?:\\s*(a\\.?m\\b\\.?|p\\.?m\\b\\.?)|([ap])\\b)?)";

clock_time parse_token(const smatch& x, int base) {
  clock_time t;
  string whole = x[base];
  if (whole == "noon" || whole == "midday") {
    t.h = 12;
    t.special = 1;
    return t;
  }
  if (whole == "midnight") {
    t.h = 0;
    t.special = 2;
    return t;
  }
  t.h = to_int(x[base + 1]);
  t.min = x[base + 2].matched ? to_int(x[base + 2]) : 0;
  if (x[base + 3].matched)
    t.mer = x[base + 3].str()[0];
  else if (x[base + 4].matched)
    t.mer = x[base + 4].str()[0];
  return t;
}

/// Minutes after midnight for a time with a meridiem.
int with_meridiem(int h, int min, char mer) {
  return ((h % 12) + (mer == 'p' ? 12 : 0)) * 60 + min;
}

/// Minutes after midnight for a start time as written; a bare 1-11 is pm unless `morning`.
std::optional<int> start_minutes(const clock_time& t, bool morning) {
  if (t.special == 1)
    return 12 * 60;
  if (t.special == 2)
    return 0;
  if (t.h < 0 || t.h > 23 || (t.mer && (t.h < 1 || t.h > 12)))
    return std::nullopt;
  if (t.mer)
    return with_meridiem(t.h, t.min, t.mer);
  if (t.h == 0 || t.h >= 13 || t.h == 12)
    return t.h * 60 + t.min;
  return (morning ? t.h : t.h + 12) * 60 + t.min;
}

struct time_range {
  int start = 0; // minutes after midnight
  int length = 0; // minutes
};

std::optional<time_range> resolve_range(clock_time a, clock_time b, bool morning) {
  if ((a.mer && (a.h < 1 || a.h > 12)) || (b.mer && (b.h < 1 || b.h > 12)) || a.h > 23 || b.h > 23)
    return std::nullopt;
  int s = 0, e = 0;
  if (a.special || (a.mer && (b.mer || b.special))) {
    auto sm = start_minutes(a, morning);
    if (!sm)
      return std::nullopt;
    s = *sm;
  } else if (!a.mer && b.mer) {
    // "7-11pm": the start shares the end's meridiem unless that would put it after the end
    // ("11-2am" starts at 11 pm).
    char mer = b.mer;
    if ((a.h % 12) * 60 + a.min > (b.h % 12) * 60 + b.min)
      mer = mer == 'p' ? 'a' : 'p';
    s = with_meridiem(a.h, a.min, mer);
  } else {
    auto sm = start_minutes(a, morning);
    if (!sm)
      return std::nullopt;
    s = *sm;
  }
  if (b.special == 1)
    e = 12 * 60;
  else if (b.special == 2)
    e = 24 * 60;
  else if (b.mer)
    e = with_meridiem(b.h, b.min, b.mer);
  else if (b.h >= 13 || b.h == 0)
    e = b.h * 60 + b.min;
  else {
    // Bare end: the first reading after the start.
    int e1 = (b.h % 12) * 60 + b.min;
    e = e1;
    while (e <= s)
      e += 12 * 60;
  }
  int len = ((e - s) % 1440 + 1440) % 1440;
  if (len == 0 || len > 16 * 60)
    return std::nullopt;
  return time_range{s % 1440, len};
}

struct time_hours {
  std::optional<int> start;         // minutes after midnight
  std::optional<double> range_hours;
};

time_hours find_times(const message& m) {
  time_hours out;
  const auto& s = m.norm;
  static const regex morning_re =
    rx("\\b(?:morning|brunch|breakfast|sunrise|mimosas?)\\b|\\b(?:[5-9]|1[01])(?::\\d\\d)?\\s*a\\.?m\\b");
  // "good morning!" is a greeting, not the time of the event.
  static const regex greeting = rx("\\bgood\\s+morning\\b");
  bool morning = found(std::regex_replace(s, greeting, " "), morning_re);
  span_set used;
  // "move the start to 8", "cancel the 7pm start and do 8": the later time replaces the earlier.
  static const regex change_re =
    rx("\\b(?:move|moved|moving|push|pushed|pushing|change|changed|changing|switch|switched|"
       "bump|bumped|instead|cancel|make it|rather|shift|shifted)\\b");

  // Single times. A time introduced by until / end is an end time; setup / arrival times are
  // neither.
  struct single {
    std::size_t pos;
    clock_time t;
    int minutes;
    bool ceremony;
    bool change;
  };
  std::vector<single> singles, ends;

  // Ranges: "6pm to midnight", "7-11", "from 7:30 until 11:30pm", "between 6 and 10".
  static const regex range_re =
    rx("(?:\\b(between)\\s+)?\\b" + time_token_re +
       "\\s*(?:-+|to|till?|until|'til|thru|through|and)\\s*\\b" + time_token_re + "(?!\\d)");
  static const regex range_bad_after =
    rx("^\\s*(?:hours?|hrs?|hr\\b|h\\b|guests|people|ppl|kids|adults|years?|yrs?|yo\\b|y/o|"
       "min|minutes|%|k\\b|/|-|st\\b|nd\\b|rd\\b|th\\b|persons|dollars|bucks|grade)");
  static const regex range_bad_before =
    rx("(?:[\\d$/.:-]|\\b(?:ages?|aged|grades?|" + months_re.substr(1, months_re.size() - 2) +
       ")\\.?\\s*)$");
  each_match(s, range_re, [&](const smatch& x) {
    auto b = static_cast<std::size_t>(x.position(0));
    auto e = b + static_cast<std::size_t>(x.length(0));
    string joiner = s.substr(static_cast<std::size_t>(x.position(2) + x.length(2)),
                             static_cast<std::size_t>(x.position(7) - x.position(2) - x.length(2)));
    bool is_and = joiner.find("and") != string::npos;
    if (is_and != x[1].matched)
      return; // "and" joins a range only after "between"
    auto a = parse_token(x, 2), z = parse_token(x, 7);
    // A bare number pair needs to look like clock hours.
    if (!a.special && !a.mer && !x[4].matched && a.h > 12)
      return;
    if (!z.special && !z.mer && !x[9].matched && z.h > 12)
      return;
    if (found(after(s, e), range_bad_after) || found(before(s, static_cast<std::size_t>(x.position(2))), range_bad_before))
      return;
    auto r = resolve_range(a, z, morning);
    if (!r)
      return;
    used.add(b, e);
    if (!is_and && found(clause_before(s, b, 40), change_re)) {
      // "move it from 7 to 8": a new start time, not a range.
      if (auto mins = start_minutes(z, morning))
        singles.push_back({static_cast<std::size_t>(x.position(7)), z, *mins, false, true});
      return;
    }
    if (!out.start) {
      out.start = r->start;
      out.range_hours = r->length / 60.0;
    }
  });

  static const regex end_before = rx(
    "\\b(?:until|till|til|end|ends|ending|done|finish|finished|finishes|wrap|wraps|wrapping|"
    "over|stop|stops|cut off|cutoff|out by)\\b(?:\\s+\\w+){0,2}\\s*$");
  static const regex not_start = rx(
    "\\b(?:out|by|setup|set up|set-up|arrive|arrival|load in|load-in|doors|curfew|leave|"
    "last call|before|after)\\b(?:\\s+\\w+){0,2}\\s*$");
  static const regex ceremony_before =
    rx("\\b(?:ceremony|dinner|cocktails?|cocktail hour|church|mass|photos)\\b(?:\\s+\\w+){0,3}\\s*$");
  auto consider = [&](std::size_t b, std::size_t e, const clock_time& t) {
    if (used.overlaps(b, e))
      return;
    used.add(b, e);
    auto cl = clause_before(s, b, 40);
    if (found(cl, end_before)) {
      ends.push_back({b, t, 0, false, false});
      return;
    }
    if (found(cl, not_start))
      return;
    auto mins = start_minutes(t, morning);
    if (!mins)
      return;
    auto wide = clause_before(s, b, 60);
    singles.push_back({b, t, *mins, found(cl, ceremony_before), found(wide, change_re)});
  };

  static const regex with_mer = rx(
    "\\b(\\d{1,2})(?::([0-5]\\d))?(?:\\s*(a|p)\\.?m\\b\\.?|([ap])\\b)|\\b(\\d{1,2})([0-5]\\d)\\s*(a|p)\\.?m\\b");
  each_match(s, with_mer, [&](const smatch& x) {
    auto b = static_cast<std::size_t>(x.position(0));
    auto e = b + static_cast<std::size_t>(x.length(0));
    if (b > 0 && (s[b - 1] == '$' || s[b - 1] == '/'))
      return;
    clock_time t;
    if (x[5].matched) {
      t.h = to_int(x[5]);
      t.min = to_int(x[6]);
      t.mer = x[7].str()[0];
    } else {
      t.h = to_int(x[1]);
      t.min = x[2].matched ? to_int(x[2]) : 0;
      t.mer = x[3].matched ? x[3].str()[0] : x[4].str()[0];
    }
    if (t.h < 1 || t.h > 12)
      return;
    consider(b, e, t);
  });
  static const regex colon = rx("\\b([01]?\\d|2[0-3]):([0-5]\\d)\\b");
  each_match(s, colon, [&](const smatch& x) {
    auto b = static_cast<std::size_t>(x.position(0));
    clock_time t;
    t.h = to_int(x[1]);
    t.min = to_int(x[2]);
    consider(b, b + static_cast<std::size_t>(x.length(0)), t);
  });
  static const regex noon = rx("\\b(?:12\\s*)?(noon|midday|midnight)\\b");
  each_match(s, noon, [&](const smatch& x) {
    auto b = static_cast<std::size_t>(x.position(0));
    clock_time t;
    t.h = x[1].str() == "midnight" ? 0 : 12;
    t.special = x[1].str() == "midnight" ? 2 : 1;
    consider(b, b + static_cast<std::size_t>(x.length(0)), t);
  });
  // Bare hours after a start cue: "at 7", "@8", "starts around 9", "7 o'clock".
  static const regex cued = rx(
    "(?:@\\s*|\\b(?:at|around|from|start(?:s|ing)?(?:\\s+at)?|begin(?:s|ning)?(?:\\s+at)?|"
    "kick(?:s|ing)?\\s+off(?:\\s+at)?|going\\s+at)\\s+(?:about\\s+|around\\s+|approx\\s+|~\\s*)?)"
    "(\\d{1,2})(\\s*o'?\\s*clock)?\\b(?![:/\\d.,]|\\s*(?:st|nd|rd|th|guests?|people|ppl|hours?|hrs?|"
    "min|minutes|kids|adults|persons|%|k\\b|dollars|bucks|years?|yrs?|am|pm|a\\.m|p\\.m|[ap]\\b|"
    "-|to\\b|of\\b|" + months_re.substr(1, months_re.size() - 2) + "))"
    "|\\b(\\d{1,2})\\s*o'?\\s*clock\\b");
  // "push the start to 7", "cancel the 7pm start and do 8": only where the clause ends there.
  static const regex to_do = rx(
    "\\b(?:to|do)\\s+(\\d{1,2})(?:\\s*o'?\\s*clock)?\\b(?=\\s*(?:$|[.,!?;)]|instead\\b|then\\b|"
    "please\\b|pls\\b|and\\b|start\\b|ok\\b|okay\\b))");
  each_match(s, to_do, [&](const smatch& x) {
    auto b = static_cast<std::size_t>(x.position(1));
    auto e = static_cast<std::size_t>(x.position(0) + x.length(0));
    if (b > 0 && s[b - 1] == '$')
      return;
    clock_time t;
    t.h = to_int(x[1]);
    if (t.h > 23)
      return;
    consider(b, e, t);
  });
  each_match(s, cued, [&](const smatch& x) {
    auto num = x[1].matched ? 1 : 3;
    auto b = static_cast<std::size_t>(x.position(num));
    auto e = static_cast<std::size_t>(x.position(0) + x.length(0));
    if (b > 0 && s[b - 1] == '$')
      return;
    clock_time t;
    t.h = to_int(x[num]);
    if (t.h > 23)
      return;
    consider(b, e, t);
  });

  auto by_pos = [](const single& a, const single& b) { return a.pos < b.pos; };
  std::sort(singles.begin(), singles.end(), by_pos);
  std::sort(ends.begin(), ends.end(), by_pos);
  auto last_change = std::find_if(singles.rbegin(), singles.rend(),
                                  [](const single& x) { return x.change; });
  if (last_change != singles.rend()) {
    out.start = last_change->minutes;
    out.range_hours.reset();
    return out;
  }
  if (out.start || singles.empty())
    return out;
  auto it = std::find_if(singles.begin(), singles.end(), [](const single& x) { return !x.ceremony; });
  const auto& chosen = it != singles.end() ? *it : singles.front();
  out.start = chosen.minutes;
  // "6:30 pm start, done by 10:30": a start and an end make a length.
  auto end = std::find_if(ends.begin(), ends.end(),
                          [&](const single& x) { return x.pos > chosen.pos; });
  if (end != ends.end()) {
    int s0 = chosen.minutes, e = 0;
    const auto& t = end->t;
    if (t.special == 2)
      e = 24 * 60;
    else if (t.special == 1)
      e = 12 * 60;
    else if (t.mer)
      e = with_meridiem(t.h, t.min, t.mer);
    else if (t.h >= 13 || t.h == 0)
      e = t.h * 60 + t.min;
    else
      for (e = (t.h % 12) * 60 + t.min; e <= s0;)
        e += 12 * 60;
    int len = ((e - s0) % 1440 + 1440) % 1440;
    if (len > 0 && len <= 16 * 60)
      out.range_hours = len / 60.0;
  }
  return out;
}

/// Hours of DJ service stated as a duration; nullopt when none (or only an ambiguous one).
std::optional<double> find_duration(const message& m) {
  const auto& s = m.norm;
  struct cand {
    std::size_t pos;
    double hours;
    bool ambiguous;
  };
  std::vector<cand> cands;
  span_set used;
  static const regex bad_after = rx(
    "^\\s*(?:-\\s*)?(?:long\\s+)?(?:drive|driving|away|flight|ride|trip|commute|from|north|south|"
    "east|west|outside|ago|before|after|early|earlier|late|later|notice|in advance|prior|setup|"
    "set up|set-up|to set up|for set ?up|of (?:setup|set up|travel|driving|drive)|ceremony|"
    "cocktail|break|wait|delay|each way|round trip|travel|rate|minimum|min\\b|max|window|"
    "turnaround|response|lead time|nap|lunch)");
  static const regex bad_before = rx(
    "(?:\\b(?:drive|driving|ride|flight|setup|set up|set-up|ceremony|cocktail hour|cocktails|"
    "dinner|break|commute|travel|load in|load-in|within|in|every|per|after|extra|additional|"
    "another|more|overtime|add|adding)|\\$\\s*\\d[\\d,.]*\\s*(?:an|a|per|/)?|\\d\\s*(?:an|a|per|/))"
    "\\s*(?:is|of|takes|will be|lasts|about|around|~|like|maybe|approx|approximately|roughly|only|"
    "just|is about|is around|an?)?\\s*$");
  auto add = [&](const smatch& x, double h, bool ambiguous) {
    auto b = static_cast<std::size_t>(x.position(0));
    auto e = b + static_cast<std::size_t>(x.length(0));
    if (used.overlaps(b, e))
      return;
    used.add(b, e);
    if (found(after(s, e), bad_after) || found(before(s, b), bad_before))
      return;
    if (!ambiguous && (h <= 0 || h > 16))
      return;
    cands.push_back({b, h, ambiguous});
  };
  struct rule {
    regex re;
    int kind;
  };
  static const std::vector<rule> rules = [] {
    std::vector<rule> r;
    // 0: "3-4 hours" (ambiguous) 1: "2 and a half hours" 2: "2 1/2 hours"
    // 3: "an hour and a half" 4: "2 hours 30 min" 5: "4 hrs", "4-hour", "2.5 hours"
    // 6: "half an hour" 7: "an hour" 8: "45 min"
    r.push_back({rx("\\b(\\d+(?:\\.\\d+)?)\\s*(?:-|to|or)\\s*(\\d+(?:\\.\\d+)?)\\s*(?:hours?|hrs?|hr)\\b"), 0});
    // 9: "2 sets of 45 minutes", "two 1 hour sets"
    r.push_back({rx("\\b(\\d)\\s+(?:sets|blocks)\\s+of\\s+(\\d+)\\s*-?\\s*(minutes?|mins?|hours?|hrs?)\\b"), 9});
    r.push_back({rx("\\b(\\d+)\\s+(?:and|&|n)\\s+(?:a\\s+)?half\\s*(?:hours?|hrs?)\\b"), 1});
    r.push_back({rx("\\b(\\d+)\\s+1/2\\s*(?:hours?|hrs?)\\b"), 2});
    r.push_back({rx("\\b(?:(?:an?|1)\\s+)?(?:hour|hr)\\s+(?:and|&|n)\\s+(?:a\\s+)?half\\b"), 3});
    r.push_back({rx("\\b(\\d+)\\s*(?:hours?|hrs?|h)\\s*(?:and\\s+)?(\\d+)\\s*(?:minutes?|mins?|m)\\b"), 4});
    r.push_back({rx("\\b(\\d+(?:\\.\\d+)?)\\s*(?:\\+\\s*)?-?\\s*(?:hours?|hrs?|hr|h)\\b"), 5});
    r.push_back({rx("\\b(?:a\\s+)?half\\s+(?:an?\\s+)?(?:hour|hr)\\b"), 6});
    r.push_back({rx("\\b(?:an|a)\\s+(?:hour|hr)\\b(?!\\s*(?:rate|long drive))"), 7});
    r.push_back({rx("\\b(\\d+)\\s*-?\\s*(?:minutes?|mins?)\\b"), 8});
    return r;
  }();
  for (const auto& r : rules) {
    each_match(s, r.re, [&](const smatch& x) {
      switch (r.kind) {
        case 0: add(x, 0, true); break;
        case 9: {
          double each = to_int(x[2]);
          if (x[3].str()[0] == 'm')
            each /= 60.0;
          add(x, to_int(x[1]) * each, false);
          break;
        }
        case 1: case 2: add(x, to_int(x[1]) + 0.5, false); break;
        case 3: add(x, 1.5, false); break;
        case 4: add(x, to_int(x[1]) + to_int(x[2]) / 60.0, false); break;
        case 5: add(x, std::stod(x[1]), false); break;
        case 6: add(x, 0.5, false); break;
        case 7: add(x, 1, false); break;
        case 8: {
          int mins = to_int(x[1]);
          if (mins > 0 && mins <= 600)
            add(x, mins / 60.0, false);
          break;
        }
      }
    });
  }
  if (cands.empty())
    return std::nullopt;
  auto first = std::min_element(cands.begin(), cands.end(),
                                [](const cand& a, const cand& b) { return a.pos < b.pos; });
  if (first->ambiguous)
    return std::nullopt;
  return first->hours;
}

// --- guests ---------------------------------------------------------------------------------------

std::optional<long long> find_guests(const message& m) {
  const auto& s = m.norm;
  static const regex range =
    rx("\\b(\\d{1,5})\\s*(?:-|to|or)\\s*(\\d{1,5})\\s*\\+?\\s*-?\\s*" + guest_nouns_re + "\\b");
  static const regex main_re = rx("(\\d{1,3}(?:,\\d{3})+|\\d{1,5})\\s*(?:\\+|-?ish)?\\s*"
                                  "(?:or so\\s+)?-?\\s*" + guest_nouns_re + "\\b");
  static const regex more = rx("^\\s*(?:and|plus|&|\\+|,)\\s*(?:about\\s+|around\\s+|~\\s*)?"
                               "(\\d{1,5})\\s*" + guest_nouns_re + "\\b");
  static const regex cue = rx(
    "\\b(?:guest\\s*count|head\\s*count|guest\\s*list|party\\s+of|group\\s+of|crowd\\s+of|"
    "expecting|expect|inviting|invited|capacity\\s+of|attendance|numbers?\\s+of\\s+guests|"
    "guests?\\s*:)(?:\\s+|\\s*(?:is|of|will be|should be|around|about|approx\\.?|approximately|"
    "roughly|~|:|-|=|maybe|like|at|up to|close to|over|under|almost|nearly|probably)\\s*)*"
    "(\\d{1,3}(?:,\\d{3})+|\\d{1,5})\\b(?![.:/]\\d)(?!\\s*(?:hours?|hrs?|pm|am|[ap]\\b|%|k\\b|dollars|"
    "bucks|st\\b|nd\\b|rd\\b|th\\b|years?|yrs?))");
  static const regex bad_before = rx("(?:[$/.]|\\d\\s)$");
  span_set used;
  struct cand {
    std::size_t pos;
    long long n;
    bool ambiguous;
  };
  std::vector<cand> cands;
  auto number = [](string t) {
    t.erase(std::remove(t.begin(), t.end(), ','), t.end());
    return static_cast<long long>(to_int(t));
  };
  each_match(s, range, [&](const smatch& x) {
    auto b = static_cast<std::size_t>(x.position(0));
    used.add(b, b + static_cast<std::size_t>(x.length(0)));
    cands.push_back({b, 0, true});
  });
  each_match(s, main_re, [&](const smatch& x) {
    auto b = static_cast<std::size_t>(x.position(0));
    auto e = b + static_cast<std::size_t>(x.length(0));
    if (used.overlaps(b, e) || found(before(s, b, 3), bad_before))
      return;
    used.add(b, e);
    long long n = number(x[1]);
    smatch y;
    auto rest = after(s, e, 60);
    if (std::regex_search(rest, y, more))
      n += to_int(y[1]);
    cands.push_back({b, n, false});
  });
  each_match(s, cue, [&](const smatch& x) {
    auto b = static_cast<std::size_t>(x.position(1));
    auto e = b + static_cast<std::size_t>(x.length(1));
    if (used.overlaps(b, e) || (b > 0 && s[b - 1] == '$'))
      return;
    used.add(b, e);
    cands.push_back({b, number(x[1]), false});
  });
  if (cands.empty())
    return std::nullopt;
  auto first = std::min_element(cands.begin(), cands.end(),
                                [](const cand& a, const cand& b) { return a.pos < b.pos; });
  if (first->ambiguous || first->n < 2 || first->n > 20000)
    return std::nullopt;
  return first->n;
}

// --- event type ------------------------------------------------------------------------------------

std::optional<string> find_event_type(const message& m) {
  static const std::vector<std::pair<regex, const char*>> rules = [] {
    std::vector<std::pair<string, const char*>> r = {
      {"\\bquince(?:anera|ana?era|neara|nera|anos)?s?\\b|\\bquinsea?nera\\b|\\bquinceneara\\b|"
       "\\bxv\\s+(?:anos|party|celebration)\\b|\\bmis\\s+xv\\b|\\bsweet\\s*15\\b",
       "quinceanera"},
      {"\\b(?:bar|bat|bas|b'?nai)\\s*-?\\s*mitz?vah?s?\\b|\\bmitzvahs?\\b", "mitzvah"},
      {"\\bprom\\b|\\bhomec?om+ing\\b|\\bhoco\\b|\\bsadie'?s\\b|\\bsadie\\s+hawkins\\b|"
       "\\b(?:winter|spring|fall|snow|sweetheart|military|school|senior|junior)[\\s-]*"
       "(?:formal|ball|dance|social)\\b|\\b(?:middle|high|elementary)\\s+school\\s+(?:dance|"
       "social|formal)\\b|\\b(?:8th|eighth|7th|6th)\\s+grade\\s+(?:dance|formal|social)\\b|"
       "\\bsnoball\\b|\\bmilitary\\s+ball\\b|\\b(?:sorority|fraternity|frat|greek)\\s+"
       "(?:formal|semi-?formal|dance|ball)\\b",
       "school_dance"},
      {"\\bbirthday\\b|\\bbirthdays\\b|\\bbday\\b|\\bb-day\\b|\\bbirth day\\b|\\bbirthdy\\b|"
       "\\bbirfday\\b|\\bbrithday\\b|\\bsweet\\s*16\\b|\\bturning\\s+\\d{1,3}\\b|"
       "\\b(?:surprise\\s+)?\\d{1,3}(?:st|nd|rd|th)\\s+(?:party|bash|celebration|for\\s+my)\\b|"
       "\\bsurprise\\s+\\d{1,3}(?:st|nd|rd|th)\\b|"
       "\\b(?:my|his|her|their|our|your|\\w+'s)\\s+\\d{1,3}(?:st|nd|rd|th)\\b(?!\\s+(?:wedding|anniversary|"
       "reunion|grade|year|time|annual|season))",
       "birthday"},
      {"\\bgraduation\\b|\\bgrad\\s+(?:party|celebration|bash|open house)\\b|\\bretirement\\b|"
       "\\bretiring\\b|\\banniversary\\b|\\breunion\\b|\\bengagement\\b|\\bhouse\\s*party\\b|"
       "\\bbackyard\\s+(?:party|bbq|get together)\\b|\\bvow\\s+renewal\\b|\\bbaby\\s+shower\\b|"
       "\\bbridal\\s+shower\\b|\\bgender\\s+reveal\\b|\\bhousewarming\\b|\\bbachelorette\\b|"
       "\\bbachelor\\s+party\\b|\\bgoing\\s*away\\s+party\\b|\\bfriendsgiving\\b|\\bbaptism\\b|"
       "\\bchristening\\b|\\b(?:first|1st)\\s+communion\\b",
       "private_party"},
      {"\\bwedd?ings?\\b|\\bweding\\b|\\bweddin\\b|\\bweddng\\b|\\bbride\\b|\\bgroom\\b|\\bgetting\\s+married\\b|"
       "\\belop(?:e|ing|ement)\\b|\\bnuptials\\b|\\brehearsal\\s+dinner\\b|\\bsangeet\\b|"
       "\\bmehndi\\b|\\bwalima\\b|\\bbaraat\\b",
       "wedding"},
      {"\\bgala\\b|\\bblock\\s+party\\b|\\bchurch'?s?\\s+(?:fall\\s+|spring\\s+|summer\\s+)?"
       "(?:dances?|events?|socials?|party|parties|functions?|picnics?|festivals?)\\b|"
       "\\b(?:party|dance|event|social)\\s+at\\s+(?:our|the|my)\\s+church\\b|"
       "\\b(?:juneteenth|veterans?'?\\s+day|memorial\\s+day|mlk\\s+day)\\s+(?:celebration|event|"
       "parade|festival|program|ceremony)\\b|\\bfundraiser\\b|\\bfund\\s+raiser\\b|\\bbenefit\\s+(?:concert|"
       "dinner|event)\\b|\\bfestival\\b|\\bcarnival\\b|\\bparade\\b|\\bcommunity\\s+(?:event|"
       "party|day|dance)\\b|\\b(?:father|daddy|mother)\\s+(?:daughter|son)\\s+dance\\b|"
       "\\bcar\\s+show\\b|\\bfashion\\s+show\\b|\\bcharity\\b",
       "other"},
      {"\\bcorporate\\b|\\b(?:our|my|their|the|annual|whole|entire)\\s+(?:annual\\s+|whole\\s+|entire\\s+)?"
       "company\\b(?!\\s+(?:that|who|which|we|you))|\\bcompany\\s+\\w+\\s+(?:party|event|picnic|boil|bbq|"
       "cookout|outing|dinner|lunch|gathering|celebration)\\b|"
       "\\bcompany\\s+(?:party|event|picnic|holiday|christmas|outing|function|dinner|retreat|offsite|"
       "meeting|celebration|gathering|mixer|wide)\\b|\\b(?:for|at)\\s+(?:our|my|the|their)\\s+(?:office|"
       "team|staff|firm|department|dept|employees|coworkers|workplace)\\b|\\boffice\\s+(?:party|holiday|christmas|event|picnic)\\b|"
       "\\bwork\\s+(?:party|event|function|holiday|christmas|picnic)\\b|\\bholiday\\s+party\\b|"
       "\\bemployees?\\b|\\bstaff\\s+(?:party|event|appreciation|holiday)\\b|\\bteam\\s+"
       "(?:building|event|party|outing)\\b|\\b(?:client|customer)\\s+appreciation\\b|"
       "\\bconference\\b|\\bproduct\\s+launch\\b|\\bgrand\\s+opening\\b|\\bnetworking\\b|"
       "\\btrade\\s+show\\b|\\bco-?workers\\b|\\bbusiness\\s+(?:event|party)\\b",
       "corporate"},
      {"\\bprivate\\s+(?:party|event)\\b|\\bparty\\s+at\\s+(?:my|our)\\s+(?:house|home|place)\\b|"
       "\\bbbq\\b|\\bcookout\\b|\\bchristmas\\s+party\\b|\\bhalloween\\s+party\\b|"
       "\\bnew\\s*years?'?s?\\s*eve\\s+party\\b|\\bnye\\s+party\\b|\\bpool\\s+party\\b|"
       "\\bdinner\\s+party\\b|\\bcocktail\\s+party\\b|\\bsurprise\\s+party\\b|"
       "\\bfamily\\s+(?:party|gathering)\\b|\\bbackyard\\b|\\b(?:party|parties|bash)\\b.{0,30}"
       "\\bat\\s+(?:my|our)\\s+(?:house|home|place|apartment|condo)\\b",
       "private_party"},
      {"\\bnight\\s*club\\b|\\bclub\\s+(?:night|gig|set)\\b|\\bbar\\s+(?:gig|night|set)\\b|"
       "\\b(?:our|my|at\\s+a|at\\s+the)\\s+bar\\b(?!\\s*(?:mitzvah|service|tab|package|area|"
       "cart))|\\bsports\\s+bar\\b|\\bbrewery\\b|\\bbrewing\\b|\\btap\\s*room\\b|\\bpub\\b|"
       "\\blounge\\b|\\bwine\\s+bar\\b|\\bbar\\s*(?:&|and)\\s*grill\\b|\\bresidency\\b|"
       "\\bhappy\\s+hour\\b|\\b(?:are|own|run|manage|is)\\s+a\\s+(?:bar|pub|lounge|nightclub|club|"
       "brewery|taproom)\\b|\\b(?:at|@)\\s+(?:the\\s+)?club\\s+(?!house)[a-z0-9]",
       "club"},
      {"\\breception\\b|\\bceremony\\b|\\bcocktail\\s+hour\\b|\\b(?:first|1st)\\s+dance\\b|\\bfiance'?e?\\b|\\bbridal\\b", "wedding"},
      {"\\b(?:the|our|their|a|school'?s?)\\s+formal\\b(?!\\s*(?:attire|dress|wear|gown|suit|"
       "event|invitation))",
       "school_dance"},
    };
    std::vector<std::pair<regex, const char*>> out;
    for (auto& [p, k] : r)
      out.emplace_back(rx(p), k);
    return out;
  }();
  for (const auto& [re, kind] : rules)
    if (found(m.norm, re))
      return string(kind);
  return std::nullopt;
}

// --- venue --------------------------------------------------------------------------------------

/// Words that start no venue: times, dates, holidays, pronouns.
bool bad_venue_head(const string& w) {
  static const char* bad[] = {
    "i", "noon", "midnight", "christmas", "xmas", "easter", "thanksgiving", "halloween", "least",
    "most", "all", "that", "this", "some", "last", "my", "our", "your", "his", "her",
    "their", "a", "an", "home", "work", "it", "what", "which", "dj", "night", "same",
    "about", "around", "approx", "approximately"};
  auto lw = ascii_lower(w);
  for (auto b : bad)
    if (lw == b)
      return true;
  if (month_of(lw) && lw.size() <= 9 && (lw.size() == 3 || lw.size() >= 4)) {
    static const regex month_word = rx("^" + months_re + "\\.?$");
    if (std::regex_match(lw, month_word))
      return true;
  }
  if (weekday_of(lw) <= 6) {
    static const regex wd_word = rx("^" + weekdays_any_re + "$");
    if (std::regex_match(lw, wd_word))
      return true;
  }
  return false;
}

/// An all-caps text in title case with grammar words lower-case ("AT THE PEABODY" -> "at the
/// Peabody"), so the capitalised-name rule can read it. Same length and offsets as the input.
string title_case(const string& lower) {
  static const regex grammar = rx(
    "^(?:at|the|on|in|for|of|and|to|a|an|with|we|is|are|our|my|your|from|by|or|but|so|if|it|be|"
    "will|this|that|near|around|about|am|pm|me|you|us|do|can|have|has|was|were|its|it's|im|i'm)$");
  string out = lower;
  std::size_t i = 0;
  while (i < out.size()) {
    if (!std::isalpha(static_cast<unsigned char>(out[i]))) {
      ++i;
      continue;
    }
    auto j = i;
    while (j < out.size() && (std::isalpha(static_cast<unsigned char>(out[j])) || out[j] == '\''))
      ++j;
    if (!std::regex_match(out.substr(i, j - i), grammar))
      out[i] = static_cast<char>(std::toupper(static_cast<unsigned char>(out[i])));
    i = j;
  }
  return out;
}

std::optional<string> find_venue(const message& m) {
  // In an all-caps text capitalisation says nothing: read a title-cased copy, answer as written.
  const string titled = m.all_caps ? title_case(m.lower) : string();
  const auto& o = m.all_caps ? titled : m.orig;
  // Words that name a kind of place ("hall", "park"): they end a venue name.
  static const string nouns =
    "(?:hotel|hall|ballroom|center|centre|club|country club|barn|farm|park|church|chapel|brewery|"
    "winery|vineyard|estate|manor|lodge|inn|gardens?|museum|mansion|restaurant|bar|lounge|"
    "pavilion|venue|loft|warehouse|resort|plantation|ranch|theater|theatre|library|gym|arena|"
    "school|academy|university|college|cafe|grill|tavern|pub|distillery|shell|room|house|"
    "terrace|rooftop|marina|yacht club|club house|clubhouse|plaza|building|studio|gallery)";

  // "at the Peabody Hotel", "@ Graceland", "venue is The Guest House": a run of capitalised words
  // (with "of", "the", "&", "de", "la" inside, and a street number first).
  static const regex capitalised = rx(
    "(?:\\b[Aa]t|@|\\b[Vv]enue(?:\\s+is|\\s+will\\s+be|:)|\\b[Ll]ocation(?:\\s+is|:)|\\b[Hh]eld\\s+at)"
    "\\s+(?:the\\s+)?((?:\\d{1,6}\\s+)?[A-Z][\\w'&\\x80-\\xff-]*(?:\\s+(?:(?:of|the|de|la|del|&)\\s+)?"
    "[A-Z0-9][\\w'&\\x80-\\xff-]*)*)");
  {
    auto it = std::sregex_iterator(o.begin(), o.end(), capitalised);
    for (; it != std::sregex_iterator(); ++it) {
      string v = (*it)[1];
      auto vb = static_cast<std::size_t>(it->position(1));
      while (!v.empty() && (v.back() == '.' || v.back() == '-' || v.back() == '\''))
        v.pop_back();
      // An email address is not a venue ("at ANGELA.W@ICLOUD.COM").
      {
        auto ve = vb + v.size();
        if (ve < o.size() && (o[ve] == '@' || o[ve] == '_'
                              || (o[ve] == '.' && ve + 1 < o.size() && is_alnum(o[ve + 1]))))
          continue;
      }
      // Cut at the first word that is a date or time ("Peabody Hotel June 14"); a number only
      // after words like "Post" or "Suite" ("VFW Post 1234").
      bool cut = false;
      {
        static const regex numbered = rx("^(?:post|lodge|local|chapter|station|suite|unit|room|no|"
                                         "hall|stage|building|pier)$");
        string kept, prev;
        std::size_t i = 0;
        bool first_word = true;
        while (i < v.size()) {
          auto j = v.find(' ', i);
          if (j == string::npos)
            j = v.size();
          string w = v.substr(i, j - i);
          bool digits = !w.empty() && std::isdigit(static_cast<unsigned char>(w[0]));
          char next = vb + j < o.size() ? o[vb + j] : ' ';
          bool plain_number = digits && w.find_first_not_of("0123456789") == string::npos
                              && next != '/' && next != ':' && next != '-' && next != '.';
          bool numbered_ok = plain_number && (std::regex_match(ascii_lower(prev), numbered)
                                              || (kept.find(' ') == string::npos && w.size() >= 2));
          if (!first_word && (bad_venue_head(w) || (digits && !numbered_ok))) {
            cut = true;
            break;
          }
          kept += (first_word ? "" : " ") + w;
          first_word = false;
          prev = w;
          i = j + 1;
        }
        v = kept;
      }
      if (!cut) {
        // "VFW hall": a lower-case kind of place right after the name belongs to it;
        // "Guest House at Graceland": so does "at <Name>" after a kind of place.
        static const regex kind_after = rx("^\\s+(" + nouns + ")\\b");
        static const regex at_after = rx("^\\s+at\\s+(?:the\\s+)?([A-Z][\\w'&-]*(?:\\s+[A-Z][\\w'&-]*)*)");
        static const regex ends_with_kind = rx("\\b" + nouns + "$");
        auto rest = o.substr(vb + v.size(), 60);
        smatch y;
        if (std::regex_search(rest, y, kind_after))
          v += y.str(0).substr(0, static_cast<std::size_t>(y.position(1) + y.length(1)));
        else if (found(ascii_lower(v), ends_with_kind) && std::regex_search(rest, y, at_after)
                 && !bad_venue_head(y.str(1).substr(0, y.str(1).find(' '))))
          v += y.str(0);
      }
      static const regex trailing = rx("\\s+(?:of|the|de|la|del|&)$");
      v = std::regex_replace(v, trailing, "");
      auto first = v.substr(0, v.find(' '));
      if (v.empty() || bad_venue_head(first))
        continue;
      // Email domains and times are not venues.
      auto pos = static_cast<std::size_t>(it->position(0));
      if (pos > 0 && is_alnum(o[pos - 1]) && o[pos] == '@')
        continue;
      if (std::isdigit(static_cast<unsigned char>(v[0])) && v.find(' ') == string::npos)
        continue;
      // A venue is a name, not a paragraph of capitalised words.
      if (v.size() > 80 || std::count(v.begin(), v.end(), ' ') >= 8)
        continue;
      return m.all_caps ? m.orig.substr(vb, v.size()) : v;
    }
  }
  // Lower-case texts: "at the peabody hotel", "venue is overton park shell".
  static const regex lower_at = rx(
    "(?:\\bat|@|\\bvenue(?:\\s+is|\\s+will\\s+be|:)|\\blocation(?:\\s+is|:)|\\bheld\\s+at)\\s+"
    "(?=(?:the\\s+)?((?:[a-z0-9'&-]+\\s+){1,4}?" + nouns + ")\\b)");
  static const regex stop_word = rx(
    "^(?:for|on|in|at|and|with|we|i|is|my|our|a|an|your|his|her|their|this|that|same|end|of|"
    "to|from|it|its|be|will|was|are|or|but|so|if|any|some|what|which|who|how|when|where|near|"
    "by|like|just|about|around|approx|least|most|home|work|night|noon|midnight|\\d+(?:am|pm)?|"
    "\\d+:\\d+|am|pm|o'?clock)$");
  auto it = std::sregex_iterator(m.lower.begin(), m.lower.end(), lower_at);
  for (; it != std::sregex_iterator(); ++it) {
    auto b = static_cast<std::size_t>(it->position(1));
    auto len = static_cast<std::size_t>(it->length(1));
    string phrase = (*it)[1];
    // Every word before the venue noun must be a name word, not grammar or a time.
    bool ok = true;
    std::size_t start = 0;
    auto words_end = phrase.rfind(' ');
    string head = phrase.substr(0, words_end);
    for (std::size_t i = 0; i <= head.size();) {
      auto j = head.find(' ', i);
      if (j == string::npos)
        j = head.size();
      string w = head.substr(i, j - i);
      if (w.empty() || std::regex_match(w, stop_word) || bad_venue_head(w)) {
        ok = false;
        break;
      }
      i = j + 1;
    }
    (void)start;
    if (!ok)
      continue;
    return m.orig.substr(b, len);
  }
  return std::nullopt;
}

// --- name -------------------------------------------------------------------------------------

bool common_word(const string& lw) {
  static const char* words[] = {
    "looking", "interested", "planning", "getting", "hoping", "trying", "wondering", "just",
    "not", "so", "very", "good", "great", "fine", "ok", "okay", "sure", "sorry", "ready", "free",
    "available", "excited", "confused", "curious", "still", "also", "the", "a", "an", "here",
    "back", "done", "in", "on", "at", "with", "from", "going", "thinking", "reaching",
    "texting", "messaging", "calling", "following", "checking", "asking", "having", "throwing",
    "hosting", "organizing", "booking", "inquiring", "contacting", "writing", "glad", "happy",
    "thrilled", "considering", "currently", "actually", "really", "definitely", "gonna",
    "about", "afraid", "new", "told", "out", "booked", "engaged", "married", "turning", "your",
    "his", "her", "our", "my", "retiring", "graduating", "celebrating", "perfect", "awesome",
    "amazing", "it", "that", "this", "for", "to", "of", "and", "or", "but", "if", "is", "was",
    "be", "me", "we", "you", "they", "he", "she", "urgent", "important", "correct", "right",
    "wrong", "what", "who", "why", "how", "when", "where", "regarding", "re", "about", "dj",
    "mr", "mrs", "ms", "miss", "dr", "hi", "hey", "hello", "thanks", "thank", "thx", "ty",
    "please", "pls", "yes", "no", "yeah", "yep", "nope", "coming", "sending", "needing",
    "tired", "busy", "late", "early", "there", "helping", "emailing", "following", "in",
    "wanting", "needing", "waiting", "gone", "confirming", "cancelling", "canceling", "able",
    "unable", "bringing", "making", "doing", "working", "moving", "switching", "changing",
    "bride", "groom", "mom", "mother", "dad", "father", "sister", "brother", "wife", "husband",
    "best", "regards", "cheers", "sincerely", "love", "blessings", "wedding", "party", "event",
    "asap", "soon", "tomorrow", "today", "tonight", "again", "too", "all", "set", "good"};
  for (auto w : words)
    if (lw == w)
      return true;
  if (month_of(lw) && lw.size() >= 3) {
    static const regex month_word = rx("^" + months_re + "$");
    if (std::regex_match(lw, month_word))
      return true;
  }
  static const regex wd_word = rx("^" + weekdays_any_re + "$");
  return std::regex_match(lw, wd_word);
}

bool capitalised(const string& w) {
  return !w.empty() && w[0] >= 'A' && w[0] <= 'Z';
}

/// Splits `s` into words of letters, apostrophes and hyphens, stopping at other characters.
std::vector<std::pair<std::size_t, string>> name_words(const string& s, std::size_t from,
                                                       std::size_t max_words) {
  std::vector<std::pair<std::size_t, string>> out;
  std::size_t i = from;
  while (out.size() < max_words && i < s.size()) {
    while (i < s.size() && s[i] == ' ')
      ++i;
    std::size_t j = i;
    while (j < s.size() && (std::isalpha(static_cast<unsigned char>(s[j])) || s[j] == '\''
                            || s[j] == '-'))
      ++j;
    if (j == i)
      break;
    out.emplace_back(i, s.substr(i, j - i));
    i = j;
    if (i < s.size() && s[i] != ' ')
      break; // punctuation ends the name
  }
  return out;
}

std::optional<string> find_name(const message& m) {
  const auto& o = m.orig;
  static const regex place_word = rx("(?:hotel|hall|ballroom|center|club|barn|park|church|venue|"
                                     "house|room|inn|lodge|gardens?|estate|farm)$");
  const auto& l = m.lower;
  bool lowercase_text = m.all_caps || std::none_of(o.begin(), o.end(), [](char c) {
                          return c >= 'A' && c <= 'Z';
                        });
  auto accept_run = [&](std::size_t from, bool strong) -> std::optional<string> {
    auto ws = name_words(o, from, 3);
    if (ws.empty())
      return std::nullopt;
    string result;
    std::size_t taken = 0;
    for (auto& [pos, w] : ws) {
      auto lw = ascii_lower(w);
      if (lw.size() > 2 && lw.compare(lw.size() - 2, 2, "'s") == 0)
        return taken ? std::optional<string>(result) : std::nullopt; // "this is Maria's"
      if (common_word(lw) || w.find_first_not_of("-'") == string::npos)
        break;
      bool caps_ok = capitalised(w) || (lowercase_text && (strong || taken == 0));
      if (!caps_ok)
        break;
      if (!strong && !capitalised(w) && taken == 0) {
        // Weak cue in a lower-case text: "this is maria," / "im maria here".
        auto end = pos + w.size();
        static const regex name_end = rx("^\\s*(?:$|[,.!:;\\-]|(?:here|from|and|with|again)\\b)");
        if (!found(after(l, end), name_end))
          return std::nullopt;
      }
      if (taken)
        result += ' ';
      result += w;
      ++taken;
      if (!strong && !capitalised(w))
        break;
      if (taken == (strong ? 3u : 2u))
        break;
    }
    if (!taken)
      return std::nullopt;
    return result;
  };

  static const regex strong_cue =
    rx("(?:\\bmy\\s+name\\s+is|\\bmy\\s+names|\\bmy\\s+name's|(?:^|[.!?,]\\s*)name\\s*(?::|is)|"
       "\\byou\\s+can\\s+call\\s+me)\\s*");
  static const regex weak_cue =
    rx("(?:^|[^a-z])(?:this\\s+is|it'?s|its|i\\s+am|i'?m|im|hi\\s+(?:its|it's)|this\\s+be)\\s+"
       "(?:(?:the|a)\\s+)?");
  smatch x;
  for (auto it = std::sregex_iterator(l.begin(), l.end(), strong_cue); it != std::sregex_iterator(); ++it)
    if (auto n = accept_run(static_cast<std::size_t>(it->position(0) + it->length(0)), true))
      return n;
  for (auto it = std::sregex_iterator(l.begin(), l.end(), weak_cue); it != std::sregex_iterator(); ++it) {
    auto from = static_cast<std::size_t>(it->position(0) + it->length(0));
    // "it's the" / "this is a" were skipped by the pattern; a name must follow directly.
    string matched = (*it)[0];
    if (matched.find(" the ") != string::npos || matched.find(" a ") != string::npos)
      continue;
    if (auto n = accept_run(from, false))
      return n;
  }
  // "hi, Jordan here", "Jordan here!"
  static const regex here_cue =
    rx("(?:^|[,.!]\\s*|\\b(?:hi|hey|hello)\\b[,!]?\\s*)([a-z][a-z'-]+(?:\\s+[a-z][a-z'-]+)?)\\s+here\\b");
  if (std::regex_search(l, x, here_cue)) {
    auto b = static_cast<std::size_t>(x.position(1));
    string n = o.substr(b, static_cast<std::size_t>(x.length(1)));
    auto words = name_words(n, 0, 2);
    bool ok = !words.empty();
    for (auto& [p, w] : words)
      if (common_word(ascii_lower(w)) || !(capitalised(w) || lowercase_text))
        ok = false;
    if (ok)
      return n;
  }
  // Signatures at the end: "- Tasha", "thanks, John Smith", "Regards,\nMaria".
  static const regex dash_sig =
    rx("(?:^|[\\s.!?,])(?:-{1,2}|~)\\s*([A-Za-z][A-Za-z'-]+(?:\\s+[A-Za-z][A-Za-z'-]+)?)\\s*[.!]?\\s*$");
  if (std::regex_search(o, x, dash_sig)) {
    string n = x[1];
    auto words = name_words(n, 0, 2);
    bool ok = !words.empty() && !found(ascii_lower(n), place_word);
    for (auto& [p, w] : words)
      if (common_word(ascii_lower(w)) || !(capitalised(w) || lowercase_text))
        ok = false;
    if (ok)
      return n;
  }
  static const regex thanks_sig = regex(
    "\\b(?:thanks|thank\\s+you|thx|ty|regards|best|cheers|sincerely|blessings|love)\\s*(?:[,!.]+\\s*|"
    "\\s*\\n\\s*|\\s*[-~]\\s*)([A-Z][A-Za-z'-]+(?:\\s+[A-Z][A-Za-z'-]+)?)\\s*[.!]?\\s*$",
    std::regex::ECMAScript | std::regex::icase);
  if (std::regex_search(o, x, thanks_sig)) {
    string n = x[1];
    auto words = name_words(n, 0, 2);
    bool ok = !words.empty() && !found(ascii_lower(n), place_word);
    for (auto& [p, w] : words)
      if (common_word(ascii_lower(w)) || !(capitalised(w) || lowercase_text))
        ok = false;
    if (ok)
      return n;
  }
  return std::nullopt;
}

// --- email ----------------------------------------------------------------------------------------

std::optional<string> find_email(const message& m) {
  static const regex re =
    rx("[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\\.[A-Za-z0-9-]+)*\\.[A-Za-z]{2,}");
  smatch x;
  if (!std::regex_search(m.orig, x, re))
    return std::nullopt;
  return x.str(0);
}

// --- budget ---------------------------------------------------------------------------------------

struct money {
  std::size_t begin, end;
  long long cents;
  bool marked; // "$", "k", "dollars", ...: certainly money
};

std::vector<money> find_amounts(const string& s) {
  static const regex re = rx(
    "(\\$\\s*)?(\\d{1,3}(?:,\\d{3})+|\\d+)(?:\\.(\\d{1,2}))?(?!\\d)(?:\\s*(k|grand|thousand|"
    "dollars|dollar|bucks|usd)\\b)?|\\ba\\s+grand\\b");
  std::vector<money> out;
  each_match(s, re, [&](const smatch& x) {
    auto b = static_cast<std::size_t>(x.position(0));
    auto e = b + static_cast<std::size_t>(x.length(0));
    if (!x[2].matched) {
      out.push_back({b, e, 100000, true});
      return;
    }
    string digits = x[2];
    digits.erase(std::remove(digits.begin(), digits.end(), ','), digits.end());
    if (digits.size() > 9)
      return;
    double v = std::stod(digits);
    if (x[3].matched)
      v += std::stod("0." + x[3].str());
    string unit = x[4].matched ? x[4].str() : string();
    if (unit == "k" || unit == "grand" || unit == "thousand")
      v *= 1000;
    bool marked = x[1].matched || !unit.empty();
    // Times, dates and counts are not amounts.
    auto rest = after(s, e, 12);
    static const regex not_money =
      rx("^\\s*-?\\s*(?:am|pm|[ap]\\b|:|/|hours?|hrs?|h\\b|guests|people|ppl|kids|st\\b|nd\\b|rd\\b|"
         "th\\b|%|min|minutes|years?|yrs?|" + guest_nouns_re + ")");
    if (!marked && found(rest, not_money))
      return;
    out.push_back({b, e, std::llround(v * 100), marked});
  });
  return out;
}

std::optional<long long> find_budget(const message& m) {
  const auto& s = m.norm;
  auto amounts = find_amounts(s);
  if (amounts.empty())
    return std::nullopt;
  static const regex range_after = rx("^\\s*(?:-|to)\\s*\\$?\\d");
  // Words showing the amount is someone's price or a payment, not what the customer can spend.
  static const regex quoted = rx(
    "\\b(?:quot\\w*|you\\s+said|your\\s+(?:price|rate)|deposit|paid|pay|invoice|balance|charged|"
    "charge|owe|refund|sent|venmo|zelle|cost|costs|price|total\\s+is|fee|over|more\\s+than|"
    "exceeds?)\\b");
  static const regex own_words =
    rx("\\b(?:can|could|willing|only|looking|hoping|want|budget|afford|spend)\\b");

  // 1. The word "budget": the first amount after it in the same clause, or the one right before
  //    ("$800 budget"). Not "is $900 within budget".
  static const regex budget_word = rx("\\bbudget(?:s|ed)?\\b");
  static const regex budget_negated =
    rx("\\b(?:within|over|above|exceed|exceeds|out of|fit|fits|in|under|blow|blew|outside)\\s+"
       "(?:of\\s+)?(?:the|our|my|your|a)?\\s*$");
  static const regex before_gap = rx("^\\s*(?:-|dollar|total|max)?\\s*$");
  for (auto it = std::sregex_iterator(s.begin(), s.end(), budget_word); it != std::sregex_iterator();
       ++it) {
    auto b = static_cast<std::size_t>(it->position(0));
    auto e = b + static_cast<std::size_t>(it->length(0));
    bool negated = found(before(s, b, 30), budget_negated);
    for (const auto& a : amounts) {
      if (!negated && a.begin >= e && a.begin - e <= 50) {
        string gap = s.substr(e, a.begin - e);
        if (gap.find_first_of(".!?;") != string::npos || found(gap, quoted))
          continue;
        if (found(after(s, a.end, 10), range_after))
          return std::nullopt; // "budget 800-1000" is not one budget
        return a.cents;
      }
      if (a.end <= b && b - a.end <= 12 && std::regex_match(s.substr(a.end, b - a.end), before_gap))
        return a.cents;
    }
  }

  // 2. Spending phrases: "we have 1.5k", "can spend up to $1000", "we can only do 900",
  //    "can you do 4 hours for $600", "i have 500 to spend". Possession and limits ("we have",
  //    "under") need an amount that is certainly money; spending verbs do not.
  static const regex strong_spend = rx(
    "\\b(?:can\\s+spend|could\\s+spend|can\\s+afford|could\\s+afford|afford|spend|"
    "willing\\s+to\\s+(?:spend|pay|do)|(?:can|could)\\s+(?:only\\s+)?(?:do|pay)|only\\s+(?:do|pay)|"
    "(?:would|could|can|will)\\s+you\\s+do\\s+(?:it|this|that|\\d+(?:\\.\\d+)?\\s*(?:hours?|hrs?))?"
    "\\s*(?:for)?|set\\s+aside|saved|allocated)"
    "\\s*(?:about|around|~|roughly|approx\\.?|like|maybe|only|just|a|up\\s+to|max|total|"
    "between|somewhere\\s+around|\\s)*$");
  static const regex weak_spend = rx(
    "\\b(?:we\\s+have|i\\s+have|we've\\s+got|weve\\s+got|we\\s+got|i've\\s+got|ive\\s+got|"
    "i\\s+got|have|up\\s+to|no\\s+more\\s+than|not\\s+more\\s+than|max(?:imum)?(?:\\s+of|\\s+is)?|"
    "at\\s+most|stay\\s+under|keep\\s+it\\s+under|something\\s+under|anything\\s+under|"
    "less\\s+than|under|below|only\\s+have)"
    "\\s*(?:about|around|~|roughly|approx\\.?|like|maybe|only|just|a|up\\s+to|max|total|"
    "between|somewhere\\s+around|\\s)*$");
  static const regex to_spend = rx("^\\s*(?:dollars\\s+|bucks\\s+)?(?:to\\s+spend|for\\s+(?:the\\s+)?"
                                   "(?:dj|music|entertainment))\\b");
  // 3. A price the customer proposes: "is $650 doable?", "would $500 work".
  static const regex proposal_after =
    rx("^\\s*(?:be\\s+)?(?:doable|do-able|work|workable|ok|okay|possible|feasible|acceptable|"
       "enough)\\b");
  static const regex proposal_before = rx("\\b(?:is|would|will|could|does)\\s*$");
  for (const auto& a : amounts) {
    if (a.cents < (a.marked ? 2000 : 10000))
      continue; // "$15" or a bare "45" is not a DJ budget
    auto cl = clause_before(s, a.begin, 60);
    bool spent = found(cl, quoted) && !found(cl, own_words);
    if (spent)
      continue;
    bool ok = found(cl, strong_spend)
              || (found(cl, weak_spend) && (a.marked || found(after(s, a.end, 30), to_spend)))
              || (a.marked && found(cl, proposal_before) && found(after(s, a.end, 20), proposal_after));
    if (!ok)
      continue;
    if (found(after(s, a.end, 10), range_after))
      return std::nullopt;
    return a.cents;
  }
  return std::nullopt;
}

/// The org's current local date, or UTC's when the zone is unknown.
year_month_day local_today(sys_seconds now, const string& iana_tz) {
  const time_zone* tz = nullptr;
  try {
    tz = locate_zone(iana_tz.empty() ? string("UTC") : iana_tz);
  } catch (const std::exception&) {
    tz = nullptr;
  }
  if (!tz)
    return year_month_day{floor<days>(now)};
  auto local = make_zoned(tz, now).get_local_time();
  return year_month_day{floor<days>(local)};
}

string two_digits(int v) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%02d", v);
  return buf;
}

} // namespace

nlohmann::json extract_entities(std::string_view text, sys_seconds now, const std::string& iana_tz) {
  message m;
  m.orig = string(text.substr(0, max_rule_text));
  // Fold typographic apostrophes and dashes in the "as written" copy too, so the name and venue
  // patterns see one kind of apostrophe; offsets into `lower` stay those of `orig`.
  {
    string t;
    for (std::size_t i = 0; i < m.orig.size(); ++i) {
      auto b = static_cast<unsigned char>(m.orig[i]);
      if (b == 0xE2 && i + 2 < m.orig.size() && static_cast<unsigned char>(m.orig[i + 1]) == 0x80) {
        auto c = static_cast<unsigned char>(m.orig[i + 2]);
        if (c == 0x98 || c == 0x99) {
          t += '\'';
          i += 2;
          continue;
        }
        if (c >= 0x93 && c <= 0x94) {
          t += '-';
          i += 2;
          continue;
        }
      }
      t += m.orig[i];
    }
    m.orig = std::move(t);
  }
  m.lower = ascii_lower(m.orig);
  m.norm = replace_number_words(fold_lower(m.orig));
  m.all_caps = std::none_of(m.orig.begin(), m.orig.end(), [](char c) { return c >= 'a' && c <= 'z'; });
  m.today = local_today(now, iana_tz);

  nlohmann::json out = nlohmann::json::object();
  auto dates = find_dates(m);
  if (!dates.ambiguous && !dates.dates.empty()) {
    auto first = dates.dates.front();
    bool one = std::all_of(dates.dates.begin(), dates.dates.end(),
                           [&](const year_month_day& d) { return d == first; });
    if (one)
      out["date"] = format("%F", sys_days{first});
  }
  auto times = find_times(m);
  if (times.start)
    out["time"] = two_digits(*times.start / 60) + ":" + two_digits(*times.start % 60);
  std::optional<double> hours = find_duration(m);
  if (!hours)
    hours = times.range_hours;
  if (hours) {
    double h = std::round(*hours * 100) / 100;
    if (h == std::floor(h))
      out["hours"] = static_cast<long long>(h);
    else
      out["hours"] = h;
  }
  if (auto g = find_guests(m))
    out["guests"] = *g;
  if (auto e = find_event_type(m))
    out["event_type"] = *e;
  if (auto v = find_venue(m))
    out["venue"] = *v;
  if (auto n = find_name(m))
    out["name"] = *n;
  if (auto e = find_email(m))
    out["email"] = *e;
  if (auto b = find_budget(m))
    out["budget_cents"] = *b;
  return out;
}

} // namespace djdash::agents
