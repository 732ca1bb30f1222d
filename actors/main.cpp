// The composition root: the one file that sees every folder. Parses the command line, loads
// settings, and runs a node, `migrate` or `seed-demo`.

#include <atomic>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>
#include <thread>

#include <caf/actor_system.hpp>
#include <caf/io/middleman.hpp>
#include <caf/scoped_actor.hpp>
#include <nlohmann/json.hpp>

#include "actors/entity_registry.hpp"
#include "actors/membership.hpp"
#include "agents/agent_pool.hpp"
#include "agents/classifier_actor.hpp"
#include "actors/node_router.hpp"
#include "actors/organization.hpp"
#include "actors/password_hasher.hpp"
#include "actors/realtime_hub.hpp"
#include "actors/sms_conversation.hpp"
#include "actors/timer_runner.hpp"
#include "config/app_config.hpp"
#include "config/logging.hpp"
#include "config/settings.hpp"
#include "http/agent_routes.hpp"
#include "http/auth_routes.hpp"
#include "http/cluster_routes.hpp"
#include "http/client/stripe_connector.hpp"
#include "http/client/llm_connector.hpp"
#include "http/client/twilio_connector.hpp"
#include "http/contact_routes.hpp"
#include "http/contract_routes.hpp"
#include "http/cors.hpp"
#include "http/crowd_request_routes.hpp"
#include "http/event_routes.hpp"
#include "http/invoice_routes.hpp"
#include "http/ops_routes.hpp"
#include "http/org_routes.hpp"
#include "http/payment_routes.hpp"
#include "http/public_routes.hpp"
#include "http/quote_routes.hpp"
#include "http/realtime_routes.hpp"
#include "http/server.hpp"
#include "http/sms_routes.hpp"
#include "http/stripe_routes.hpp"
#include "http/task_routes.hpp"
#include "persistence/admin_tools.hpp"
#include "persistence/db_pool.hpp"
#include "persistence/demo_seed.hpp"
#include "persistence/migrations.hpp"
#include "protocols/app_errc.hpp"

namespace {

using namespace djdash;

constexpr auto usage = R"(djdash — the DJ Dash backend node

usage:
  djdash [--config FILE]            run a node (HTTP on DJDASH_HTTP_PORT, default 8080)
  djdash migrate [--config FILE]    apply pending database migrations, then exit
  djdash seed-demo [--config FILE]  create a demo organization per product and print the logins
  djdash grant-platform-admin EMAIL [--config FILE]
                                    make an existing account a platform administrator
  djdash --help                     this text

Settings come from the JSON file (see config/djdash.example.json) and the environment
(DJDASH_DATABASE_URL, DJDASH_HTTP_PORT, ...: see README.md); secrets only from the environment.
)";

struct command_line {
  std::string command = "run";
  std::string argument;  // grant-platform-admin's email
  std::optional<std::string> config_file;
  bool help = false;
  std::string error;
};

command_line parse_args(int argc, char** argv) {
  command_line out;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      out.help = true;
    } else if (arg == "--config" && i + 1 < argc) {
      out.config_file = argv[++i];
    } else if (arg.rfind("--config=", 0) == 0) {
      out.config_file = arg.substr(9);
    } else if (arg == "migrate" || arg == "seed-demo" || arg == "run") {
      out.command = arg;
    } else if (arg == "grant-platform-admin" && i + 1 < argc) {
      out.command = arg;
      out.argument = argv[++i];
    } else {
      out.error = "unknown argument: " + arg;
    }
  }
  return out;
}

int run_migrate(const settings& cfg) {
  auto applied = persistence::run_migrations(cfg.database.migrate_url, cfg.database.url);
  if (!applied) {
    std::cerr << "djdash migrate: " << error_message(applied.error()) << "\n";
    return EXIT_FAILURE;
  }
  std::cout << "djdash migrate: applied " << *applied << " migration(s); schema at version "
            << persistence::expected_schema_version() << "\n";
  return EXIT_SUCCESS;
}

int run_seed(const settings& cfg) {
  auto env = process_env();
  auto password = env("DJDASH_DEMO_PASSWORD").value_or("djdash-demo-2026");
  auto logins = persistence::seed_demo(cfg.database.migrate_url, password);
  if (!logins) {
    std::cerr << "djdash seed-demo: " << error_message(logins.error()) << "\n";
    return EXIT_FAILURE;
  }
  std::cout << "Demo logins (one organization per product):\n";
  for (auto& l : *logins)
    std::cout << "  " << l.product << ": " << l.email << " / " << l.password
              << "   (request page slug: " << l.org_slug << ")\n";
  return EXIT_SUCCESS;
}

int run_grant_admin(const settings& cfg, const std::string& email) {
  if (auto err = persistence::grant_platform_admin(cfg.database.migrate_url, email)) {
    std::cerr << "djdash grant-platform-admin: " << error_message(err) << "\n";
    return EXIT_FAILURE;
  }
  std::cout << email << " is now a platform administrator (effective at their next sign-in)\n";
  return EXIT_SUCCESS;
}

/// Refuses to serve a database whose schema is behind this build. A database that cannot be
/// reached yet is not fatal: /readyz says 503 until it answers.
bool schema_is_servable(caf::actor_system& sys, const db_actor& db) {
  caf::scoped_actor self{sys};
  bool ok = true;
  self->request(db, std::chrono::seconds(15), db_call{"schema_status", {}, "{}"})
    .receive(
      [&](const std::string& status) {
        auto s = nlohmann::json::parse(status);
        if (s["current"].get<int>() < s["expected"].get<int>()) {
          logger("main").critical("database schema is at version {}, this build needs {}: run "
                                  "`djdash migrate` first",
                                  s["current"].get<int>(), s["expected"].get<int>());
          ok = false;
        }
      },
      [&](caf::error& err) {
        logger("main").warn("database not reachable at start ({}); serving 503 until it is",
                             error_message(err));
      });
  return ok;
}

/// Waits until the router has no message forwarded to a peer still unanswered (a leaving node
/// keeps relaying what peers sent it before they saw it leave), at most `within`.
void wait_for_forwards(caf::actor_system& sys, const caf::actor& router,
                       std::chrono::milliseconds within) {
  caf::scoped_actor self{sys};
  auto deadline = std::chrono::steady_clock::now() + within;
  int quiet_rounds = 0;
  while (quiet_rounds < 2 && std::chrono::steady_clock::now() < deadline) {
    int pending = -1;
    self->request(router, std::chrono::seconds(1), caf::get_atom_v, caf::pending_atom_v)
      .receive([&](int n) { pending = n; }, [](caf::error&) {});
    quiet_rounds = pending == 0 ? quiet_rounds + 1 : 0;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

int run_node(const settings& cfg) {
  app_config caf_cfg;
  caf_cfg.load<caf::io::middleman>();
  // Middleman heartbeats: a frozen (not dead) peer is dropped after peer_timeout_ms.
  caf_cfg.set("middleman.heartbeat-interval",
              caf::timespan{std::chrono::milliseconds(cfg.cluster.peer_heartbeat_ms)});
  caf_cfg.set("middleman.connection-timeout",
              caf::timespan{std::chrono::milliseconds(cfg.cluster.peer_timeout_ms)});
  caf::actor_system sys{caf_cfg};
  auto db = persistence::spawn_db_pool(sys, cfg.database, true);
  auto hub = actors::spawn_realtime_hub(sys);
  auto twilio = http::spawn_twilio_connector(sys, cfg);
  auto stripe = http::spawn_stripe_connector(sys, cfg);
  // The SMS classifier trains its model from the embedded corpus here (about a second). With
  // OPENAI_API_KEY set it offers each message to the LLM backend first and falls back to the
  // local model at the deadline.
  llm_actor llm;
  if (!cfg.secrets.openai_api_key.empty()) {
    http::llm_connector_options llm_opts;
    llm_opts.deadline = agents::classifier_options{}.llm_deadline;
    llm_opts.workers = 4;
    llm = http::spawn_llm_connector(sys, cfg, llm_opts);
  }
  auto classifier = agents::spawn_classifier(sys, cfg, llm);
  actors::entity_services entity_svc;
  // The SMS agents write the calendar through the router, which needs the registry: a
  // conversation reads their address when it activates, and it is set before any request or
  // timer can activate one.
  auto sms_agents = std::make_shared<caf::actor>();
  entity_svc.classifier = classifier;
  entity_svc.hub = hub;
  entity_svc.twilio = twilio;
  entity_svc.stripe = stripe;
  entity_svc.node_id = cfg.node_id;
  auto registry = actors::spawn_entity_registry(
    sys, cfg.entities, db,
    {{"organization", actors::spawn_organization},
     {"sms_conversation",
      [sms_agents](caf::actor_system& s, const actors::entity_context& ctx) {
        auto with_agents = ctx;
        with_agents.services.agents = *sms_agents;
        return actors::spawn_sms_conversation(s, with_agents);
      }}},
    entity_svc);
  auto router = actors::spawn_node_router(sys, registry, cfg.node_id);
  auto joined = std::make_shared<std::atomic<bool>>(false);
  actors::membership_config member_cfg;
  member_cfg.node_id = cfg.node_id;
  member_cfg.incarnation = actors::new_incarnation();
  member_cfg.host = cfg.cluster.host;
  member_cfg.http_port = cfg.http.port;
  member_cfg.lease_ms = cfg.cluster.lease_ms;
  member_cfg.heartbeat_ms = cfg.cluster.heartbeat_ms;
  auto membership = actors::spawn_membership(sys, member_cfg, db, router, hub, joined);
  auto passwords = actors::spawn_password_hasher(sys, 2);
  caf::actor timers;  // started once the schema is known to be servable
  auto stop_actors = [&] {
    if (timers)
      caf::anon_send_exit(timers, caf::exit_reason::user_shutdown);  // no new work while draining
    caf::scoped_actor self{sys};
    self->request(registry, std::chrono::seconds(10), drain_atom_v)
      .receive([](caf::ok_atom) {}, [](caf::error&) {});
    for (auto& a : {caf::actor_cast<caf::actor>(db), router, registry, membership,
                    caf::actor_cast<caf::actor>(passwords), caf::actor_cast<caf::actor>(twilio),
                    caf::actor_cast<caf::actor>(stripe),
                    caf::actor_cast<caf::actor>(classifier)})
      caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(hub, caf::exit_reason::user_shutdown);
    if (llm)
      caf::anon_send_exit(llm, caf::exit_reason::user_shutdown);
    if (*sms_agents)
      caf::anon_send_exit(*sms_agents, caf::exit_reason::user_shutdown);
  };
  if (!schema_is_servable(sys, db)) {
    stop_actors();
    return EXIT_FAILURE;
  }
  // Peers connect to the membership actor; it hands them the router and the hub.
  auto cluster_port = sys.middleman().publish(membership, cfg.cluster.port,
                                              cfg.cluster.bind.c_str(), true);
  if (!cluster_port) {
    logger("main").critical("cannot listen for cluster peers on {}:{}: {}", cfg.cluster.bind,
                            cfg.cluster.port, caf::to_string(cluster_port.error()));
    stop_actors();
    return EXIT_FAILURE;
  }
  caf::anon_send(membership, caf::publish_atom_v, *cluster_port);
  auto draining = std::make_shared<std::atomic<bool>>(false);
  http::node_services svc;
  svc.sys = &sys;
  svc.db = db;
  svc.passwords = passwords;
  svc.router = router;
  svc.cfg = &cfg;
  svc.hub = hub;
  svc.twilio = twilio;
  svc.stripe = stripe;
  svc.classifier = classifier;
  svc.draining = [draining] { return draining->load(); };
  svc.membership = membership;
  svc.registry = registry;
  svc.cluster_joined = [joined] { return joined->load(); };
  *sms_agents = agents::spawn_agents(sys, db, router, svc.stripe);
  timers = actors::spawn_timer_runner(sys, cfg.entities, db, router, svc.stripe, svc.hub);
  http::route_table routes;
  routes.set_cors(std::make_shared<http::cors_policy>(cfg.product_domains, cfg.cors_origins));
  http::add_ops_routes(routes, svc);
  http::add_cluster_routes(routes, svc);
  http::add_public_routes(routes, svc);
  http::add_auth_routes(routes, svc);
  http::add_org_routes(routes, svc);
  http::add_contact_routes(routes, svc);
  http::add_task_routes(routes, svc);
  http::add_event_routes(routes, svc);
  http::add_contract_routes(routes, svc);
  http::add_quote_routes(routes, svc);
  http::add_invoice_routes(routes, svc);
  http::add_agent_routes(routes, svc);
  http::add_realtime_routes(routes, svc);
  http::add_crowd_request_routes(routes, svc);
  http::add_sms_routes(routes, svc);
  http::add_payment_routes(routes, svc);
  http::add_stripe_routes(routes, svc);
  http::server server{cfg.http, std::move(routes)};
  server.stop_on_signals([draining, membership] {
    draining->store(true);
    // Leave at once: peers stop placing keys here and this node hands its entities over while
    // the server finishes the requests it has.
    caf::anon_send(membership, caf::leave_atom_v);
    logger("main").info("signal received: leaving the cluster and draining");
  });
  if (auto err = server.start()) {
    logger("main").critical("cannot listen on {}:{}: {}", cfg.http.addr, cfg.http.port,
                            error_message(err));
    stop_actors();
    return EXIT_FAILURE;
  }
  log_fields(logger("main"), spdlog::level::info, "listening",
             {{"addr", cfg.http.addr}, {"port", std::to_string(server.port())},
              {"cluster_port", std::to_string(*cluster_port)}});
  server.wait();
  {
    caf::scoped_actor self{sys};
    self->request(membership, std::chrono::seconds(5), caf::leave_atom_v)
      .receive([](caf::ok_atom) {}, [](caf::error&) {});
  }
  wait_for_forwards(sys, router, std::chrono::seconds(5));
  stop_actors();
  logger("main").info("stopped");
  return EXIT_SUCCESS;
}

} // namespace

int main(int argc, char** argv) {
  auto args = parse_args(argc, argv);
  if (args.help) {
    std::cout << usage;
    return EXIT_SUCCESS;
  }
  if (!args.error.empty()) {
    std::cerr << "djdash: " << args.error << "\n\n" << usage;
    return 2;
  }
  auto cfg = load_settings(args.config_file, process_env());
  if (!cfg) {
    std::cerr << "djdash: bad configuration: " << error_message(cfg.error()) << "\n";
    return 2;
  }
  setup_logging(cfg->node_id, cfg->log_level);
  if (args.command == "migrate")
    return run_migrate(*cfg);
  if (args.command == "seed-demo")
    return run_seed(*cfg);
  if (args.command == "grant-platform-admin")
    return run_grant_admin(*cfg, args.argument);
  if (cfg->secrets.jwt_secret.empty()) {
    std::cerr << "djdash: bad configuration: DJDASH_JWT_SECRET: required to run a node (at "
                 "least 32 characters, the same on every node)\n";
    return 2;
  }
  return run_node(*cfg);
}
