#define CAF_SUITE agents.intent_model

#include "agents/intent_model.hpp"

#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "agents/classifier.hpp"
#include "support/caf_test.hpp"

using namespace djdash::agents;

namespace {

struct labelled {
  std::string intent;
  std::string text;
};

/// The held-out set: written apart from the training corpus and never compiled into the model.
std::vector<labelled> heldout() {
  std::vector<labelled> out;
  std::ifstream in(DJDASH_SOURCE_DIR "/agents/corpus/intents_heldout.txt");
  std::string line;
  while (std::getline(in, line)) {
    auto space = line.find(' ');
    if (line.rfind("__label__", 0) == 0 && space != std::string::npos)
      out.push_back({line.substr(9, space - 9), line.substr(space + 1)});
  }
  return out;
}

/// Returns whether some training line has exactly `text` (whatever its label).
bool in_corpus(const std::string& text) {
  std::istringstream in{std::string{embedded_intent_corpus()}};
  std::string line;
  while (std::getline(in, line)) {
    auto space = line.find(' ');
    if (space != std::string::npos && line.compare(space + 1, std::string::npos, text) == 0)
      return true;
  }
  return false;
}

} // namespace

CAF_TEST(normalization keeps words and the shape of numbers) {
  auto a = normalize_sms("Hey!! R U free 6/14?? 🎉 It's at 7:30pm, $1,200 budget");
  CAF_CHECK_EQUAL(a, "hey r u free 0/00 ? its at 0:00pm $0,000 budget");
  auto b = normalize_sms("Quinceañera — email me: Maria.G@Gmail.com or see www.site.com");
  CAF_CHECK_EQUAL(b, "quinceanera email me emailaddr or see urladdr");
  auto c = normalize_sms("don’t STOP the music");
  CAF_CHECK_EQUAL(c, "dont stop the music");
  auto d = normalize_sms("😂😂");
  CAF_CHECK_EQUAL(d, "");
}

CAF_TEST(the held-out set is not part of the training corpus) {
  auto set = heldout();
  CAF_REQUIRE_GREATER_OR_EQUAL(set.size(), 360u);
  int copied = 0;
  for (auto& x : set)
    copied += in_corpus(x.text);
  CAF_CHECK_EQUAL(copied, 0);
}

CAF_TEST(held-out intent accuracy is at least 95 percent) {
  auto set = heldout();
  CAF_REQUIRE(!set.empty());
  auto model = default_intent_model();
  auto now = sys_seconds{std::chrono::seconds{1780000000}};
  std::size_t right = 0;
  for (auto& x : set) {
    auto got = classify(*model, x.text, now, "America/Chicago")["intent"].get<std::string>();
    right += got == x.intent;
    if (got != x.intent)
      CAF_MESSAGE("missed: " << x.intent << " -> " << got << ": " << x.text);
  }
  auto accuracy = double(right) / set.size();
  CAF_MESSAGE("held-out accuracy " << accuracy * 100 << "% (" << right << "/" << set.size()
                                   << ")");
  CAF_CHECK_GREATER_OR_EQUAL(accuracy, 0.95);
}

CAF_TEST(training is deterministic) {
  intent_model_options small;
  small.epoch = 5;  // a quicker model is enough to compare two trainings
  intent_model a(embedded_intent_corpus(), small);
  intent_model b(embedded_intent_corpus(), small);
  for (auto& x : heldout()) {
    auto pa = a.predict(x.text);
    auto pb = b.predict(x.text);
    CAF_CHECK_EQUAL(pa.intent, pb.intent);
    CAF_CHECK_EQUAL(pa.probability, pb.probability);
  }
}

CAF_TEST(concurrent predictions equal sequential ones) {
  auto model = default_intent_model();
  auto set = heldout();
  std::vector<intent_prediction> expected;
  for (auto& x : set)
    expected.push_back(model->predict(x.text));
  std::vector<int> mismatches(4, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int round = 0; round < 5; ++round)
        for (std::size_t i = 0; i < set.size(); ++i) {
          auto p = model->predict(set[i].text);
          mismatches[t] += p.intent != expected[i].intent
                           || p.probability != expected[i].probability;
        }
    });
  for (auto& th : threads)
    th.join();
  for (int m : mismatches)
    CAF_CHECK_EQUAL(m, 0);
}

CAF_TEST(any input gives one of the six intents) {
  auto model = default_intent_model();
  std::string long_text(5000, 'a');
  std::string binary{"\xff\xfe\x00\x01\xc3", 5};
  for (const std::string& text : {std::string{}, std::string{"   "}, long_text, binary,
                                  std::string{"\xf0\x9f\x8e\x89"}}) {
    auto p = model->predict(text);
    bool known = false;
    for (auto* n : intent_names)
      known = known || p.intent == n;
    CAF_CHECK(known);
    CAF_CHECK(p.probability >= 0.0 && p.probability <= 1.0001);
  }
}
