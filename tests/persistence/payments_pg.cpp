#define CAF_SUITE persistence.payments_pg

// Stripe events against a real PostgreSQL through the real DB pool: each event id takes effect
// once (also when the same event arrives concurrently), out-of-order deliveries never move a
// payment or a crowd request backwards, webhooks find their organization only through our own
// records (RLS stays on), and charge-on-play timers capture or release what is held.

#include <thread>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "config/app_config.hpp"
#include "persistence/db_pool.hpp"
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
  int seq = 0;

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

  int64_t count(const std::string& sql) {
    return owner([&](pqxx::work& tx) { return tx.exec1(sql)[0].as<int64_t>(); });
  }

  std::string scalar(const std::string& sql) {
    return owner([&](pqxx::work& tx) { return tx.exec1(sql)[0].as<std::string>(); });
  }

  fixture() {
    db_settings s;
    s.url = db.app_url();
    s.pool_size = 4;
    pool = persistence::spawn_db_pool(sys, s, true);
    org_a = owner([](pqxx::work& tx) {
      return tx.exec1("insert into organizations (product_context, name, slug)"
                      " values ('tipjar', 'Pay A', 'pay-a') returning id")[0].as<std::string>();
    });
    org_b = owner([](pqxx::work& tx) {
      return tx.exec1("insert into organizations (product_context, name, slug)"
                      " values ('tipjar', 'Pay B', 'pay-b') returning id")[0].as<std::string>();
    });
  }

  caf::expected<json> try_call(const std::string& op, const db_scope& scope, const json& args) {
    caf::expected<json> out{json{}};
    self->request(pool, std::chrono::seconds(20), db_call{op, scope, args.dump()})
      .receive([&](const std::string& s) { out = json::parse(s); },
               [&](caf::error& err) { out = std::move(err); });
    return out;
  }

  json call(const std::string& op, const std::string& org, const json& args) {
    auto out = try_call(op, db_scope{org, "", false, ""}, args);
    if (!out)
      CAF_FAIL(op << " failed: " << caf::to_string(out.error()));
    return *out;
  }

  json deliver(const json& event) {
    auto out = try_call("stripe.webhook", db_scope{}, {{"event", event}});
    if (!out)
      CAF_FAIL("webhook failed: " << caf::to_string(out.error()));
    return *out;
  }

  /// A crowd request waiting for its payment, with a recorded checkout session; returns
  /// {request id, checkout id, session id}.
  std::vector<std::string> pending_request(const std::string& org, int64_t amount, bool hold) {
    auto n = std::to_string(++seq);
    auto request = owner([&](pqxx::work& tx) {
      return tx
        .exec_params1("insert into crowd_requests (organization_id, kind, song_title,"
                      " amount_cents, currency, status, payment_status, payment_code,"
                      " requester_key, charge_on_play) values ($1::uuid, 'song', $2, $3, 'usd',"
                      " 'pending_payment', 'pending', $4, 'guest', $5) returning id",
                      org, "Song " + n, amount, "CODE" + n, hold)[0]
        .as<std::string>();
    });
    call("stripe.account_save", org, {{"stripe_account_id", "acct_" + org.substr(0, 8)}});
    auto checkout = scalar("select gen_random_uuid()::text");
    auto session = "cs_test_" + n + org.substr(0, 4);
    call("checkout.record", org,
         {{"id", checkout}, {"kind", "crowd_request"}, {"ref_id", request},
          {"stripe_checkout_session_id", session}, {"stripe_account_id", "acct_x"},
          {"amount_cents", amount}, {"platform_fee_cents", (amount * 35 + 500) / 1000 + 30},
          {"currency", "usd"}, {"manual_capture", hold}, {"url", "https://pay/" + n}});
    return {request, checkout, session};
  }

  static json session_completed(const std::string& evt, const std::string& session,
                                const std::string& pi, const std::string& payment_status) {
    return {{"id", evt},
            {"object", "event"},
            {"type", "checkout.session.completed"},
            {"created", 1767225600},
            {"data",
             {{"object",
               {{"id", session}, {"object", "checkout.session"}, {"status", "complete"},
                {"payment_status", payment_status}, {"payment_intent", pi},
                {"currency", "usd"}}}}}};
  }

  static json intent_event(const std::string& evt, const std::string& type, const std::string& pi,
                           const std::string& status, const json& metadata = json::object()) {
    return {{"id", evt},
            {"object", "event"},
            {"type", type},
            {"created", 1767225600},
            {"data",
             {{"object",
               {{"id", pi}, {"object", "payment_intent"}, {"status", status},
                {"metadata", metadata}}}}}};
  }

  std::string request_field(const std::string& id, const char* column) {
    return scalar(std::string{"select "} + column + "::text from crowd_requests where id = '" + id
                  + "'");
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(payments_tests, fixture)

CAF_TEST(a paid checkout makes one payment with the fee and queues the request once) {
  auto r = pending_request(org_a, 1000, false);
  auto ev = session_completed("evt_paid_1", r[2], "pi_paid_1", "paid");
  auto first = deliver(ev);
  auto dup_first = first["duplicate"].get<bool>();
  CAF_CHECK(!dup_first);
  auto events = first["events"];
  CAF_CHECK_EQUAL(events.size(), 2u);  // crowd_request.paid on the queue, payment.succeeded
  auto status = request_field(r[0], "status");
  auto paid = request_field(r[0], "payment_status");
  CAF_CHECK_EQUAL(status, "queued");
  CAF_CHECK_EQUAL(paid, "paid");
  auto fee = count("select platform_fee_cents from payments where stripe_payment_intent_id ="
                   " 'pi_paid_1'");
  auto net = count("select net_cents from payments where stripe_payment_intent_id = 'pi_paid_1'");
  CAF_CHECK_EQUAL(fee, 65);
  CAF_CHECK_EQUAL(net, 935);
  auto again = deliver(ev);
  auto dup = again["duplicate"].get<bool>();
  CAF_CHECK(dup);
  auto payments = count("select count(*) from payments");
  auto notes = count("select count(*) from notifications where kind = 'payment.succeeded'");
  auto recorded = count("select count(*) from stripe_events where processed");
  CAF_CHECK_EQUAL(payments, 1);
  CAF_CHECK_EQUAL(notes, 1);
  CAF_CHECK_EQUAL(recorded, 1);
}

CAF_TEST(the same event delivered 20 times concurrently takes effect once) {
  auto r = pending_request(org_a, 2500, false);
  auto ev = session_completed("evt_storm", r[2], "pi_storm", "paid");
  std::vector<std::thread> threads;
  std::vector<int> fresh(20, -1);
  for (int i = 0; i < 20; ++i)
    threads.emplace_back([&, i] {
      caf::scoped_actor me{sys};
      me->request(pool, std::chrono::seconds(30),
                  db_call{"stripe.webhook", db_scope{}, json{{"event", ev}}.dump()})
        .receive([&](const std::string& s) {
                   fresh[i] = json::parse(s)["duplicate"].get<bool>() ? 0 : 1;
                 },
                 [&](caf::error&) { fresh[i] = -1; });
    });
  for (auto& t : threads)
    t.join();
  int applied = 0, failed = 0;
  for (auto f : fresh) {
    applied += f == 1;
    failed += f == -1;
  }
  CAF_CHECK_EQUAL(applied, 1);
  CAF_CHECK_EQUAL(failed, 0);
  auto payments = count("select count(*) from payments where stripe_payment_intent_id = 'pi_storm'");
  auto notes = count("select count(*) from notifications where kind = 'payment.succeeded'");
  auto queued = count("select count(*) from crowd_requests where status = 'queued'"
                      " and queue_key is not null");
  CAF_CHECK_EQUAL(payments, 1);
  CAF_CHECK_EQUAL(notes, 1);
  CAF_CHECK_EQUAL(queued, 1);
}

CAF_TEST(out of order deliveries never move a payment backwards) {
  auto r = pending_request(org_a, 499, true);
  // The intent's success overtakes the session event: found through our metadata.
  auto meta = json{{"djdash_org", org_a}, {"djdash_checkout", r[1]}};
  auto s1 = deliver(intent_event("evt_o1", "payment_intent.succeeded", "pi_ooo", "succeeded", meta));
  auto applied1 = s1["applied"].get<bool>();
  CAF_CHECK(applied1);
  auto paid = request_field(r[0], "payment_status");
  CAF_CHECK_EQUAL(paid, "paid");
  // The older authorization and a late cancel change nothing.
  deliver(session_completed("evt_o2", r[2], "pi_ooo", "unpaid"));
  deliver(intent_event("evt_o3", "payment_intent.amount_capturable_updated", "pi_ooo",
                       "requires_capture"));
  deliver(intent_event("evt_o4", "payment_intent.canceled", "pi_ooo", "canceled"));
  auto still = request_field(r[0], "payment_status");
  auto status = scalar("select status from payments where stripe_payment_intent_id = 'pi_ooo'");
  CAF_CHECK_EQUAL(still, "paid");
  CAF_CHECK_EQUAL(status, "succeeded");
  // A full refund moves it on; a late success does not bring it back.
  deliver({{"id", "evt_o5"},
           {"type", "charge.refunded"},
           {"created", 1767225700},
           {"data",
            {{"object",
              {{"id", "ch_1"}, {"object", "charge"}, {"payment_intent", "pi_ooo"},
               {"refunded", true}}}}}});
  deliver(intent_event("evt_o6", "payment_intent.succeeded", "pi_ooo", "succeeded"));
  auto refunded = request_field(r[0], "payment_status");
  auto pstatus = scalar("select status from payments where stripe_payment_intent_id = 'pi_ooo'");
  auto notes = count("select count(*) from notifications where kind = 'payment.succeeded'");
  CAF_CHECK_EQUAL(refunded, "refunded");
  CAF_CHECK_EQUAL(pstatus, "refunded");
  CAF_CHECK_EQUAL(notes, 1);
}

CAF_TEST(charge on play holds then captures once when played) {
  auto r = pending_request(org_a, 1000, true);
  deliver(session_completed("evt_hold", r[2], "pi_hold", "unpaid"));
  auto held = request_field(r[0], "payment_status");
  auto status = request_field(r[0], "status");
  CAF_CHECK_EQUAL(held, "authorized");
  CAF_CHECK_EQUAL(status, "queued");
  auto sweep = count("select count(*) from timers where kind = 'payment_auth_expiry'"
                     " and done_at is null and due_at > now() + interval '11 hours'");
  CAF_CHECK_EQUAL(sweep, 1);
  auto notes0 = count("select count(*) from notifications");
  CAF_CHECK_EQUAL(notes0, 0);  // nothing taken yet
  owner([&](pqxx::work& tx) {
    tx.exec_params("update crowd_requests set status = 'played' where id = $1::uuid", r[0]);
    return 0;
  });
  auto timer = scalar("select id::text from timers where kind = 'payment_capture'");
  auto plan = call("payments.timer_plan", org_a,
                   {{"timer_id", timer}, {"kind", "payment_capture"}, {"crowd_request_id", r[0]}});
  auto action = plan["action"].get<std::string>();
  auto intent = plan["payment_intent"].get<std::string>();
  CAF_CHECK_EQUAL(action, "capture");
  CAF_CHECK_EQUAL(intent, "pi_hold");
  call("payments.timer_done", org_a,
       {{"timer_id", timer}, {"crowd_request_id", r[0]}, {"payment_intent", "pi_hold"},
        {"state", "paid"}});
  // The webhook for the capture arrives afterwards: nothing more happens.
  deliver(intent_event("evt_cap", "payment_intent.succeeded", "pi_hold", "succeeded"));
  auto paid = request_field(r[0], "payment_status");
  auto notes = count("select count(*) from notifications where kind = 'payment.succeeded'");
  auto done = count("select count(*) from timers where kind = 'payment_capture'"
                    " and done_at is not null");
  CAF_CHECK_EQUAL(paid, "paid");
  CAF_CHECK_EQUAL(notes, 1);
  CAF_CHECK_EQUAL(done, 1);
  // A second plan for the same request has nothing left to do.
  auto again = call("payments.timer_plan", org_a,
                    {{"timer_id", timer}, {"kind", "payment_capture"}, {"crowd_request_id", r[0]}});
  auto none = again["action"].get<std::string>();
  CAF_CHECK_EQUAL(none, "none");
}

CAF_TEST(skipped or expired holds are released and never captured) {
  auto r = pending_request(org_a, 2500, true);
  deliver(session_completed("evt_h2", r[2], "pi_skip", "unpaid"));
  owner([&](pqxx::work& tx) {
    tx.exec_params("update crowd_requests set status = 'skipped' where id = $1::uuid", r[0]);
    return 0;
  });
  auto timer = scalar("select id::text from timers where kind = 'payment_release'");
  auto capture = call("payments.timer_plan", org_a,
                      {{"timer_id", timer}, {"kind", "payment_capture"}, {"crowd_request_id", r[0]}});
  auto no_capture = capture["action"].get<std::string>();
  CAF_CHECK_EQUAL(no_capture, "none");
  auto r2 = pending_request(org_a, 3000, true);
  deliver(session_completed("evt_h3", r2[2], "pi_late", "unpaid"));
  owner([&](pqxx::work& tx) {
    tx.exec_params("update timers set done_at = null where kind = 'payment_release'");
    tx.exec("update payments set created_at = now() - interval '13 hours'"
            " where stripe_payment_intent_id = 'pi_late'");
    return 0;
  });
  auto plan = call("payments.timer_plan", org_a,
                   {{"timer_id", timer}, {"kind", "payment_release"}, {"crowd_request_id", r[0]}});
  auto action = plan["action"].get<std::string>();
  CAF_CHECK_EQUAL(action, "cancel");
  call("payments.timer_done", org_a,
       {{"timer_id", timer}, {"crowd_request_id", r[0]}, {"payment_intent", "pi_skip"},
        {"state", "released"}});
  auto released = request_field(r[0], "payment_status");
  auto pstatus = scalar("select status from payments where stripe_payment_intent_id = 'pi_skip'");
  CAF_CHECK_EQUAL(released, "released");
  CAF_CHECK_EQUAL(pstatus, "canceled");
  // The night is over for the old hold on a request never played: a release is armed for it.
  auto sweep = scalar("select id::text from timers where kind = 'payment_auth_expiry'");
  auto out = call("payments.expire_authorizations", org_a, {{"timer_id", sweep}});
  auto n = out["released"].get<int64_t>();
  CAF_CHECK_EQUAL(n, 1);
  auto armed = count("select count(*) from timers where kind = 'payment_release' and target_id = '"
                     + r2[0] + "' and done_at is null");
  CAF_CHECK_EQUAL(armed, 1);
  auto notes = count("select count(*) from notifications");
  CAF_CHECK_EQUAL(notes, 0);
}

CAF_TEST(webhooks reach an organization only through its own records) {
  auto a = pending_request(org_a, 1000, false);
  // An event naming a session nobody created is recorded and ignored.
  auto stray = deliver(session_completed("evt_stray", "cs_nobody", "pi_nobody", "paid"));
  auto stray_applied = stray["applied"].get<bool>();
  CAF_CHECK(!stray_applied);
  // Metadata pointing org B at A's checkout finds nothing under B's RLS.
  auto forged = deliver(intent_event("evt_forged", "payment_intent.succeeded", "pi_forged",
                                     "succeeded",
                                     {{"djdash_org", org_b}, {"djdash_checkout", a[1]}}));
  auto forged_applied = forged["applied"].get<bool>();
  CAF_CHECK(!forged_applied);
  auto payments = count("select count(*) from payments");
  CAF_CHECK_EQUAL(payments, 0);
  deliver(session_completed("evt_a_paid", a[2], "pi_a", "paid"));
  // B's members see none of A's payments, sessions or events.
  auto b_list = call("payments.list", org_b, json::object());
  auto a_list = call("payments.list", org_a, json::object());
  CAF_CHECK_EQUAL(b_list["items"].size(), 0u);
  CAF_CHECK_EQUAL(a_list["items"].size(), 1u);
  pqxx::connection conn{db.app_url()};
  pqxx::work tx{conn};
  tx.exec_params("select set_config('app.org_id', $1, true)", org_b);
  auto seen = tx.exec1("select (select count(*) from payments) + (select count(*) from"
                       " checkout_sessions) + (select count(*) from stripe_events)"
                       " + (select count(*) from stripe_accounts where organization_id <> app_org_id())")[0]
                .as<int64_t>();
  CAF_CHECK_EQUAL(seen, 0);
  tx.exec("select set_config('app.org_id', '', true)");
  auto none_scope = tx.exec1("select count(*) from payments")[0].as<int64_t>();
  CAF_CHECK_EQUAL(none_scope, 0);
}

CAF_TEST(account updates enable charges and an older event never undoes a newer one) {
  call("stripe.account_save", org_a, {{"stripe_account_id", "acct_Upd1"}});
  auto acct = [&](const std::string& id, int64_t created, bool enabled) {
    return json{{"id", id},
                {"type", "account.updated"},
                {"created", created},
                {"data",
                 {{"object",
                   {{"id", "acct_Upd1"}, {"object", "account"}, {"charges_enabled", enabled},
                    {"payouts_enabled", enabled}, {"details_submitted", true}}}}}};
  };
  deliver(acct("evt_acct_new", 200, true));
  deliver(acct("evt_acct_old", 100, false));
  auto status = call("stripe.account", org_a, json::object());
  auto charges = status["charges_enabled"].get<bool>();
  auto payouts = status["payouts_enabled"].get<bool>();
  CAF_CHECK(charges);
  CAF_CHECK(payouts);
  // Saving again never swaps the stored account.
  auto again = call("stripe.account_save", org_a, {{"stripe_account_id", "acct_Other"}});
  auto kept = again["stripe_account_id"].get<std::string>();
  CAF_CHECK_EQUAL(kept, "acct_Upd1");
  auto b = call("stripe.account", org_b, json::object());
  auto b_connected = b["connected"].get<bool>();
  CAF_CHECK(!b_connected);
}

CAF_TEST_FIXTURE_SCOPE_END()
