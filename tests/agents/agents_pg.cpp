#define CAF_SUITE agents.agents_pg

// The four agents against a real PostgreSQL, through the real database pool and the real
// organization entity: what the customer is told matches what the tools wrote.

#include "agents/agent_pool.hpp"

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "actors/entity_registry.hpp"
#include "actors/node_router.hpp"
#include "actors/organization.hpp"
#include "agents/reply_text.hpp"
#include "config/app_config.hpp"
#include "persistence/db_pool.hpp"
#include "protocols/app_errc.hpp"
#include "protocols/pricing.hpp"
#include "support/caf_test.hpp"
#include "support/pg_fixture.hpp"

using namespace djdash;
using json = nlohmann::json;

namespace {

constexpr auto customer = "+19015550123";
constexpr auto now = "2027-06-01T10:00:00-05:00";  // a Tuesday, in Chicago

json pricing_rules() {
  return {{"base_cents", {{"wedding", 120000}, {"default", 60000}}},
          {"hourly_cents", 15000},
          {"minimum_hours", 3},
          {"weekend_days", {"fri", "sat"}},
          {"weekend_multiplier", 1.15}};
}

struct fixture {
  test::pg_database db;
  app_config cfg;
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  db_actor pool;
  caf::actor registry;
  caf::actor router;
  caf::actor agents;
  std::string org_id;

  fixture() {
    db_settings s;
    s.url = db.app_url();
    s.pool_size = 4;
    pool = persistence::spawn_db_pool(sys, s, true);
    pqxx::connection conn{db.owner_url()};
    pqxx::work tx{conn};
    tx.exec("select set_config('app.platform_admin', 'on', true)");
    json settings = {{"capacity", 1}, {"pricing", pricing_rules()}};
    org_id = tx.exec_params1("insert into organizations (product_context, name, slug, timezone,"
                             " settings) values ('djdash', 'Bassline Events', 'bassline',"
                             " 'America/Chicago', $1::jsonb) returning id",
                             settings.dump())[0]
               .as<std::string>();
    tx.commit();
    entity_settings es;
    registry = actors::spawn_entity_registry(sys, es, pool,
                                             {{"organization", actors::spawn_organization}});
    router = actors::spawn_node_router(sys, registry, "test-node");
    agents = agents::spawn_agents(sys, pool, router, stripe_actor{});
  }

  ~fixture() {
    for (auto& a : {agents, router, registry, caf::actor_cast<caf::actor>(pool)})
      caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  }

  db_scope org() const {
    return db_scope{org_id, "", false, ""};
  }

  json op(const std::string& name, const json& args) {
    json out;
    self->request(pool, std::chrono::seconds(10), db_call{name, org(), args.dump()})
      .receive([&](const std::string& s) { out = json::parse(s); },
               [&](caf::error& err) { out = {{"error", error_message(err)}}; });
    return out;
  }

  /// Books the evening of `date` (local time) for someone else.
  void book(const std::string& date) {
    auto span = op("assistant.event_span", {{"date", date}, {"time", "18:00"}, {"hours", 5}});
    auto ev = op("events.create", {{"title", "Taken"}, {"starts_at", span["starts_at"]},
                                   {"ends_at", span["ends_at"]}, {"status", "booked"}});
    CAF_REQUIRE(ev.contains("id"));
  }

  /// One customer message through the agent pool; `state` is the dialog state so far.
  json ask(const std::string& intent, const std::string& text, json entities, json state) {
    json ctx = {{"org", {{"id", org_id}, {"name", "Bassline Events"}, {"timezone", "America/Chicago"}}},
                {"customer_phone", customer},
                {"conversation_id", "00000000-0000-4000-8000-0000000000f1"},
                {"text", text},
                {"now", now},
                {"classification",
                 {{"intent", intent}, {"confidence", 0.9}, {"entities", std::move(entities)}}},
                {"state", std::move(state)}};
    json out;
    self->request(agents, std::chrono::seconds(30), agent_atom_v, intent, ctx.dump())
      .receive([&](const std::string& s) { out = json::parse(s); },
               [&](caf::error& err) { out = {{"error", error_message(err)}}; });
    return out;
  }
};

const json* tool(const json& out, const std::string& name) {
  for (auto& c : out["tool_calls"])
    if (c["name"] == name)
      return &c;
  return nullptr;
}

bool contains(const json& out, const std::string& part) {
  return out["reply"].get<std::string>().find(part) != std::string::npos;
}

} // namespace

CAF_TEST_FIXTURE_SCOPE(agents_pg_tests, fixture)

CAF_TEST(availability on a taken date offers the nearest free dates) {
  book("2027-06-12");
  book("2027-06-13");
  auto out = ask("availability", "are you free june 12?", {{"date", "2027-06-12"}},
                 json::object());
  CAF_REQUIRE(out.contains("reply"));
  CAF_MESSAGE("reply: " << out["reply"]);
  auto check = tool(out, "check_availability");
  CAF_REQUIRE(check);
  CAF_CHECK_EQUAL((*check)["result"]["available"], false);
  auto scan = tool(out, "find_nearest_free_dates");
  CAF_REQUIRE(scan);
  // The 13th is taken too: the 11th (one day before) and the 14th are the nearest free ones.
  json free = {"2027-06-11", "2027-06-14"};
  CAF_CHECK_EQUAL((*scan)["result"]["free"], free);
  CAF_CHECK(contains(out, "already booked on Sat, Jun 12"));
  CAF_CHECK(contains(out, "Fri, Jun 11"));
  CAF_CHECK(contains(out, "Mon, Jun 14"));
  CAF_CHECK(contains(out, "Bassline Events"));
  // The customer became a contact of the organization.
  auto contacts = op("contacts.list", {{"q", customer}});
  CAF_CHECK_EQUAL(contacts["items"].size(), 1u);
  CAF_CHECK_EQUAL(out["state"]["contact_id"], contacts["items"][0]["id"]);
}

CAF_TEST(availability on a free date says available) {
  auto out = ask("availability", "are you free june 14?", {{"date", "2027-06-14"}},
                 json::object());
  CAF_MESSAGE("reply: " << out["reply"]);
  auto check = tool(out, "check_availability");
  CAF_REQUIRE(check);
  CAF_CHECK_EQUAL((*check)["result"]["available"], true);
  CAF_CHECK(contains(out, "available on Mon, Jun 14"));
  CAF_CHECK(!tool(out, "find_nearest_free_dates"));
}

CAF_TEST(three turns give a quote then a hold with a deposit invoice) {
  auto first = ask("availability", "are you free june 12", {{"date", "2027-06-12"}}, json::object());
  CAF_CHECK(contains(first, "available"));
  auto second = ask("pricing", "its a wedding, 5 hours",
                    {{"event_type", "wedding"}, {"hours", 5}}, first["state"]);
  CAF_MESSAGE("pricing reply: " << second["reply"]);
  auto send = tool(second, "send_quote");
  CAF_REQUIRE(send);
  auto quote_id = (*send)["result"]["id"].get<std::string>();
  auto stored = op("quotes.get", {{"id", quote_id}});
  pricing::quote_input in{"wedding", std::string{"2027-06-12"}, 5, std::nullopt, {}};
  auto expected = pricing::get_quote(pricing_rules(), in);
  CAF_REQUIRE(expected);
  CAF_CHECK_EQUAL(stored["amount_cents"], expected->amount_cents);
  CAF_CHECK_EQUAL(stored["contact_id"], first["state"]["contact_id"]);
  CAF_CHECK(contains(second, agents::money(expected->amount_cents, "usd")));
  CAF_CHECK_EQUAL(second["state"]["last_quote_id"], quote_id);

  auto third = ask("booking", "ok lets book it", json::object(), second["state"]);
  CAF_MESSAGE("booking reply: " << third["reply"]);
  auto hold = tool(third, "create_event");
  CAF_REQUIRE(hold);
  auto event = op("events.get", {{"id", (*hold)["result"]["id"]}});
  CAF_CHECK_EQUAL(event["status"], "hold");
  CAF_CHECK_EQUAL(event["price_cents"], expected->amount_cents);
  CAF_CHECK_EQUAL(event["contact_id"], first["state"]["contact_id"]);
  auto invoice_call = tool(third, "create_deposit_invoice");
  CAF_REQUIRE(invoice_call);
  auto invoice = op("invoices.get", {{"id", (*invoice_call)["result"]["id"]}});
  auto deposit = (expected->amount_cents * 25 + 50) / 100;
  CAF_CHECK_EQUAL(invoice["deposit_cents"], deposit);
  CAF_CHECK_EQUAL(invoice["event_id"], event["id"]);
  CAF_CHECK(contains(third, "deposit is " + agents::money(deposit, "usd")));
  CAF_CHECK(contains(third, invoice["number"].get<std::string>()));
  CAF_CHECK_EQUAL(third["state"]["pending_hold_event_id"], event["id"]);
  auto availability = op("events.availability", {{"date", "2027-06-12"}});
  CAF_CHECK_EQUAL(availability["available"], false);

  // "yes book it" again: the hold is already there, nothing is held twice.
  auto again = ask("booking", "yes book it", json::object(), third["state"]);
  CAF_MESSAGE("second booking reply: " << again["reply"]);
  CAF_CHECK(!tool(again, "create_event"));
  CAF_CHECK(contains(again, "already on hold"));
  auto events = op("events.list", json::object());
  CAF_CHECK_EQUAL(events["items"].size(), 1u);
}

CAF_TEST(booking a taken date holds nothing) {
  book("2027-06-19");
  auto out = ask("booking", "book june 19, birthday 4 hours",
                 {{"date", "2027-06-19"}, {"event_type", "birthday"}, {"hours", 4}},
                 json::object());
  CAF_MESSAGE("reply: " << out["reply"]);
  auto hold = tool(out, "create_event");
  CAF_REQUIRE(hold);
  CAF_CHECK_EQUAL((*hold)["result"]["error"]["code"], "conflict");
  CAF_CHECK(!tool(out, "create_deposit_invoice"));
  CAF_CHECK(contains(out, "was just taken"));
  auto invoices = op("invoices.list", json::object());
  CAF_CHECK_EQUAL(invoices["items"].size(), 0u);
}

CAF_TEST(a followup becomes a task and a notification for the DJ) {
  auto out = ask("followup", "can we push start to 7", json::object(), json::object());
  CAF_MESSAGE("reply: " << out["reply"]);
  auto task_call = tool(out, "create_task");
  CAF_REQUIRE(task_call);
  auto tasks = op("tasks.list", json::object());
  CAF_REQUIRE_EQUAL(tasks["items"].size(), 1u);
  auto task = tasks["items"][0];
  CAF_CHECK(task["title"].get<std::string>().find("can we push start to 7") != std::string::npos);
  CAF_CHECK(task["due_at"].is_string());
  CAF_CHECK_EQUAL(task["contact_id"], out["state"]["contact_id"]);
  auto notes = op("notifications.list", json::object());
  CAF_CHECK_EQUAL(notes["items"].size(), 1u);
  CAF_CHECK(contains(out, "Bassline Events"));
  CAF_CHECK(contains(out, "follow up"));
}

CAF_TEST(other messages get a generic reply and unknown intents an error) {
  auto out = ask("other", "who is this", json::object(), json::object());
  CAF_CHECK(contains(out, "Bassline Events"));
  CAF_CHECK_EQUAL(out["tool_calls"].size(), 0u);
  auto bad = ask("dance", "hi", json::object(), json::object());
  CAF_CHECK(bad.contains("error"));
}

CAF_TEST_FIXTURE_SCOPE_END()
