#define CAF_SUITE persistence.accounts_pg

// The account, membership and organization operations against real PostgreSQL, through the DB
// pool, as the application role.

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "config/app_config.hpp"
#include "persistence/db_pool.hpp"
#include "protocols/app_errc.hpp"
#include "support/caf_test.hpp"
#include "support/pg_fixture.hpp"

using namespace djdash;
using json = nlohmann::json;

namespace {

std::string hex64(char c) {
  return std::string(64, c);
}

struct fixture {
  test::pg_database db;
  app_config cfg;
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  db_actor pool;

  fixture() {
    db_settings s;
    s.url = db.app_url();
    s.pool_size = 2;
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

  json signup(const std::string& email, const std::string& product, char token) {
    auto r = call("auth.signup", db_scope{},
                  {{"email", email},
                   {"password_hash", "$argon2id$v=19$m=65536,t=2,p=1$x$y"},
                   {"name", "Jo"},
                   {"organization_name", "Jo's Beats"},
                   {"product_context", product},
                   {"refresh_token_hash", hex64(token)},
                   {"refresh_ttl_s", 3600}});
    CAF_REQUIRE(r);
    return *r;
  }

  db_scope in_org(const json& session, const std::string& role) {
    return db_scope{session["organization"]["id"], session["user"]["id"], false, role};
  }
};

app_errc code_of(const caf::expected<json>& r) {
  return r ? app_errc::internal : app_code(r.error());
}

} // namespace

CAF_TEST_FIXTURE_SCOPE(accounts_tests, fixture)

CAF_TEST(signup creates the user and an owned organization in the product) {
  auto s = signup("jo@example.com", "tipjar", 'a');
  CAF_CHECK_EQUAL(s["user"]["email"], "jo@example.com");
  CAF_CHECK_EQUAL(s["user"]["user_metadata"]["product_context"], "tipjar");
  CAF_CHECK_EQUAL(s["organization"]["product_context"], "tipjar");
  CAF_CHECK_EQUAL(s["organization"]["slug"], "jo-s-beats");
  CAF_CHECK_EQUAL(s["organization"]["role"], "owner");
  CAF_CHECK_EQUAL(s["organizations"].size(), 1u);
  // The same organization name gets the next free slug.
  auto t = signup("kim@example.com", "djdash", 'b');
  CAF_CHECK_EQUAL(t["organization"]["slug"], "jo-s-beats-2");
  // An email can sign up once.
  auto again = call("auth.signup", db_scope{},
                    {{"email", "jo@example.com"}, {"password_hash", "x"},
                     {"product_context", "m10dj"}, {"refresh_token_hash", hex64('c')}});
  CAF_CHECK_EQUAL(code_of(again), app_errc::conflict);
}

CAF_TEST(login lookup finds accounts by email and says nothing of unknown ones) {
  auto s = signup("jo@example.com", "m10dj", 'a');
  auto found = call("auth.login_lookup", db_scope{}, {{"email", "jo@example.com"}});
  CAF_REQUIRE(found);
  CAF_CHECK_EQUAL((*found)["user_id"], s["user"]["id"]);
  auto none = call("auth.login_lookup", db_scope{}, {{"email", "nobody@example.com"}});
  CAF_REQUIRE(none);
  CAF_CHECK(none->empty());
  auto session = call("auth.start_session", db_scope{"", s["user"]["id"], false, ""},
                      {{"refresh_token_hash", hex64('d')}, {"product_context", "m10dj"}});
  CAF_REQUIRE_EQUAL(session ? "" : caf::to_string(session.error()), "");
  CAF_CHECK_EQUAL((*session)["organization"]["id"], s["organization"]["id"]);
  CAF_CHECK((*session)["session_id"] != s["session_id"]);
}

CAF_TEST(refresh tokens rotate and a reused one revokes the whole family) {
  signup("jo@example.com", "djdash", 'a');
  auto first = call("auth.refresh", db_scope{},
                    {{"refresh_token_hash", hex64('a')}, {"new_refresh_token_hash", hex64('b')},
                     {"product_context", "djdash"}});
  CAF_REQUIRE(first);
  CAF_CHECK_EQUAL((*first)["status"], "ok");
  CAF_CHECK_EQUAL((*first)["user"]["email"], "jo@example.com");
  // The rotated token presented again: reuse. The family dies, the newest token included.
  auto reuse = call("auth.refresh", db_scope{},
                    {{"refresh_token_hash", hex64('a')}, {"new_refresh_token_hash", hex64('c')},
                     {"product_context", "djdash"}});
  CAF_REQUIRE(reuse);
  CAF_CHECK_EQUAL((*reuse)["status"], "reused");
  auto newest = call("auth.refresh", db_scope{},
                     {{"refresh_token_hash", hex64('b')}, {"new_refresh_token_hash", hex64('d')},
                      {"product_context", "djdash"}});
  CAF_REQUIRE(newest);
  CAF_CHECK_EQUAL((*newest)["status"], "invalid");
  auto unknown = call("auth.refresh", db_scope{},
                      {{"refresh_token_hash", hex64('e')}, {"new_refresh_token_hash", hex64('f')},
                       {"product_context", "djdash"}});
  CAF_REQUIRE(unknown);
  CAF_CHECK_EQUAL((*unknown)["status"], "invalid");
}

CAF_TEST(logout revokes the session refresh tokens) {
  auto s = signup("jo@example.com", "djdash", 'a');
  CAF_REQUIRE(call("auth.logout", db_scope{"", s["user"]["id"], false, ""},
                   {{"session_id", s["session_id"]}}));
  auto r = call("auth.refresh", db_scope{},
                {{"refresh_token_hash", hex64('a')}, {"new_refresh_token_hash", hex64('b')},
                 {"product_context", "djdash"}});
  CAF_REQUIRE(r);
  CAF_CHECK_EQUAL((*r)["status"], "invalid");
}

CAF_TEST(the entry check enforces membership and roles in the same transaction) {
  auto a = signup("a@example.com", "tipjar", 'a');
  auto b = signup("b@example.com", "tipjar", 'b');
  CAF_CHECK(call("org.get", in_org(a, "member"), json::object()));
  // A's user naming B's organization: not a member.
  auto cross = call("org.get", db_scope{b["organization"]["id"], a["user"]["id"], false, "member"},
                    json::object());
  CAF_CHECK_EQUAL(code_of(cross), app_errc::forbidden);
  // Claiming platform-admin rights without having them.
  auto fake_admin = call("org.list_all", db_scope{"", a["user"]["id"], true, ""}, json::object());
  CAF_CHECK_EQUAL(code_of(fake_admin), app_errc::forbidden);
  // Added as a plain member, B's user cannot act as an admin of A.
  CAF_REQUIRE(call("members.add", in_org(a, "admin"), {{"email", "b@example.com"}, {"role", "member"}}));
  auto as_member = db_scope{a["organization"]["id"], b["user"]["id"], false, "admin"};
  CAF_CHECK_EQUAL(code_of(call("members.list", as_member, json::object())), app_errc::forbidden);
  as_member.role = "member";
  CAF_CHECK(call("org.get", as_member, json::object()));
}

CAF_TEST(the last owner can neither leave nor be demoted) {
  auto a = signup("a@example.com", "m10dj", 'a');
  signup("b@example.com", "m10dj", 'b');
  auto owner = in_org(a, "admin");
  auto me = a["user"]["id"].get<std::string>();
  CAF_CHECK_EQUAL(code_of(call("members.update", owner, {{"user_id", me}, {"role", "admin"}})),
                  app_errc::conflict);
  auto leave = in_org(a, "member");
  CAF_CHECK_EQUAL(code_of(call("members.remove", leave, {{"user_id", me}})), app_errc::conflict);
  // With a second owner, the first may step down.
  auto added = call("members.add", owner, {{"email", "b@example.com"}, {"role", "owner"}});
  CAF_REQUIRE(added);
  CAF_CHECK_EQUAL((*added)["role"], "owner");
  auto demoted = call("members.update", owner, {{"user_id", me}, {"role", "admin"}});
  CAF_REQUIRE(demoted);
  CAF_CHECK_EQUAL((*demoted)["role"], "admin");
  // An admin cannot touch the owner role.
  auto b_id = (*added)["user_id"].get<std::string>();
  CAF_CHECK_EQUAL(code_of(call("members.update", owner, {{"user_id", b_id}, {"role", "member"}})),
                  app_errc::forbidden);
  auto listed = call("members.list", owner, json::object());
  CAF_REQUIRE(listed);
  CAF_CHECK_EQUAL((*listed)["items"].size(), 2u);
}

CAF_TEST(members are added by email and unknown emails are refused) {
  auto a = signup("a@example.com", "djdash", 'a');
  auto admin = in_org(a, "admin");
  CAF_CHECK_EQUAL(code_of(call("members.add", admin, {{"email", "ghost@example.com"}, {"role", "member"}})),
                  app_errc::not_found);
  CAF_CHECK_EQUAL(code_of(call("members.add", admin, {{"email", "a@example.com"}, {"role", "member"}})),
                  app_errc::conflict);
  CAF_CHECK_EQUAL(code_of(call("members.add", admin, {{"email", "a@example.com"}, {"role", "king"}})),
                  app_errc::bad_request);
  CAF_CHECK_EQUAL(code_of(call("members.remove", admin, {{"user_id", "00000000-0000-4000-8000-000000000001"}})),
                  app_errc::not_found);
}

CAF_TEST(organization updates validate merge settings and check versions) {
  auto a = signup("a@example.com", "djdash", 'a');
  signup("b@example.com", "djdash", 'b');
  auto admin = in_org(a, "admin");
  auto v1 = call("org.get", admin, json::object());
  CAF_REQUIRE(v1);
  auto v2 = call("org.update", admin,
                 {{"name", "Alpha Sound"}, {"timezone", "America/Denver"},
                  {"settings", {{"capacity", 2}, {"accepting_requests", false}}},
                  {"sms_number", "+19015550100"}, {"version", (*v1)["version"]}});
  CAF_REQUIRE(v2);
  CAF_CHECK_EQUAL((*v2)["name"], "Alpha Sound");
  CAF_CHECK_EQUAL((*v2)["settings"]["capacity"], 2);
  auto v3 = call("org.update", admin, {{"settings", {{"capacity", nullptr}}}});
  CAF_REQUIRE(v3);
  CAF_CHECK(!(*v3)["settings"].contains("capacity"));
  CAF_CHECK_EQUAL((*v3)["settings"]["accepting_requests"], false);
  // A stale version, a taken slug, and bad values are refused.
  CAF_CHECK_EQUAL(code_of(call("org.update", admin, {{"name", "x"}, {"version", (*v1)["version"]}})),
                  app_errc::conflict);
  CAF_CHECK_EQUAL(code_of(call("org.update", admin, {{"slug", "jo-s-beats-2"}})), app_errc::conflict);
  CAF_CHECK_EQUAL(code_of(call("org.update", admin, {{"timezone", "Mars/Olympus"}})),
                  app_errc::bad_request);
  CAF_CHECK_EQUAL(code_of(call("org.update", admin, {{"slug", "Bad Slug"}})), app_errc::bad_request);
  CAF_CHECK_EQUAL(code_of(call("org.update", admin, {{"product_context", "tipjar"}})),
                  app_errc::bad_request);
  auto unchanged = call("org.get", admin, json::object());
  CAF_REQUIRE(unchanged);
  CAF_CHECK_EQUAL((*unchanged)["version"], (*v3)["version"]);
}

CAF_TEST(a platform admin lists every organization page by page) {
  auto a = signup("a@example.com", "djdash", 'a');
  signup("b@example.com", "tipjar", 'b');
  signup("c@example.com", "m10dj", 'c');
  {
    pqxx::connection conn{db.owner_url()};
    pqxx::work tx{conn};
    tx.exec("select set_config('app.platform_admin', 'on', true)");
    tx.exec_params("update users set is_platform_admin = true where email = $1", "a@example.com");
    tx.commit();
  }
  auto scope = db_scope{"", a["user"]["id"], true, ""};
  auto page1 = call("org.list_all", scope, {{"limit", 2}});
  CAF_REQUIRE_EQUAL(page1 ? "" : caf::to_string(page1.error()), "");
  CAF_CHECK_EQUAL((*page1)["items"].size(), 2u);
  CAF_REQUIRE((*page1)["next_cursor"].is_string());
  auto page2 = call("org.list_all", scope, {{"limit", 2}, {"cursor", (*page1)["next_cursor"]}});
  CAF_REQUIRE(page2);
  CAF_CHECK_EQUAL((*page2)["items"].size(), 1u);
  CAF_CHECK((*page2)["next_cursor"].is_null());
  CAF_CHECK_EQUAL(code_of(call("org.list_all", scope, {{"cursor", "%%%"}})), app_errc::bad_request);
}

CAF_TEST(the audit log records sign-ups and role changes for the organization only) {
  auto a = signup("a@example.com", "djdash", 'a');
  auto b = signup("b@example.com", "djdash", 'b');
  auto admin = in_org(a, "admin");
  CAF_REQUIRE(call("members.add", admin, {{"email", "b@example.com"}, {"role", "member"}}));
  CAF_REQUIRE(call("members.update", admin,
                   {{"user_id", b["user"]["id"]}, {"role", "admin"}}));
  auto log = call("audit.list", admin, {{"limit", 10}});
  CAF_REQUIRE(log);
  std::vector<std::string> actions;
  for (auto& e : (*log)["items"])
    actions.push_back(e["action"]);
  CAF_CHECK_EQUAL(actions, (std::vector<std::string>{"role_changed", "member_added", "sign_up"}));
  CAF_CHECK_EQUAL((*log)["items"][0]["details"]["to"], "admin");
  // B's own organization sees only its own entries.
  auto other = call("audit.list", in_org(b, "admin"), json::object());
  CAF_REQUIRE(other);
  CAF_CHECK_EQUAL((*other)["items"].size(), 1u);
}

CAF_TEST_FIXTURE_SCOPE_END()
