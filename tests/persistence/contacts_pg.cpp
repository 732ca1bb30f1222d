#define CAF_SUITE persistence.contacts_pg

// Contacts (leads) and tasks against real PostgreSQL, through the DB pool, as the application
// role: validation, deduplication within an organization, inquiries that update rather than
// twin, search and filters, pagination, versions, and tasks.

#include <atomic>
#include <set>
#include <thread>

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "config/app_config.hpp"
#include "persistence/contact_repo.hpp"
#include "persistence/db_pool.hpp"
#include "persistence/task_repo.hpp"
#include "protocols/app_errc.hpp"
#include "support/caf_test.hpp"
#include "support/pg_fixture.hpp"

using namespace djdash;
using json = nlohmann::json;

namespace {

struct fixture {
  test::pg_database db;
  app_config cfg;
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  db_actor pool;
  db_scope a;  // owner of org A
  db_scope b;  // owner of org B

  fixture() {
    db_settings s;
    s.url = db.app_url();
    s.pool_size = 2;
    pool = persistence::spawn_db_pool(sys, s, true);
    a = signup("a@example.com", 'a');
    b = signup("b@example.com", 'b');
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

  db_scope signup(const std::string& email, char token) {
    auto r = call("auth.signup", db_scope{},
                  {{"email", email},
                   {"password_hash", "$argon2id$v=19$m=65536,t=2,p=1$x$y"},
                   {"organization_name", "Org " + email},
                   {"product_context", "m10dj"},
                   {"refresh_token_hash", std::string(64, token)},
                   {"refresh_ttl_s", 3600}});
    CAF_REQUIRE(r);
    return db_scope{(*r)["organization"]["id"], (*r)["user"]["id"], false, "member"};
  }

  /// Creates a contact in org A; fails the test when that is refused.
  json contact(const json& fields, const db_scope* in = nullptr) {
    auto r = call("contacts.create", in ? *in : a, fields);
    CAF_REQUIRE_EQUAL(r ? std::string{} : caf::to_string(r.error()), std::string{});
    return *r;
  }

  int64_t rows(const std::string& table) {
    pqxx::connection conn{db.owner_url()};
    pqxx::work tx{conn};
    tx.exec("select set_config('app.platform_admin', 'on', true)");
    return tx.exec1("select count(*) from " + table)[0].as<int64_t>();
  }

  std::set<std::string> names(const caf::expected<json>& page) {
    std::set<std::string> out;
    if (page)
      for (auto& c : (*page)["items"])
        out.insert(c["name"].is_string() ? c["name"].get<std::string>() : "?");
    return out;
  }
};

app_errc code_of(const caf::expected<json>& r) {
  return r ? app_errc::internal : app_code(r.error());
}

std::string message_of(const caf::expected<json>& r) {
  return r ? std::string{} : caf::to_string(r.error());
}

using strings = std::set<std::string>;

} // namespace

CAF_TEST(phone numbers normalize to E.164 and garbage is refused) {
  using persistence::e164_phone;
  for (auto s : {"(901) 555-1234", "901-555-1234", "+1 901 555 1234", "9015551234",
                 "1-901-555-1234", "901.555.1234", "+19015551234"})
    CAF_CHECK_EQUAL(e164_phone(s).value_or("refused"), "+19015551234");
  CAF_CHECK_EQUAL(e164_phone("+44 20 7946 0958").value_or("refused"), "+442079460958");
  for (auto s : {"", "abc", "555-1234", "901-555-12345", "+1 901 555 123", "(011) 555-1234",
                 "901 555 1234 ext 5", "+0 901 555 1234", "++19015551234", "1+9015551234",
                 "+1234567890123456"})
    CAF_CHECK_EQUAL(e164_phone(s).value_or("refused"), "refused");
  CAF_CHECK_EQUAL(persistence::plausible_email(" Jo@Example.COM ").value_or("refused"),
                  "jo@example.com");
  for (auto s : {"jo", "jo@", "@example.com", "jo@example", "jo@@example.com", "jo @example.com",
                 "jo@example..com", "jö@example.com"})
    CAF_CHECK_EQUAL(persistence::plausible_email(s).value_or("refused"), "refused");
  CAF_CHECK(persistence::is_rfc3339("2026-06-01T18:00:00Z"));
  CAF_CHECK(persistence::is_rfc3339("2028-02-29T18:00:00.123-05:00"));
  for (auto s : {"2026-02-30T18:00:00Z", "2026-06-01", "2026-06-01T24:00:00Z",
                 "2026-06-01T18:00:00", "tomorrow", "2026-13-01T00:00:00Z"})
    CAF_CHECK(!persistence::is_rfc3339(s));
}

CAF_TEST_FIXTURE_SCOPE(contacts_tests, fixture)

CAF_TEST(a contact is created with normalized fields and defaults) {
  auto c = contact({{"name", " Jo Smith "},
                    {"email", "Jo@Example.com"},
                    {"phone", "(901) 555-1234"},
                    {"tags", {"wedding", " vip ", "wedding"}},
                    {"notes", "June wedding"}});
  CAF_CHECK_EQUAL(c["name"], "Jo Smith");
  CAF_CHECK_EQUAL(c["email"], "jo@example.com");
  CAF_CHECK_EQUAL(c["phone"], "+19015551234");
  CAF_CHECK_EQUAL(c["status"], "new");
  CAF_CHECK_EQUAL(c["source"], "manual");
  CAF_CHECK_EQUAL(c["tags"], json({"wedding", "vip"}));
  CAF_CHECK_EQUAL(c["notes"], "June wedding");
  CAF_CHECK_EQUAL(c["organization_id"], a.org_id);
  CAF_CHECK_EQUAL(c["version"], 1);
  auto got = call("contacts.get", a, {{"id", c["id"]}});
  CAF_REQUIRE(got);
  CAF_CHECK_EQUAL(*got, c);
}

CAF_TEST(every bad field is a bad request naming it and nothing is written) {
  std::string long_tag(51, 't');
  std::vector<std::pair<json, std::string>> cases{
    {{{"name", "Jo"}, {"email", "not an email"}}, "email"},
    {{{"name", "Jo"}, {"email", 5}}, "email"},
    {{{"name", "Jo"}, {"phone", "call me"}}, "phone"},
    {{{"name", "Jo"}, {"status", "won"}}, "status"},
    {{{"name", "Jo"}, {"status", nullptr}}, "status"},
    {{{"name", "Jo"}, {"source", "fax"}}, "source"},
    {{{"name", "Jo"}, {"tags", "vip"}}, "tags"},
    {{{"name", "Jo"}, {"tags", {1}}}, "tags"},
    {{{"name", "Jo"}, {"tags", {long_tag}}}, "tags"},
    {{{"name", "Jo"}, {"tags", json(std::vector<std::string>(51, "x"))}}, "tags"},
    {{{"name", "Jo"}, {"notes", std::string(20001, 'n')}}, "notes"},
    {{{"name", std::string(201, 'n')}}, "name"},
    {{{"name", "Jo"}, {"favourite", "disco"}}, "favourite"},
    {{{"notes", "no one"}}, "name, email or phone"},
  };
  for (auto& [fields, field] : cases) {
    auto r = call("contacts.create", a, fields);
    CAF_CHECK_EQUAL(code_of(r), app_errc::bad_request);
    if (message_of(r).find(field) == std::string::npos)
      CAF_FAIL("message for " << fields.dump().substr(0, 80) << " does not name " << field << ": "
                              << message_of(r));
  }
  // Within the limits: 50 tags of 50 characters, 20000 characters of notes (multi-byte ones).
  std::string tag50(50, 'x');
  json tags = json::array();
  for (int i = 0; i < 50; ++i)
    tags.push_back(tag50.substr(0, 48) + std::to_string(10 + i));
  std::string notes;
  for (int i = 0; i < 20000; ++i)
    notes += "é";
  contact({{"name", std::string(200, 'n')}, {"tags", tags}, {"notes", notes}});
  CAF_CHECK_EQUAL(rows("contacts"), 1);
}

CAF_TEST(email and phone are unique within an organization but not across them) {
  auto jo = contact({{"name", "Jo"}, {"email", "jo@example.com"}, {"phone", "901-555-1234"}});
  auto by_email = call("contacts.create", a, {{"name", "Twin"}, {"email", "JO@example.com"}});
  CAF_CHECK_EQUAL(code_of(by_email), app_errc::conflict);
  CAF_CHECK(message_of(by_email).find(jo["id"].get<std::string>()) != std::string::npos);
  auto by_phone = call("contacts.create", a, {{"name", "Twin"}, {"phone", "+1 901 555 1234"}});
  CAF_CHECK_EQUAL(code_of(by_phone), app_errc::conflict);
  CAF_CHECK(message_of(by_phone).find(jo["id"].get<std::string>()) != std::string::npos);
  // Another organization has its own Jo.
  auto other = contact({{"name", "Jo"}, {"email", "jo@example.com"}, {"phone", "9015551234"}}, &b);
  CAF_CHECK_NOT_EQUAL(other["id"], jo["id"]);
  // A PATCH cannot take another contact's email either.
  auto kim = contact({{"name", "Kim"}, {"email", "kim@example.com"}});
  auto steal = call("contacts.update", a,
                    {{"id", kim["id"]}, {"fields", {{"email", "jo@example.com"}}}});
  CAF_CHECK_EQUAL(code_of(steal), app_errc::conflict);
  CAF_CHECK_EQUAL(rows("contacts"), 3);
}

CAF_TEST(a second inquiry updates the contact instead of creating a twin) {
  auto first = call("contacts.upsert_inquiry", a,
                    {{"email", "Lee@Example.com"}, {"source", "web"}, {"notes", "Wedding 6/1"},
                     {"tags", {"wedding"}}});
  CAF_REQUIRE(first);
  CAF_CHECK_EQUAL((*first)["created"], true);
  auto id = (*first)["contact"]["id"];
  CAF_CHECK_EQUAL((*first)["contact"]["source"], "web");
  // By SMS later: the phone joins, the name arrives, notes append, tags merge.
  CAF_REQUIRE(call("contacts.update", a, {{"id", id}, {"fields", {{"status", "lost"}}}}));
  auto second = call("contacts.upsert_inquiry", a,
                     {{"email", "lee@example.com"}, {"phone", "(901) 555-7777"}, {"name", "Lee"},
                      {"source", "sms"}, {"notes", "Still free?"}, {"tags", {"sms", "wedding"}}});
  CAF_REQUIRE(second);
  CAF_CHECK_EQUAL((*second)["created"], false);
  auto c = (*second)["contact"];
  CAF_CHECK_EQUAL(c["id"], id);
  CAF_CHECK_EQUAL(c["name"], "Lee");
  CAF_CHECK_EQUAL(c["phone"], "+19015557777");
  CAF_CHECK_EQUAL(c["source"], "web");
  CAF_CHECK_EQUAL(c["status"], "new");
  CAF_CHECK_EQUAL(c["tags"], json({"wedding", "sms"}));
  CAF_CHECK_EQUAL(c["notes"], "Wedding 6/1\n\nStill free?");
  // Found by phone alone.
  auto third = call("contacts.upsert_inquiry", a, {{"phone", "+19015557777"}});
  CAF_REQUIRE(third);
  CAF_CHECK_EQUAL((*third)["created"], false);
  CAF_CHECK_EQUAL((*third)["contact"]["id"], id);
  CAF_CHECK_EQUAL(rows("contacts"), 1);
  // Without email or phone there is nothing to match.
  CAF_CHECK_EQUAL(code_of(call("contacts.upsert_inquiry", a, {{"name", "Anon"}})),
                  app_errc::bad_request);
  // The same inquiry in org B creates B's own contact.
  auto in_b = call("contacts.upsert_inquiry", b, {{"email", "lee@example.com"}});
  CAF_REQUIRE(in_b);
  CAF_CHECK_EQUAL((*in_b)["created"], true);
}

CAF_TEST(concurrent inquiries for one person make one contact) {
  // Each thread asks through its own scoped actor, so the inquiries really overlap.
  std::atomic<int> created{0};
  std::atomic<int> failed{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i)
    threads.emplace_back([&, i] {
      caf::scoped_actor me{sys};
      auto args = json{{"email", "rush@example.com"}, {"notes", std::to_string(i)}}.dump();
      me->request(pool, std::chrono::seconds(30), db_call{"contacts.upsert_inquiry", a, args})
        .receive([&](const std::string& s) { created += json::parse(s)["created"].get<bool>(); },
                 [&](caf::error&) { ++failed; });
    });
  for (auto& t : threads)
    t.join();
  CAF_CHECK_EQUAL(failed.load(), 0);
  CAF_CHECK_EQUAL(created.load(), 1);
  CAF_CHECK_EQUAL(rows("contacts"), 1);
}

CAF_TEST(search filters and pages list the organization contacts only) {
  contact({{"name", "Jo Smith"}, {"email", "jo@example.com"}, {"source", "web"}});
  contact({{"name", "Kim Lee"}, {"phone", "(901) 555-2000"}, {"status", "booked"}});
  contact({{"name", "Smithers"}, {"email", "burns@plant.com"}, {"source", "sms"}});
  contact({{"name", "Ann"}, {"email", "ann@SMITH.com"}});
  contact({{"name", "Jo Outsider"}, {"email", "jo@example.com"}}, &b);
  auto q = [&](json args) { return names(call("contacts.list", a, args)); };
  CAF_CHECK_EQUAL(q({{"q", "smith"}}), (strings{"Jo Smith", "Smithers"}));
  CAF_CHECK_EQUAL(q({{"q", "JO"}}), (strings{"Jo Smith"}));
  CAF_CHECK_EQUAL(q({{"q", "ann@smith"}}), (strings{"Ann"}));
  CAF_CHECK_EQUAL(q({{"q", "lee"}}), (strings{"Kim Lee"}));
  CAF_CHECK_EQUAL(q({{"q", "901-555"}}), (strings{"Kim Lee"}));
  CAF_CHECK_EQUAL(q({{"q", "+1901555"}}), (strings{"Kim Lee"}));
  CAF_CHECK_EQUAL(q({{"q", "zzz"}}), strings{});
  CAF_CHECK_EQUAL(q({{"status", "booked"}}), (strings{"Kim Lee"}));
  CAF_CHECK_EQUAL(q({{"source", "sms"}}), (strings{"Smithers"}));
  CAF_CHECK_EQUAL(q({{"source", "web"}, {"q", "jo"}}), (strings{"Jo Smith"}));
  CAF_CHECK_EQUAL(q(json::object()).size(), 4u);
  CAF_CHECK_EQUAL(code_of(call("contacts.list", a, {{"status", "won"}})), app_errc::bad_request);
  CAF_CHECK_EQUAL(code_of(call("contacts.list", a, {{"cursor", "garbage"}})),
                  app_errc::bad_request);
  // Pages of 3 of 10 contacts: every contact once, in creation order.
  for (int i = 0; i < 6; ++i)
    contact({{"name", "Page " + std::to_string(i)}});
  std::vector<std::string> seen;
  json args{{"limit", 3}};
  for (int pages = 0; pages < 10; ++pages) {
    auto page = call("contacts.list", a, args);
    CAF_REQUIRE(page);
    for (auto& c : (*page)["items"])
      seen.push_back(c["id"]);
    if ((*page)["next_cursor"].is_null())
      break;
    args["cursor"] = (*page)["next_cursor"];
  }
  CAF_CHECK_EQUAL(seen.size(), 10u);
  CAF_CHECK_EQUAL(std::set<std::string>(seen.begin(), seen.end()).size(), 10u);
}

CAF_TEST(the search is served by the indexes under row level security) {
  {
    // Enough rows (and statistics) that a scan of the whole organization is the costly plan.
    pqxx::connection owner{db.owner_url()};
    pqxx::work tx{owner};
    tx.exec("select set_config('app.platform_admin', 'on', true)");
    tx.exec_params("insert into contacts (organization_id, name, phone) select $1::uuid,"
                   " 'Guest ' || i, '+1901' || lpad(i::text, 7, '0')"
                   " from generate_series(1, 5000) i", a.org_id);
    tx.commit();
    owner.prepare("analyze", "analyze contacts");
    pqxx::nontransaction nt{owner};
    nt.exec_prepared("analyze");
  }
  pqxx::connection conn{db.app_url()};
  pqxx::work tx{conn};
  tx.exec_params("select set_config('app.org_id', $1, true)", a.org_id);
  auto plan = [&](const std::string& where) {
    std::string text;
    for (auto r : tx.exec("explain select id from contacts where organization_id = app_org_id()"
                          " and " + where))
      text += r[0].as<std::string>() + "\n";
    return text;
  };
  auto by_name = plan("(search_name ~>=~ 'guest 12' and search_name ~<~ ('guest 12' || chr(1114111)))");
  CAF_CHECK(by_name.find("contacts_search_name_idx") != std::string::npos);
  auto by_phone = plan("(search_phone ~>=~ '190100012' and search_phone ~<~ ('190100012' || chr(1114111)))");
  CAF_CHECK(by_phone.find("contacts_search_phone_idx") != std::string::npos);
  if (by_name.find("contacts_search_name_idx") == std::string::npos)
    CAF_MESSAGE(by_name);
  if (by_phone.find("contacts_search_phone_idx") == std::string::npos)
    CAF_MESSAGE(by_phone);
}

CAF_TEST(updates check versions and unknown fields and ids) {
  auto c = contact({{"name", "Jo"}, {"email", "jo@example.com"}});
  auto patched = call("contacts.update", a,
                      {{"id", c["id"]},
                       {"fields", {{"status", "contacted"}, {"phone", "901 555 1234"},
                                   {"email", nullptr}, {"version", 1}}}});
  CAF_REQUIRE(patched);
  CAF_CHECK_EQUAL((*patched)["status"], "contacted");
  CAF_CHECK_EQUAL((*patched)["phone"], "+19015551234");
  CAF_CHECK((*patched)["email"].is_null());
  CAF_CHECK_EQUAL((*patched)["name"], "Jo");
  CAF_CHECK_EQUAL((*patched)["version"], 2);
  auto stale = call("contacts.update", a,
                    {{"id", c["id"]}, {"fields", {{"status", "lost"}, {"version", 1}}}});
  CAF_CHECK_EQUAL(code_of(stale), app_errc::conflict);
  CAF_CHECK_EQUAL(code_of(call("contacts.update", a,
                               {{"id", c["id"]}, {"fields", {{"id", "x"}}}})),
                  app_errc::bad_request);
  CAF_CHECK_EQUAL(code_of(call("contacts.update", a,
                               {{"id", c["id"]}, {"fields", {{"version", "1"}}}})),
                  app_errc::bad_request);
  CAF_CHECK_EQUAL(code_of(call("contacts.update", a,
                               {{"id", c["id"]},
                                {"fields", {{"name", nullptr}, {"phone", nullptr}}}})),
                  app_errc::bad_request);
  CAF_CHECK_EQUAL(code_of(call("contacts.update", b, {{"id", c["id"]}, {"fields", json::object()}})),
                  app_errc::not_found);
  CAF_CHECK_EQUAL(code_of(call("contacts.get", b, {{"id", c["id"]}})), app_errc::not_found);
  CAF_CHECK_EQUAL(code_of(call("contacts.get", a, {{"id", "nope"}})), app_errc::not_found);
  CAF_CHECK_EQUAL(code_of(call("contacts.delete", b, {{"id", c["id"]}})), app_errc::not_found);
  auto now = call("contacts.get", a, {{"id", c["id"]}});
  CAF_REQUIRE(now);
  CAF_CHECK_EQUAL(*now, *patched);
}

CAF_TEST(tasks filter by done and contact and outlive a deleted contact) {
  auto jo = contact({{"name", "Jo"}});
  auto t1 = call("tasks.create", a,
                 {{"title", "Call Jo"}, {"contact_id", jo["id"]}, {"due_at", "2026-06-01T18:00:00Z"}});
  CAF_REQUIRE(t1);
  CAF_CHECK_EQUAL((*t1)["done"], false);
  CAF_CHECK_EQUAL((*t1)["contact_id"], jo["id"]);
  CAF_CHECK_EQUAL((*t1)["organization_id"], a.org_id);
  CAF_CHECK(!(*t1)["due_at"].is_null());
  auto t2 = call("tasks.create", a, {{"title", "Order cables"}, {"done", true}});
  CAF_REQUIRE(t2);
  CAF_CHECK((*t2)["contact_id"].is_null());
  auto titles = [&](json args) {
    strings out;
    auto r = call("tasks.list", a, args);
    if (r)
      for (auto& t : (*r)["items"])
        out.insert(t["title"].get<std::string>());
    return out;
  };
  CAF_CHECK_EQUAL(titles({{"done", false}}), (strings{"Call Jo"}));
  CAF_CHECK_EQUAL(titles({{"done", true}}), (strings{"Order cables"}));
  CAF_CHECK_EQUAL(titles({{"contact_id", jo["id"]}}), (strings{"Call Jo"}));
  CAF_CHECK_EQUAL(titles(json::object()).size(), 2u);
  // Bad input and foreign contacts.
  auto b_contact = contact({{"name", "B's"}}, &b);
  CAF_CHECK_EQUAL(code_of(call("tasks.create", a, {{"title", "x"}, {"contact_id", b_contact["id"]}})),
                  app_errc::not_found);
  CAF_CHECK_EQUAL(code_of(call("tasks.create", a, {{"title", " "}})), app_errc::bad_request);
  CAF_CHECK_EQUAL(code_of(call("tasks.create", a, {{"title", "x"}, {"due_at", "soon"}})),
                  app_errc::bad_request);
  CAF_CHECK_EQUAL(code_of(call("tasks.create", a, {{"title", "x"}, {"done", "yes"}})),
                  app_errc::bad_request);
  CAF_CHECK_EQUAL(code_of(call("tasks.create", a, {{"title", "x"}, {"contact_id", "nope"}})),
                  app_errc::bad_request);
  CAF_CHECK_EQUAL(rows("tasks"), 2);
  // Versions.
  auto done = call("tasks.update", a,
                   {{"id", (*t1)["id"]}, {"fields", {{"done", true}, {"version", 1}}}});
  CAF_REQUIRE(done);
  CAF_CHECK_EQUAL((*done)["done"], true);
  CAF_CHECK_EQUAL((*done)["version"], 2);
  CAF_CHECK_EQUAL(code_of(call("tasks.update", a,
                               {{"id", (*t1)["id"]}, {"fields", {{"done", false}, {"version", 1}}}})),
                  app_errc::conflict);
  CAF_CHECK_EQUAL(code_of(call("tasks.update", b, {{"id", (*t1)["id"]}, {"fields", json::object()}})),
                  app_errc::not_found);
  // Deleting the contact keeps its task, unlinked.
  CAF_REQUIRE(call("contacts.delete", a, {{"id", jo["id"]}}));
  CAF_CHECK_EQUAL(code_of(call("contacts.get", a, {{"id", jo["id"]}})), app_errc::not_found);
  CAF_CHECK_EQUAL(titles(json::object()).size(), 2u);
  CAF_CHECK_EQUAL(titles({{"contact_id", jo["id"]}}), strings{});
  auto cleared = call("tasks.update", a, {{"id", (*t1)["id"]}, {"fields", {{"due_at", nullptr}}}});
  CAF_REQUIRE(cleared);
  CAF_CHECK((*cleared)["contact_id"].is_null());
  CAF_CHECK((*cleared)["due_at"].is_null());
}

CAF_TEST_FIXTURE_SCOPE_END()
