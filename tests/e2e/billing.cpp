#define CAF_SUITE e2e.billing

// Quotes and invoices over the real binary: a quote priced from pricing rules set through
// PATCH /api/organizations/current, the invoice lifecycle with gapless numbers, the checkout
// answer while Stripe is not configured, 400s for bad fields with nothing written, 404s, and the
// routes in /openapi.json.

#include <csignal>
#include <cstdio>
#include <stdexcept>

#include "accounts_harness.hpp"
#include "support/caf_test.hpp"

using namespace djdash;
using namespace std::chrono_literals;
using nlohmann::json;
using test::product;

namespace {

const std::string password = "billing e2e password";
const std::string missing_id = "00000000-0000-4000-8000-000000000000";

/// One database and one node for the whole suite.
struct shared_node {
  test::pg_database db;
  std::string config_path;
  test::node n;

  shared_node()
    : config_path(test::write_config_file(test::relaxed_auth_config())),
      n(db.app_url(), db.owner_url(), {}, {"--config", config_path}) {
    if (!n.wait_listening())
      throw std::runtime_error("djdash did not start: " + n.process().output());
  }

  ~shared_node() {
    n.process().signal(SIGTERM);
    n.process().wait(20s);
    std::remove(config_path.c_str());
  }
};

shared_node& the_node() {
  static shared_node instance;
  return instance;
}

const json pricing_rules = {
  {"currency", "usd"},
  {"base_cents", {{"wedding", 120000}, {"corporate", 90000}, {"default", 60000}}},
  {"hourly_cents", 15000},
  {"minimum_hours", 3},
  {"weekend_multiplier", 1.15},
  {"weekend_days", {"fri", "sat"}},
  {"peak_months", {5, 6, 9, 10, 12}},
  {"peak_multiplier", 1.1},
  {"add_ons", {{"uplighting", 25000}, {"photo_booth", 45000}}},
};

/// A GET has no body; anything else sends a harmless change.
std::string body_for(const std::string& method) {
  return method == "GET" ? std::string{} : std::string{R"({"notes": "x"})"};
}

const json one_line = {{{"description", "DJ service"}, {"quantity", 1}, {"unit_cents", 100000}}};

struct fixture {
  shared_node& s = the_node();
  test::api api{s.n.port()};

  test::account owner(const std::string& tag) {
    auto email = "billing-" + tag + "-" + std::to_string(test::free_port()) + "@example.com";
    auto r = api.signup(email, password, product("djdash"), "Billing " + tag);
    DJ_EXPECT_STATUS(r, 201, "signup " << email);
    CAF_REQUIRE_EQUAL(r->status, 201);
    return test::account::from(email, password, r->json());
  }

  int64_t rows(const std::string& table) {
    return test::count_rows(s.db.owner_url(), table);
  }

  /// A contact of `a`'s organization, written through the owner role.
  std::string contact(const test::account& a, const std::string& status) {
    pqxx::connection conn{s.db.owner_url()};
    pqxx::work tx{conn};
    tx.exec("select set_config('app.platform_admin', 'on', true)");
    auto id = tx.exec_params1("insert into contacts (organization_id, name, status)"
                              " values ($1::uuid, 'Sam', $2) returning id",
                              a.org_id, status)[0]
                .as<std::string>();
    tx.commit();
    return id;
  }

  json ok(const std::optional<test::http_reply>& r, int status, const std::string& what) {
    DJ_EXPECT_STATUS(r, status, what);
    return r->json();
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(billing_tests, fixture)

CAF_TEST(a quote follows the pricing rules set on the organization) {
  auto a = owner("quote");
  ok(api.call("PATCH", "/api/organizations/current",
              json{{"settings", {{"pricing", pricing_rules}}}}, a.auth()),
     200, "set pricing rules");
  auto lead = contact(a, "new");
  auto q = ok(api.call("POST", "/api/quotes",
                       json{{"contact_id", lead}, {"event_type", "wedding"},
                            {"date", "2026-06-13"}, {"hours", 2}, {"add_ons", {"uplighting"}}},
                       a.auth()),
              201, "create quote");
  CAF_CHECK_EQUAL(q["amount_cents"], 233725);
  CAF_CHECK_EQUAL(q["currency"], "usd");
  CAF_CHECK_EQUAL(q["billed_hours"], 3.0);
  CAF_CHECK_EQUAL(q["organization_id"], a.org_id);
  CAF_CHECK_EQUAL(q["version"], 1);
  CAF_CHECK(q["created_at"].is_string() && q["updated_at"].is_string());
  CAF_REQUIRE_EQUAL(q["breakdown"].size(), 5u);
  CAF_CHECK_EQUAL(q["breakdown"][0]["amount_cents"], 120000);
  auto again = ok(api.get("/api/quotes/" + q["id"].get<std::string>(), a.auth()), 200, "get");
  CAF_CHECK_EQUAL(again, q);
  auto lead_now = test::as_platform_owner(s.db.owner_url(), [&](pqxx::work& tx) {
    return tx.exec_params1("select status from contacts where id = $1::uuid", lead)[0]
      .as<std::string>();
  });
  CAF_CHECK_EQUAL(lead_now, "quoted");
  ok(api.call("POST", "/api/quotes", json{{"event_type", "corporate"}, {"hours", 4}}, a.auth()),
     201, "undated quote");
  auto by_contact = ok(api.get("/api/quotes?contact_id=" + lead, a.auth()), 200, "filter");
  CAF_CHECK_EQUAL(by_contact["items"].size(), 1u);
  auto first = ok(api.get("/api/quotes?limit=1", a.auth()), 200, "page 1");
  CAF_CHECK_EQUAL(first["items"].size(), 1u);
  CAF_CHECK(first["next_cursor"].is_string());
}

CAF_TEST(bad quotes answer 400 and write nothing and unknown ones 404) {
  auto a = owner("badquote");
  auto before = rows("quotes");
  for (auto body : {std::string{"not json"}, std::string{R"({"hours": 4})"},
                    std::string{R"({"event_type": "wedding", "hours": 0})"},
                    std::string{R"({"event_type": "wedding", "hours": 24.5})"},
                    std::string{R"({"event_type": "rave", "hours": 4})"},
                    std::string{R"({"event_type": "wedding", "hours": 4, "date": "2026-02-30"})"},
                    std::string{R"({"event_type": "wedding", "hours": 4, "add_ons": ["fog"]})"},
                    std::string{R"({"event_type": "wedding", "hours": "4"})"},
                    std::string{R"({"event_type": "wedding", "hours": 4, "contact_id": "x"})"}}) {
    auto r = api.call("POST", "/api/quotes", body, a.auth());
    DJ_EXPECT_ERROR(r, 400, "bad_request", "quote " << body);
  }
  DJ_EXPECT_ERROR(api.call("POST", "/api/quotes",
                           json{{"event_type", "wedding"}, {"hours", 4},
                                {"contact_id", missing_id}},
                           a.auth()),
                  404, "not_found", "unknown contact");
  CAF_CHECK_EQUAL(rows("quotes"), before);
  DJ_EXPECT_ERROR(api.get("/api/quotes/" + missing_id, a.auth()), 404, "not_found", "unknown");
  DJ_EXPECT_ERROR(api.get("/api/quotes/not-a-uuid", a.auth()), 404, "not_found", "malformed");
  DJ_EXPECT_ERROR(api.get("/api/quotes?contact_id=x", a.auth()), 400, "bad_request", "filter");
  DJ_EXPECT_ERROR(api.get("/api/quotes"), 401, "unauthorized", "anonymous");
}

CAF_TEST(the invoice lifecycle) {
  auto a = owner("invoice");
  auto created = ok(api.call("POST", "/api/invoices",
                             json{{"line_items", {{{"description", "DJ service"}, {"quantity", 5},
                                                   {"unit_cents", 15000}},
                                                  {{"description", "Uplighting"}, {"quantity", 1},
                                                   {"unit_cents", 25000}}}},
                                  {"deposit_cents", 25000}, {"due_date", "2020-01-31"}},
                             a.auth()),
                    201, "create invoice");
  CAF_CHECK_EQUAL(created["number"], "INV-0001");
  CAF_CHECK_EQUAL(created["status"], "draft");
  CAF_CHECK_EQUAL(created["total_cents"], 100000);
  CAF_CHECK_EQUAL(created["balance_cents"], 75000);
  CAF_CHECK_EQUAL(created["amount_due_cents"], 25000);
  auto path = "/api/invoices/" + created["id"].get<std::string>();
  auto second = ok(api.call("POST", "/api/invoices", json{{"line_items", one_line}}, a.auth()),
                   201, "second invoice");
  CAF_CHECK_EQUAL(second["number"], "INV-0002");
  // A draft cannot be paid yet; checkout of a draft is a conflict too.
  DJ_EXPECT_ERROR(api.call("PATCH", path, json{{"status", "paid"}}, a.auth()), 409, "conflict",
                  "draft to paid");
  auto sent = ok(api.call("PATCH", path, json{{"status", "sent"}, {"version", created["version"]}},
                          a.auth()),
                 200, "send");
  CAF_CHECK_EQUAL(sent["status"], "sent");
  CAF_CHECK_EQUAL(sent["overdue"], true);
  DJ_EXPECT_ERROR(api.call("PATCH", path, json{{"notes", "late"}, {"version", created["version"]}},
                           a.auth()),
                  409, "conflict", "stale version");
  auto checkout = api.call("POST", path + "/checkout", std::string{}, a.auth());
  DJ_EXPECT_ERROR(checkout, 409, "conflict", "checkout without Stripe");
  auto checkout_body = checkout->json();
  CAF_CHECK_EQUAL(checkout_body["error"]["message"], "payments are not configured (Stripe)");
  auto unpaid = ok(api.get("/api/invoices?status=unpaid", a.auth()), 200, "unpaid");
  CAF_REQUIRE_EQUAL(unpaid["items"].size(), 1u);
  CAF_CHECK_EQUAL(unpaid["items"][0]["id"], created["id"]);
  auto overdue = ok(api.get("/api/invoices?status=overdue", a.auth()), 200, "overdue");
  CAF_CHECK_EQUAL(overdue["items"].size(), 1u);
  auto paid = ok(api.call("PATCH", path, json{{"status", "paid"}}, a.auth()), 200, "pay");
  CAF_CHECK_EQUAL(paid["paid_cents"], 100000);
  CAF_CHECK_EQUAL(paid["amount_due_cents"], 0);
  CAF_CHECK_EQUAL(paid["overdue"], false);
  DJ_EXPECT_ERROR(api.call("PATCH", path, json{{"status", "void"}}, a.auth()), 409, "conflict",
                  "paid is final");
  DJ_EXPECT_ERROR(api.call("POST", path + "/checkout", std::string{}, a.auth()), 409, "conflict",
                  "checkout of a paid invoice");
  auto voided = ok(api.call("PATCH", "/api/invoices/" + second["id"].get<std::string>(),
                            json{{"status", "void"}}, a.auth()),
                   200, "void the draft");
  CAF_CHECK_EQUAL(voided["status"], "void");
  auto listed = ok(api.get("/api/invoices?status=paid", a.auth()), 200, "paid filter");
  CAF_CHECK_EQUAL(listed["items"].size(), 1u);
  auto got = ok(api.get(path, a.auth()), 200, "get");
  CAF_CHECK_EQUAL(got["status"], "paid");
}

CAF_TEST(bad invoices answer 400 and write nothing and unknown ones 404) {
  auto a = owner("badinvoice");
  auto before = rows("invoices");
  for (auto body : {json::object(), json{{"line_items", json::array()}},
                    json{{"line_items", one_line}, {"deposit_cents", 100001}},
                    json{{"line_items", one_line}, {"due_date", "tomorrow"}},
                    json{{"line_items", {{{"description", "x"}, {"quantity", 1.5},
                                          {"unit_cents", 1}}}}},
                    json{{"line_items", one_line}, {"number", "INV-9999"}}}) {
    auto r = api.call("POST", "/api/invoices", body, a.auth());
    DJ_EXPECT_ERROR(r, 400, "bad_request", "invoice " << body.dump());
  }
  CAF_CHECK_EQUAL(rows("invoices"), before);
  auto inv = ok(api.call("POST", "/api/invoices", json{{"line_items", one_line}}, a.auth()), 201,
                "create");
  CAF_CHECK_EQUAL(inv["number"], "INV-0001");
  auto path = "/api/invoices/" + inv["id"].get<std::string>();
  DJ_EXPECT_ERROR(api.call("PATCH", path, json{{"status", "lost"}}, a.auth()), 400,
                  "bad_request", "bad status");
  DJ_EXPECT_ERROR(api.call("PATCH", path, json{{"deposit_cents", -1}}, a.auth()), 400,
                  "bad_request", "bad deposit");
  DJ_EXPECT_ERROR(api.call("PATCH", path, std::string{"[]"}, a.auth()), 400, "bad_request",
                  "array body");
  auto unchanged = ok(api.get(path, a.auth()), 200, "unchanged");
  CAF_CHECK_EQUAL(unchanged["version"], inv["version"]);
  DJ_EXPECT_ERROR(api.get("/api/invoices?status=late", a.auth()), 400, "bad_request", "filter");
  for (auto method : {"GET", "PATCH"})
    DJ_EXPECT_ERROR(api.call(method, "/api/invoices/" + missing_id,
                             body_for(method),
                             a.auth()),
                    404, "not_found", method << " unknown invoice");
  DJ_EXPECT_ERROR(api.call("POST", "/api/invoices/" + missing_id + "/checkout", std::string{},
                           a.auth()),
                  404, "not_found", "checkout of an unknown invoice");
  DJ_EXPECT_ERROR(api.get("/api/invoices/nope", a.auth()), 404, "not_found", "malformed id");
}

CAF_TEST(every billing route is in the OpenAPI document) {
  auto doc = ok(api.get("/openapi.json"), 200, "openapi");
  for (auto [path, method] : std::vector<std::pair<std::string, std::string>>{
         {"/api/quotes", "get"}, {"/api/quotes", "post"}, {"/api/quotes/{id}", "get"},
         {"/api/invoices", "get"}, {"/api/invoices", "post"}, {"/api/invoices/{id}", "get"},
         {"/api/invoices/{id}", "patch"}, {"/api/invoices/{id}/checkout", "post"}}) {
    auto found = doc["paths"].contains(path) && doc["paths"][path].contains(method);
    if (!found)
      CAF_TEST_PRINT_ERROR("missing " << method << " " << path);
    CAF_CHECK(found);
    if (found) {
      auto tag = doc["paths"][path][method]["tags"][0];
      CAF_CHECK_EQUAL(tag, "billing");
    }
  }
}

CAF_TEST_FIXTURE_SCOPE_END()
