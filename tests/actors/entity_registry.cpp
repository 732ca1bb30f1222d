#define CAF_SUITE actors.entity_registry

#include "actors/entity_registry.hpp"

#include <map>
#include <memory>

#include <nlohmann/json.hpp>

#include "actors/node_router.hpp"
#include "actors/organization.hpp"
#include "config/app_config.hpp"
#include "protocols/app_errc.hpp"
#include "protocols/metrics.hpp"
#include "support/caf_test.hpp"

using namespace djdash;
using json = nlohmann::json;

namespace {

constexpr auto org_a = "00000000-0000-4000-8000-00000000000a";

/// What the stub database holds and how often it was asked.
struct fake_db {
  std::map<std::string, std::string> names;  // org id → name
  int loads = 0;
  bool down = false;
};

db_actor::behavior_type stub_db(db_actor::pointer, std::shared_ptr<fake_db> db) {
  return {
    [=](const db_call& call) -> caf::result<std::string> {
      if (db->down)
        return make_app_error(app_errc::db_unavailable, "database unavailable");
      auto id = json::parse(call.args).at("id").get<std::string>();
      if (call.op != "org.load" || call.scope.org_id != id)
        return make_app_error(app_errc::internal, "unexpected call");
      auto i = db->names.find(id);
      if (i == db->names.end())
        return make_app_error(app_errc::not_found, "organization not found");
      ++db->loads;
      return json{{"id", id},          {"product_context", "tipjar"}, {"name", i->second},
                  {"slug", "demo"},    {"timezone", "America/Chicago"},
                  {"settings", {{"minimum_amounts", {{"song", 700}}}}},
                  {"version", 1}}
        .dump();
    },
  };
}

struct fixture : test_coordinator_fixture<app_config> {
  std::shared_ptr<fake_db> data = std::make_shared<fake_db>();
  entity_settings cfg;
  caf::actor registry;
  caf::actor router;

  fixture() {
    cfg.idle_timeout_ms = 1000;
    cfg.crash_loop_limit = 3;
    cfg.crash_loop_window_ms = 30000;
    cfg.crash_loop_cooldown_ms = 5000;
    data->names[org_a] = "Alpha DJs";
    auto db = sys.spawn(stub_db, data);
    registry = actors::spawn_entity_registry(sys, cfg, db,
                                             {{"organization", actors::spawn_organization}});
    router = actors::spawn_node_router(sys, registry, "test-node");
    run();
  }

  ~fixture() {
    anon_send_exit(router, caf::exit_reason::user_shutdown);
    anon_send_exit(registry, caf::exit_reason::user_shutdown);
    sched.run();
  }

  /// Asks the organization entity for its public profile through the router.
  caf::expected<json> profile(const std::string& id) {
    caf::expected<json> out = caf::error{};
    auto msg = caf::make_message(profile_atom_v);
    auto rh = self->request(router, caf::infinite, entity_atom_v, entity_ref{"organization", id},
                            msg);
    sched.run();  // messages only: run() would also fire the idle timeout
    rh.receive([&](const std::string& s) { out = json::parse(s); },
               [&](caf::error& err) { out = std::move(err); });
    return out;
  }

  caf::actor active_entity(const std::string& id) {
    caf::actor out;
    auto rh = self->request(registry, caf::infinite, caf::get_atom_v,
                            entity_ref{"organization", id});
    sched.run();
    rh.receive([&](caf::actor& a) { out = a; }, [&](caf::error&) {});
    return out;
  }

  int64_t active_count() {
    return metrics::node_metrics().actors_active.value({"organization"});
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(entity_registry_tests, fixture)

CAF_TEST(the first message activates the entity with its state loaded from the database) {
  auto before = active_count();
  auto p = profile(org_a);
  CAF_REQUIRE(p);
  CAF_CHECK_EQUAL((*p)["name"], "Alpha DJs");
  CAF_CHECK_EQUAL((*p)["minimum_amounts"]["song"], 700);
  CAF_CHECK_EQUAL(data->loads, 1);
  CAF_CHECK(active_entity(org_a) != nullptr);
  CAF_CHECK_EQUAL(active_count(), before + 1);
  // A second message reaches the same activation: no second load.
  CAF_REQUIRE(profile(org_a));
  CAF_CHECK_EQUAL(data->loads, 1);
}

CAF_TEST(an idle entity passivates and the next message re-activates it) {
  CAF_REQUIRE(profile(org_a));
  auto first = active_entity(org_a);
  CAF_REQUIRE(first != nullptr);
  trigger_timeouts();  // the entity's idle timeout fires
  sched.run();
  CAF_CHECK(active_entity(org_a) == nullptr);
  data->names[org_a] = "Alpha DJs (renamed)";
  auto p = profile(org_a);
  CAF_REQUIRE(p);
  CAF_CHECK_EQUAL((*p)["name"], "Alpha DJs (renamed)");
  CAF_CHECK_EQUAL(data->loads, 2);
  CAF_CHECK(active_entity(org_a) != first);
}

CAF_TEST(a crash is counted and the next message re-activates with reloaded state) {
  CAF_REQUIRE(profile(org_a));
  auto crashes = metrics::node_metrics().entity_crashes.value({"organization"});
  auto entity = active_entity(org_a);
  CAF_REQUIRE(entity != nullptr);
  data->names[org_a] = "Alpha after crash";
  anon_send_exit(entity, caf::exit_reason::kill);
  sched.run();
  CAF_CHECK(active_entity(org_a) == nullptr);
  CAF_CHECK_EQUAL(metrics::node_metrics().entity_crashes.value({"organization"}), crashes + 1);
  auto p = profile(org_a);
  CAF_REQUIRE_EQUAL(p ? "" : caf::to_string(p.error()), "");
  CAF_CHECK_EQUAL((*p)["name"], "Alpha after crash");
  CAF_CHECK_EQUAL(data->loads, 2);
}

CAF_TEST(a crash loop is cut off with an error until the cooldown passes) {
  for (int i = 0; i < cfg.crash_loop_limit; ++i) {
    CAF_REQUIRE(profile(org_a));
    anon_send_exit(active_entity(org_a), caf::exit_reason::kill);
    sched.run();
  }
  auto loads = data->loads;
  auto p = profile(org_a);
  CAF_REQUIRE(!p);
  CAF_CHECK_EQUAL(app_code(p.error()), app_errc::entity_unavailable);
  CAF_CHECK_EQUAL(data->loads, loads);  // no activation attempted while the breaker is open
  advance_time(std::chrono::milliseconds(cfg.crash_loop_cooldown_ms + 1));
  sched.run();
  CAF_CHECK(profile(org_a));
}

CAF_TEST(a failed load answers with its error and leaves nothing active) {
  auto p = profile("00000000-0000-4000-8000-0000000000ff");
  CAF_REQUIRE(!p);
  CAF_CHECK_EQUAL(app_code(p.error()), app_errc::not_found);
  CAF_CHECK(active_entity("00000000-0000-4000-8000-0000000000ff") == nullptr);
  data->down = true;
  auto q = profile(org_a);
  CAF_REQUIRE(!q);
  CAF_CHECK_EQUAL(app_code(q.error()), app_errc::db_unavailable);
  data->down = false;  // the database is back: the next message works, no breaker tripped
  CAF_CHECK(profile(org_a));
}

CAF_TEST(drain passivates every entity) {
  CAF_REQUIRE(profile(org_a));
  auto rh = self->request(registry, caf::infinite, drain_atom_v);
  sched.run();
  bool drained = false;
  rh.receive([&](caf::ok_atom) { drained = true; }, [&](caf::error&) {});
  CAF_CHECK(drained);
  CAF_CHECK(active_entity(org_a) == nullptr);
  auto p = profile(org_a);
  CAF_REQUIRE(!p);
  CAF_CHECK_EQUAL(app_code(p.error()), app_errc::shutting_down);
}

CAF_TEST_FIXTURE_SCOPE_END()
