#define CAF_SUITE agents.classifier

#include "agents/classifier.hpp"

#include <string>
#include <vector>

#include "support/caf_test.hpp"

using namespace djdash::agents;
using json = nlohmann::json;

namespace {

// Tuesday 2026-05-12 15:00 UTC, 10:00 in Chicago.
const auto tuesday = sys_seconds{std::chrono::seconds{1778598000}};

std::string intent_of(const std::string& text) {
  return classify(*default_intent_model(), text, tuesday, "America/Chicago")["intent"];
}

struct case_t {
  const char* text;
  const char* intent;
};

void check_all(const std::vector<case_t>& cases) {
  for (auto& c : cases) {
    auto got = intent_of(c.text);
    CAF_CHECK_EQUAL(got, c.intent);
    if (got != c.intent)
      CAF_MESSAGE("for: " << c.text);
  }
}

} // namespace

CAF_TEST(opt-out requests are optout with full confidence) {
  for (auto* text : {"STOP", "Unsubscribe", "please stop texting me",
                     "remove me from your list"}) {
    auto r = classify(*default_intent_model(), text, tuesday, "America/Chicago");
    auto intent = r["intent"].get<std::string>();
    auto confidence = r["confidence"].get<double>();
    CAF_CHECK_EQUAL(intent, "optout");
    CAF_CHECK_EQUAL(confidence, 1.0);
  }
}

CAF_TEST(the traps of AGENTS.md) {
  check_all({
    {"can you stop by the venue before the reception to check the power?", "followup"},
    {"please don't stop the music until 11, we paid for the extra hour", "followup"},
    {"not looking to book yet, just prices", "pricing"},
    {"not ready to book, just want prices", "pricing"},
    {"can you book a table for us", "other"},
    {"Vote YES on Measure B this Tuesday! Reply STOP to opt out", "other"},
    {"Huge sale this weekend only, 50% off! Reply STOP to unsubscribe", "other"},
    {"yes", "booking"},
    {"ok sounds good", "booking"},
  });
}

CAF_TEST(available quote and confirm appear in every intent) {
  check_all({
    {"are you available on june 14?", "availability"},
    {"can you confirm whether the 20th is open", "availability"},
    {"can I get a quote for a 4 hour birthday party", "pricing"},
    {"what packages do you have available", "pricing"},
    {"we accept your quote, please book us", "booking"},
    {"please confirm our booking for the 12th, deposit sent", "booking"},
    {"did you ever send the quote?", "followup"},
    {"just confirming you got our song list", "followup"},
    {"Get a free quote on car insurance today! Reply STOP to opt out", "other"},
    {"Your appointment is confirmed for Monday. Reply C to confirm", "other"},
  });
}

CAF_TEST(entities come from the rules) {
  auto r = classify(*default_intent_model(), "are you free june 14? its a wedding", tuesday,
                    "America/Chicago");
  auto intent = r["intent"].get<std::string>();
  auto date = r["entities"].value("date", "");
  auto type = r["entities"].value("event_type", "");
  CAF_CHECK_EQUAL(intent, "availability");
  CAF_CHECK_EQUAL(date, "2026-06-14");
  CAF_CHECK_EQUAL(type, "wedding");
  auto conf = r["confidence"].get<double>();
  CAF_CHECK(conf > 0.0 && conf <= 1.0);
}

CAF_TEST(rfc 3339 times) {
  auto a = parse_rfc3339("2026-05-12T10:00:00-05:00");
  CAF_REQUIRE(a);
  CAF_CHECK_EQUAL(a->time_since_epoch().count(), 1778598000);
  auto b = parse_rfc3339("2026-05-12T15:00:00.123Z");
  CAF_REQUIRE(b);
  CAF_CHECK_EQUAL(b->time_since_epoch().count(), 1778598000);
  for (auto* bad : {"", "2026-05-12", "2026-02-30T10:00:00Z", "2026-05-12T24:00:00Z",
                    "2026-05-12T10:00:00", "2026-05-12T10:00:00+5", "tomorrow",
                    "2026-05-12T10:00:00Zjunk", "2026-13-01T00:00:00Z"})
    CAF_CHECK(!parse_rfc3339(bad));
}

CAF_TEST(an llm answer is used only when it is a valid classification) {
  json local{{"intent", "pricing"}, {"confidence", 0.6}, {"entities", {{"hours", 4}}}};
  auto ok = accept_llm_answer(
    R"({"intent":"booking","confidence":0.9,"entities":{"guests":120,"hours":5,"date":7}})",
    local);
  CAF_REQUIRE(ok);
  auto intent = (*ok)["intent"].get<std::string>();
  auto hours = (*ok)["entities"]["hours"].get<double>();
  auto guests = (*ok)["entities"]["guests"].get<int>();
  auto has_date = (*ok)["entities"].contains("date");
  CAF_CHECK_EQUAL(intent, "booking");
  CAF_CHECK_EQUAL(hours, 4.0);  // the rules win
  CAF_CHECK_EQUAL(guests, 120);
  CAF_CHECK(!has_date);         // wrong type, dropped
  for (auto* bad : {"", "not json", "[]", R"({"intent":"party","confidence":0.9})",
                    R"({"intent":"booking","confidence":1.5})", R"({"intent":"booking"})"})
    CAF_CHECK(!accept_llm_answer(bad, local));
  json optout{{"intent", "optout"}, {"confidence", 1.0}, {"entities", json::object()}};
  auto kept = accept_llm_answer(R"({"intent":"booking","confidence":0.99})", optout);
  CAF_REQUIRE(kept);
  auto kept_intent = (*kept)["intent"].get<std::string>();
  CAF_CHECK_EQUAL(kept_intent, "optout");
}
