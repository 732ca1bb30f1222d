#define CAF_SUITE persistence.sms_pg

// The SMS operations over a real PostgreSQL: the org found by its number, one conversation per
// customer number, a Twilio retry recorded once, turns stored in order with their intent and
// tool calls under a version check, drafts with a durable timer that the DJ's edit, send or
// cancel retires, delivery statuses that never move backwards, and RLS between organizations.

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

struct fixture {
  test::pg_database db;
  app_config cfg;
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  db_actor pool;
  std::string org_a;
  std::string org_b;

  ~fixture() {
    caf::anon_send_exit(pool, caf::exit_reason::user_shutdown);
  }

  template <class F>
  auto owner(F f) {
    pqxx::connection conn{db.owner_url()};
    pqxx::work tx{conn};
    tx.exec("select set_config('app.platform_admin', 'on', true)");
    auto out = f(tx);
    tx.commit();
    return out;
  }

  fixture() {
    db_settings s;
    s.url = db.app_url();
    s.pool_size = 2;
    pool = persistence::spawn_db_pool(sys, s, true);
    org_a = owner([](pqxx::work& tx) {
      return tx.exec1("insert into organizations (product_context, name, slug, sms_number,"
                      " settings) values ('djdash', 'Beat Bros', 'beat', '+15005550006',"
                      " '{\"contact_email\": \"hi@beat.example\"}') returning id")[0]
        .as<std::string>();
    });
    org_b = owner([](pqxx::work& tx) {
      return tx.exec1("insert into organizations (product_context, name, slug, sms_number)"
                      " values ('m10dj', 'Other', 'other', '+15005550007') returning id")[0]
        .as<std::string>();
    });
  }

  /// Runs `op` in `org`; the error code as a string when it fails ("" on success).
  std::pair<json, std::string> try_call(const std::string& op, const json& args,
                                        const std::string& org) {
    std::pair<json, std::string> out;
    self->request(pool, std::chrono::seconds(10), db_call{op, db_scope{org, "", false, ""},
                                                          args.dump()})
      .receive([&](const std::string& s) { out.first = json::parse(s); },
               [&](caf::error& err) {
                 out.second = to_string(app_code(err));
               });
    return out;
  }

  json call(const std::string& op, const json& args, const std::string& org = {}) {
    auto [out, err] = try_call(op, args, org.empty() ? org_a : org);
    if (!err.empty())
      CAF_FAIL(op << " failed: " << err);
    return out;
  }

  std::string fails(const std::string& op, const json& args, const std::string& org = {}) {
    return try_call(op, args, org.empty() ? org_a : org).second;
  }

  int64_t count(const std::string& sql) {
    return owner([&](pqxx::work& tx) { return tx.exec1(sql)[0].as<int64_t>(); });
  }

  /// Opens the conversation of `phone` in org A and records one inbound message.
  json inbound(const std::string& phone, const std::string& sid, const std::string& body) {
    auto open = call("sms.open", {{"customer_phone", phone}});
    return call("sms.record_inbound", {{"conversation_id", open["conversation"]["id"]},
                                       {"twilio_sid", sid},
                                       {"body", body}});
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(sms_tests, fixture)

CAF_TEST(the organization is found by its number and an unknown number is not found) {
  auto found = call("sms.org_by_number", {{"number", "+15005550006"}});
  CAF_CHECK_EQUAL(found["organization_id"], org_a);
  auto missing = fails("sms.org_by_number", {{"number", "+15009999999"}}, "");
  CAF_CHECK_EQUAL(missing, "not_found");
  auto garbage = fails("sms.org_by_number", {{"number", "555"}}, "");
  CAF_CHECK_EQUAL(garbage, "not_found");
}

CAF_TEST(one conversation per number with org info and a linked contact) {
  owner([&](pqxx::work& tx) {
    return tx.exec_params("insert into contacts (organization_id, name, phone) values"
                          " ($1::uuid, 'Dana', '+14155550199')",
                          org_a);
  });
  auto first = call("sms.open", {{"customer_phone", "+14155550199"}});
  auto again = call("sms.open", {{"customer_phone", "+14155550199"}});
  CAF_CHECK_EQUAL(first["conversation"]["id"], again["conversation"]["id"]);
  CAF_CHECK(first["conversation"]["contact_id"].is_string());
  CAF_CHECK_EQUAL(first["org"]["name"], "Beat Bros");
  CAF_CHECK_EQUAL(first["org"]["review_window_s"], 0);
  CAF_CHECK_EQUAL(first["org"]["contact_email"], "hi@beat.example");
  CAF_CHECK_EQUAL(count("select count(*) from sms_conversations"), 1);
  auto bad = fails("sms.open", {{"customer_phone", "4155550199"}});
  CAF_CHECK_EQUAL(bad, "bad_request");
}

CAF_TEST(a repeated MessageSid is recorded once) {
  auto first = inbound("+14155550100", "SM00000000000000000000000000000001", "are you free?");
  CAF_CHECK_EQUAL(first["duplicate"], false);
  auto retry = inbound("+14155550100", "SM00000000000000000000000000000001", "are you free?");
  CAF_CHECK_EQUAL(retry["duplicate"], true);
  CAF_CHECK_EQUAL(retry["message"]["id"], first["message"]["id"]);
  CAF_CHECK_EQUAL(count("select count(*) from sms_messages"), 1);
}

CAF_TEST(a turn stores classification tool calls state and the reply in order) {
  auto in = inbound("+14155550101", "SM00000000000000000000000000000002", "how much for 4 hrs");
  auto conv = in["conversation"];
  json tools = json::array({{{"name", "get_quote"},
                             {"arguments", {{"event_type", "wedding"}, {"hours", 4}}},
                             {"result", {{"amount_cents", 180000}}}}});
  auto turn = call("sms.record_turn",
                   {{"conversation_id", conv["id"]},
                    {"version", conv["version"]},
                    {"inbound_id", in["message"]["id"]},
                    {"classification",
                     {{"intent", "pricing"}, {"confidence", 0.93}, {"entities", {{"hours", 4}}}}},
                    {"tool_calls", tools},
                    {"state", {{"slots", {{"hours", 4}}}, {"last_quote_id", nullptr},
                               {"pending_hold_event_id", nullptr}}},
                    {"reply", "A 4 hour wedding is $1,800."},
                    {"draft_delay_s", 0},
                    {"key", org_a + "|+14155550101"}});
  CAF_CHECK_EQUAL(turn["reply"]["status"], "sent");
  CAF_CHECK_EQUAL(turn["conversation"]["state"]["slots"]["hours"], 4);
  // A stale version is refused and nothing of that turn is written.
  auto stale = fails("sms.record_turn", {{"conversation_id", conv["id"]},
                                          {"version", conv["version"]},
                                          {"inbound_id", in["message"]["id"]},
                                          {"reply", "twice"},
                                          {"key", org_a + "|+14155550101"}});
  CAF_CHECK_EQUAL(stale, "conflict");
  auto got = call("sms.conversations.get", {{"id", conv["id"]}});
  auto& messages = got["messages"];
  CAF_REQUIRE_EQUAL(messages.size(), 2u);
  CAF_CHECK_EQUAL(messages[0]["direction"], "in");
  CAF_CHECK_EQUAL(messages[0]["intent"], "pricing");
  CAF_CHECK_EQUAL(messages[0]["confidence"], 0.93);
  CAF_CHECK_EQUAL(messages[0]["entities"]["hours"], 4);
  CAF_CHECK_EQUAL(messages[0]["tool_calls"][0]["name"], "get_quote");
  CAF_CHECK_EQUAL(messages[0]["tool_calls"][0]["result"]["amount_cents"], 180000);
  CAF_CHECK_EQUAL(messages[1]["direction"], "out");
  CAF_CHECK_EQUAL(messages[1]["body"], "A 4 hour wedding is $1,800.");
  CAF_CHECK_EQUAL(messages[1]["reply_to"], messages[0]["id"]);
  auto ordered = messages[0]["seq"].get<int64_t>() < messages[1]["seq"].get<int64_t>();
  CAF_CHECK(ordered);
  auto list = call("sms.conversations.list", json::object());
  CAF_REQUIRE_EQUAL(list["items"].size(), 1u);
  CAF_CHECK_EQUAL(list["items"][0]["last_message"], "A 4 hour wedding is $1,800.");
}

CAF_TEST(a draft gets a timer that send claim edit and cancel retire) {
  auto make_draft = [&](const std::string& sid) {
    auto in = inbound("+14155550102", sid, "is june 14 open");
    auto conv = in["conversation"];
    auto turn = call("sms.record_turn", {{"conversation_id", conv["id"]},
                                         {"version", conv["version"]},
                                         {"inbound_id", in["message"]["id"]},
                                         {"reply", "June 14 is open!"},
                                         {"draft_delay_s", 120},
                                         {"key", org_a + "|+14155550102"}});
    CAF_CHECK_EQUAL(turn["reply"]["status"], "draft");
    CAF_CHECK(turn["reply"]["send_after"].is_string());
    return std::make_pair(conv["id"].get<std::string>(), turn["reply"]["id"].get<std::string>());
  };
  auto pending = [&] {
    return count("select count(*) from timers where kind = 'sms_send_draft' and done_at is null");
  };
  auto [conv, d1] = make_draft("SM00000000000000000000000000000003");
  CAF_CHECK_EQUAL(pending(), 1);
  auto payload_key = owner([&](pqxx::work& tx) {
    return tx.exec_params1("select payload->>'key' from timers where target_id = $1::uuid", d1)[0]
      .as<std::string>();
  });
  CAF_CHECK_EQUAL(payload_key, org_a + "|+14155550102");
  // The timer (or the DJ) claims it: queued, timer retired; a second claim leaves it alone.
  auto claim = call("sms.claim_draft", {{"message_id", d1}});
  CAF_CHECK_EQUAL(claim["to"], "+14155550102");
  CAF_CHECK_EQUAL(claim["from"], "+15005550006");
  CAF_CHECK_EQUAL(claim["message"]["status"], "queued");
  CAF_CHECK_EQUAL(pending(), 0);
  auto second = call("sms.claim_draft", {{"message_id", d1}});
  CAF_CHECK(!second.contains("to"));
  auto sent = call("sms.mark_sent", {{"message_id", d1},
                                     {"twilio_sid", "SM0000000000000000000000000000aa01"},
                                     {"status", "queued"}});
  CAF_CHECK_EQUAL(sent["twilio_sid"], "SM0000000000000000000000000000aa01");
  // Delivery callbacks move forward only.
  auto delivered = call("sms.status", {{"twilio_sid", "SM0000000000000000000000000000aa01"},
                                       {"status", "delivered"}});
  CAF_CHECK_EQUAL(delivered["updated"], true);
  auto late = call("sms.status", {{"twilio_sid", "SM0000000000000000000000000000aa01"},
                                  {"status", "sent"}});
  CAF_CHECK_EQUAL(late["updated"], false);
  auto unknown = call("sms.status", {{"twilio_sid", "SMnope"}, {"status", "delivered"}});
  CAF_CHECK_EQUAL(unknown["updated"], false);
  // An edited draft no longer goes out by itself; a cancelled one never does.
  auto [conv2, d2] = make_draft("SM00000000000000000000000000000004");
  auto edited = call("sms.drafts.edit",
                     {{"conversation_id", conv2}, {"message_id", d2}, {"body", "June 14 works!"}});
  CAF_CHECK_EQUAL(edited["body"], "June 14 works!");
  CAF_CHECK_EQUAL(edited["status"], "draft");
  CAF_CHECK_EQUAL(pending(), 0);
  auto cancelled = call("sms.drafts.cancel", {{"conversation_id", conv2}, {"message_id", d2}});
  CAF_CHECK_EQUAL(cancelled["status"], "cancelled");
  auto again = fails("sms.drafts.cancel", {{"conversation_id", conv2}, {"message_id", d2}});
  CAF_CHECK_EQUAL(again, "conflict");
  auto target = fails("sms.drafts.target", {{"conversation_id", conv2}, {"message_id", d2}});
  CAF_CHECK_EQUAL(target, "conflict");
  auto empty = fails("sms.drafts.edit",
                     {{"conversation_id", conv2}, {"message_id", d2}, {"body", ""}});
  CAF_CHECK_EQUAL(empty, "bad_request");
}

CAF_TEST(a draft to a customer who opted out meanwhile is cancelled not sent) {
  auto in = inbound("+14155550103", "SM00000000000000000000000000000005", "price?");
  auto conv = in["conversation"];
  auto turn = call("sms.record_turn", {{"conversation_id", conv["id"]},
                                       {"version", conv["version"]},
                                       {"inbound_id", in["message"]["id"]},
                                       {"reply", "It starts at $600."},
                                       {"draft_delay_s", 60},
                                       {"key", org_a + "|+14155550103"}});
  auto stop = call("sms.record_inbound", {{"conversation_id", conv["id"]},
                                          {"twilio_sid", "SM00000000000000000000000000000006"},
                                          {"body", "STOP"}});
  call("sms.record_turn", {{"conversation_id", conv["id"]},
                           {"version", stop["conversation"]["version"]},
                           {"inbound_id", stop["message"]["id"]},
                           {"opted_out", true},
                           {"reply", "You're unsubscribed."},
                           {"key", org_a + "|+14155550103"}});
  auto claim = call("sms.claim_draft", {{"message_id", turn["reply"]["id"]}});
  CAF_CHECK_EQUAL(claim["cancelled"], true);
  CAF_CHECK_EQUAL(claim["message"]["status"], "cancelled");
  auto got = call("sms.conversations.get", {{"id", conv["id"]}});
  CAF_CHECK_EQUAL(got["opted_out"], true);
}

CAF_TEST(another organization sees none of it) {
  auto in = inbound("+14155550104", "SM00000000000000000000000000000007", "hello");
  auto conv_id = in["conversation"]["id"];
  auto other = fails("sms.conversations.get", {{"id", conv_id}}, org_b);
  CAF_CHECK_EQUAL(other, "not_found");
  auto list = call("sms.conversations.list", json::object(), org_b);
  CAF_CHECK_EQUAL(list["items"].size(), 0u);
  // The same MessageSid in another organization is its own message.
  auto open_b = call("sms.open", {{"customer_phone", "+14155550104"}}, org_b);
  auto rec_b = call("sms.record_inbound", {{"conversation_id", open_b["conversation"]["id"]},
                                           {"twilio_sid", "SM00000000000000000000000000000007"},
                                           {"body", "hello"}},
                    org_b);
  CAF_CHECK_EQUAL(rec_b["duplicate"], false);
  auto cross = fails("sms.record_inbound", {{"conversation_id", conv_id},
                                            {"twilio_sid", "SM00000000000000000000000000000008"},
                                            {"body", "x"}},
                     org_b);
  CAF_CHECK_EQUAL(cross, "not_found");
}

CAF_TEST_FIXTURE_SCOPE_END()
