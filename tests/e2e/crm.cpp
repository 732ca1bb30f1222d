#define CAF_SUITE e2e.crm

// Contacts, leads and tasks over the real binary with a signed-up user: the exact shapes of
// create/list/get/patch/delete, a 400 naming each bad field with nothing written, 404 for
// unknown and malformed ids, the leads aliases, and the routes in /openapi.json.

#include <csignal>
#include <cstdio>
#include <set>
#include <stdexcept>

#include "accounts_harness.hpp"
#include "support/caf_test.hpp"

using namespace djdash;
using namespace std::chrono_literals;
using nlohmann::json;
using test::product;
using test::operator+;

namespace {

const std::string password = "crm suite password";

/// One database and one node for every test of this suite, started on first use.
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

struct fixture {
  shared_node& s = the_node();
  test::api api{s.n.port()};
  test::account dj = make_account();

  test::account make_account() {
    static int counter = 0;
    auto email = "crm-" + std::to_string(++counter) + "-" + std::to_string(test::free_port())
                 + "@example.com";
    auto r = api.signup(email, password, product("m10dj"));
    DJ_EXPECT_STATUS(r, 201, "signup " << email);
    CAF_REQUIRE_EQUAL(r->status, 201);
    return test::account::from(email, password, r->json());
  }

  std::optional<test::http_reply> send(const std::string& method, const std::string& path,
                                       const json& body = nullptr) {
    return api.call(method, path, body.is_null() ? std::string{} : body.dump(), dj.auth());
  }

  std::optional<test::http_reply> send_raw(const std::string& method, const std::string& path,
                                           const std::string& body) {
    return api.call(method, path, body, dj.auth());
  }

  /// Creates a contact; requires 201 and returns it.
  json create(const json& body, const std::string& base = "/api/contacts") {
    auto r = send("POST", base, body);
    DJ_EXPECT_STATUS(r, 201, "create " << body.dump());
    CAF_REQUIRE_EQUAL(r->status, 201);
    return r->json();
  }

  int64_t rows(const std::string& table) { return test::count_rows(s.db.owner_url(), table); }
};

std::set<std::string> keys_of(const json& j) {
  std::set<std::string> out;
  for (auto& [k, v] : j.items())
    out.insert(k);
  return out;
}

const std::set<std::string> contact_keys{"id",    "organization_id", "name",       "email",
                                         "phone", "status",          "source",     "tags",
                                         "notes", "created_at",      "updated_at", "version"};
const std::set<std::string> task_keys{"id",   "organization_id", "title",      "contact_id",
                                      "due_at", "done",          "notes",      "created_at",
                                      "updated_at", "version"};

} // namespace

CAF_TEST_FIXTURE_SCOPE(crm_tests, fixture)

CAF_TEST(contacts are created listed read patched and deleted with their exact shape) {
  auto c = create({{"name", "Jo Smith"}, {"email", "Jo@Example.com"}, {"phone", "(901) 555-1234"},
                   {"tags", {"wedding"}}, {"notes", "June"}, {"source", "web"}});
  CAF_CHECK_EQUAL(keys_of(c), contact_keys);
  CAF_CHECK_EQUAL(c["organization_id"], dj.org_id);
  CAF_CHECK_EQUAL(c["email"], "jo@example.com");
  CAF_CHECK_EQUAL(c["phone"], "+19015551234");
  CAF_CHECK_EQUAL(c["status"], "new");
  CAF_CHECK_EQUAL(c["source"], "web");
  CAF_CHECK_EQUAL(c["tags"], json({"wedding"}));
  CAF_CHECK_EQUAL(c["version"], 1);
  auto id = c["id"].get<std::string>();

  auto got = send("GET", "/api/contacts/" + id);
  DJ_EXPECT_STATUS(got, 200, "get");
  auto got_body = got->json();
  CAF_CHECK_EQUAL(got_body, c);
  // The leads routes are the same resource.
  auto lead = send("GET", "/api/leads/" + id);
  DJ_EXPECT_STATUS(lead, 200, "get lead");
  auto lead_body = lead->json();
  CAF_CHECK_EQUAL(lead_body, c);

  auto list = send("GET", "/api/contacts?q=smi&limit=10");
  DJ_EXPECT_STATUS(list, 200, "list");
  auto list_body = list->json();
  CAF_CHECK_EQUAL(keys_of(list_body), (std::set<std::string>{"items", "next_cursor"}));
  CAF_REQUIRE_EQUAL(list_body["items"].size(), 1u);
  CAF_CHECK_EQUAL(list_body["items"][0], c);
  CAF_CHECK(list_body["next_cursor"].is_null());

  auto patched = send("PATCH", "/api/leads/" + id, {{"status", "quoted"}, {"version", 1}});
  DJ_EXPECT_STATUS(patched, 200, "patch");
  auto p = patched->json();
  CAF_CHECK_EQUAL(keys_of(p), contact_keys);
  CAF_CHECK_EQUAL(p["status"], "quoted");
  CAF_CHECK_EQUAL(p["version"], 2);
  CAF_CHECK_EQUAL(p["email"], "jo@example.com");
  DJ_EXPECT_ERROR(send("PATCH", "/api/contacts/" + id, {{"status", "lost"}, {"version", 1}}), 409,
                  "conflict", "stale version");
  auto quoted = send("GET", "/api/leads?status=quoted");
  DJ_EXPECT_STATUS(quoted, 200, "filter");
  auto quoted_body = quoted->json();
  CAF_CHECK_EQUAL(quoted_body["items"].size(), 1u);

  auto deleted = send("DELETE", "/api/contacts/" + id);
  DJ_EXPECT_STATUS(deleted, 204, "delete");
  CAF_CHECK_EQUAL(deleted->body, "");
  DJ_EXPECT_ERROR(send("GET", "/api/contacts/" + id), 404, "not_found", "deleted");
  DJ_EXPECT_ERROR(send("DELETE", "/api/leads/" + id), 404, "not_found", "deleted twice");
}

CAF_TEST(leads are created as new and duplicates are refused naming the contact) {
  auto lead = create({{"name", "Kim"}, {"phone", "901-555-0199"}}, "/api/leads");
  CAF_CHECK_EQUAL(lead["status"], "new");
  CAF_CHECK_EQUAL(lead["source"], "manual");
  auto twin = send("POST", "/api/contacts", {{"name", "Kim again"}, {"phone", "+1 901 555 0199"}});
  DJ_EXPECT_ERROR(twin, 409, "conflict", "twin by phone");
  CAF_CHECK(twin->body.find(lead["id"].get<std::string>()) != std::string::npos);
}

CAF_TEST(every bad field is a 400 naming it with nothing written) {
  auto before = rows("contacts");
  std::vector<std::pair<std::string, std::string>> bodies{
    {R"({"name": "Jo", "email": "nope"})", "email"},
    {R"({"name": "Jo", "phone": "555"})", "phone"},
    {R"({"name": "Jo", "status": "won"})", "status"},
    {R"({"name": "Jo", "source": "fax"})", "source"},
    {R"({"name": "Jo", "tags": ["ok", 5]})", "tags"},
    {R"({"name": "Jo", "tags": "vip"})", "tags"},
    {R"({"name": "Jo", "notes": 7})", "notes"},
    {R"({"name": 42})", "name"},
    {R"({"name": "Jo", "id": "00000000-0000-0000-0000-000000000000"})", "id"},
    {R"({})", "name, email or phone"},
    {R"([1, 2])", "JSON object"},
    {R"({"name": )", "JSON object"},
  };
  for (auto& [body, field] : bodies) {
    for (auto base : {"/api/contacts", "/api/leads"}) {
      auto r = send_raw("POST", base, body);
      DJ_EXPECT_ERROR(r, 400, "bad_request", base << " " << body);
      if (r->body.find(field) == std::string::npos)
        CAF_FAIL(body << ": the message does not name " << field << ": " << r->body);
    }
  }
  auto c = create({{"name", "Jo"}});
  for (auto& [body, field] : std::vector<std::pair<std::string, std::string>>{
         {R"({"email": "nope"})", "email"},
         {R"({"status": "won"})", "status"},
         {R"({"version": "1"})", "version"},
         {R"({"favourite": 1})", "favourite"}}) {
    auto r = send_raw("PATCH", "/api/contacts/" + c["id"].get<std::string>(), body);
    DJ_EXPECT_ERROR(r, 400, "bad_request", "patch " << body);
    if (r->body.find(field) == std::string::npos)
      CAF_FAIL(body << ": the message does not name " << field << ": " << r->body);
  }
  auto unchanged = send("GET", "/api/contacts/" + c["id"].get<std::string>());
  DJ_EXPECT_STATUS(unchanged, 200, "unchanged");
  auto unchanged_body = unchanged->json();
  CAF_CHECK_EQUAL(unchanged_body, c);
  CAF_CHECK_EQUAL(rows("contacts"), before + 1);
  for (auto target : {"/api/contacts?status=won", "/api/leads?source=fax", "/api/contacts?limit=0",
                      "/api/contacts?cursor=xyz", "/api/tasks?done=maybe",
                      "/api/tasks?contact_id=nope"})
    DJ_EXPECT_ERROR(send("GET", target), 400, "bad_request", target);
}

CAF_TEST(unknown and malformed ids are 404) {
  for (auto base : {"/api/contacts/", "/api/leads/"}) {
    for (auto id : {"00000000-0000-4000-8000-000000000000", "not-a-uuid", "1"}) {
      auto path = std::string{base} + id;
      DJ_EXPECT_ERROR(send("GET", path), 404, "not_found", "GET " << path);
      DJ_EXPECT_ERROR(send("PATCH", path, {{"name", "x"}}), 404, "not_found", "PATCH " << path);
      DJ_EXPECT_ERROR(send("DELETE", path), 404, "not_found", "DELETE " << path);
    }
  }
  for (auto id : {"00000000-0000-4000-8000-000000000000", "not-a-uuid"})
    DJ_EXPECT_ERROR(send("PATCH", std::string{"/api/tasks/"} + id, {{"done", true}}), 404,
                    "not_found", "PATCH task " << id);
  DJ_EXPECT_ERROR(send("POST", "/api/tasks",
                       {{"title", "x"}, {"contact_id", "00000000-0000-4000-8000-000000000000"}}),
                  404, "not_found", "task for an unknown contact");
  // Without a token: 401.
  auto anon = api.get("/api/contacts");
  DJ_EXPECT_STATUS(anon, 401, "anonymous");
}

CAF_TEST(contacts page through with a cursor) {
  auto other = make_account();
  std::set<std::string> made;
  for (int i = 0; i < 5; ++i)
    made.insert(create({{"name", "Page " + std::to_string(i)}})["id"].get<std::string>());
  std::set<std::string> seen;
  std::string target = "/api/contacts?limit=2&q=page";
  for (int pages = 0; pages < 5; ++pages) {
    auto r = send("GET", target);
    DJ_EXPECT_STATUS(r, 200, "page " << pages);
    auto body = r->json();
    CAF_CHECK(body["items"].size() <= 2u);
    for (auto& c : body["items"])
      seen.insert(c["id"].get<std::string>());
    if (body["next_cursor"].is_null())
      break;
    target = "/api/contacts?limit=2&q=page&cursor="
             + test::url_encode(body["next_cursor"].get<std::string>());
  }
  CAF_CHECK_EQUAL(seen, made);
  // Someone else's list is their own.
  auto theirs = api.get("/api/contacts", other.auth());
  DJ_EXPECT_STATUS(theirs, 200, "other list");
  auto theirs_body = theirs->json();
  CAF_CHECK_EQUAL(theirs_body["items"].size(), 0u);
}

CAF_TEST(tasks are created filtered and patched with their exact shape) {
  auto c = create({{"name", "Task contact"}, {"email", "task@example.com"}});
  auto t = send("POST", "/api/tasks",
                {{"title", "Call back"}, {"contact_id", c["id"]}, {"due_at", "2026-06-01T18:00:00Z"}});
  DJ_EXPECT_STATUS(t, 201, "create task");
  auto task = t->json();
  CAF_CHECK_EQUAL(keys_of(task), task_keys);
  CAF_CHECK_EQUAL(task["done"], false);
  CAF_CHECK_EQUAL(task["contact_id"], c["id"]);
  CAF_CHECK_EQUAL(task["version"], 1);
  auto before = rows("tasks");
  for (auto body : {R"({})", R"({"title": ""})", R"({"title": "x", "due_at": "friday"})",
                    R"({"title": "x", "done": 1})", R"({"title": "x", "contact_id": 5})",
                    R"({"title": "x", "priority": "high"})"})
    DJ_EXPECT_ERROR(send_raw("POST", "/api/tasks", body), 400, "bad_request", body);
  CAF_CHECK_EQUAL(rows("tasks"), before);
  auto id = task["id"].get<std::string>();
  auto done = send("PATCH", "/api/tasks/" + id, {{"done", true}, {"version", 1}});
  DJ_EXPECT_STATUS(done, 200, "mark done");
  auto done_body = done->json();
  CAF_CHECK_EQUAL(done_body["done"], true);
  CAF_CHECK_EQUAL(done_body["version"], 2);
  DJ_EXPECT_ERROR(send("PATCH", "/api/tasks/" + id, {{"done", false}, {"version", 1}}), 409,
                  "conflict", "stale task");
  auto open = send("GET", "/api/tasks?done=false&contact_id=" + c["id"].get<std::string>());
  DJ_EXPECT_STATUS(open, 200, "open tasks");
  auto open_body = open->json();
  CAF_CHECK_EQUAL(open_body["items"].size(), 0u);
  auto closed = send("GET", "/api/tasks?done=true&contact_id=" + c["id"].get<std::string>());
  DJ_EXPECT_STATUS(closed, 200, "done tasks");
  auto closed_body = closed->json();
  CAF_REQUIRE_EQUAL(closed_body["items"].size(), 1u);
  CAF_CHECK_EQUAL(closed_body["items"][0], done_body);
  // The contact goes; the task stays, unlinked.
  DJ_EXPECT_STATUS(send("DELETE", "/api/contacts/" + c["id"].get<std::string>()), 204, "delete");
  auto all = send("GET", "/api/tasks?done=true");
  DJ_EXPECT_STATUS(all, 200, "tasks after delete");
  auto all_body = all->json();
  CAF_REQUIRE_EQUAL(all_body["items"].size(), 1u);
  CAF_CHECK(all_body["items"][0]["contact_id"].is_null());
}

CAF_TEST(every crm route is in the openapi document) {
  auto r = api.get("/openapi.json");
  DJ_EXPECT_STATUS(r, 200, "openapi");
  auto doc = r->json();
  std::vector<std::pair<std::string, std::string>> routes{
    {"/api/contacts", "get"},       {"/api/contacts", "post"},      {"/api/contacts/{id}", "get"},
    {"/api/contacts/{id}", "patch"}, {"/api/contacts/{id}", "delete"}, {"/api/leads", "get"},
    {"/api/leads", "post"},          {"/api/leads/{id}", "get"},      {"/api/leads/{id}", "patch"},
    {"/api/leads/{id}", "delete"},   {"/api/tasks", "get"},           {"/api/tasks", "post"},
    {"/api/tasks/{id}", "patch"}};
  for (auto& [path, method] : routes) {
    auto ok = doc["paths"].contains(path) && doc["paths"][path].contains(method);
    if (!ok)
      CAF_FAIL(method << " " << path << " is missing from /openapi.json");
    auto tags = doc["paths"][path][method].value("tags", json::array());
    CAF_CHECK_EQUAL(tags, json({"crm"}));
  }
}

CAF_TEST_FIXTURE_SCOPE_END()
