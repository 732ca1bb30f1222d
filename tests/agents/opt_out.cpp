#define CAF_SUITE agents.opt_out

#include "agents/opt_out.hpp"

#include <string>
#include <vector>

#include "support/caf_test.hpp"

using namespace djdash::agents;

namespace {

struct row {
  std::string text;
  bool expected;
};

} // namespace

CAF_TEST(twilio keywords as the whole message are opt - outs) {
  std::vector<row> rows = {
    {"STOP", true},        {"stop", true},          {" Stop. ", true},   {"STOP!!!", true},
    {"StopAll", true},     {"stop all", true},      {"UNSUBSCRIBE", true}, {"Cancel", true},
    {"END", true},         {"quit", true},          {"optout", true},    {"Opt-Out", true},
    {"REVOKE", true},      {"stop please", true},   {"please stop", true}, {"STOP it", true},
    {"pls stop!", true},
  };
  for (const auto& r : rows) {
    auto got = is_opt_out(r.text);
    CAF_MESSAGE("'" << r.text << "'");
    CAF_CHECK_EQUAL(got, r.expected);
  }
}

CAF_TEST(plain language opt - outs) {
  std::vector<row> rows = {
    {"please stop texting me", true},
    {"Please stop texting me.", true},
    {"stop messaging me", true},
    {"can you stop sending me these texts", true},
    {"remove me from your list", true},
    {"Remove my number from your contacts please", true},
    {"take me off your list", true},
    {"dont text me again", true},
    {"Don't text me again!", true},
    {"do not contact me anymore", true},
    {"unsubscribe me", true},
    {"how do i unsubscribe", true},
    {"opt me out", true},
    {"i want to opt out", true},
    {"no more texts please", true},
    {"wrong number, please stop texting", true},
    {"quit texting me", true},
    {"lose my number", true},
    {"I said STOP. stop texting me", true},
    {"Wrong number. STOP", true},
    {"not interested, unsubscribe", true},
    {"STOP TEXTING ME!!!", true},
  };
  for (const auto& r : rows) {
    auto got = is_opt_out(r.text);
    CAF_MESSAGE("'" << r.text << "'");
    CAF_CHECK_EQUAL(got, r.expected);
  }
}

CAF_TEST(traps are not opt - outs) {
  std::vector<row> rows = {
    {"can you stop by the venue friday to check the power", false},
    {"please stop by the venue before 5", false},
    {"don't stop the music till midnight!", false},
    {"can we cancel the 7pm start and do 8", false},
    {"I need to cancel my booking for june 14", false},
    {"Vote YES on Measure B for better parks! Reply STOP to opt out", false},
    {"Flash sale 50% off tuxes this weekend. Txt STOP to unsubscribe", false},
    {"Your code is 1234. Reply STOP to end, HELP for help", false},
    {"Big sale today only! To opt out reply: STOP", false},
    {"to unsubscribe text END", false},
    {"Reply Y to confirm your spot, STOP to opt out", false},
    {"Reply YES for a callback, STOP to unsubscribe", false},
    {"what time does the party end", false},
    {"we want to end the night with a slow song", false},
    {"don't text me, call me instead at 901-555-0100", false},
    {"stop", true},
    {"are you free june 14?", false},
    {"", false},
    {"yes", false},
    {"non stop dancing all night please", false},
    {"can the music stop at 11", false},
  };
  for (const auto& r : rows) {
    auto got = is_opt_out(r.text);
    CAF_MESSAGE("'" << r.text << "'");
    CAF_CHECK_EQUAL(got, r.expected);
  }
}

CAF_TEST(opt - in and help keywords) {
  std::vector<std::pair<std::string, bool>> in = {
    {"START", true},  {"start", true},  {"Unstop", true}, {"YES", true}, {"yes!", true},
    {"start time is 7", false}, {"yes we are free", false}, {"STOP", false}, {"", false}};
  for (const auto& [text, expected] : in) {
    auto got = is_opt_in(text);
    CAF_MESSAGE("'" << text << "'");
    CAF_CHECK_EQUAL(got, expected);
  }
  std::vector<std::pair<std::string, bool>> help = {
    {"HELP", true}, {"help", true}, {"Info", true}, {"info?", true},
    {"can you help me plan the playlist", false}, {"more info on packages", false},
    {"STOP", false}};
  for (const auto& [text, expected] : help) {
    auto got = is_help(text);
    CAF_MESSAGE("'" << text << "'");
    CAF_CHECK_EQUAL(got, expected);
  }
}
