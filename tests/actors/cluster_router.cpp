#define CAF_SUITE actors.cluster_router

// Two nodes' routers and registries in one deterministic actor system: placement, forwarding,
// handover on a view change, messages in flight during a handover, and a lost peer failing what
// waits on it at once.

#include <memory>
#include <string>

#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>
#include <nlohmann/json.hpp>

#include "actors/entity_registry.hpp"
#include "actors/node_router.hpp"
#include "actors/organization.hpp"
#include "config/app_config.hpp"
#include "protocols/app_errc.hpp"
#include "protocols/cluster.hpp"
#include "support/caf_test.hpp"

using namespace djdash;
using json = nlohmann::json;

namespace {

/// A database that knows every organization id (one name for all).
db_actor::behavior_type any_org_db(db_actor::pointer) {
  return {
    [](const db_call& call) -> caf::result<std::string> {
      if (call.op != "org.load")
        return make_app_error(app_errc::internal, "unexpected call");
      auto id = json::parse(call.args).at("id").get<std::string>();
      return json{{"id", id},       {"product_context", "tipjar"}, {"name", "Org " + id},
                  {"slug", "demo"}, {"timezone", "America/Chicago"}, {"settings", json::object()},
                  {"version", 1}}
        .dump();
    },
  };
}

/// A registry that takes messages and never answers (a peer that stalls).
struct black_hole_state {
  std::vector<caf::response_promise> held;
};

caf::behavior black_hole(caf::stateful_actor<black_hole_state>* self) {
  return {[=](entity_atom, const entity_ref&, const caf::message&) {
    self->state.held.push_back(self->make_response_promise());  // kept, never delivered
  }};
}

std::string org_key(int i) {
  char buf[40];
  std::snprintf(buf, sizeof(buf), "00000000-0000-4000-8000-%012d", i);
  return buf;
}

struct node_pair {
  caf::actor registry;
  caf::actor router;
};

struct fixture : test_coordinator_fixture<app_config> {
  db_actor db;
  node_pair a;
  node_pair b;

  node_pair make_node(const std::string& id) {
    entity_settings cfg;
    cfg.idle_timeout_ms = 60000;
    actors::entity_services services;
    services.node_id = id;
    auto registry = actors::spawn_entity_registry(
      sys, cfg, db, {{"organization", actors::spawn_organization}}, services);
    return {registry, actors::spawn_node_router(sys, registry, id)};
  }

  fixture() {
    db = sys.spawn(any_org_db);
    a = make_node("node-a");
    b = make_node("node-b");
    run_messages();
  }

  ~fixture() {
    for (auto& x : {a.router, a.registry, b.router, b.registry})
      anon_send_exit(x, caf::exit_reason::user_shutdown);
    sched.run();
  }

  void run_messages() {
    sched.run();  // messages only: run() would also fire idle timeouts
  }

  /// Tells one node's router the view {members}, with the other node as its connected peer.
  void set_view(const node_pair& n, const std::string& self_id, std::vector<std::string> members,
                const std::string& peer_id, const caf::actor& peer_router) {
    cluster_view v;
    v.self = self_id;
    v.members = std::move(members);
    if (peer_router)
      v.peers.push_back(node_endpoints{peer_id, "inc-" + peer_id, {}, peer_router, {}});
    anon_send(n.router, caf::update_atom_v, std::move(v));
    run_messages();
  }

  void both_views(std::vector<std::string> members) {
    set_view(a, "node-a", members, "node-b", b.router);
    set_view(b, "node-b", members, "node-a", a.router);
  }

  /// Pings an organization through `via` (a router or a registry); returns the answering node.
  std::string ping(const caf::actor& via, const std::string& key) {
    std::string out;
    auto rh = self->request(via, caf::infinite, entity_atom_v, entity_ref{"organization", key},
                            caf::make_message(caf::ping_atom_v));
    run_messages();
    rh.receive([&](const std::string& s) { out = json::parse(s).at("node_id"); },
               [&](caf::error& err) { out = "error: " + caf::to_string(err); });
    return out;
  }

  std::vector<std::string> active(const node_pair& n) {
    std::vector<std::string> keys;
    auto rh = self->request(n.registry, caf::infinite, caf::get_atom_v, std::string{"organization"});
    run_messages();
    rh.receive([&](const std::string& s) { keys = json::parse(s).at("keys"); },
               [&](caf::error&) {});
    return keys;
  }

  /// The first test key the view {node-a, node-b} places on `owner`.
  std::string key_owned_by(const std::string& owner, int skip = 0) {
    for (int i = 0;; ++i) {
      auto k = org_key(i);
      if (owner_of({"node-a", "node-b"}, entity_ref{"organization", k}) == owner && skip-- == 0)
        return k;
    }
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(cluster_router_tests, fixture)

CAF_TEST(cluster messages survive serialization exactly) {
  entity_envelope env{entity_ref{"organization", org_key(7)},
                      caf::make_message(caf::put_atom_v, db_scope{org_key(7), "u", false, "admin"},
                                        std::string{R"({"name":"Renamed"})"}),
                      1};
  std::vector<char> buf;
  caf::binary_serializer sink{sys, buf};
  CAF_REQUIRE(!sink(env));
  entity_envelope back;
  caf::binary_deserializer source{sys, buf};
  CAF_REQUIRE(!source(back));
  CAF_CHECK_EQUAL(back.ref.key, org_key(7));
  CAF_CHECK_EQUAL(back.hops, 1);
  CAF_REQUIRE(back.msg.match_elements<caf::put_atom, db_scope, std::string>());
  auto scope = back.msg.get_as<db_scope>(1);
  CAF_CHECK_EQUAL(scope.role, "admin");
  auto body = back.msg.get_as<std::string>(2);
  CAF_CHECK_EQUAL(body, R"({"name":"Renamed"})");
}

CAF_TEST(any node reaches any entity and the entity lives on its owner only) {
  both_views({"node-a", "node-b"});
  auto on_b = key_owned_by("node-b");
  auto on_a = key_owned_by("node-a");
  CAF_CHECK_EQUAL(ping(a.router, on_b), "node-b");
  CAF_CHECK_EQUAL(ping(b.router, on_b), "node-b");
  CAF_CHECK_EQUAL(ping(b.router, on_a), "node-a");
  auto active_a = active(a);
  auto active_b = active(b);
  CAF_CHECK_EQUAL(active_a, std::vector<std::string>{on_a});
  CAF_CHECK_EQUAL(active_b, std::vector<std::string>{on_b});
}

CAF_TEST(a joining node takes its keys: the old owner hands the entity over) {
  set_view(a, "node-a", {"node-a"}, "", {});  // node-a alone: every key is local
  auto moving = key_owned_by("node-b");
  CAF_CHECK_EQUAL(ping(a.router, moving), "node-a");
  auto before = active(a);
  CAF_CHECK_EQUAL(before, std::vector<std::string>{moving});
  both_views({"node-a", "node-b"});  // node-b joins and wins `moving`
  auto after = active(a);
  CAF_CHECK(after.empty());
  CAF_CHECK_EQUAL(ping(a.router, moving), "node-b");
}

CAF_TEST(a message that reaches the old owner during the handover is forwarded and not lost) {
  set_view(a, "node-a", {"node-a"}, "", {});
  auto moving = key_owned_by("node-b");
  CAF_REQUIRE_EQUAL(ping(a.router, moving), "node-a");
  set_view(b, "node-b", {"node-a", "node-b"}, "node-a", a.router);
  // node-a learns about node-b and, in the same breath, its registry gets a message for the key
  // it is handing over: it waits for the passivation, then goes to the new owner.
  cluster_view v{"node-a", {"node-a", "node-b"}, {node_endpoints{"node-b", "i", {}, b.router, {}}}};
  anon_send(a.router, caf::update_atom_v, std::move(v));
  sched.run_once();  // the router takes the view and passes it on to its registry
  auto rh = self->request(a.registry, caf::infinite, entity_atom_v,
                          entity_ref{"organization", moving}, caf::make_message(caf::ping_atom_v));
  run_messages();
  std::string answered_by;
  rh.receive([&](const std::string& s) { answered_by = json::parse(s).at("node_id"); },
             [&](caf::error& err) { answered_by = caf::to_string(err); });
  CAF_CHECK_EQUAL(answered_by, "node-b");
}

CAF_TEST(views that disagree do not bounce a message forever) {
  auto key = key_owned_by("node-b");
  // node-a thinks node-b owns the key; node-b thinks node-a does (a join seen half-way).
  set_view(a, "node-a", {"node-a", "node-b"}, "node-b", b.router);
  cluster_view wrong{"node-b", {"node-a"}, {node_endpoints{"node-a", "i", {}, a.router, {}}}};
  anon_send(b.router, caf::update_atom_v, std::move(wrong));
  run_messages();
  auto where = ping(a.router, key);
  CAF_CHECK(where == "node-a" || where == "node-b");
}

CAF_TEST(a lost peer fails the messages waiting on it at once) {
  auto stalled_registry = sys.spawn(black_hole);
  auto stalled_router = actors::spawn_node_router(sys, stalled_registry, "node-c");
  run_messages();
  set_view(a, "node-a", {"node-a", "node-c"}, "node-c", stalled_router);
  std::string key;
  for (int i = 0; key.empty(); ++i)
    if (owner_of({"node-a", "node-c"}, entity_ref{"organization", org_key(i)}) == "node-c")
      key = org_key(i);
  auto rh = self->request(a.router, caf::infinite, entity_atom_v, entity_ref{"organization", key},
                          caf::make_message(caf::ping_atom_v));
  run_messages();
  int pending = -1;
  auto ph = self->request(a.router, caf::infinite, caf::get_atom_v, caf::pending_atom_v);
  run_messages();
  ph.receive([&](int n) { pending = n; }, [](caf::error&) {});
  CAF_CHECK_EQUAL(pending, 1);
  anon_send_exit(stalled_router, caf::exit_reason::kill);  // the connection to node-c drops
  run_messages();
  caf::error failed;
  rh.receive([](const std::string&) {}, [&](caf::error& err) { failed = err; });
  CAF_CHECK_EQUAL(app_code(failed), app_errc::entity_unavailable);
  anon_send_exit(stalled_registry, caf::exit_reason::kill);
  run_messages();
}

CAF_TEST_FIXTURE_SCOPE_END()
