#define CAF_SUITE e2e.tenant_isolation

// Tenant isolation over the real binary. Two organizations per product (six, each with its own
// owner) plus a plain member in one of them. Every org-scoped route is called by each user with
// the ids of every organization that user does not belong to; the answers must be 404 (ids of
// another org behave like ids that do not exist) or 403 (X-Organization-Id naming a foreign org,
// role violations), and the row counts of every tenant table, the organizations and their member
// lists must be the same afterwards.
//
// Later issues: add each new org-scoped route to `cross_org_probes` (and, when it has role rules,
// to `member_probes`). Tenant tables are found through information_schema, so new tables are
// counted without changes here; when a route creates tenant rows, create some for every org before
// the "Before" snapshot so that an attack has something to find.

#include <csignal>
#include <cstdio>
#include <set>
#include <stdexcept>

#include "accounts_harness.hpp"
#include "support/caf_test.hpp"

using namespace djdash;
using namespace std::chrono_literals;
using nlohmann::json;
using test::bearer;
using test::org_header;
using test::product;
using test::operator+;

namespace {

// -- the route table ------------------------------------------------------------------------------

/// Which X-Organization-Id a probe sends.
enum class org_hdr {
  none,    ///< none: the actor's current org from the token
  target,  ///< the foreign org B
  home,    ///< the actor's org A (member probes)
};

/// One request of the attack. `path` and `body` may use the placeholders
///   {b_org}          id of the foreign organization B
///   {b_owner_user}   user id of B's owner
///   {b_owner_email}  email of B's owner
///   {a_org}          id of the actor's organization A
///   {a_owner_user}   user id of A's owner
///   {a_owner_email}  email of A's owner
///   {self}           the actor's user id
///   {b_<key>}        B's row ids seeded before the attack (tenant::ids), e.g. {b_quote}
struct probe {
  std::string method;
  std::string path;
  std::string body;
  org_hdr header;
  int expected_status;
  std::string expected_code;
};

/// Org-scoped routes called by a user of org A with the ids of org B (A ≠ B, the user is no
/// member of B).
const std::vector<probe> cross_org_probes{
  {"GET", "/api/organizations/current", "", org_hdr::target, 403, "forbidden"},
  {"PATCH", "/api/organizations/current", R"({"name": "taken over by {a_org}"})", org_hdr::target,
   403, "forbidden"},
  {"PATCH", "/api/organizations/current", R"({"settings": {"owned": true}, "version": 1})",
   org_hdr::target, 403, "forbidden"},
  {"GET", "/api/organizations/current/members", "", org_hdr::target, 403, "forbidden"},
  {"POST", "/api/organizations/current/members", R"({"email": "{a_owner_email}", "role": "owner"})",
   org_hdr::target, 403, "forbidden"},
  {"PATCH", "/api/organizations/current/members/{b_owner_user}", R"({"role": "member"})",
   org_hdr::none, 404, "not_found"},
  {"DELETE", "/api/organizations/current/members/{b_owner_user}", "", org_hdr::none, 404,
   "not_found"},
  {"PATCH", "/api/organizations/current/members/{b_owner_user}", R"({"role": "member"})",
   org_hdr::target, 403, "forbidden"},
  {"DELETE", "/api/organizations/current/members/{b_owner_user}", "", org_hdr::target, 403,
   "forbidden"},
  {"PATCH", "/api/organizations/current/members/{self}", R"({"role": "owner"})", org_hdr::target,
   403, "forbidden"},
  {"GET", "/api/organizations/current/audit-log", "", org_hdr::target, 403, "forbidden"},
  {"GET", "/api/organizations/current/notifications", "", org_hdr::target, 403, "forbidden"},
  {"GET", "/api/admin/organizations", "", org_hdr::none, 403, "forbidden"},
  {"GET", "/api/admin/organizations?limit=200", "", org_hdr::target, 403, "forbidden"},
  // billing: quotes and invoices
  {"GET", "/api/quotes", "", org_hdr::target, 403, "forbidden"},
  {"POST", "/api/quotes", R"({"event_type": "club", "hours": 4})", org_hdr::target, 403,
   "forbidden"},
  {"POST", "/api/quotes",
   R"({"event_type": "club", "hours": 4, "contact_id": "{b_quote_contact}"})", org_hdr::none, 404,
   "not_found"},
  {"GET", "/api/quotes/{b_quote}", "", org_hdr::none, 404, "not_found"},
  {"GET", "/api/quotes/{b_quote}", "", org_hdr::target, 403, "forbidden"},
  {"GET", "/api/invoices", "", org_hdr::target, 403, "forbidden"},
  {"POST", "/api/invoices",
   R"({"line_items": [{"description": "x", "quantity": 1, "unit_cents": 1}]})", org_hdr::target,
   403, "forbidden"},
  {"POST", "/api/invoices",
   R"({"line_items": [{"description": "x", "quantity": 1, "unit_cents": 1}],
       "contact_id": "{b_quote_contact}"})",
   org_hdr::none, 404, "not_found"},
  {"GET", "/api/invoices/{b_invoice}", "", org_hdr::none, 404, "not_found"},
  {"GET", "/api/invoices/{b_invoice}", "", org_hdr::target, 403, "forbidden"},
  {"PATCH", "/api/invoices/{b_invoice}", R"({"status": "void"})", org_hdr::none, 404,
   "not_found"},
  {"PATCH", "/api/invoices/{b_invoice}", R"({"status": "void"})", org_hdr::target, 403,
   "forbidden"},
  {"POST", "/api/invoices/{b_invoice}/checkout", "", org_hdr::none, 404, "not_found"},
  {"POST", "/api/invoices/{b_invoice}/checkout", "", org_hdr::target, 403, "forbidden"},
  {"POST", "/api/invoices/{b_invoice}/checkout", R"({"return_url": "https://x.test/pay"})",
   org_hdr::none, 404, "not_found"},
  // payments: B's payment list and connected account by header
  {"GET", "/api/payments", "", org_hdr::target, 403, "forbidden"},
  // SMS classifier: B's timezone and membership are not A's to use
  {"POST", "/api/agents/classify", R"({"text":"are you free june 14"})", org_hdr::target, 403,
   "forbidden"},
  {"GET", "/api/stripe/connect/status", "", org_hdr::target, 403, "forbidden"},
  {"POST", "/api/stripe/connect/onboard",
   R"({"return_url":"https://dj.example/back","refresh_url":"https://dj.example/again"})",
   org_hdr::target, 403, "forbidden"},
  // crm: contacts / leads and tasks
  {"GET", "/api/contacts", "", org_hdr::target, 403, "forbidden"},
  {"GET", "/api/leads?q=iso", "", org_hdr::target, 403, "forbidden"},
  {"POST", "/api/contacts", R"({"name": "intruder"})", org_hdr::target, 403, "forbidden"},
  {"POST", "/api/leads", R"({"name": "intruder"})", org_hdr::target, 403, "forbidden"},
  {"GET", "/api/contacts/{b_contact}", "", org_hdr::none, 404, "not_found"},
  {"GET", "/api/leads/{b_contact}", "", org_hdr::none, 404, "not_found"},
  {"GET", "/api/contacts/{b_contact}", "", org_hdr::target, 403, "forbidden"},
  {"PATCH", "/api/contacts/{b_contact}", R"({"status": "lost"})", org_hdr::none, 404,
   "not_found"},
  {"PATCH", "/api/leads/{b_contact}", R"({"notes": "owned", "version": 1})", org_hdr::none, 404,
   "not_found"},
  {"PATCH", "/api/leads/{b_contact}", R"({"status": "lost"})", org_hdr::target, 403, "forbidden"},
  {"DELETE", "/api/contacts/{b_contact}", "", org_hdr::none, 404, "not_found"},
  {"DELETE", "/api/leads/{b_contact}", "", org_hdr::none, 404, "not_found"},
  {"DELETE", "/api/contacts/{b_contact}", "", org_hdr::target, 403, "forbidden"},
  {"GET", "/api/tasks", "", org_hdr::target, 403, "forbidden"},
  {"POST", "/api/tasks", R"({"title": "intruder"})", org_hdr::target, 403, "forbidden"},
  {"POST", "/api/tasks", R"({"title": "spy", "contact_id": "{b_contact}"})", org_hdr::none, 404,
   "not_found"},
  {"PATCH", "/api/tasks/{b_task}", R"({"done": true})", org_hdr::none, 404, "not_found"},
  {"PATCH", "/api/tasks/{b_task}", R"({"done": true})", org_hdr::target, 403, "forbidden"},
  // contracts: B's contract by id, and B's secret link token tried as an id
  {"GET", "/api/contracts", "", org_hdr::target, 403, "forbidden"},
  {"POST", "/api/contracts", R"({"event_id": "{b_contract_event}"})", org_hdr::none, 404,
   "not_found"},
  {"POST", "/api/contracts", R"({"event_id": "{b_contract_event}"})", org_hdr::target, 403,
   "forbidden"},
  {"GET", "/api/contracts/{b_contract}", "", org_hdr::none, 404, "not_found"},
  {"GET", "/api/contracts/{b_contract}", "", org_hdr::target, 403, "forbidden"},
  {"GET", "/api/contracts/{b_contract_token}", "", org_hdr::none, 404, "not_found"},
  {"POST", "/api/contracts/{b_contract}/send", "", org_hdr::none, 404, "not_found"},
  {"POST", "/api/contracts/{b_contract}/send", "", org_hdr::target, 403, "forbidden"},
  {"POST", "/api/contracts/{b_contract_token}/send", "", org_hdr::none, 404, "not_found"},
  {"POST", "/api/contracts/{b_contract}/void", "", org_hdr::none, 404, "not_found"},
  {"POST", "/api/contracts/{b_contract}/void", "", org_hdr::target, 403, "forbidden"},
  // events: the calendar of B (its seeded contract event) by id, and B's calendar by header
  {"GET", "/api/events", "", org_hdr::target, 403, "forbidden"},
  {"GET", "/api/events/availability?date=2027-06-12", "", org_hdr::target, 403, "forbidden"},
  {"POST", "/api/events",
   R"({"title": "spy", "starts_at": "2031-01-01T18:00:00Z", "ends_at": "2031-01-01T20:00:00Z"})",
   org_hdr::target, 403, "forbidden"},
  {"POST", "/api/events",
   R"({"title": "spy", "starts_at": "2031-01-02T18:00:00Z", "ends_at": "2031-01-02T20:00:00Z",
       "contact_id": "{b_contact}"})",
   org_hdr::none, 404, "not_found"},
  {"GET", "/api/events/{b_contract_event}", "", org_hdr::none, 404, "not_found"},
  {"GET", "/api/events/{b_contract_event}", "", org_hdr::target, 403, "forbidden"},
  {"PATCH", "/api/events/{b_contract_event}", R"({"status": "cancelled"})", org_hdr::none, 404,
   "not_found"},
  {"PATCH", "/api/events/{b_contract_event}", R"({"status": "cancelled"})", org_hdr::target, 403,
   "forbidden"},
  {"DELETE", "/api/events/{b_contract_event}", "", org_hdr::none, 404, "not_found"},
  {"DELETE", "/api/events/{b_contract_event}", "", org_hdr::target, 403, "forbidden"},
  // crowd requests: B's queue by header, B's request by id (the public view by id is public)
  {"GET", "/api/crowd-requests", "", org_hdr::target, 403, "forbidden"},
  {"GET", "/api/crowd-requests?status=all", "", org_hdr::target, 403, "forbidden"},
  {"GET", "/api/crowd-requests/{b_crowd_request}", "", org_hdr::none, 404, "not_found"},
  {"GET", "/api/crowd-requests/{b_crowd_request}", "", org_hdr::target, 403, "forbidden"},
  {"PATCH", "/api/crowd-requests/{b_crowd_request}", R"({"status": "skipped"})", org_hdr::none,
   404, "not_found"},
  {"PATCH", "/api/crowd-requests/{b_crowd_request}", R"({"position": 1})", org_hdr::none, 404,
   "not_found"},
  {"PATCH", "/api/crowd-requests/{b_crowd_request}", R"({"status": "played"})", org_hdr::target,
   403, "forbidden"},
  // sms: B's conversations and B's draft reply (seeded through the owner role)
  {"GET", "/api/sms/conversations", "", org_hdr::target, 403, "forbidden"},
  {"GET", "/api/sms/conversations/{b_sms_conversation}", "", org_hdr::none, 404, "not_found"},
  {"GET", "/api/sms/conversations/{b_sms_conversation}", "", org_hdr::target, 403, "forbidden"},
  {"PATCH", "/api/sms/conversations/{b_sms_conversation}/drafts/{b_sms_draft}",
   R"({"body": "owned by {a_org}"})", org_hdr::none, 404, "not_found"},
  {"PATCH", "/api/sms/conversations/{b_sms_conversation}/drafts/{b_sms_draft}",
   R"({"body": "owned by {a_org}"})", org_hdr::target, 403, "forbidden"},
  {"POST", "/api/sms/conversations/{b_sms_conversation}/drafts/{b_sms_draft}/send", "",
   org_hdr::none, 404, "not_found"},
  {"POST", "/api/sms/conversations/{b_sms_conversation}/drafts/{b_sms_draft}/send", "",
   org_hdr::target, 403, "forbidden"},
  {"POST", "/api/sms/conversations/{b_sms_conversation}/drafts/{b_sms_draft}/cancel", "",
   org_hdr::none, 404, "not_found"},
  {"POST", "/api/sms/conversations/{b_sms_conversation}/drafts/{b_sms_draft}/cancel", "",
   org_hdr::target, 403, "forbidden"},
};

/// Routes a plain member of org A may not use in A (always sent with X-Organization-Id: A).
const std::vector<probe> member_probes{
  {"PATCH", "/api/organizations/current", R"({"name": "the member was here"})", org_hdr::home, 403,
   "forbidden"},
  {"PATCH", "/api/organizations/current", R"({"sms_number": "+15557654321"})", org_hdr::home, 403,
   "forbidden"},
  {"GET", "/api/organizations/current/members", "", org_hdr::home, 403, "forbidden"},
  {"POST", "/api/organizations/current/members", R"({"email": "{b_owner_email}", "role": "admin"})",
   org_hdr::home, 403, "forbidden"},
  {"PATCH", "/api/organizations/current/members/{a_owner_user}", R"({"role": "member"})",
   org_hdr::home, 403, "forbidden"},
  {"DELETE", "/api/organizations/current/members/{a_owner_user}", "", org_hdr::home, 403,
   "forbidden"},
  {"PATCH", "/api/organizations/current/members/{self}", R"({"role": "admin"})", org_hdr::home,
   403, "forbidden"},
  {"GET", "/api/organizations/current/audit-log", "", org_hdr::home, 403, "forbidden"},
  {"GET", "/api/admin/organizations", "", org_hdr::home, 403, "forbidden"},
  {"POST", "/api/stripe/connect/onboard",
   R"({"return_url":"https://dj.example/back","refresh_url":"https://dj.example/again"})",
   org_hdr::home, 403, "forbidden"},
};

// -- the node -------------------------------------------------------------------------------------

const std::string password = "tenant isolation pw";

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

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (auto pos = s.find(from); pos != std::string::npos; pos = s.find(from, pos + to.size()))
    s.replace(pos, from.size(), to);
  return s;
}

/// One organization and its owner.
struct tenant {
  std::string label;  // e.g. "tipjar-a"
  test::account owner;
  std::map<std::string, std::string> ids;  // {b_<key>} placeholders: rows seeded in this org
  std::string org_id() const { return owner.org_id; }
};

/// What must not change: the org as its owner reads it, and its member list.
struct org_snapshot {
  json org;
  std::set<std::string> members;  // user_id|role|version
};

struct fixture {
  shared_node& s = the_node();
  test::api api{s.n.port()};

  test::account signup(const std::string& label, const test::header_list& where) {
    auto email = "iso-" + label + "-" + std::to_string(test::free_port()) + "@example.com";
    auto r = api.signup(email, password, where, "Isolation " + label);
    DJ_EXPECT_STATUS(r, 201, "signup " << label);
    CAF_REQUIRE_EQUAL(r->status, 201);
    return test::account::from(email, password, r->json());
  }

  org_snapshot snapshot(const tenant& t) {
    org_snapshot out;
    auto org = api.get("/api/organizations/current", t.owner.auth());
    DJ_EXPECT_STATUS(org, 200, "snapshot org " << t.label);
    out.org = org->json();
    auto members = api.get("/api/organizations/current/members", t.owner.auth());
    DJ_EXPECT_STATUS(members, 200, "snapshot members " << t.label);
    auto body = members->json();
    if (body.contains("items") && body["items"].is_array())
      for (auto& m : body["items"])
        out.members.insert(m.value("user_id", "") + "|" + m.value("role", "") + "|"
                           + std::to_string(m.value("version", int64_t{-1})));
    return out;
  }

  /// Sends `p` as `actor` (a user of org A owned by `a_owner`) against org B owned by `b`.
  void run_probe(const probe& p, const test::account& actor, const std::string& a_org,
                 const test::account& a_owner, const tenant& b, const std::string& who,
                 int& failures) {
    auto fill = [&](std::string s) {
      s = replace_all(s, "{b_org}", b.org_id());
      s = replace_all(s, "{b_owner_user}", b.owner.user_id);
      s = replace_all(s, "{b_owner_email}", b.owner.email);
      s = replace_all(s, "{a_org}", a_org);
      s = replace_all(s, "{a_owner_user}", a_owner.user_id);
      s = replace_all(s, "{a_owner_email}", a_owner.email);
      s = replace_all(s, "{self}", actor.user_id);
      for (auto& [key, id] : b.ids)
        s = replace_all(s, "{b_" + key + "}", id);
      return s;
    };
    auto headers = actor.auth();
    if (p.header == org_hdr::target)
      headers = headers + org_header(b.org_id());
    else if (p.header == org_hdr::home)
      headers = headers + org_header(a_org);
    auto path = fill(p.path);
    auto r = api.call(p.method, path, fill(p.body), headers);
    CAF_REQUIRE(r);
    auto code = r->error_code();
    if (r->status != p.expected_status || code != p.expected_code) {
      ++failures;
      CAF_TEST_PRINT_ERROR(who << " vs " << b.label << ": " << p.method << " " << path
                               << (p.header == org_hdr::target ? " [X-Organization-Id: B]"
                                   : p.header == org_hdr::home ? " [X-Organization-Id: A]"
                                                               : "")
                               << " expected " << p.expected_status << " " << p.expected_code
                               << ", got " << r->status << " " << r->body);
    }
    // Checked only on a mismatch: hundreds of passing probes would drown the verbose log.
    if (r->status != p.expected_status || code != p.expected_code) {
      CAF_CHECK_EQUAL(r->status, p.expected_status);
      CAF_CHECK_EQUAL(code, p.expected_code);
    }
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(tenant_isolation_tests, fixture)

CAF_TEST(users of one organization can neither read nor change another and nothing changes) {
  // Six organizations: two per product, each with its own owner, signed up on the product's host.
  std::vector<tenant> tenants;
  for (auto [ctx, host] : std::vector<std::pair<std::string, std::string>>{
         {"tipjar", "tipjar.live"}, {"djdash", "djdash.net"}, {"m10dj", "m10djcompany.com"}}) {
    for (auto side : {"a", "b"}) {
      auto label = ctx + "-" + side;
      tenants.push_back({label, signup(label, {{"Host", host}})});
      CAF_REQUIRE_EQUAL(tenants.back().owner.body["organization"]["product_context"], ctx);
    }
  }
  // A plain member of tipjar-a (who owns an organization of their own from the sign-up).
  auto& home = tenants[0];
  auto member = signup("member", product("tipjar"));
  tenants.push_back({"member-own", member});
  auto added = api.call("POST", "/api/organizations/current/members",
                        json{{"email", member.email}, {"role", "member"}}, home.owner.auth());
  DJ_EXPECT_STATUS(added, 201, "add the member to tipjar-a");
  CAF_REQUIRE_EQUAL(added->status, 201);
  auto refreshed = api.refresh(member.refresh);
  DJ_EXPECT_STATUS(refreshed, 200, "member refresh");
  member.take_tokens(refreshed->json());
  // The member really is one: reads tipjar-a's profile.
  auto member_read = api.get("/api/organizations/current",
                             member.auth() + org_header(home.org_id()));
  DJ_EXPECT_STATUS(member_read, 200, "member reads tipjar-a");

  // Rows for the attack to find: a contact (through the owner role), a quote and a sent invoice.
  for (auto& t : tenants) {
    t.ids["quote_contact"] = test::as_platform_owner(s.db.owner_url(), [&](pqxx::work& tx) {
      auto id = tx.exec_params1("insert into contacts (organization_id, name) values ($1::uuid,"
                                " 'Isolation') returning id",
                                t.org_id())[0]
                  .as<std::string>();
      tx.commit();
      return id;
    });
    auto quote = api.call("POST", "/api/quotes",
                          json{{"event_type", "club"}, {"hours", 4},
                               {"contact_id", t.ids["quote_contact"]}},
                          t.owner.auth());
    DJ_EXPECT_STATUS(quote, 201, "seed quote " << t.label);
    t.ids["quote"] = quote->json().value("id", "");
    auto invoice = api.call("POST", "/api/invoices", json{{"line_items", {{{"description", "DJ"},
                                                                     {"quantity", 1},
                                                                     {"unit_cents", 50000}}}}},
                            t.owner.auth());
    DJ_EXPECT_STATUS(invoice, 201, "seed invoice " << t.label);
    t.ids["invoice"] = invoice->json().value("id", "");
    auto sent = api.call("PATCH", "/api/invoices/" + t.ids["invoice"],
                         json{{"status", "sent"}}, t.owner.auth());
    DJ_EXPECT_STATUS(sent, 200, "send seeded invoice " << t.label);
  }

  // crm rows for the attack to find: a contact and a task linked to it, through the API.
  for (auto& t : tenants) {
    auto c = api.call("POST", "/api/contacts",
                      json{{"name", "Iso " + t.label}, {"email", "iso-" + t.label + "@example.com"}},
                      t.owner.auth());
    DJ_EXPECT_STATUS(c, 201, "seed contact " << t.label);
    t.ids["contact"] = c->json().value("id", "");
    auto task = api.call("POST", "/api/tasks",
                         json{{"title", "Call back"}, {"contact_id", t.ids["contact"]}},
                         t.owner.auth());
    DJ_EXPECT_STATUS(task, 201, "seed task " << t.label);
    t.ids["task"] = task->json().value("id", "");
  }

  // contracts for the attack to find: an event (through the owner role) and a sent contract.
  for (auto& t : tenants) {
    t.ids["contract_event"] = test::as_platform_owner(s.db.owner_url(), [&](pqxx::work& tx) {
      auto id = tx.exec_params1("insert into events (organization_id, title, starts_at, ends_at,"
                                " status) values ($1::uuid, 'Isolation gig',"
                                " '2027-03-06T20:00:00Z', '2027-03-07T01:00:00Z', 'booked')"
                                " returning id",
                                t.org_id())[0]
                  .as<std::string>();
      tx.commit();
      return id;
    });
    auto contract = api.call("POST", "/api/contracts", json{{"event_id", t.ids["contract_event"]}},
                             t.owner.auth());
    DJ_EXPECT_STATUS(contract, 201, "seed contract " << t.label);
    t.ids["contract"] = contract->json().value("id", "");
    auto sent = api.call("POST", "/api/contracts/" + t.ids["contract"] + "/send", std::string{},
                         t.owner.auth());
    DJ_EXPECT_STATUS(sent, 200, "send seeded contract " << t.label);
    t.ids["contract_token"] = sent->json().value("token", "");
  }

  // sms rows for the attack to find: a conversation with a draft reply, through the owner role.
  for (auto& t : tenants) {
    auto ids = test::as_platform_owner(s.db.owner_url(), [&](pqxx::work& tx) {
      auto conv = tx.exec_params1("insert into sms_conversations (organization_id, customer_phone)"
                                  " values ($1::uuid, '+14155550123') returning id",
                                  t.org_id())[0]
                    .as<std::string>();
      auto draft = tx.exec_params1("insert into sms_messages (organization_id, conversation_id,"
                                   " direction, body, status) values ($1::uuid, $2::uuid, 'out',"
                                   " 'Isolation draft', 'draft') returning id",
                                   t.org_id(), conv)[0]
                     .as<std::string>();
      tx.commit();
      return std::make_pair(conv, draft);
    });
    t.ids["sms_conversation"] = ids.first;
    t.ids["sms_draft"] = ids.second;
  }

  // crowd requests for the attack to find: a free song request on each request page.
  for (auto& t : tenants) {
    auto rules = api.call("PATCH", "/api/organizations/current",
                          json{{"settings", {{"minimum_amounts", {{"song", 0}}}}}},
                          t.owner.auth());
    DJ_EXPECT_STATUS(rules, 200, "free songs " << t.label);
    auto req = api.call("POST", "/api/crowd-request/submit",
                        json{{"org_slug", t.owner.org_slug}, {"kind", "song"},
                             {"song_title", "Isolation " + t.label}, {"amount_cents", 0}});
    DJ_EXPECT_STATUS(req, 201, "seed crowd request " << t.label);
    t.ids["crowd_request"] = req->json().value("request_id", "");
  }

  // Before.
  std::map<std::string, org_snapshot> before;
  for (auto& t : tenants)
    before[t.label] = snapshot(t);
  auto counts_before = test::tenant_row_counts(s.db.owner_url());
  CAF_MESSAGE("tenant tables: " << test::describe(counts_before));
  CAF_REQUIRE(counts_before.count("organizations") == 1);
  CAF_REQUIRE(counts_before.count("organization_members") == 1);

  // The attack: every user against every organization they do not belong to.
  struct actor {
    std::string who;
    test::account user;
    std::string a_org;
    test::account a_owner;
    std::set<std::string> memberships;  // org ids the actor belongs to
    std::set<std::string> colleagues;   // user ids in the actor's current (token) org
  };
  std::vector<actor> actors;
  auto colleagues_of = [&](const std::string& label) {
    std::set<std::string> ids;
    for (auto& m : before[label].members)
      ids.insert(m.substr(0, m.find('|')));
    return ids;
  };
  for (auto& t : tenants)
    if (t.label != "member-own")
      actors.push_back({t.label + " owner", t.owner, t.org_id(), t.owner, {t.org_id()},
                        colleagues_of(t.label)});
  actors.push_back({"tipjar-a member", member, home.org_id(), home.owner,
                    {home.org_id(), member.org_id}, colleagues_of("member-own")});
  int failures = 0;
  int requests = 0;
  for (auto& a : actors) {
    for (auto& b : tenants) {
      // B must be foreign: the actor is no member of it, and B's owner is nobody the actor
      // may legitimately manage (the tipjar-a owner may manage the member, who owns
      // member-own).
      if (a.memberships.count(b.org_id()) > 0 || a.colleagues.count(b.owner.user_id) > 0)
        continue;
      for (auto& p : cross_org_probes) {
        run_probe(p, a.user, a.a_org, a.a_owner, b, a.who, failures);
        ++requests;
      }
    }
  }
  // Role violations of the plain member inside tipjar-a (B = another org, for {b_*} fields).
  for (auto& p : member_probes) {
    run_probe(p, member, home.org_id(), home.owner, tenants[1], "tipjar-a member", failures);
    ++requests;
  }
  CAF_MESSAGE(requests << " requests, " << failures << " unexpected answers");
  CAF_CHECK_EQUAL(failures, 0);

  // After: the same rows, the same organizations, the same members.
  auto counts_after = test::tenant_row_counts(s.db.owner_url());
  if (counts_after != counts_before)
    CAF_TEST_PRINT_ERROR("row counts before: " << test::describe(counts_before)
                                               << " after: " << test::describe(counts_after));
  CAF_CHECK_EQUAL(test::describe(counts_after), test::describe(counts_before));
  for (auto& t : tenants) {
    auto now = snapshot(t);
    auto& then = before[t.label];
    if (now.org != then.org)
      CAF_TEST_PRINT_ERROR(t.label << " changed: " << then.org.dump() << " -> " << now.org.dump());
    CAF_CHECK_EQUAL(now.org.dump(), then.org.dump());
    CAF_CHECK_EQUAL(now.members, then.members);
  }
  // The seeded crm rows are untouched (PATCHes do not change row counts).
  for (auto& t : tenants) {
    auto c = api.get("/api/contacts/" + t.ids["contact"], t.owner.auth());
    DJ_EXPECT_STATUS(c, 200, "seeded contact of " << t.label);
    auto contact = c->json();
    CAF_CHECK_EQUAL(contact.value("version", int64_t{-1}), 1);
    auto tasks = api.get("/api/tasks?contact_id=" + t.ids["contact"], t.owner.auth());
    DJ_EXPECT_STATUS(tasks, 200, "seeded tasks of " << t.label);
    auto task_list = tasks->json();
    CAF_CHECK_EQUAL(task_list["items"].size(), 1u);
    CAF_CHECK_EQUAL(task_list["items"][0].value("version", int64_t{-1}), 1);
  }
  // The seeded contracts are unchanged and their links still open them.
  for (auto& t : tenants) {
    auto c = api.get("/api/contracts/" + t.ids["contract"], t.owner.auth());
    DJ_EXPECT_STATUS(c, 200, "seeded contract of " << t.label);
    auto contract = c->json();
    CAF_CHECK_EQUAL(contract.value("version", int64_t{-1}), 2);
    CAF_CHECK_EQUAL(contract.value("status", ""), "sent");
    auto link = api.get("/api/public/contracts/" + t.ids["contract_token"]);
    DJ_EXPECT_STATUS(link, 200, "seeded contract link of " << t.label);
  }
  // The seeded invoices are still sent and unchanged; the seeded quotes still read.
  for (auto& t : tenants) {
    auto i = api.get("/api/invoices/" + t.ids["invoice"], t.owner.auth());
    DJ_EXPECT_STATUS(i, 200, "seeded invoice of " << t.label);
    auto invoice = i->json();
    CAF_CHECK_EQUAL(invoice.value("status", ""), "sent");
    CAF_CHECK_EQUAL(invoice.value("version", int64_t{-1}), 2);
    auto q = api.get("/api/quotes/" + t.ids["quote"], t.owner.auth());
    DJ_EXPECT_STATUS(q, 200, "seeded quote of " << t.label);
  }
  // The seeded SMS drafts are still unsent drafts with their own text.
  for (auto& t : tenants) {
    auto c = api.get("/api/sms/conversations/" + t.ids["sms_conversation"], t.owner.auth());
    DJ_EXPECT_STATUS(c, 200, "seeded sms conversation of " << t.label);
    auto conv = c->json();
    auto draft = conv["messages"].is_array() && conv["messages"].size() == 1
                   ? conv["messages"][0]
                   : json::object();
    CAF_CHECK_EQUAL(draft.value("status", ""), "draft");
    CAF_CHECK_EQUAL(draft.value("body", ""), "Isolation draft");
  }
  // The seeded crowd requests are still queued and unchanged.
  for (auto& t : tenants) {
    auto r = api.get("/api/crowd-requests/" + t.ids["crowd_request"], t.owner.auth());
    DJ_EXPECT_STATUS(r, 200, "seeded crowd request of " << t.label);
    auto request = r->json();
    CAF_CHECK_EQUAL(request.value("status", ""), "queued");
    CAF_CHECK_EQUAL(request.value("version", int64_t{-1}), 1);
  }
  // The member is still exactly a member of tipjar-a.
  auto me = api.get("/api/auth/me", member.auth());
  DJ_EXPECT_STATUS(me, 200, "member /me afterwards");
  auto me_body = me->json();
  std::map<std::string, std::string> roles;
  for (auto& o : me_body["organizations"])
    roles[o.value("id", "")] = o.value("role", "");
  CAF_CHECK_EQUAL(roles, (std::map<std::string, std::string>{{home.org_id(), "member"},
                                                             {member.org_id, "owner"}}));
}

CAF_TEST_FIXTURE_SCOPE_END()
