#define CAF_SUITE persistence.contracts_pg

// Contract operations against real PostgreSQL through the DB pool: templates, the signing link,
// signatures whose hash is the text's, and immutability that holds even for raw SQL.

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "config/app_config.hpp"
#include "persistence/contract_repo.hpp"
#include "persistence/db_pool.hpp"
#include "protocols/app_errc.hpp"
#include "protocols/crypto.hpp"
#include "support/caf_test.hpp"
#include "support/pg_fixture.hpp"

using namespace djdash;
using json = nlohmann::json;

namespace {

/// One organization with an owner, a contact and an event (Saturday June 6 2026, 5 to 10 PM in
/// Chicago).
struct tenant {
  std::string org, user, contact, event;
};

tenant seed(pqxx::work& tx, const std::string& slug) {
  tenant t;
  t.user = tx.exec_params1("insert into users (email, password_hash) values ($1, 'x') returning id",
                           slug + "@example.com")[0]
             .as<std::string>();
  t.org = tx.exec_params1("insert into organizations (product_context, name, slug, timezone)"
                          " values ('djdash', $1, $2, 'America/Chicago') returning id",
                          "Beats by " + slug, slug)[0]
            .as<std::string>();
  tx.exec_params("insert into organization_members (organization_id, user_id, role)"
                 " values ($1::uuid, $2::uuid, 'owner')",
                 t.org, t.user);
  t.contact = tx.exec_params1("insert into contacts (organization_id, name, email)"
                              " values ($1::uuid, 'Ana Díaz', 'ana@example.com') returning id",
                              t.org)[0]
                .as<std::string>();
  t.event = tx.exec_params1(
                "insert into events (organization_id, title, event_type, starts_at, ends_at,"
                " status, contact_id, venue, guest_count, price_cents) values ($1::uuid,"
                " 'Díaz wedding', 'wedding', '2026-06-06T22:00:00Z', '2026-06-07T03:00:00Z',"
                " 'booked', $2::uuid, 'The Peabody', 150, 125000) returning id",
                t.org, t.contact)[0]
              .as<std::string>();
  return t;
}

std::string hex64(char c) {
  return std::string(64, c);
}

struct fixture {
  test::pg_database db;
  tenant a, b;
  app_config cfg;
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  db_actor pool;

  fixture() {
    {
      pqxx::connection conn{db.owner_url()};
      pqxx::work tx{conn};
      tx.exec("select set_config('app.platform_admin', 'on', true)");
      a = seed(tx, "org-a");
      b = seed(tx, "org-b");
      tx.commit();
    }
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

  db_scope in(const tenant& t) { return db_scope{t.org, t.user, false, "member"}; }

  json create(const tenant& t, json args) {
    auto r = call("contracts.create", in(t), args);
    CAF_REQUIRE_EQUAL(r ? "" : error_message(r.error()), "");
    return *r;
  }

  json send(const tenant& t, const json& contract, const std::string& hash) {
    auto r = call("contracts.send", in(t), {{"id", contract["id"]}, {"token_hash", hash}});
    CAF_REQUIRE_EQUAL(r ? "" : error_message(r.error()), "");
    return *r;
  }

  caf::expected<json> sign(const std::string& hash, const std::string& name) {
    return call("contracts.public_sign", db_scope{},
                {{"token_hash", hash}, {"name", name}, {"ip", "203.0.113.7"},
                 {"user_agent", "Mozilla/5.0 (test)"}});
  }

  int64_t contract_rows() {
    pqxx::connection conn{db.owner_url()};
    pqxx::work tx{conn};
    tx.exec("select set_config('app.platform_admin', 'on', true)");
    return tx.exec1("select count(*) from contracts")[0].as<int64_t>();
  }

  /// Runs `sql` as the application role inside org `t`; returns the SQLSTATE it failed with.
  std::string raw_sql_state(const tenant& t, const std::string& sql) {
    pqxx::connection conn{db.app_url()};
    pqxx::work tx{conn};
    tx.exec_params("select set_config('app.org_id', $1, true)", t.org);
    try {
      tx.exec(sql);
      tx.commit();
      return "ok";
    } catch (const pqxx::sql_error& e) {
      return e.sqlstate();
    }
  }
};

app_errc code_of(const caf::expected<json>& r) {
  return r ? app_errc::internal : app_code(r.error());
}

std::string message_of(const caf::expected<json>& r) {
  return r ? std::string{} : error_message(r.error());
}

} // namespace

CAF_TEST(placeholders fill with spaces allowed and other braces left alone) {
  std::map<std::string, std::string> v{{"client_name", "Ana"}, {"price", "$10.00"}};
  CAF_CHECK_EQUAL(persistence::fill_contract_template("Hi {{client_name}}, {{ price }}.", v),
                  "Hi Ana, $10.00.");
  CAF_CHECK_EQUAL(persistence::fill_contract_template("{single} {{ open and {{}} }}", v),
                  "{single} {{ open and {{}} }}");
  try {
    persistence::fill_contract_template("{{client_name}} {{bogus}} {{x}} {{bogus}}", v);
    CAF_FAIL("unknown placeholders were accepted");
  } catch (const persistence::op_error& e) {
    CAF_CHECK_EQUAL(e.code, app_errc::bad_request);
    std::string what = e.what();
    CAF_CHECK_NOT_EQUAL(what.find("{{bogus}}, {{x}}"), std::string::npos);
  }
}

CAF_TEST_FIXTURE_SCOPE(contract_tests, fixture)

CAF_TEST(a template is filled from the event contact and organization at creation) {
  auto c = create(a, {{"event_id", a.event},
                      {"template", "{{client_name}} <{{client_email}}>: {{ event_title }}"
                                   " ({{event_type}}) on {{event_date}}, {{start_time}} to"
                                   " {{end_time}} at {{venue}} for {{guest_count}} guests,"
                                   " {{price}}, by {{organization_name}}."}});
  CAF_CHECK_EQUAL(c["body"], "Ana Díaz <ana@example.com>: Díaz wedding (wedding) on Saturday,"
                             " June 6, 2026, 5:00 PM to 10:00 PM at The Peabody for 150 guests,"
                             " $1,250.00, by Beats by org-a.");
  CAF_CHECK_EQUAL(c["status"], "draft");
  CAF_CHECK_EQUAL(c["title"], "Contract: Díaz wedding");
  CAF_CHECK_EQUAL(c["contact_id"], a.contact);
  CAF_CHECK_EQUAL(c["event_id"], a.event);
  CAF_CHECK_EQUAL(c["organization_id"], a.org);
  CAF_CHECK_EQUAL(c["version"], 1);
  CAF_CHECK(c["signed_sha256"].is_null());
  // Without a template: the built-in agreement, every placeholder filled.
  auto d = create(a, {{"event_id", a.event}, {"title", "Wedding agreement"}});
  auto body = d["body"].get<std::string>();
  CAF_CHECK_EQUAL(body.find("{{"), std::string::npos);
  CAF_CHECK_NOT_EQUAL(body.find("Ana Díaz"), std::string::npos);
  CAF_CHECK_NOT_EQUAL(body.find("$1,250.00"), std::string::npos);
  CAF_CHECK_EQUAL(d["title"], "Wedding agreement");
  // The organization's own template, from its settings.
  {
    pqxx::connection conn{db.owner_url()};
    pqxx::work tx{conn};
    tx.exec("select set_config('app.platform_admin', 'on', true)");
    tx.exec_params("update organizations set settings = jsonb_build_object('contract_template',"
                   " 'Our terms for {{client_name}}') where id = $1::uuid",
                   a.org);
    tx.commit();
  }
  auto e = create(a, {{"event_id", a.event}});
  CAF_CHECK_EQUAL(e["body"], "Our terms for Ana Díaz");
}

CAF_TEST(unknown placeholders and foreign events are refused and nothing is written) {
  auto bad = call("contracts.create", in(a),
                  {{"event_id", a.event}, {"template", "Dear {{client_nam}}, {{deposit}}"}});
  CAF_CHECK_EQUAL(code_of(bad), app_errc::bad_request);
  CAF_CHECK_NOT_EQUAL(message_of(bad).find("{{client_nam}}, {{deposit}}"), std::string::npos);
  auto foreign = call("contracts.create", in(a), {{"event_id", b.event}});
  CAF_CHECK_EQUAL(code_of(foreign), app_errc::not_found);
  auto empty = call("contracts.create", in(a), {{"event_id", a.event}, {"template", "  "}});
  CAF_CHECK_EQUAL(code_of(empty), app_errc::bad_request);
  auto long_title = call("contracts.create", in(a),
                         {{"event_id", a.event}, {"title", std::string(201, 'x')}});
  CAF_CHECK_EQUAL(code_of(long_title), app_errc::bad_request);
  CAF_CHECK_EQUAL(contract_rows(), 0);
  // B's contract is invisible to A.
  auto theirs = create(b, {{"event_id", b.event}});
  CAF_CHECK_EQUAL(code_of(call("contracts.get", in(a), {{"id", theirs["id"]}})),
                  app_errc::not_found);
  CAF_CHECK_EQUAL(code_of(call("contracts.send", in(a),
                               {{"id", theirs["id"]}, {"token_hash", hex64('a')}})),
                  app_errc::not_found);
  auto listed = call("contracts.list", in(a), json::object());
  CAF_REQUIRE(listed);
  CAF_CHECK_EQUAL((*listed)["items"].size(), 0u);
}

CAF_TEST(sending again rotates the link and only the newest one opens the contract) {
  auto c = create(a, {{"event_id", a.event}});
  auto sent = send(a, c, hex64('1'));
  CAF_CHECK_EQUAL(sent["status"], "sent");
  CAF_CHECK(sent["sent_at"].is_string());
  auto read = call("contracts.public_get", db_scope{}, {{"token_hash", hex64('1')}});
  CAF_REQUIRE(read);
  CAF_CHECK_EQUAL((*read)["body"], c["body"]);
  CAF_CHECK_EQUAL((*read)["organization_name"], "Beats by org-a");
  CAF_CHECK_EQUAL((*read)["status"], "sent");
  CAF_CHECK(!read->contains("id"));
  send(a, c, hex64('2'));
  CAF_CHECK_EQUAL(code_of(call("contracts.public_get", db_scope{}, {{"token_hash", hex64('1')}})),
                  app_errc::not_found);
  CAF_CHECK(call("contracts.public_get", db_scope{}, {{"token_hash", hex64('2')}}));
  CAF_CHECK_EQUAL(code_of(sign(hex64('1'), "Ana Díaz")), app_errc::not_found);
  CAF_CHECK_EQUAL(code_of(call("contracts.public_get", db_scope{}, {{"token_hash", "nothex"}})),
                  app_errc::not_found);
  // Voiding kills the link; a void contract is final.
  auto voided = call("contracts.void", in(a), {{"id", c["id"]}});
  CAF_REQUIRE(voided);
  CAF_CHECK_EQUAL((*voided)["status"], "void");
  CAF_CHECK_EQUAL(code_of(call("contracts.public_get", db_scope{}, {{"token_hash", hex64('2')}})),
                  app_errc::not_found);
  CAF_CHECK_EQUAL(code_of(sign(hex64('2'), "Ana Díaz")), app_errc::not_found);
  CAF_CHECK_EQUAL(code_of(call("contracts.send", in(a),
                               {{"id", c["id"]}, {"token_hash", hex64('3')}})),
                  app_errc::conflict);
}

CAF_TEST(a signature records the hash of the exact text and happens once) {
  auto c = create(a, {{"event_id", a.event}});
  send(a, c, hex64('5'));
  auto s = sign(hex64('5'), "Ana María Díaz");
  CAF_REQUIRE_EQUAL(message_of(s), "");
  auto expected_hash = crypto::hex(crypto::sha256(c["body"].get<std::string>()));
  CAF_CHECK_EQUAL((*s)["signed_sha256"], expected_hash);
  CAF_CHECK_EQUAL((*s)["status"], "signed");
  CAF_CHECK_EQUAL((*s)["signer_name"], "Ana María Díaz");
  CAF_CHECK_EQUAL((*s)["signer_ip"], "203.0.113.7");
  CAF_CHECK_EQUAL((*s)["signer_user_agent"], "Mozilla/5.0 (test)");
  auto again = sign(hex64('5'), "Someone Else");
  CAF_CHECK_EQUAL(code_of(again), app_errc::conflict);
  auto stored = call("contracts.get", in(a), {{"id", c["id"]}});
  CAF_REQUIRE(stored);
  CAF_CHECK_EQUAL((*stored)["signed_sha256"], expected_hash);
  CAF_CHECK_EQUAL((*stored)["signer_name"], "Ana María Díaz");
  CAF_CHECK_EQUAL((*stored)["body"], c["body"]);
  // The signed copy stays readable through the link.
  auto read = call("contracts.public_get", db_scope{}, {{"token_hash", hex64('5')}});
  CAF_REQUIRE(read);
  CAF_CHECK_EQUAL((*read)["status"], "signed");
  CAF_CHECK_EQUAL((*read)["body_sha256"], expected_hash);
  // No more sending or voiding.
  CAF_CHECK_EQUAL(code_of(call("contracts.send", in(a),
                               {{"id", c["id"]}, {"token_hash", hex64('6')}})),
                  app_errc::conflict);
  CAF_CHECK_EQUAL(code_of(call("contracts.void", in(a), {{"id", c["id"]}})), app_errc::conflict);
  // A blank name is no signature.
  auto other = create(a, {{"event_id", a.event}});
  send(a, other, hex64('7'));
  CAF_CHECK_EQUAL(code_of(sign(hex64('7'), "   ")), app_errc::bad_request);
}

CAF_TEST(the database refuses any change to a signed contract even from raw SQL) {
  auto c = create(a, {{"event_id", a.event}});
  send(a, c, hex64('8'));
  CAF_REQUIRE(sign(hex64('8'), "Ana Díaz"));
  auto id = c["id"].get<std::string>();
  auto where = " where id = '" + id + "'";
  CAF_CHECK_EQUAL(raw_sql_state(a, "update contracts set body = 'nothing'" + where), "ZC409");
  CAF_CHECK_EQUAL(raw_sql_state(a, "update contracts set title = 'renamed'" + where), "ZC409");
  CAF_CHECK_EQUAL(raw_sql_state(a, "update contracts set signer_name = 'Eve'" + where), "ZC409");
  CAF_CHECK_EQUAL(raw_sql_state(a, "update contracts set status = 'void'" + where), "ZC409");
  CAF_CHECK_EQUAL(raw_sql_state(a, "delete from contracts" + where), "ZC409");
  // The owner role, seeing every tenant, fares no better.
  pqxx::connection conn{db.owner_url()};
  pqxx::work tx{conn};
  tx.exec("select set_config('app.platform_admin', 'on', true)");
  try {
    tx.exec("update contracts set body = body || ' amended'" + where);
    CAF_FAIL("the owner changed a signed contract");
  } catch (const pqxx::sql_error& e) {
    CAF_CHECK_EQUAL(e.sqlstate(), "ZC409");
  }
  // And an unsigned contract's text is fixed at creation too.
  auto draft = create(a, {{"event_id", a.event}});
  CAF_CHECK_EQUAL(raw_sql_state(a, "update contracts set body = 'other' where id = '"
                                     + draft["id"].get<std::string>() + "'"),
                  "ZC409");
  auto stored = call("contracts.get", in(a), {{"id", id}});
  CAF_REQUIRE(stored);
  CAF_CHECK_EQUAL((*stored)["body"], c["body"]);
  CAF_CHECK_EQUAL((*stored)["status"], "signed");
}

CAF_TEST(lists page with a cursor and filter by status and event) {
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i)
    ids.push_back(create(a, {{"event_id", a.event}})["id"].get<std::string>());
  send(a, json{{"id", ids[1]}}, hex64('9'));
  auto first = call("contracts.list", in(a), {{"limit", 2}});
  CAF_REQUIRE(first);
  CAF_CHECK_EQUAL((*first)["items"].size(), 2u);
  CAF_REQUIRE((*first)["next_cursor"].is_string());
  auto second = call("contracts.list", in(a), {{"limit", 2}, {"cursor", (*first)["next_cursor"]}});
  CAF_REQUIRE(second);
  CAF_CHECK_EQUAL((*second)["items"].size(), 1u);
  CAF_CHECK((*second)["next_cursor"].is_null());
  auto sent = call("contracts.list", in(a), {{"status", "sent"}});
  CAF_REQUIRE(sent);
  CAF_REQUIRE_EQUAL((*sent)["items"].size(), 1u);
  CAF_CHECK_EQUAL((*sent)["items"][0]["id"], ids[1]);
  auto by_event = call("contracts.list", in(a), {{"event_id", b.event}});
  CAF_REQUIRE(by_event);
  CAF_CHECK_EQUAL((*by_event)["items"].size(), 0u);
  CAF_CHECK_EQUAL(code_of(call("contracts.list", in(a), {{"status", "lost"}})),
                  app_errc::bad_request);
}

CAF_TEST(a cancelled event gets no contract) {
  {
    pqxx::connection conn{db.owner_url()};
    pqxx::work tx{conn};
    tx.exec("select set_config('app.platform_admin', 'on', true)");
    tx.exec_params("update events set status = 'cancelled' where id = $1::uuid", a.event);
    tx.commit();
  }
  CAF_CHECK_EQUAL(code_of(call("contracts.create", in(a), {{"event_id", a.event}})),
                  app_errc::conflict);
}

CAF_TEST_FIXTURE_SCOPE_END()
