#define CAF_SUITE http.actor_bridge

#include "http/actor_bridge.hpp"

#include "support/caf_test.hpp"

#include <chrono>
#include <future>
#include <stdexcept>

#include <caf/actor_system.hpp>
#include <caf/send.hpp>
#include <caf/typed_actor.hpp>

#include "config/app_config.hpp"
#include "protocols/app_errc.hpp"

using namespace djdash;
using namespace djdash::http;
using namespace std::chrono_literals;

namespace {

using calc_actor = caf::typed_actor<caf::replies_to<caf::add_atom, int, int>::with<int>,
                                    caf::replies_to<caf::get_atom>::with<std::string>>;

calc_actor::behavior_type calc() {
  return {
    [](caf::add_atom, int a, int b) -> caf::result<int> {
      if (a < 0)
        return make_app_error(app_errc::conflict, "negative");
      return a + b;
    },
    [](caf::get_atom) { return std::string{"forty-two"}; },
  };
}

/// Never answers: keeps the promise and lets the requester time out.
calc_actor::behavior_type silent(calc_actor::pointer self) {
  return {
    [=](caf::add_atom, int, int) { return self->make_response_promise<int>(); },
    [=](caf::get_atom) { return self->make_response_promise<std::string>(); },
  };
}

struct fixture {
  app_config cfg;
  caf::actor_system sys{cfg};
  std::vector<calc_actor> actors;

  ~fixture() {
    for (auto& a : actors)
      caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  }

  template <class F>
  calc_actor spawn(F fn) {
    auto hdl = sys.spawn(fn);
    actors.push_back(hdl);
    return hdl;
  }

  /// Returns a responder and the future of its answer.
  std::pair<responder, std::future<response>> capture() {
    auto p = std::make_shared<std::promise<response>>();
    auto fut = p->get_future();
    return {responder{[p](response&& r) { p->set_value(std::move(r)); }}, std::move(fut)};
  }

  static response await(std::future<response>& f) {
    CAF_REQUIRE(f.wait_for(10s) == std::future_status::ready);
    return f.get();
  }
};

response sum_response(int sum) {
  return json_response(200, {{"sum", sum}});
}

} // namespace

CAF_TEST_FIXTURE_SCOPE(actor_bridge_tests, fixture)

CAF_TEST(ask answers with the result) {
  auto [rsp, fut] = capture();
  ask(sys, spawn(calc), 1s, rsp, [](int sum) { return sum_response(sum); }, caf::add_atom_v, 40,
      2);
  auto r = await(fut);
  CAF_CHECK_EQUAL(r.status, 200);
  auto j = nlohmann::json::parse(r.body);
  CAF_CHECK_EQUAL(j["sum"], 42);
}

CAF_TEST(ask maps errors) {
  auto [rsp, fut] = capture();
  ask(sys, spawn(calc), 1s, rsp, [](int sum) { return sum_response(sum); }, caf::add_atom_v, -1,
      2);
  auto r = await(fut);
  CAF_CHECK_EQUAL(r.status, 409);
  auto j = nlohmann::json::parse(r.body);
  CAF_CHECK_EQUAL(j["error"]["message"], "negative");
}

CAF_TEST(ask times out with 504) {
  auto [rsp, fut] = capture();
  ask(sys, spawn(silent), 100ms, rsp, [](int sum) { return sum_response(sum); },
      caf::add_atom_v, 1, 2);
  auto r = await(fut);
  CAF_CHECK_EQUAL(r.status, 504);
  auto j = nlohmann::json::parse(r.body);
  CAF_CHECK_EQUAL(j["error"]["code"], "upstream_timeout");
}

CAF_TEST(ask to a dead actor answers 503) {
  auto dead = sys.spawn(calc);
  caf::anon_send_exit(dead, caf::exit_reason::user_shutdown);
  std::this_thread::sleep_for(50ms);
  auto [rsp, fut] = capture();
  ask(sys, dead, 1s, rsp, [](int sum) { return sum_response(sum); }, caf::add_atom_v, 1, 2);
  auto r = await(fut);
  CAF_CHECK_EQUAL(r.status, 503);
  auto j = nlohmann::json::parse(r.body);
  CAF_CHECK_EQUAL(j["error"]["code"], "entity_unavailable");
}

CAF_TEST(ask_chain issues a second request from the same actor) {
  auto [rsp, fut] = capture();
  auto a = spawn(calc);
  ask_chain(sys, a, 1s, rsp,
            [a](caf::event_based_actor* self, const responder& r, std::string& word) {
              self->request(a, std::chrono::seconds(1), caf::add_atom_v, 1, 2)
                .then([r, word](int sum) { r(json_response(200, {{"word", word}, {"sum", sum}})); },
                      [r](caf::error& err) { r(error_response(err)); });
            },
            caf::get_atom_v);
  auto r = await(fut);
  CAF_CHECK_EQUAL(r.status, 200);
  auto j = nlohmann::json::parse(r.body);
  CAF_CHECK_EQUAL(j["word"], "forty-two");
  CAF_CHECK_EQUAL(j["sum"], 3);
}

CAF_TEST(a throwing result callback answers 500) {
  auto [rsp, fut] = capture();
  ask(sys, spawn(calc), 1s, rsp,
      [](int) -> response { throw std::runtime_error("bad row"); }, caf::add_atom_v, 1, 2);
  auto r = await(fut);
  CAF_CHECK_EQUAL(r.status, 500);
}

CAF_TEST(a responder delivers only its first answer) {
  int calls = 0;
  responder rsp{[&](response&&) { ++calls; }};
  CAF_CHECK(!rsp.answered());
  rsp(response{});
  rsp(response{});
  CAF_CHECK(rsp.answered());
  CAF_CHECK_EQUAL(calls, 1);
}

CAF_TEST_FIXTURE_SCOPE_END()
