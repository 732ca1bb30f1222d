#define CAF_SUITE persistence.billing_pg

// Quotes and invoices against real PostgreSQL, through the DB pool, as the application role:
// quotes stored with their breakdown, gapless invoice numbers under concurrent creation (with
// rolled-back creations mixed in), status transitions, and the unpaid and overdue filters.

#include <algorithm>
#include <set>

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "config/app_config.hpp"
#include "persistence/db_pool.hpp"
#include "persistence/operations.hpp"
#include "protocols/app_errc.hpp"
#include "support/caf_test.hpp"
#include "support/pg_fixture.hpp"

using namespace djdash;
using json = nlohmann::json;

namespace {

const json pricing_rules = {
  {"currency", "usd"},
  {"base_cents", {{"wedding", 120000}, {"default", 60000}}},
  {"hourly_cents", 15000},
  {"minimum_hours", 3},
  {"weekend_multiplier", 1.15},
  {"weekend_days", {"fri", "sat"}},
  {"peak_months", {6}},
  {"peak_multiplier", 1.1},
  {"add_ons", {{"uplighting", 25000}}},
};

json item(const std::string& description, json quantity, json unit_cents) {
  return {{"description", description}, {"quantity", quantity}, {"unit_cents", unit_cents}};
}

const json one_line = json::array({item("DJ service", 1, 100000)});

struct fixture {
  test::pg_database db;
  app_config cfg;
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  db_actor pool;

  fixture() {
    db_settings s;
    s.url = db.app_url();
    s.pool_size = 4;
    pool = persistence::spawn_db_pool(sys, s, true);
  }

  ~fixture() {
    caf::anon_send_exit(pool, caf::exit_reason::user_shutdown);
  }

  caf::expected<json> call(const std::string& op, db_scope scope, const json& args) {
    caf::expected<json> out = caf::error{};
    self->request(pool, std::chrono::seconds(30), db_call{op, std::move(scope), args.dump()})
      .receive([&](const std::string& s) { out = json::parse(s); },
               [&](caf::error& err) { out = std::move(err); });
    return out;
  }

  /// Signs up an owner with their own organization; returns its member scope.
  db_scope org(const std::string& email, char token) {
    auto r = call("auth.signup", db_scope{},
                  {{"email", email},
                   {"password_hash", "$argon2id$v=19$m=65536,t=2,p=1$x$y"},
                   {"organization_name", "Billing " + email},
                   {"product_context", "djdash"},
                   {"refresh_token_hash", std::string(64, token)},
                   {"refresh_ttl_s", 3600}});
    CAF_REQUIRE(r);
    return db_scope{(*r)["organization"]["id"], (*r)["user"]["id"], false, "member"};
  }

  /// Inserts a contact with `status` through the owner role (contacts have their own issue).
  std::string contact(const db_scope& in, const std::string& status) {
    pqxx::connection conn{db.owner_url()};
    pqxx::work tx{conn};
    tx.exec("select set_config('app.platform_admin', 'on', true)");
    auto id = tx.exec_params1("insert into contacts (organization_id, name, status)"
                              " values ($1::uuid, 'Jo', $2) returning id",
                              in.org_id, status)[0]
                .as<std::string>();
    tx.commit();
    return id;
  }

  std::string contact_status(const std::string& id) {
    pqxx::connection conn{db.owner_url()};
    pqxx::work tx{conn};
    tx.exec("select set_config('app.platform_admin', 'on', true)");
    return tx.exec_params1("select status from contacts where id = $1::uuid", id)[0]
      .as<std::string>();
  }

  int64_t rows(const char* table) {
    pqxx::connection conn{db.owner_url()};
    pqxx::work tx{conn};
    tx.exec("select set_config('app.platform_admin', 'on', true)");
    return tx.exec1(std::string{"select count(*) from "} + table)[0].as<int64_t>();
  }

  json must(const caf::expected<json>& r) {
    if (!r)
      CAF_FAIL("operation failed: " << error_message(r.error()));
    return *r;
  }

  json invoice(const db_scope& in, json args = {{"line_items", one_line}}) {
    return must(call("invoices.create", in, args));
  }

  json patch(const db_scope& in, const json& inv, json args) {
    args["id"] = inv["id"];
    return must(call("invoices.update", in, args));
  }
};

app_errc code_of(const caf::expected<json>& r) {
  return r ? app_errc::internal : app_code(r.error());
}

std::string id(const json& resource) {
  return resource["id"].get<std::string>();
}

std::vector<std::string> ids_of(const json& page) {
  std::vector<std::string> out;
  for (auto& item : page["items"])
    out.push_back(item["id"]);
  std::sort(out.begin(), out.end());
  return out;
}

} // namespace

CAF_TEST_FIXTURE_SCOPE(billing_tests, fixture)

CAF_TEST(quotes are priced from the organization rules and stored with their breakdown) {
  auto a = org("jo@example.com", 'a');
  auto admin = a;
  admin.role = "admin";
  must(call("org.update", admin, {{"settings", {{"pricing", pricing_rules}}}}));
  auto lead = contact(a, "new");
  auto q = must(call("quotes.create", a,
                     {{"contact_id", lead}, {"event_type", "wedding"}, {"date", "2026-06-13"},
                      {"hours", 2}, {"guests", 150}, {"add_ons", {"uplighting"}}}));
  // 120000 + 3 h × 15000 = 165000; weekend +24750; peak +18975; uplighting 25000.
  CAF_CHECK_EQUAL(q["amount_cents"], 233725);
  CAF_CHECK_EQUAL(q["currency"], "usd");
  CAF_CHECK_EQUAL(q["hours"], 2.0);
  CAF_CHECK_EQUAL(q["billed_hours"], 3.0);
  CAF_CHECK_EQUAL(q["date"], "2026-06-13");
  CAF_CHECK_EQUAL(q["guests"], 150);
  CAF_CHECK_EQUAL(q["contact_id"], lead);
  CAF_CHECK_EQUAL(q["organization_id"], a.org_id);
  CAF_CHECK_EQUAL(q["version"], 1);
  CAF_REQUIRE_EQUAL(q["breakdown"].size(), 5u);
  int64_t sum = 0;
  for (auto& line : q["breakdown"])
    sum += line["amount_cents"].get<int64_t>();
  CAF_CHECK_EQUAL(sum, 233725);
  CAF_CHECK_EQUAL(q["breakdown"][2]["label"], "Weekend (sat) x1.15");
  // Stored as computed; the lead moved to quoted.
  auto again = must(call("quotes.get", a, {{"id", q["id"]}}));
  CAF_CHECK_EQUAL(again, q);
  CAF_CHECK_EQUAL(contact_status(lead), "quoted");
  // A booked contact stays booked; the rules change and the next quote follows them.
  auto booked = contact(a, "booked");
  must(call("org.update", admin, {{"settings", {{"pricing", {{"hourly_cents", 10000}}}}}}));
  auto cheap = must(call("quotes.create", a,
                         {{"contact_id", booked}, {"event_type", "club"}, {"hours", 4}}));
  CAF_CHECK_EQUAL(cheap["amount_cents"], 60000 + 40000);
  CAF_CHECK_EQUAL(cheap["date"], nullptr);
  CAF_CHECK_EQUAL(contact_status(booked), "booked");
  // The contact filter.
  auto mine = must(call("quotes.list", a, {{"contact_id", lead}}));
  CAF_CHECK_EQUAL(ids_of(mine), std::vector<std::string>{id(q)});
  auto all = must(call("quotes.list", a, {{"limit", 1}}));
  CAF_CHECK_EQUAL(all["items"].size(), 1u);
  auto next = must(call("quotes.list", a, {{"limit", 1}, {"cursor", all["next_cursor"]}}));
  CAF_CHECK_EQUAL(next["items"].size(), 1u);
  CAF_CHECK(next["items"][0]["id"] != all["items"][0]["id"]);
}

CAF_TEST(bad quotes write nothing and foreign ids are not found) {
  auto a = org("jo@example.com", 'a');
  auto b = org("kim@example.com", 'b');
  auto lead_b = contact(b, "new");
  auto before = rows("quotes");
  for (auto args : {json{{"event_type", "wedding"}, {"hours", 0}},
                    json{{"event_type", "wedding"}, {"hours", 25}},
                    json{{"event_type", "wedding"}},
                    json{{"event_type", "rave"}, {"hours", 4}},
                    json{{"event_type", "wedding"}, {"hours", 4}, {"date", "2026-02-30"}},
                    json{{"event_type", "wedding"}, {"hours", 4}, {"add_ons", {"fog"}}},
                    json{{"event_type", "wedding"}, {"hours", 4}, {"guests", "many"}},
                    json{{"event_type", "wedding"}, {"hours", 4}, {"contact_id", "nope"}},
                    json{{"event_type", "wedding"}, {"hours", 4}, {"price", 1}}})
    CAF_CHECK_EQUAL(code_of(call("quotes.create", a, args)), app_errc::bad_request);
  auto foreign = call("quotes.create", a,
                      {{"event_type", "wedding"}, {"hours", 4}, {"contact_id", lead_b}});
  CAF_CHECK_EQUAL(code_of(foreign), app_errc::not_found);
  CAF_CHECK_EQUAL(rows("quotes"), before);
  CAF_CHECK_EQUAL(contact_status(lead_b), "new");
  auto qb = must(call("quotes.create", b, {{"event_type", "club"}, {"hours", 4}}));
  CAF_CHECK_EQUAL(code_of(call("quotes.get", a, {{"id", qb["id"]}})), app_errc::not_found);
  CAF_CHECK(must(call("quotes.list", a, json::object()))["items"].empty());
  // Malformed rules are the organization's problem, not the request's.
  auto admin = a;
  admin.role = "admin";
  must(call("org.update", admin, {{"settings", {{"pricing", {{"hourly_cents", "lots"}}}}}}));
  CAF_CHECK_EQUAL(code_of(call("quotes.create", a, {{"event_type", "club"}, {"hours", 4}})),
                  app_errc::unprocessable);
}

CAF_TEST(invoice numbers stay gapless and unique under 50 concurrent creations) {
  auto a = org("jo@example.com", 'a');
  auto b = org("kim@example.com", 'b');
  // A creation that takes a number and then fails: its rollback must give the number back.
  persistence::register_operation(
    "test.invoice_then_fail", [](pqxx::transaction_base& tx, const db_scope& s, const json& args) {
      (*persistence::find_operation("invoices.create"))(tx, s, args);
      throw persistence::op_error(app_errc::conflict, "rolled back on purpose");
      return json{};
    });
  auto send = [&](int i) {
    auto op = i % 6 == 5 ? "test.invoice_then_fail" : "invoices.create";
    return self->request(pool, std::chrono::seconds(60),
                         db_call{op, a, json{{"line_items", one_line}}.dump()});
  };
  // 60 calls in flight at once on 4 connections: 50 creations and 10 that roll back.
  std::vector<decltype(send(0))> pending;
  for (int i = 0; i < 60; ++i)
    pending.push_back(send(i));
  std::vector<int64_t> seqs;
  std::set<std::string> numbers;
  int failed = 0;
  for (size_t i = 0; i < pending.size(); ++i)
    pending[i].receive(
      [&](const std::string& s) {
        auto j = json::parse(s);
        seqs.push_back(j["seq"]);
        numbers.insert(j["number"]);
      },
      [&](caf::error& err) {
        ++failed;
        CAF_CHECK_EQUAL(app_code(err), app_errc::conflict);
      });
  CAF_CHECK_EQUAL(failed, 10);
  std::sort(seqs.begin(), seqs.end());
  std::vector<int64_t> expected(50);
  for (int i = 0; i < 50; ++i)
    expected[i] = i + 1;
  CAF_CHECK_EQUAL(seqs, expected);
  CAF_CHECK_EQUAL(numbers.size(), 50u);
  CAF_CHECK(numbers.count("INV-0001") == 1 && numbers.count("INV-0050") == 1);
  // Numbering is per organization.
  auto first_b = invoice(b);
  CAF_CHECK_EQUAL(first_b["number"], "INV-0001");
  auto next_a = invoice(a);
  CAF_CHECK_EQUAL(next_a["number"], "INV-0051");
}

CAF_TEST(invoices compute totals deposit and balance and reject bad fields) {
  auto a = org("jo@example.com", 'a');
  auto lines = json::array({item("DJ service", 5, 15000), item("Uplighting", 1, 25000)});
  auto inv = invoice(a, {{"line_items", lines},
                         {"deposit_cents", 20000},
                         {"due_date", "2026-06-01"}});
  CAF_CHECK_EQUAL(inv["status"], "draft");
  CAF_CHECK_EQUAL(inv["total_cents"], 100000);
  CAF_CHECK_EQUAL(inv["line_items"][0]["amount_cents"], 75000);
  CAF_CHECK_EQUAL(inv["deposit_cents"], 20000);
  CAF_CHECK_EQUAL(inv["balance_cents"], 80000);
  CAF_CHECK_EQUAL(inv["amount_due_cents"], 20000);
  CAF_CHECK_EQUAL(inv["paid_cents"], 0);
  CAF_CHECK_EQUAL(inv["currency"], "usd");
  CAF_CHECK_EQUAL(inv["overdue"], false);
  auto before = rows("invoices");
  for (auto args : {json::object(),
                    json{{"line_items", json::array()}},
                    json{{"line_items", json::array({item("", 1, 1)})}},
                    json{{"line_items", json::array({item("x", 0, 1)})}},
                    json{{"line_items", json::array({item("x", 1, -1)})}},
                    json{{"line_items", one_line}, {"deposit_cents", 100001}},
                    json{{"line_items", one_line}, {"due_date", "next week"}},
                    json{{"line_items", one_line}, {"currency", "USD"}},
                    json{{"line_items", one_line}, {"status", "paid"}},
                    json{{"line_items", one_line}, {"contact_id", 5}}})
    CAF_CHECK_EQUAL(code_of(call("invoices.create", a, args)), app_errc::bad_request);
  CAF_CHECK_EQUAL(code_of(call("invoices.create", a,
                               {{"line_items", one_line},
                                {"event_id", "00000000-0000-4000-8000-000000000000"}})),
                  app_errc::not_found);
  CAF_CHECK_EQUAL(rows("invoices"), before);
  // The failed creations took no numbers.
  auto second = invoice(a);
  CAF_CHECK_EQUAL(second["seq"], 2);
}

CAF_TEST(invoice status transitions) {
  auto a = org("jo@example.com", 'a');
  auto inv = invoice(a, {{"line_items", one_line}, {"deposit_cents", 30000}});
  auto conflict = [&](const json& target, json args) {
    args["id"] = target["id"];
    return code_of(call("invoices.update", a, args)) == app_errc::conflict;
  };
  CAF_CHECK(conflict(inv, {{"status", "paid"}}));
  // Drafts are editable.
  auto two = json::array({item("DJ", 2, 60000)});
  auto edited = patch(a, inv, {{"line_items", two}, {"version", inv["version"]}});
  CAF_CHECK_EQUAL(edited["total_cents"], 120000);
  CAF_CHECK_EQUAL(edited["balance_cents"], 90000);
  CAF_CHECK(conflict(inv, {{"notes", "stale"}, {"version", inv["version"]}}));
  auto sent = patch(a, edited, {{"status", "sent"}});
  CAF_CHECK_EQUAL(sent["status"], "sent");
  CAF_CHECK(sent["sent_at"].is_string());
  CAF_CHECK_EQUAL(sent["amount_due_cents"], 30000);
  CAF_CHECK(conflict(sent, {{"status", "draft"}}));
  CAF_CHECK(conflict(sent, {{"line_items", one_line}}));
  CAF_CHECK(conflict(sent, {{"deposit_cents", 0}}));
  auto dated = patch(a, sent, {{"due_date", "2027-01-01"}, {"notes", "thanks"}});
  CAF_CHECK_EQUAL(dated["due_date"], "2027-01-01");
  CAF_CHECK_EQUAL(dated["status"], "sent");
  // Unchanged PATCHes keep the version.
  auto same = patch(a, dated, {{"status", "sent"}});
  CAF_CHECK_EQUAL(same["version"], dated["version"]);
  CAF_CHECK(must(call("invoices.checkout", a, {{"id", sent["id"]}}))["id"] == sent["id"]);
  auto paid = patch(a, dated, {{"status", "paid"}});
  CAF_CHECK_EQUAL(paid["paid_cents"], 120000);
  CAF_CHECK_EQUAL(paid["amount_due_cents"], 0);
  CAF_CHECK(paid["paid_at"].is_string());
  CAF_CHECK(conflict(paid, {{"status", "void"}}));
  CAF_CHECK(conflict(paid, {{"notes", "changed"}}));
  CAF_CHECK_EQUAL(code_of(call("invoices.checkout", a, {{"id", paid["id"]}})),
                  app_errc::conflict);
  // Drafts and sent invoices can be voided; void is final.
  auto other = invoice(a);
  CAF_CHECK_EQUAL(code_of(call("invoices.checkout", a, {{"id", other["id"]}})),
                  app_errc::conflict);
  auto voided = patch(a, other, {{"status", "void"}});
  CAF_CHECK(voided["voided_at"].is_string());
  CAF_CHECK(conflict(voided, {{"status", "sent"}}));
  CAF_CHECK(conflict(voided, {{"status", "draft"}}));
  auto third = patch(a, invoice(a), {{"status", "sent"}});
  auto third_void = patch(a, third, {{"status", "void"}});
  CAF_CHECK_EQUAL(third_void["status"], "void");
  CAF_CHECK_EQUAL(code_of(call("invoices.update", a, {{"id", third["id"]}, {"status", "lost"}})),
                  app_errc::bad_request);
  CAF_CHECK_EQUAL(code_of(call("invoices.update", a,
                               {{"id", "00000000-0000-4000-8000-000000000000"},
                                {"status", "sent"}})),
                  app_errc::not_found);
}

CAF_TEST(the unpaid and overdue filters) {
  auto a = org("jo@example.com", 'a');
  auto b = org("kim@example.com", 'b');
  auto draft = invoice(a, {{"line_items", one_line}, {"due_date", "2020-01-01"}});
  auto late = patch(a, invoice(a, {{"line_items", one_line}, {"due_date", "2020-01-01"}}),
                    {{"status", "sent"}});
  auto on_time = patch(a, invoice(a, {{"line_items", one_line}, {"due_date", "2999-01-01"}}),
                       {{"status", "sent"}});
  auto undated = patch(a, invoice(a), {{"status", "sent"}});
  auto paid = patch(a, patch(a, invoice(a, {{"line_items", one_line},
                                           {"due_date", "2020-01-01"}}),
                             {{"status", "sent"}}),
                    {{"status", "paid"}});
  patch(b, invoice(b, {{"line_items", one_line}, {"due_date", "2020-01-01"}}),
        {{"status", "sent"}});
  CAF_CHECK_EQUAL(late["overdue"], true);
  CAF_CHECK_EQUAL(on_time["overdue"], false);
  CAF_CHECK_EQUAL(draft["overdue"], false);
  CAF_CHECK_EQUAL(paid["overdue"], false);
  auto sorted = [](std::vector<std::string> v) {
    std::sort(v.begin(), v.end());
    return v;
  };
  auto list = [&](const std::string& status) {
    return ids_of(must(call("invoices.list", a, {{"status", status}})));
  };
  CAF_CHECK_EQUAL(list("unpaid"), sorted({id(late), id(on_time), id(undated)}));
  CAF_CHECK_EQUAL(list("overdue"), sorted({id(late)}));
  CAF_CHECK_EQUAL(list("paid"), sorted({id(paid)}));
  CAF_CHECK_EQUAL(list("draft"), sorted({id(draft)}));
  CAF_CHECK_EQUAL(list(""), sorted({id(draft), id(late), id(on_time), id(undated), id(paid)}));
  CAF_CHECK_EQUAL(code_of(call("invoices.list", a, {{"status", "late"}})), app_errc::bad_request);
}

CAF_TEST_FIXTURE_SCOPE_END()
