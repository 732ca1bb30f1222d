#define CAF_SUITE agents.classifier_actor

#include "agents/classifier_actor.hpp"

#include <atomic>
#include <memory>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <nlohmann/json.hpp>

#include "agents/classifier.hpp"
#include "config/app_config.hpp"
#include "protocols/app_errc.hpp"
#include "support/caf_test.hpp"

using namespace djdash;
using namespace djdash::agents;
using json = nlohmann::json;

namespace {

constexpr auto now = "2026-05-12T10:00:00-05:00";
constexpr auto tz = "America/Chicago";

struct silent_state {
  std::vector<caf::response_promise> pending;  // kept, never delivered
  static inline const char* name = "silent_llm";
};

/// An LLM backend that never answers.
llm_actor::behavior_type silent_llm(llm_actor::stateful_pointer<silent_state> self,
                                    std::shared_ptr<std::atomic<int>> calls) {
  return {
    [=](llm_atom, const std::string&, const std::string&,
        const std::string&) -> caf::result<std::string> {
      ++*calls;
      auto rp = self->make_response_promise<std::string>();
      self->state.pending.push_back(rp);
      return rp;
    },
  };
}

/// An LLM backend that always answers `answer`.
llm_actor::behavior_type fixed_llm(std::string answer, std::shared_ptr<std::atomic<int>> calls) {
  return {
    [=](llm_atom, const std::string&, const std::string&, const std::string&) {
      ++*calls;
      return answer;
    },
  };
}

struct fixture {
  app_config cfg;
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  std::shared_ptr<std::atomic<int>> calls = std::make_shared<std::atomic<int>>(0);

  classifier_actor spawn(llm_actor llm, std::chrono::milliseconds deadline) {
    classifier_options opts;
    opts.llm_deadline = deadline;
    opts.workers = 2;
    return spawn_classifier(sys, std::move(llm), opts);
  }

  /// Asks and returns the JSON answer, or the error's app_errc as {"error": code}.
  json ask(const classifier_actor& c, const std::string& text, const std::string& at = now) {
    json out;
    self->request(c, std::chrono::seconds(30), classify_atom_v, text, at, std::string{tz})
      .receive([&](const std::string& s) { out = json::parse(s); },
               [&](const caf::error& err) { out = {{"error", to_string(app_code(err))}}; });
    return out;
  }

  json local(const std::string& text) {
    return classify(*default_intent_model(), text, *parse_rfc3339(now), tz);
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(classifier_actor_tests, fixture)

CAF_TEST(without an llm the local model answers) {
  auto c = spawn(llm_actor{}, std::chrono::milliseconds(1500));
  auto got = ask(c, "how much for a 4 hour wedding on june 14?");
  auto want = local("how much for a 4 hour wedding on june 14?");
  CAF_CHECK_EQUAL(got.dump(), want.dump());
  auto intent = got["intent"].get<std::string>();
  CAF_CHECK_EQUAL(intent, "pricing");
  auto date = got["entities"].value("date", "");
  CAF_CHECK_EQUAL(date, "2026-06-14");
}

CAF_TEST(an llm that never answers falls back to the local model at the deadline) {
  auto llm = sys.spawn(silent_llm, calls);
  auto c = spawn(llm, std::chrono::milliseconds(200));
  auto got = ask(c, "are you free saturday the 20th?");
  auto want = local("are you free saturday the 20th?");
  CAF_CHECK_EQUAL(got.dump(), want.dump());
  CAF_CHECK_EQUAL(calls->load(), 1);
  caf::anon_send_exit(llm, caf::exit_reason::user_shutdown);
}

CAF_TEST(a valid llm answer wins and a broken one is ignored) {
  auto good = sys.spawn(fixed_llm, std::string{R"({"intent":"followup","confidence":0.8,
    "entities":{"guests":90}})"}, calls);
  auto c = spawn(good, std::chrono::milliseconds(1500));
  auto got = ask(c, "we're now expecting 90 guests");
  auto intent = got["intent"].get<std::string>();
  auto guests = got["entities"].value("guests", 0);
  CAF_CHECK_EQUAL(intent, "followup");
  CAF_CHECK_EQUAL(guests, 90);
  auto bad = sys.spawn(fixed_llm, std::string{"I think it is a booking"}, calls);
  auto c2 = spawn(bad, std::chrono::milliseconds(1500));
  auto got2 = ask(c2, "how much for 5 hours");
  auto want2 = local("how much for 5 hours");
  CAF_CHECK_EQUAL(got2.dump(), want2.dump());
}

CAF_TEST(opt-outs never reach the llm) {
  auto llm = sys.spawn(fixed_llm, std::string{R"({"intent":"booking","confidence":0.99})"},
                       calls);
  auto c = spawn(llm, std::chrono::milliseconds(1500));
  auto got = ask(c, "STOP");
  auto intent = got["intent"].get<std::string>();
  CAF_CHECK_EQUAL(intent, "optout");
  CAF_CHECK_EQUAL(calls->load(), 0);
}

CAF_TEST(a now that is not rfc 3339 is a bad request) {
  auto c = spawn(llm_actor{}, std::chrono::milliseconds(1500));
  auto got = ask(c, "are you free june 14", "june 1st");
  auto code = got.value("error", "");
  CAF_CHECK_EQUAL(code, "bad_request");
}

CAF_TEST(many concurrent requests all get answers) {
  auto c = spawn(llm_actor{}, std::chrono::milliseconds(1500));
  const std::vector<std::string> texts{"are you free 6/14", "how much for 4 hrs",
                                       "lets book it", "can we push start to 7",
                                       "who is this", "STOP"};
  constexpr int n = 3000;
  for (int i = 0; i < n; ++i)
    self->send(c, classify_atom_v, texts[i % texts.size()], std::string{now}, std::string{tz});
  int received = 0;
  int answers = 0;
  auto start = std::chrono::steady_clock::now();
  self->receive_for(received, n)([&](const std::string& s) { answers += !s.empty(); });
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  CAF_CHECK_EQUAL(answers, n);
  CAF_MESSAGE("classified " << n << " messages in " << secs << " s (" << n / secs
                            << " messages/s, 2 workers)");
}

CAF_TEST_FIXTURE_SCOPE_END()
