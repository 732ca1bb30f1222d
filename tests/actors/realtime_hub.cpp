#define CAF_SUITE actors.realtime_hub

#include "actors/realtime_hub.hpp"

#include <chrono>
#include <optional>
#include <string>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <nlohmann/json.hpp>

#include "config/app_config.hpp"
#include "protocols/realtime.hpp"
#include "support/caf_test.hpp"

using namespace djdash;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

struct fixture {
  app_config cfg;
  caf::actor_system sys{cfg};
  caf::actor hub = actors::spawn_realtime_hub(sys);
  caf::scoped_actor self{sys};

  ~fixture() {
    caf::anon_send_exit(hub, caf::exit_reason::user_shutdown);
  }

  bool subscribe(const caf::actor& on, const std::string& topic, const caf::actor& who) {
    bool ok = false;
    self->request(on, 5s, caf::subscribe_atom_v, topic, who)
      .receive([&](caf::ok_atom) { ok = true; }, [&](caf::error&) {});
    return ok;
  }

  bool unsubscribe(const std::string& topic, const caf::actor& who) {
    bool ok = false;
    self->request(hub, 5s, caf::unsubscribe_atom_v, topic, who)
      .receive([&](caf::ok_atom) { ok = true; }, [&](caf::error&) {});
    return ok;
  }

  int subscribers(const caf::actor& on, const std::string& topic) {
    int n = -1;
    self->request(on, 5s, caf::get_atom_v, topic).receive([&](int x) { n = x; },
                                                          [&](caf::error&) {});
    return n;
  }

  /// Returns the next frame the scoped actor receives within `within`.
  std::optional<json> next_frame(std::chrono::milliseconds within) {
    std::optional<json> out;
    self->receive([&](const realtime_frame& f) { out = json::parse(*f.text); },
                  caf::after(within) >> [] {});
    return out;
  }
};

constexpr auto topic = "org:00000000-0000-4000-8000-00000000000a:queue";

} // namespace

CAF_TEST_FIXTURE_SCOPE(realtime_hub_tests, fixture)

CAF_TEST(event frames have the wire shape and refuse payloads that are not JSON) {
  auto frame = actors::make_event_frame("org:x:queue", "crowd_request.created", R"({"id":"r1"})");
  CAF_REQUIRE(frame.has_value());
  auto j = json::parse(*frame);
  auto type = j.value("type", "");
  auto t = j.value("topic", "");
  auto event = j.value("event", "");
  auto id = j["payload"].value("id", "");
  CAF_CHECK_EQUAL(type, "event");
  CAF_CHECK_EQUAL(t, "org:x:queue");
  CAF_CHECK_EQUAL(event, "crowd_request.created");
  CAF_CHECK_EQUAL(id, "r1");
  auto broken = actors::make_event_frame("t", "e", "{oops");
  CAF_CHECK(!broken);
}

CAF_TEST(a subscriber gets each event once even when subscribed twice) {
  caf::actor me = caf::actor_cast<caf::actor>(self);
  CAF_REQUIRE(subscribe(hub, topic, me));
  CAF_REQUIRE(subscribe(hub, topic, me));
  auto count = subscribers(hub, topic);
  CAF_CHECK_EQUAL(count, 1);
  caf::anon_send(hub, caf::publish_atom_v, std::string{topic}, std::string{"crowd_request.created"},
                 std::string{R"({"n":1})"});
  auto first = next_frame(5s);
  CAF_REQUIRE(first.has_value());
  auto n = (*first)["payload"].value("n", 0);
  CAF_CHECK_EQUAL(n, 1);
  auto second = next_frame(200ms);
  CAF_CHECK(!second);
  // Other topics do not reach it.
  caf::anon_send(hub, caf::publish_atom_v, std::string{"org:other:queue"}, std::string{"x"},
                 std::string{"{}"});
  auto other = next_frame(200ms);
  CAF_CHECK(!other);
}

CAF_TEST(unsubscribe stops delivery) {
  caf::actor me = caf::actor_cast<caf::actor>(self);
  CAF_REQUIRE(subscribe(hub, topic, me));
  CAF_REQUIRE(unsubscribe(topic, me));
  auto count = subscribers(hub, topic);
  CAF_CHECK_EQUAL(count, 0);
  caf::anon_send(hub, caf::publish_atom_v, std::string{topic}, std::string{"e"}, std::string{"{}"});
  auto none = next_frame(200ms);
  CAF_CHECK(!none);
}

CAF_TEST(a subscriber that ends is forgotten) {
  auto short_lived = sys.spawn([](caf::event_based_actor*) -> caf::behavior {
    return {[](const realtime_frame&) {}};
  });
  CAF_REQUIRE(subscribe(hub, topic, short_lived));
  auto before = subscribers(hub, topic);
  CAF_CHECK_EQUAL(before, 1);
  self->monitor(short_lived);
  caf::anon_send_exit(short_lived, caf::exit_reason::user_shutdown);
  self->receive([](const caf::down_msg&) {});
  // The hub's own down message arrives independently of ours: ask until it is processed.
  int after = -1;
  for (int i = 0; i < 500 && after != 0; ++i) {
    after = subscribers(hub, topic);
    if (after != 0)
      self->receive(caf::after(10ms) >> [] {});
  }
  CAF_CHECK_EQUAL(after, 0);
}

CAF_TEST(peer hubs get local publishes once and never relay them back) {
  auto peer = actors::spawn_realtime_hub(sys);
  caf::anon_send(hub, caf::join_atom_v, peer);
  caf::anon_send(peer, caf::join_atom_v, hub);
  caf::actor me = caf::actor_cast<caf::actor>(self);
  CAF_REQUIRE(subscribe(peer, topic, me));
  CAF_REQUIRE(subscribe(hub, topic, me));
  caf::anon_send(hub, caf::publish_atom_v, std::string{topic}, std::string{"e"},
                 std::string{R"({"from":"hub"})"});
  // Once from the local hub, once from the peer: the peer does not relay it back.
  auto a = next_frame(5s);
  auto b = next_frame(5s);
  auto c = next_frame(300ms);
  CAF_CHECK(a.has_value());
  CAF_CHECK(b.has_value());
  CAF_CHECK(!c);
  caf::anon_send_exit(peer, caf::exit_reason::user_shutdown);
}

CAF_TEST_FIXTURE_SCOPE_END()
