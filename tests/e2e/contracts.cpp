#define CAF_SUITE e2e.contracts

// Contracts over the real binary: a member creates one from a template and sends it; the client
// reads and signs through the secret link without an account; the recorded signature carries the
// caller's IP and user agent and the SHA-256 of the exact text; a signed contract stays as it was.

#include <csignal>
#include <cstdio>

#include "accounts_harness.hpp"
#include "protocols/crypto.hpp"
#include "support/caf_test.hpp"

using namespace djdash;
using namespace std::chrono_literals;
using nlohmann::json;
using test::operator+;

namespace {

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

const test::header_list browser{{"User-Agent", "ContractTest/1.0 (e2e)"}};

struct fixture {
  shared_node& s = the_node();
  test::api api{s.n.port()};
  test::account owner;
  std::string event_id;

  fixture() {
    auto email = "contracts-" + std::to_string(test::free_port()) + "@example.com";
    auto r = api.signup(email, "contracts e2e pw", {{"Host", "djdash.net"}}, "Night Owl DJs");
    DJ_EXPECT_STATUS(r, 201, "signup");
    CAF_REQUIRE_EQUAL(r->status, 201);
    owner = test::account::from(email, "contracts e2e pw", r->json());
    event_id = seed_event(owner.org_id);
  }

  /// A contact and a booked event with them, written directly through the owner role.
  std::string seed_event(const std::string& org) {
    pqxx::connection conn{s.db.owner_url()};
    pqxx::work tx{conn};
    tx.exec("select set_config('app.platform_admin', 'on', true)");
    auto contact = tx.exec_params1("insert into contacts (organization_id, name, email)"
                                   " values ($1::uuid, 'Sam Lee', $2) returning id",
                                   org, "sam-" + org.substr(0, 8) + "@example.com")[0]
                     .as<std::string>();
    auto id = tx.exec_params1("insert into events (organization_id, title, event_type, starts_at,"
                              " ends_at, status, contact_id, venue, guest_count, price_cents)"
                              " values ($1::uuid, 'Lee birthday', 'birthday',"
                              " '2027-01-16T01:00:00Z', '2027-01-16T05:00:00Z', 'booked',"
                              " $2::uuid, 'Loft 9', 60, 90000) returning id",
                              org, contact)[0]
                .as<std::string>();
    tx.commit();
    return id;
  }

  json create(const json& body) {
    auto r = api.call("POST", "/api/contracts", body, owner.auth());
    DJ_EXPECT_STATUS(r, 201, "create contract");
    return r->json();
  }

  json send(const std::string& id) {
    auto r = api.call("POST", "/api/contracts/" + id + "/send", std::string{}, owner.auth());
    DJ_EXPECT_STATUS(r, 200, "send contract");
    return r->json();
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(contract_tests, fixture)

CAF_TEST(a client reads and signs a sent contract and the signature matches the text) {
  auto c = create({{"event_id", event_id},
                   {"template", "{{client_name}} books {{organization_name}} for {{event_title}}"
                                " on {{event_date}} from {{start_time}} to {{end_time}}: {{price}}."}});
  auto body = c.value("body", "");
  CAF_CHECK_EQUAL(body, "Sam Lee books Night Owl DJs for Lee birthday on Friday, January 15, 2027"
                        " from 7:00 PM to 11:00 PM: $900.00.");
  CAF_CHECK_EQUAL(c.value("status", ""), "draft");
  auto id = c.value("id", "");

  // The first link dies when the contract is sent again.
  auto first = send(id);
  auto old_token = first.value("token", "");
  CAF_CHECK_EQUAL(first.value("url", ""), "/api/public/contracts/" + old_token);
  CAF_CHECK_EQUAL(old_token.size(), 43u);
  auto second = send(id);
  auto token = second.value("token", "");
  CAF_CHECK_NOT_EQUAL(token, old_token);
  CAF_CHECK_EQUAL(second.value("status", ""), "sent");
  DJ_EXPECT_ERROR(api.get("/api/public/contracts/" + old_token), 404, "not_found", "old link");

  // The client's view: text, title, organization, no internal ids.
  auto read = api.get("/api/public/contracts/" + token, browser);
  DJ_EXPECT_STATUS(read, 200, "public read");
  auto page = read->json();
  CAF_CHECK_EQUAL(page.value("body", ""), body);
  CAF_CHECK_EQUAL(page.value("organization_name", ""), "Night Owl DJs");
  CAF_CHECK_EQUAL(page.value("status", ""), "sent");
  CAF_CHECK(!page.contains("id"));
  CAF_CHECK(!page.contains("organization_id"));

  // Bad input before anything is recorded.
  auto url = "/api/public/contracts/" + token + "/sign";
  DJ_EXPECT_ERROR(api.call("POST", url, json{{"name", "Sam Lee"}, {"agree", false}}, browser), 400,
                  "bad_request", "agree false");
  DJ_EXPECT_ERROR(api.call("POST", url, json{{"name", ""}, {"agree", true}}, browser), 400,
                  "bad_request", "empty name");
  DJ_EXPECT_ERROR(api.call("POST", url, json{{"agree", true}}, browser), 400, "bad_request",
                  "no name");

  auto signed_r = api.call("POST", url, json{{"name", "Samuel Lee"}, {"agree", true}}, browser);
  DJ_EXPECT_STATUS(signed_r, 200, "sign");
  auto sig = signed_r->json();
  auto expected_hash = crypto::hex(crypto::sha256(body));
  CAF_CHECK_EQUAL(sig.value("signed_sha256", ""), expected_hash);
  CAF_CHECK_EQUAL(sig.value("signer_name", ""), "Samuel Lee");
  CAF_CHECK_EQUAL(sig.value("signer_ip", ""), "127.0.0.1");
  CAF_CHECK_EQUAL(sig.value("signer_user_agent", ""), "ContractTest/1.0 (e2e)");
  CAF_CHECK_EQUAL(sig.value("status", ""), "signed");
  CAF_CHECK(sig["signed_at"].is_string());

  // Once only.
  DJ_EXPECT_ERROR(api.call("POST", url, json{{"name", "Mallory"}, {"agree", true}}, browser), 409,
                  "conflict", "second signature");
  DJ_EXPECT_ERROR(api.call("POST", "/api/public/contracts/" + old_token + "/sign",
                           json{{"name", "Mallory"}, {"agree", true}}, browser),
                  404, "not_found", "sign through the old link");

  // The DJ sees the signature; the contract cannot be sent again or voided.
  auto stored_r = api.get("/api/contracts/" + id, owner.auth());
  DJ_EXPECT_STATUS(stored_r, 200, "get signed contract");
  auto stored = stored_r->json();
  CAF_CHECK_EQUAL(stored.value("signed_sha256", ""), expected_hash);
  CAF_CHECK_EQUAL(stored.value("body", ""), body);
  CAF_CHECK_EQUAL(stored.value("signer_user_agent", ""), "ContractTest/1.0 (e2e)");
  DJ_EXPECT_ERROR(api.call("POST", "/api/contracts/" + id + "/send", std::string{}, owner.auth()),
                  409, "conflict", "send signed");
  DJ_EXPECT_ERROR(api.call("POST", "/api/contracts/" + id + "/void", std::string{}, owner.auth()),
                  409, "conflict", "void signed");
  auto signed_view = api.get("/api/public/contracts/" + token);
  DJ_EXPECT_STATUS(signed_view, 200, "signed copy through the link");
  auto signed_page = signed_view->json();
  CAF_CHECK_EQUAL(signed_page.value("signed_sha256", ""), expected_hash);

  // Not even the database owner can change the signed text.
  pqxx::connection conn{s.db.owner_url()};
  pqxx::work tx{conn};
  tx.exec("select set_config('app.platform_admin', 'on', true)");
  std::string state = "ok";
  try {
    tx.exec_params("update contracts set body = 'edited' where id = $1::uuid", id);
  } catch (const pqxx::sql_error& e) {
    state = e.sqlstate();
  }
  CAF_CHECK_EQUAL(state, "ZC409");
}

CAF_TEST(unknown links malformed tokens and voided contracts answer 404) {
  for (auto bad : {std::string{"abc"}, std::string(43, 'A'), crypto::random_token(32),
                   crypto::random_token(32) + "x"}) {
    DJ_EXPECT_ERROR(api.get("/api/public/contracts/" + bad), 404, "not_found", "token " << bad);
    DJ_EXPECT_ERROR(api.call("POST", "/api/public/contracts/" + bad + "/sign",
                             json{{"name", "X"}, {"agree", true}}),
                    404, "not_found", "sign with " << bad);
  }
  auto c = create({{"event_id", event_id}});
  auto id = c.value("id", "");
  auto token = send(id).value("token", "");
  DJ_EXPECT_STATUS(api.get("/api/public/contracts/" + token), 200, "live link");
  auto voided = api.call("POST", "/api/contracts/" + id + "/void", std::string{}, owner.auth());
  DJ_EXPECT_STATUS(voided, 200, "void");
  auto v = voided->json();
  CAF_CHECK_EQUAL(v.value("status", ""), "void");
  DJ_EXPECT_ERROR(api.get("/api/public/contracts/" + token), 404, "not_found", "voided link");
  DJ_EXPECT_ERROR(api.call("POST", "/api/public/contracts/" + token + "/sign",
                           json{{"name", "X"}, {"agree", true}}),
                  404, "not_found", "sign voided");
}

CAF_TEST(bad templates and foreign events are refused and routes are documented) {
  auto before = test::count_rows(s.db.owner_url(), "contracts");
  auto bad = api.call("POST", "/api/contracts",
                      json{{"event_id", event_id}, {"template", "Hi {{client}} {{deposit_due}}"}},
                      owner.auth());
  DJ_EXPECT_ERROR(bad, 400, "bad_request", "unknown placeholders");
  auto message = bad->json()["error"].value("message", "");
  CAF_CHECK_NOT_EQUAL(message.find("{{client}}, {{deposit_due}}"), std::string::npos);
  DJ_EXPECT_ERROR(api.call("POST", "/api/contracts", json{{"event_id", "not-a-uuid"}},
                           owner.auth()),
                  400, "bad_request", "malformed event id");
  DJ_EXPECT_ERROR(api.call("POST", "/api/contracts",
                           json{{"event_id", "00000000-0000-4000-8000-000000000000"}},
                           owner.auth()),
                  404, "not_found", "unknown event");
  DJ_EXPECT_ERROR(api.call("POST", "/api/contracts", json{{"event_id", event_id}}), 401,
                  "unauthorized", "no token");
  CAF_CHECK_EQUAL(test::count_rows(s.db.owner_url(), "contracts"), before);
  auto listed = api.get("/api/contracts?status=draft&limit=5", owner.auth());
  DJ_EXPECT_STATUS(listed, 200, "list");
  auto doc_r = api.get("/openapi.json");
  DJ_EXPECT_STATUS(doc_r, 200, "openapi");
  auto doc = doc_r->json();
  for (auto [path, method] : std::vector<std::pair<std::string, std::string>>{
         {"/api/contracts", "get"},
         {"/api/contracts", "post"},
         {"/api/contracts/{id}", "get"},
         {"/api/contracts/{id}/send", "post"},
         {"/api/contracts/{id}/void", "post"},
         {"/api/public/contracts/{token}", "get"},
         {"/api/public/contracts/{token}/sign", "post"}}) {
    auto& paths = doc["paths"];
    auto documented = paths.contains(path) && paths[path].contains(method);
    if (!documented)
      CAF_TEST_PRINT_ERROR(method << " " << path << " missing from /openapi.json");
    CAF_CHECK(documented);
  }
}

// Last in the suite: it uses up this node's signing allowance for 127.0.0.1.
CAF_TEST(signing is rate limited per IP) {
  auto url = "/api/public/contracts/" + crypto::random_token(32) + "/sign";
  int last = 0;
  std::string retry_after;
  for (int i = 0; i < 40 && last != 429; ++i) {
    auto r = api.call("POST", url, json{{"name", "Guess"}, {"agree", true}}, browser);
    CAF_REQUIRE(r);
    last = r->status;
    retry_after = r->header("retry-after");
  }
  CAF_CHECK_EQUAL(last, 429);
  CAF_CHECK(!retry_after.empty());
}

CAF_TEST_FIXTURE_SCOPE_END()
