#define CAF_SUITE agents.entities

#include "agents/entity_extractor.hpp"

#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <date/date.h>

#include "agents/number_words.hpp"
#include "agents/us_holidays.hpp"
#include "support/caf_test.hpp"

using namespace djdash::agents;
using nlohmann::json;

namespace {

/// Parses an RFC 3339 time with offset ("2027-05-03T10:15:00-05:00", "...Z").
sys_seconds at(std::string s) {
  if (!s.empty() && s.back() == 'Z') {
    s.pop_back();
    s += "+00:00";
  }
  std::istringstream in(s);
  sys_seconds t{};
  in >> date::parse("%FT%T%Ez", t);
  if (in.fail())
    CAF_FAIL("bad time in test: " << s);
  return t;
}

// Reference instants (local weekday in the org's zone in the comment).
const char* const monday = "2027-05-03T10:15:00-05:00";       // Mon 2027-05-03, Chicago
const char* const thanksgiving26 = "2026-11-26T21:30:00-06:00"; // Thu 2026-11-26, Chicago
const char* const friday = "2027-01-15T09:00:00-08:00";        // Fri 2027-01-15, Los Angeles
const char* const wednesday = "2027-10-06T12:00:00-05:00";     // Wed 2027-10-06, Chicago
const char* const saturday = "2027-06-19T22:10:00-05:00";      // Sat 2027-06-19, Chicago
const char* const dec28 = "2027-12-28T23:30:00-07:00";         // Tue 2027-12-28, Denver

struct row {
  std::string text;
  std::string now;
  std::string tz;
  json expected;                    // keys that must be present with these values
  std::vector<std::string> absent;  // keys that must not be present
};

void run(const std::vector<row>& rows) {
  for (const auto& r : rows) {
    auto got = extract_entities(r.text, at(r.now), r.tz);
    CAF_MESSAGE("'" << r.text << "' -> " << got.dump());
    for (const auto& [key, value] : r.expected.items()) {
      auto want = value.dump();
      auto have = got.contains(key) ? got[key].dump() : std::string("(absent)");
      CAF_CHECK_EQUAL(have, want);
    }
    for (const auto& key : r.absent) {
      auto present = got.contains(key);
      CAF_CHECK(!present);
    }
  }
}

const std::string chicago = "America/Chicago";

} // namespace

CAF_TEST(numbers written as words) {
  std::vector<std::pair<std::string, long long>> cases = {
    {"two hundred fifty", 250}, {"a hundred and twenty", 120}, {"a dozen", 12},
    {"forty-five", 45},         {"fifteen hundred", 1500},     {"2 thousand", 2000},
    {"one hundred", 100},       {"ninety nine", 99},           {"three thousand five hundred", 3500},
  };
  for (const auto& [text, value] : cases) {
    auto got = parse_number_words(text);
    CAF_MESSAGE(text);
    CAF_REQUIRE(got.has_value());
    CAF_CHECK_EQUAL(*got, value);
  }
  for (std::string bad : {"an hour", "and", "a", "hello", "two three"}) {
    auto got = parse_number_words(bad);
    CAF_MESSAGE(bad);
    CAF_CHECK(!got.has_value());
  }
  std::vector<std::pair<std::string, std::string>> rewrites = {
    {"about two hundred people", "about 200 people"},
    {"a hundred and twenty guests", "120 guests"},
    {"the twenty-first of june", "the 21st of june"},
    {"sweet sixteen", "sweet 16"},
    {"two three hour sets", "2 3 hour sets"},
    {"an hour and a half", "an hour and a half"},
    {"a dozen kids", "12 kids"},
  };
  for (const auto& [in, out] : rewrites) {
    auto got = replace_number_words(in);
    CAF_CHECK_EQUAL(got, out);
  }
}

CAF_TEST(us holidays in two years) {
  using namespace date;
  std::vector<std::tuple<std::string, int, std::string>> cases = {
    {"memorial_day", 2027, "2027-05-31"},  {"memorial_day", 2028, "2028-05-29"},
    {"labor_day", 2027, "2027-09-06"},     {"labor_day", 2028, "2028-09-04"},
    {"easter", 2027, "2027-03-28"},        {"easter", 2028, "2028-04-16"},
    {"fathers_day", 2027, "2027-06-20"},   {"fathers_day", 2028, "2028-06-18"},
    {"mothers_day", 2027, "2027-05-09"},   {"mothers_day", 2028, "2028-05-14"},
    {"thanksgiving", 2027, "2027-11-25"},  {"thanksgiving", 2028, "2028-11-23"},
    {"black_friday", 2027, "2027-11-26"},  {"black_friday", 2028, "2028-11-24"},
    {"mlk_day", 2027, "2027-01-18"},       {"mlk_day", 2028, "2028-01-17"},
    {"presidents_day", 2027, "2027-02-15"}, {"presidents_day", 2028, "2028-02-21"},
    {"columbus_day", 2027, "2027-10-11"},  {"columbus_day", 2028, "2028-10-09"},
    {"new_years_day", 2028, "2028-01-01"}, {"juneteenth", 2027, "2027-06-19"},
    {"veterans_day", 2027, "2027-11-11"},  {"christmas_eve", 2027, "2027-12-24"},
  };
  for (const auto& [key, y, want] : cases) {
    auto d = us_holiday(key, year{y});
    CAF_MESSAGE(key << " " << y);
    CAF_REQUIRE(d.has_value());
    auto got = format("%F", sys_days{*d});
    CAF_CHECK_EQUAL(got, want);
  }
  auto unknown = us_holiday("arbor_day", year{2027});
  CAF_CHECK(!unknown.has_value());
}

CAF_TEST(dates resolve against now in the org timezone) {
  run({
    // month-day without a year: its next occurrence, today counting
    {"are you free june 14?", monday, chicago, {{"date", "2027-06-14"}}, {}},
    {"june 14?", saturday, chicago, {{"date", "2028-06-14"}}, {}},
    {"6/19", saturday, chicago, {{"date", "2027-06-19"}}, {}},
    {"14 June", monday, chicago, {{"date", "2027-06-14"}}, {}},
    {"jun 14th", monday, chicago, {{"date", "2027-06-14"}}, {}},
    {"the fourteenth of june", monday, chicago, {{"date", "2027-06-14"}}, {}},
    {"6/14/28", monday, chicago, {{"date", "2028-06-14"}}, {}},
    {"2027-06-14", monday, chicago, {{"date", "2027-06-14"}}, {}},
    {"june 14, 2028", monday, chicago, {{"date", "2028-06-14"}}, {}},
    // across the year boundary
    {"Jan 2?", dec28, "America/Denver", {{"date", "2028-01-02"}}, {}},
    {"the 3rd?", dec28, "America/Denver", {{"date", "2028-01-03"}}, {}},
    {"feb 29", dec28, "America/Denver", {{"date", "2028-02-29"}}, {}},
    // "the 14th": the next 14th, across a month boundary
    {"is the 14th open", monday, chicago, {{"date", "2027-05-14"}}, {}},
    {"need a dj on the 1st", monday, chicago, {{"date", "2027-06-01"}}, {}},
    {"the 31st?", "2027-06-05T12:00:00-05:00", chicago, {{"date", "2027-07-31"}}, {}},
    // weekdays
    {"this friday?", monday, chicago, {{"date", "2027-05-07"}}, {}},
    {"friday", monday, chicago, {{"date", "2027-05-07"}}, {}},
    {"monday", monday, chicago, {{"date", "2027-05-03"}}, {}},
    {"next monday", monday, chicago, {{"date", "2027-05-10"}}, {}},
    {"next tuesday", monday, chicago, {{"date", "2027-05-11"}}, {}},
    {"next saturday?", friday, "America/Los_Angeles", {{"date", "2027-01-23"}}, {}},
    {"saturday the 16th", wednesday, chicago, {{"date", "2027-10-16"}}, {}},
    {"the second saturday in may", monday, chicago, {{"date", "2027-05-08"}}, {}},
    {"last friday of october", monday, chicago, {{"date", "2027-10-29"}}, {}},
    {"next sunday for a graduation party", saturday, chicago, {{"date", "2027-06-27"}}, {}},
    // relative words
    {"tomorrow night?", monday, chicago, {{"date", "2027-05-04"}}, {}},
    {"free tonight?", monday, chicago, {{"date", "2027-05-03"}}, {}},
    {"day after tomorrow", monday, chicago, {{"date", "2027-05-05"}}, {}},
    {"tomorrow at noon", dec28, "America/Denver", {{"date", "2027-12-29"}}, {}},
  });
}

CAF_TEST(the timezone decides the day) {
  // 02:30 UTC on May 4 is 21:30 on May 3 in Chicago.
  run({
    {"are you free tonight?", "2027-05-04T02:30:00Z", "America/Chicago", {{"date", "2027-05-03"}}, {}},
    {"are you free tonight?", "2027-05-04T02:30:00Z", "UTC", {{"date", "2027-05-04"}}, {}},
    {"tomorrow?", "2027-05-04T02:30:00Z", "America/Chicago", {{"date", "2027-05-04"}}, {}},
    {"tomorrow?", "2027-05-04T02:30:00Z", "UTC", {{"date", "2027-05-05"}}, {}},
    // DST: 05:30 UTC on March 15 2027 is 00:30 CDT (the 15th); with the winter offset it
    // would still be the 14th.
    {"what about today?", "2027-03-15T05:30:00Z", "America/Chicago", {{"date", "2027-03-15"}}, {}},
    // The night before the switch, 05:30 UTC is 23:30 CST on the 13th.
    {"what about today?", "2027-03-14T05:30:00Z", "America/Chicago", {{"date", "2027-03-13"}}, {}},
    // Fall back: 05:30 UTC on Nov 7 2027 is 00:30 CDT on the 7th.
    {"today?", "2027-11-07T05:30:00Z", "America/Chicago", {{"date", "2027-11-07"}}, {}},
    // An unknown zone falls back to UTC instead of failing.
    {"tonight?", "2027-05-04T02:30:00Z", "Mars/Olympus_Mons", {{"date", "2027-05-04"}}, {}},
  });
}

CAF_TEST(named holidays resolve to their next occurrence) {
  run({
    {"Can you do Memorial Day?", monday, chicago, {{"date", "2027-05-31"}}, {}},
    {"what about easter sunday?", monday, chicago, {{"date", "2028-04-16"}}, {}},
    {"Easter?", friday, "America/Los_Angeles", {{"date", "2027-03-28"}}, {}},
    {"Father's Day brunch", monday, chicago, {{"date", "2027-06-20"}}, {}},
    {"fathers day", dec28, "America/Denver", {{"date", "2028-06-18"}}, {}},
    {"mother's day", monday, chicago, {{"date", "2027-05-09"}}, {}},
    {"New Year's Day brunch", thanksgiving26, chicago, {{"date", "2027-01-01"}}, {}},
    {"new years eve?", monday, chicago, {{"date", "2027-12-31"}}, {}},
    {"NYE", monday, chicago, {{"date", "2027-12-31"}}, {}},
    {"the day after thanksgiving", wednesday, chicago, {{"date", "2027-11-26"}}, {}},
    {"black friday", thanksgiving26, chicago, {{"date", "2026-11-27"}}, {}},
    {"happy thanksgiving! free the day after thanksgiving?", thanksgiving26, chicago,
     {{"date", "2026-11-27"}}, {}},
    {"thanksgiving", dec28, "America/Denver", {{"date", "2028-11-23"}}, {}},
    {"labor day", monday, chicago, {{"date", "2027-09-06"}}, {}},
    {"Labor day 2028", dec28, "America/Denver", {{"date", "2028-09-04"}}, {}},
    {"christmas day?", monday, chicago, {{"date", "2027-12-25"}}, {}},
    {"Christmas Eve?", monday, chicago, {{"date", "2027-12-24"}}, {}},
    {"4th of july", monday, chicago, {{"date", "2027-07-04"}}, {}},
    {"July 4th", monday, chicago, {{"date", "2027-07-04"}}, {}},
    {"independence day", monday, chicago, {{"date", "2027-07-04"}}, {}},
    {"halloween?", monday, chicago, {{"date", "2027-10-31"}}, {}},
    {"valentine's day", monday, chicago, {{"date", "2028-02-14"}}, {}},
    {"mlk day", monday, chicago, {{"date", "2028-01-17"}}, {}},
    {"presidents day", monday, chicago, {{"date", "2028-02-21"}}, {}},
    {"columbus day", monday, chicago, {{"date", "2027-10-11"}}, {}},
    {"veterans day", monday, chicago, {{"date", "2027-11-11"}}, {}},
    {"juneteenth", monday, chicago, {{"date", "2027-06-19"}}, {}},
    {"the friday before memorial day", monday, chicago, {{"date", "2027-05-28"}}, {}},
    {"the saturday after thanksgiving", wednesday, chicago, {{"date", "2027-11-27"}}, {}},
    // a themed party on another day
    {"valentines party saturday night", "2027-02-10T14:20:00-06:00", chicago,
     {{"date", "2027-02-13"}}, {}},
  });
}

CAF_TEST(dates that are not one day are left out) {
  run({
    {"do you have next saturday open", monday, chicago, {}, {"date"}},
    {"next saturday", wednesday, chicago, {}, {"date"}},
    {"Looking at dates: june 12 or june 19", monday, chicago, {}, {"date"}},
    {"june 14 or 15", monday, chicago, {}, {"date"}},
    {"june 14-15", monday, chicago, {}, {"date"}},
    {"the 14th or the 15th", monday, chicago, {}, {"date"}},
    {"Looking at the 10th, 17th, or 24th", monday, chicago, {}, {"date"}},
    {"tuesday or wednesday works", monday, chicago, {}, {"date"}},
    {"a weekend in June, not sure which", monday, chicago, {}, {"date"}},
    {"any saturday in june", monday, chicago, {}, {"date"}},
    {"is Labor Day weekend open?", monday, chicago, {}, {"date"}},
    {"the weekend of the 16th", wednesday, chicago, {}, {"date"}},
    {"this weekend?", monday, chicago, {}, {"date"}},
    {"its on the 4th of july weekend", monday, chicago, {}, {"date"}},
    {"halloween party at my house", monday, chicago, {}, {"date"}},
    {"I'll send the deposit tomorrow", monday, chicago, {}, {"date"}},
    {"our brewery needs a DJ saturday nights", monday, chicago, {}, {"date"}},
    {"we need 1 1/2 hours", monday, chicago, {}, {"date"}},
    {"we're open 24/7", monday, chicago, {}, {"date"}},
  });
}

CAF_TEST(start times) {
  run({
    {"7pm", monday, chicago, {{"time", "19:00"}}, {}},
    {"starts 7:30 p.m.", monday, chicago, {{"time", "19:30"}}, {}},
    {"19:00 start", monday, chicago, {{"time", "19:00"}}, {}},
    {"music at 730pm", monday, chicago, {{"time", "19:30"}}, {}},
    {"noon to 4", monday, chicago, {{"time", "12:00"}, {"hours", 4}}, {}},
    // a bare hour is pm unless the message speaks of the morning
    {"can you be there at 7", monday, chicago, {{"time", "19:00"}}, {}},
    {"brunch at 10", monday, chicago, {{"time", "10:00"}}, {}},
    {"Good morning! party 7-10", monday, chicago, {{"time", "19:00"}, {"hours", 3}}, {}},
    {"8 o'clock", monday, chicago, {{"time", "20:00"}}, {}},
    // ceremony and setup times are not the DJ's start; end times are not starts
    {"ceremony at 4, reception at 6", monday, chicago, {{"time", "18:00"}}, {}},
    {"setup at 5, party at 7", monday, chicago, {{"time", "19:00"}}, {}},
    {"party starts at 9 and goes til 2am", monday, chicago, {{"time", "21:00"}, {"hours", 5}}, {}},
    // a changed start replaces the old one
    {"can we cancel the 7pm start and do 8", monday, chicago, {{"time", "20:00"}}, {}},
    {"can we push the start to 7", monday, chicago, {{"time", "19:00"}}, {}},
    {"move it from 7 to 8", monday, chicago, {{"time", "20:00"}}, {"hours"}},
    // not times
    {"$7 per guest", monday, chicago, {}, {"time"}},
    {"150 guests at 6/14", monday, chicago, {}, {"time"}},
  });
}

CAF_TEST(hours of dj service) {
  run({
    {"whats ur rate for 4 hrs", monday, chicago, {{"hours", 4}}, {}},
    {"four hours", monday, chicago, {{"hours", 4}}, {}},
    {"a 5-hour package", monday, chicago, {{"hours", 5}}, {}},
    {"6pm to midnight", monday, chicago, {{"hours", 6}, {"time", "18:00"}}, {}},
    {"7-11", monday, chicago, {{"hours", 4}, {"time", "19:00"}}, {}},
    {"7-11pm", monday, chicago, {{"hours", 4}, {"time", "19:00"}}, {}},
    {"11-2am", monday, chicago, {{"hours", 3}, {"time", "23:00"}}, {}},
    {"10am-2pm", monday, chicago, {{"hours", 4}, {"time", "10:00"}}, {}},
    {"from 5:30pm to 10pm", monday, chicago, {{"hours", 4.5}, {"time", "17:30"}}, {}},
    {"between 6 and 10", monday, chicago, {{"hours", 4}, {"time", "18:00"}}, {}},
    {"45 min", monday, chicago, {{"hours", 0.75}}, {}},
    {"a 90 minute set", monday, chicago, {{"hours", 1.5}}, {}},
    {"an hour and a half", monday, chicago, {{"hours", 1.5}}, {}},
    {"2 and a half hours", monday, chicago, {{"hours", 2.5}}, {}},
    {"2.5 hrs", monday, chicago, {{"hours", 2.5}}, {}},
    {"half an hour", monday, chicago, {{"hours", 0.5}}, {}},
    {"can you do 2 sets of 45 minutes", monday, chicago, {{"hours", 1.5}}, {"time"}},
    {"6:30 pm start, done by 10:30", monday, chicago, {{"hours", 4}, {"time", "18:30"}}, {}},
    // durations that are not DJ service
    {"a 2 hour drive from memphis", monday, chicago, {}, {"hours"}},
    {"we're 3 hours away", monday, chicago, {}, {"hours"}},
    {"can you call back in 2 hours", monday, chicago, {}, {"hours"}},
    {"can we add an extra hour", monday, chicago, {}, {"hours"}},
    {"$150 an hour?", monday, chicago, {}, {"hours"}},
    {"3-4 hours", monday, chicago, {}, {"hours"}},
    {"a 2 hour drive, need 5 hrs of music", monday, chicago, {{"hours", 5}}, {}},
    {"ages 7-11", monday, chicago, {}, {"hours", "time"}},
  });
}

CAF_TEST(guests) {
  run({
    {"150 guests", monday, chicago, {{"guests", 150}}, {}},
    {"about two hundred people", monday, chicago, {{"guests", 200}}, {}},
    {"~80 ppl", monday, chicago, {{"guests", 80}}, {}},
    {"a hundred and twenty", monday, chicago, {}, {"guests"}},
    {"a hundred and twenty guests", monday, chicago, {{"guests", 120}}, {}},
    {"two dozen people", monday, chicago, {{"guests", 24}}, {}},
    {"roughly 2,000 people", monday, chicago, {{"guests", 2000}}, {}},
    {"150+ guests", monday, chicago, {{"guests", 150}}, {}},
    {"headcount is 85", monday, chicago, {{"guests", 85}}, {}},
    {"expecting around 75", monday, chicago, {{"guests", 75}}, {}},
    {"party of 12", monday, chicago, {{"guests", 12}}, {}},
    {"50 adults and 20 kids", monday, chicago, {{"guests", 70}}, {}},
    {"may 15, 300 students", monday, chicago, {{"guests", 300}}, {}},
    {"100-150 guests", monday, chicago, {}, {"guests"}},
    {"$150 people price?", monday, chicago, {}, {"guests"}},
  });
}

CAF_TEST(event types follow the agents mapping) {
  std::vector<std::pair<std::string, std::string>> cases = {
    {"our wedding reception", "wedding"},
    {"company holiday party", "corporate"},
    {"christmas party for our office", "corporate"},
    {"my 30th birthday", "birthday"},
    {"sweet sixteen", "birthday"},
    {"it's my 40th!", "birthday"},
    {"prom", "school_dance"},
    {"homecoming dance", "school_dance"},
    {"winter formal", "school_dance"},
    {"quince", "quinceanera"},
    {"quinceañera", "quinceanera"},
    {"bat mitzvah", "mitzvah"},
    {"b'nai mitzvah", "mitzvah"},
    {"graduation party", "private_party"},
    {"retirement party for our CFO at the company", "private_party"},
    {"50th wedding anniversary", "private_party"},
    {"family reunion", "private_party"},
    {"engagement party", "private_party"},
    {"house party", "private_party"},
    {"bar gig", "club"},
    {"our brewery", "club"},
    {"gala", "other"},
    {"block party", "other"},
    {"church dance", "other"},
    {"my weddin", "wedding"},
    {"Homecomming", "school_dance"},
    {"a surprise 40th for my husband", "birthday"},
    {"our annual company crawfish boil", "corporate"},
    {"baptism party", "private_party"},
  };
  for (const auto& [text, kind] : cases) {
    auto got = extract_entities(text, at(monday), chicago);
    auto have = got.value("event_type", std::string("(absent)"));
    CAF_MESSAGE(text);
    CAF_CHECK_EQUAL(have, kind);
  }
  for (std::string text : {"a formal wedding", "semi-formal attire please"}) {
    auto got = extract_entities(text, at(monday), chicago);
    auto have = got.value("event_type", std::string("(absent)"));
    CAF_CHECK_NOT_EQUAL(have, std::string("school_dance"));
  }
  for (std::string text : {"whats your rate", "are you free june 14", "an open bar",
                           "we were quoted $1,800 by another company"}) {
    auto got = extract_entities(text, at(monday), chicago);
    auto present = got.contains("event_type");
    CAF_MESSAGE(text);
    CAF_CHECK(!present);
  }
}

CAF_TEST(venue name email) {
  run({
    {"wedding at the Peabody Hotel on june 14", monday, chicago, {{"venue", "Peabody Hotel"}}, {}},
    {"party at Graceland", monday, chicago, {{"venue", "Graceland"}}, {}},
    {"venue is The Guest House", monday, chicago, {{"venue", "The Guest House"}}, {}},
    {"at the VFW hall", monday, chicago, {{"venue", "VFW hall"}}, {}},
    {"at the peabody hotel in memphis", monday, chicago, {{"venue", "peabody hotel"}}, {}},
    {"party at my house", monday, chicago, {}, {"venue"}},
    {"see you at 7pm", monday, chicago, {}, {"venue"}},
    {"email me at ANGELA.W@ICLOUD.COM", monday, chicago, {{"email", "ANGELA.W@ICLOUD.COM"}}, {"venue"}},
    {"this is Maria", monday, chicago, {{"name", "Maria"}}, {}},
    {"my name is John Smith and i need a dj", monday, chicago, {{"name", "John Smith"}}, {}},
    {"my name is derek and i need a dj", monday, chicago, {{"name", "derek"}}, {}},
    {"quote for a wedding please - Tasha", monday, chicago, {{"name", "Tasha"}}, {}},
    {"Thank you,\nSamantha Reed", monday, chicago, {{"name", "Samantha Reed"}}, {}},
    {"hi, Jordan here", monday, chicago, {{"name", "Jordan"}}, {}},
    {"this is a birthday party", monday, chicago, {}, {"name"}},
    {"I'm interested in booking", monday, chicago, {}, {"name"}},
    {"Hi Mike, quick question", monday, chicago, {}, {"name"}},
    {"her name is Emily", monday, chicago, {}, {"name"}},
    {"jenny.lee+dj@outlook.com is my email", monday, chicago,
     {{"email", "jenny.lee+dj@outlook.com"}}, {}},
  });
}

CAF_TEST(budget only when the customer states it) {
  run({
    {"budget is around $800", monday, chicago, {{"budget_cents", 80000}}, {}},
    {"we have 1.5k", monday, chicago, {{"budget_cents", 150000}}, {}},
    {"our budget is two thousand", monday, chicago, {{"budget_cents", 200000}}, {}},
    {"$1200 budget", monday, chicago, {{"budget_cents", 120000}}, {}},
    {"we can spend up to $1,200", monday, chicago, {{"budget_cents", 120000}}, {}},
    {"can you do it for $700?", monday, chicago, {{"budget_cents", 70000}}, {}},
    {"ur quote was 1100 but we can only do 900", monday, chicago, {{"budget_cents", 90000}}, {}},
    {"you quoted $900, we only have $700", monday, chicago, {{"budget_cents", 70000}}, {}},
    {"is $650 doable?", monday, chicago, {{"budget_cents", 65000}}, {}},
    {"you quoted $900 last week", monday, chicago, {}, {"budget_cents"}},
    {"I sent the $250 deposit", monday, chicago, {}, {"budget_cents"}},
    {"is the balance of $600 due before the event?", monday, chicago, {}, {"budget_cents"}},
    {"your price of $1,400 is more than we have", monday, chicago, {}, {"budget_cents"}},
    {"we have 150 guests", monday, chicago, {}, {"budget_cents"}},
    {"My budget is $2,000-2,500", monday, chicago, {}, {"budget_cents"}},
    {"Can you do a 45-minute set?", monday, chicago, {}, {"budget_cents"}},
  });
}

CAF_TEST(a message states only what it says) {
  for (std::string text : {"", "hi", "who is this?", "yes", "STOP", "ok sounds good"}) {
    auto got = extract_entities(text, at(monday), chicago);
    auto dumped = got.dump();
    CAF_MESSAGE("'" << text << "'");
    CAF_CHECK_EQUAL(dumped, "{}");
  }
  // Long and binary input neither crashes nor hangs.
  std::string junk(5000, 'x');
  junk += "\xff\xfe june 14 \xe2\x80\x99";
  auto got = extract_entities(junk, at(monday), chicago);
  CAF_CHECK(got.is_object());
}

CAF_TEST(evaluation set accuracy per entity) {
  std::ifstream in(DJDASH_SOURCE_DIR "/agents/corpus/entities_eval.jsonl");
  CAF_REQUIRE(in.good());
  // Per key: correct / lines where the label or the extractor has the key (a wrong extra key
  // counts against the extractor as much as a missed one).
  std::map<std::string, std::pair<int, int>> score;
  std::string line;
  int rows = 0;
  while (std::getline(in, line)) {
    if (line.empty())
      continue;
    auto row = json::parse(line, nullptr, false);
    CAF_REQUIRE(!row.is_discarded());
    auto text = row["text"].get<std::string>();
    auto now = row["now"].get<std::string>();
    auto tz = row["tz"].get<std::string>();
    auto expected = row["entities"];
    auto got = extract_entities(text, at(now), tz);
    ++rows;
    for (const char* key : {"date", "time", "hours", "guests", "event_type", "venue", "name", "email",
                            "budget_cents"}) {
      bool e = expected.contains(key), g = got.contains(key);
      if (!e && !g)
        continue;
      auto& s = score[key];
      ++s.second;
      if (e && g && expected[key] == got[key])
        ++s.first;
      else
        CAF_MESSAGE("miss " << key << ": '" << text << "' expected "
                            << (e ? expected[key].dump() : "(absent)") << " got "
                            << (g ? got[key].dump() : "(absent)"));
    }
  }
  CAF_CHECK(rows >= 200);
  CAF_CHECK_EQUAL(score.size(), 9u); // every entity kind is labelled somewhere
  for (const auto& [key, s] : score) {
    double accuracy = static_cast<double>(s.first) / s.second;
    CAF_MESSAGE(key << ": " << s.first << "/" << s.second << " = " << accuracy * 100 << "%");
    CAF_CHECK_GREATER_OR_EQUAL(accuracy, 0.95);
  }
}
