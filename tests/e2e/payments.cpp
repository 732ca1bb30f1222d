#define CAF_SUITE e2e.payments

// Payments over the real binary against a fake Stripe (real HTTP on loopback, Stripe's form
// encoding) given to the node as STRIPE_API_BASE: Connect onboarding, Checkout Sessions as
// destination charges with the platform fee for invoices and crowd requests, signed webhooks
// (exactly once in effect, also 20 concurrent deliveries of one event), charge on play (played →
// captured once, skipped → released) as the guest sees it, and bad signatures changing nothing.

#include <csignal>
#include <cstdio>
#include <ctime>
#include <map>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "accounts_harness.hpp"
#include "protocols/stripe.hpp"
#include "support/caf_test.hpp"
#include "support/fake_http_server.hpp"

using namespace djdash;
using namespace std::chrono_literals;
using nlohmann::json;
using test::product;

namespace {

const std::string password = "payments e2e password";
const std::string webhook_secret = "whsec_e2e_0123456789abcdef";

/// Stripe as the node sees it: accounts, account links, Checkout Sessions, capture and cancel,
/// with idempotent replays by Idempotency-Key as the real API does.
struct fake_stripe {
  std::mutex mu;
  int next = 0;
  std::map<std::string, test::fake_response> replies;  // by Idempotency-Key
  std::map<std::string, std::string> intent_status;    // pi_... → status
  test::fake_http_server server{[this](const test::fake_request& r) { return handle(r); }};

  static test::fake_response ok(const json& body) {
    return {200, body.dump()};
  }

  test::fake_response handle(const test::fake_request& r) {
    std::lock_guard<std::mutex> guard{mu};
    auto key = r.header("idempotency-key");
    if (r.method == "POST" && !key.empty())
      if (auto i = replies.find(key); i != replies.end())
        return i->second;
    auto reply = answer(r);
    if (r.method == "POST" && !key.empty())
      replies.emplace(key, reply);
    return reply;
  }

  test::fake_response answer(const test::fake_request& r) {
    auto n = std::to_string(++next);
    if (r.method == "POST" && r.path == "/v1/accounts")
      return ok({{"id", "acct_1E2E" + n}, {"object", "account"}, {"type", "express"},
                 {"charges_enabled", false}});
    if (r.method == "POST" && r.path == "/v1/account_links")
      return ok({{"object", "account_link"}, {"url", "https://connect.stripe.test/setup/e/" + n},
                 {"created", 1767225600}, {"expires_at", 1767225900}});
    if (r.method == "POST" && r.path == "/v1/checkout/sessions") {
      auto id = "cs_test_E2E" + n;
      return ok({{"id", id}, {"object", "checkout.session"}, {"status", "open"},
                 {"payment_status", "unpaid"},
                 {"url", "https://checkout.stripe.test/c/pay/" + id}});
    }
    const std::string prefix = "/v1/payment_intents/";
    if (r.path.rfind(prefix, 0) == 0) {
      auto rest = r.path.substr(prefix.size());
      auto slash = rest.find('/');
      auto pi = rest.substr(0, slash);
      auto action = slash == std::string::npos ? "" : rest.substr(slash + 1);
      auto& status = intent_status.try_emplace(pi, "requires_capture").first->second;
      if (r.method == "POST" && action == "capture" && status == "requires_capture")
        status = "succeeded";
      else if (r.method == "POST" && action == "cancel" && status == "requires_capture")
        status = "canceled";
      else if (r.method == "POST")
        return {400, json{{"error", {{"type", "invalid_request_error"},
                                     {"code", "payment_intent_unexpected_state"},
                                     {"message", "This PaymentIntent could not be " + action}}}}
                       .dump()};
      return ok({{"id", pi}, {"object", "payment_intent"}, {"status", status}});
    }
    return {404, json{{"error", {{"type", "invalid_request_error"},
                                 {"message", "Unrecognized request URL"}}}}
                   .dump()};
  }

  std::vector<test::fake_request> posts(const std::string& path) {
    std::vector<test::fake_request> out;
    for (auto& r : server.requests())
      if (r.method == "POST" && r.path == path)
        out.push_back(r);
    return out;
  }

  /// The last Checkout Session form sent for `ref_id` (client_reference_id).
  std::optional<test::fake_request> session_for(const std::string& ref_id) {
    std::optional<test::fake_request> found;
    for (auto& r : posts("/v1/checkout/sessions"))
      if (r.form_value("client_reference_id") == ref_id)
        found = r;
    return found;
  }
};

struct shared_node {
  fake_stripe stripe;
  test::pg_database db;
  std::string config_path;
  test::node n;

  shared_node()
    : config_path(test::write_config_file(test::relaxed_auth_config())),
      n(db.app_url(), db.owner_url(),
        {{"STRIPE_API_BASE", stripe.server.base_url()},
         {"STRIPE_SECRET_KEY", "sk_test_e2e_payments"},
         {"STRIPE_WEBHOOK_SECRET", webhook_secret},
         {"DJDASH_PUBLIC_URL", "https://app.djdash.test"}},
        {"--config", config_path}) {
    if (!n.wait_listening())
      throw std::runtime_error("djdash did not start: " + n.process().output());
    // Ready means the actors answer (the node trains its SMS classifier at start, which can
    // take a while on a loaded machine).
    if (n.wait_for_status("/readyz", 200, 180s) != 200)
      throw std::runtime_error("djdash did not get ready: " + n.process().output());
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

int64_t fee_of(int64_t amount) {
  return std::min(amount, (amount * 35 + 500) / 1000 + 30);
}

struct fixture {
  shared_node& s = the_node();
  test::api api{s.n.port()};

  json ok(std::optional<test::http_reply> r, int status, const std::string& what) {
    DJ_EXPECT_STATUS(r, status, what);
    CAF_REQUIRE(r.has_value());
    CAF_REQUIRE_EQUAL(r->status, status);
    return r->json();
  }

  test::account signup(const std::string& label) {
    auto email = "pay-" + label + "-" + std::to_string(test::free_port()) + "@example.com";
    auto r = api.signup(email, password, product("tipjar"), "Payments " + label);
    DJ_EXPECT_STATUS(r, 201, "signup " << label);
    CAF_REQUIRE_EQUAL(r->status, 201);
    return test::account::from(email, password, r->json());
  }

  /// Posts `body` signed with `secret` at `at` (default: now).
  std::optional<test::http_reply> post_webhook(const std::string& body,
                                               const std::string& secret = webhook_secret,
                                               int64_t at = 0) {
    if (at == 0)
      at = static_cast<int64_t>(std::time(nullptr));
    return api.call("POST", "/api/webhooks/stripe", body,
                    {{"Stripe-Signature", stripe::sign_webhook(body, secret, at)}});
  }

  void deliver(const json& event) {
    ok(post_webhook(event.dump()), 200, "webhook " + event.value("type", ""));
  }

  static json event(const std::string& id, const std::string& type, const json& object) {
    return {{"id", id},           {"object", "event"},   {"type", type},
            {"created", std::time(nullptr)}, {"livemode", false},
            {"api_version", stripe::api_version}, {"data", {{"object", object}}}};
  }

  static json session_completed(const std::string& evt, const std::string& session,
                                const std::string& pi, const std::string& payment_status) {
    return event(evt, "checkout.session.completed",
                 {{"id", session}, {"object", "checkout.session"}, {"mode", "payment"},
                  {"status", "complete"}, {"payment_status", payment_status},
                  {"payment_intent", pi}, {"currency", "usd"}});
  }

  /// Onboards `a` (an admin) and lets Stripe say the account can take charges.
  std::string onboard(const test::account& a) {
    auto link = ok(api.call("POST", "/api/stripe/connect/onboard", json::object(), a.auth()), 200,
                   "onboard");
    auto acct = link["stripe_account_id"].get<std::string>();
    auto url = link["url"].get<std::string>();
    auto is_link = url.rfind("https://connect.stripe.test/", 0) == 0;
    CAF_CHECK(is_link);
    deliver(event("evt_acct_" + acct, "account.updated",
                  {{"id", acct}, {"object", "account"}, {"charges_enabled", true},
                   {"payouts_enabled", true}, {"details_submitted", true}}));
    auto status = ok(api.get("/api/stripe/connect/status", a.auth()), 200, "status");
    auto charges = status["charges_enabled"].get<bool>();
    CAF_CHECK(charges);
    return acct;
  }

  /// A sent invoice of one line of `cents`.
  std::string sent_invoice(const test::account& a, int64_t cents) {
    auto inv = ok(api.call("POST", "/api/invoices",
                           json{{"line_items",
                                 {{{"description", "DJ set"}, {"quantity", 1},
                                   {"unit_cents", cents}}}}},
                           a.auth()),
                  201, "invoice");
    auto id = inv["id"].get<std::string>();
    ok(api.call("PATCH", "/api/invoices/" + id, json{{"status", "sent"}}, a.auth()), 200, "send");
    return id;
  }

  /// Lets one guest address have many requests waiting (the tests submit from one IP).
  void relax_request_limits(const test::account& a) {
    auto org = ok(api.get("/api/organizations/current", a.auth()), 200, "org");
    auto settings = org.value("settings", json::object());
    settings["max_pending_per_requester"] = 1000;
    settings["song_repeat_window_minutes"] = 0;
    ok(api.call("PATCH", "/api/organizations/current", json{{"settings", settings}}, a.auth()),
       200, "relax limits");
  }

  /// Submits a crowd request through the public route; returns {request id, session id}.
  std::pair<std::string, std::string> submit(const test::account& a, const std::string& kind,
                                             int64_t cents, const std::string& title = {}) {
    json body{{"org_slug", a.org_slug}, {"kind", kind}, {"amount_cents", cents}};
    if (kind == "song")
      body["song_title"] = title.empty() ? "Song " + std::to_string(cents) : title;
    auto r = ok(api.call("POST", "/api/crowd-request/submit", body, product("tipjar")), 201,
                "submit " + kind);
    auto url = r.value("checkout_url", "");
    auto slash = url.rfind('/');
    return {r["request_id"].get<std::string>(),
            slash == std::string::npos ? std::string{} : url.substr(slash + 1)};
  }

  json guest_view(const std::string& id) {
    return ok(api.get("/api/crowd-request/" + id), 200, "guest view");
  }

  /// Polls the guest's view until its payment_status is `want` (the timer runner works in the
  /// background); returns the last value seen.
  std::string wait_payment_status(const std::string& id, const std::string& want) {
    std::string seen;
    for (int i = 0; i < 600 && seen != want; ++i) {
      if (i > 0)
        std::this_thread::sleep_for(50ms);
      seen = guest_view(id).value("payment_status", "");
    }
    return seen;
  }

  int64_t payments_count(const test::account& a) {
    auto list = ok(api.get("/api/payments?limit=200", a.auth()), 200, "payments");
    return static_cast<int64_t>(list["items"].size());
  }

  int64_t notifications_of(const test::account& a, const std::string& kind) {
    auto list = ok(api.get("/api/organizations/current/notifications?limit=200", a.auth()), 200,
                   "notifications");
    int64_t n = 0;
    for (auto& item : list["items"])
      n += item.value("kind", "") == kind;
    return n;
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(payments_tests, fixture)

CAF_TEST(invoice checkout is a destination charge with the platform fee for each amount) {
  auto a = signup("invoices");
  auto early = sent_invoice(a, 1000);
  DJ_EXPECT_ERROR(api.call("POST", "/api/invoices/" + early + "/checkout", std::string{},
                           a.auth()),
                  409, "conflict", "checkout before onboarding");
  auto acct = onboard(a);
  for (int64_t cents : {100, 101, 499, 1000, 2500, 9999}) {
    auto what = "invoice of " + std::to_string(cents);
    auto id = sent_invoice(a, cents);
    auto r = ok(api.call("POST", "/api/invoices/" + id + "/checkout",
                         json{{"return_url", "https://app.djdash.test/pay/" + id}}, a.auth()),
                200, what);
    auto amount = r["amount_cents"].get<int64_t>();
    CAF_CHECK_EQUAL(amount, cents);
    auto sent = s.stripe.session_for(id);
    CAF_REQUIRE(sent.has_value());
    auto fee = sent->form_value("payment_intent_data[application_fee_amount]");
    auto dest = sent->form_value("payment_intent_data[transfer_data][destination]");
    auto capture = sent->form_value("payment_intent_data[capture_method]");
    auto unit = sent->form_value("line_items[0][price_data][unit_amount]");
    auto key = sent->header("idempotency-key");
    auto fee_sent = fee.value_or(""), fee_want = std::to_string(fee_of(cents));
    auto dest_sent = dest.value_or(""), capture_sent = capture.value_or("automatic");
    auto unit_sent = unit.value_or(""), unit_want = std::to_string(cents);
    CAF_CHECK_EQUAL(fee_sent, fee_want);
    CAF_CHECK_EQUAL(dest_sent, acct);
    CAF_CHECK_EQUAL(capture_sent, "automatic");
    CAF_CHECK_EQUAL(unit_sent, unit_want);
    CAF_CHECK(!key.empty());
  }
  // Paying one: the invoice is paid, the payment listed with fee and net, the DJ notified.
  auto id = sent_invoice(a, 2500);
  auto r = ok(api.call("POST", "/api/invoices/" + id + "/checkout", json::object(), a.auth()), 200,
              "checkout");
  auto session = r["session_id"].get<std::string>();
  deliver(session_completed("evt_inv_paid_" + id.substr(0, 8), session,
                            "pi_inv_" + id.substr(0, 8), "paid"));
  auto inv = ok(api.get("/api/invoices/" + id, a.auth()), 200, "paid invoice");
  auto status = inv["status"].get<std::string>();
  CAF_CHECK_EQUAL(status, "paid");
  auto list = ok(api.get("/api/payments", a.auth()), 200, "payments");
  CAF_REQUIRE_EQUAL(list["items"].size(), 1u);
  auto p = list["items"][0];
  auto p_fee = p["platform_fee_cents"].get<int64_t>();
  auto p_net = p["net_cents"].get<int64_t>();
  auto p_status = p["status"].get<std::string>();
  auto p_invoice = p["invoice_id"].get<std::string>();
  CAF_CHECK_EQUAL(p_fee, 118);
  CAF_CHECK_EQUAL(p_net, 2382);
  CAF_CHECK_EQUAL(p_status, "succeeded");
  CAF_CHECK_EQUAL(p_invoice, id);
  auto notes = notifications_of(a, "payment.succeeded");
  CAF_CHECK_EQUAL(notes, 1);
}

CAF_TEST(crowd request checkouts charge tips at once and hold paid songs) {
  auto a = signup("crowd");
  onboard(a);
  relax_request_limits(a);
  for (int64_t cents : {100, 101, 499, 1000, 2500, 9999}) {
    auto kind = cents < 1000 ? "tip" : "song";
    auto [id, session] = submit(a, kind, cents);
    auto sent = s.stripe.session_for(id);
    CAF_REQUIRE(sent.has_value());
    auto fee = sent->form_value("payment_intent_data[application_fee_amount]");
    auto capture = sent->form_value("payment_intent_data[capture_method]");
    auto fee_sent = fee.value_or(""), fee_want = std::to_string(fee_of(cents));
    auto capture_sent = capture.value_or("automatic");
    std::string capture_want = cents < 1000 ? "automatic" : "manual";
    auto is_session = session.rfind("cs_test_", 0) == 0;
    CAF_CHECK_EQUAL(fee_sent, fee_want);
    CAF_CHECK_EQUAL(capture_sent, capture_want);
    CAF_CHECK(is_session);
    auto view = guest_view(id);
    auto status = view["status"].get<std::string>();
    CAF_CHECK_EQUAL(status, "pending_payment");
  }
}

CAF_TEST(one event delivered 20 times concurrently pays once) {
  auto a = signup("storm");
  onboard(a);
  auto [id, session] = submit(a, "tip", 500);
  auto body = session_completed("evt_storm_" + id.substr(0, 8), session,
                                "pi_storm_" + id.substr(0, 8), "paid")
                .dump();
  std::vector<std::thread> threads;
  std::vector<int> statuses(20, 0);
  for (int i = 0; i < 20; ++i)
    threads.emplace_back([&, i] {
      auto r = post_webhook(body);
      statuses[i] = r ? r->status : 0;
    });
  for (auto& t : threads)
    t.join();
  for (auto st : statuses)
    CAF_CHECK_EQUAL(st, 200);
  auto payments = payments_count(a);
  auto notes = notifications_of(a, "payment.succeeded");
  CAF_CHECK_EQUAL(payments, 1);
  CAF_CHECK_EQUAL(notes, 1);
  auto queue = ok(api.get("/api/crowd-requests?limit=200", a.auth()), 200, "queue");
  int64_t entries = 0;
  for (auto& item : queue["items"])
    entries += item.value("id", "") == id;
  CAF_CHECK_EQUAL(entries, 1);
  auto view = guest_view(id);
  auto status = view["status"].get<std::string>();
  auto paid = view["payment_status"].get<std::string>();
  CAF_CHECK_EQUAL(status, "queued");
  CAF_CHECK_EQUAL(paid, "paid");
}

CAF_TEST(charge on play captures a played request once and releases a skipped one) {
  auto a = signup("onplay");
  onboard(a);
  relax_request_limits(a);
  auto [played, played_session] = submit(a, "song", 1500, "Played Song");
  auto [skipped, skipped_session] = submit(a, "song", 2000, "Skipped Song");
  auto pi_played = "pi_play_" + played.substr(0, 8);
  auto pi_skipped = "pi_skip_" + skipped.substr(0, 8);
  deliver(
    session_completed("evt_hold_" + played.substr(0, 8), played_session, pi_played, "unpaid"));
  deliver(session_completed("evt_hold_" + skipped.substr(0, 8), skipped_session, pi_skipped,
                            "unpaid"));
  auto held = guest_view(played)["payment_status"].get<std::string>();
  CAF_CHECK_EQUAL(held, "authorized");
  auto none = payments_count(a);
  CAF_CHECK_EQUAL(none, 2);  // two holds, nothing taken yet
  ok(api.call("PATCH", "/api/crowd-requests/" + played, json{{"status", "played"}}, a.auth()), 200,
     "played");
  ok(api.call("PATCH", "/api/crowd-requests/" + skipped, json{{"status", "skipped"}}, a.auth()),
     200, "skipped");
  auto paid = wait_payment_status(played, "paid");
  auto released = wait_payment_status(skipped, "released");
  CAF_CHECK_EQUAL(paid, "paid");
  CAF_CHECK_EQUAL(released, "released");
  auto captures = s.stripe.posts("/v1/payment_intents/" + pi_played + "/capture").size();
  auto cancels = s.stripe.posts("/v1/payment_intents/" + pi_skipped + "/cancel").size();
  auto wrong = s.stripe.posts("/v1/payment_intents/" + pi_skipped + "/capture").size()
               + s.stripe.posts("/v1/payment_intents/" + pi_played + "/cancel").size();
  CAF_CHECK_EQUAL(captures, 1u);
  CAF_CHECK_EQUAL(cancels, 1u);
  CAF_CHECK_EQUAL(wrong, 0u);
  // Stripe's own events about the capture and the cancel arrive later and change nothing.
  deliver(event("evt_cap_" + played.substr(0, 8), "payment_intent.succeeded",
                {{"id", pi_played}, {"object", "payment_intent"}, {"status", "succeeded"}}));
  deliver(event("evt_can_" + skipped.substr(0, 8), "payment_intent.canceled",
                {{"id", pi_skipped}, {"object", "payment_intent"}, {"status", "canceled"}}));
  auto notes = notifications_of(a, "payment.succeeded");
  CAF_CHECK_EQUAL(notes, 1);
  auto still = guest_view(skipped)["payment_status"].get<std::string>();
  CAF_CHECK_EQUAL(still, "released");
}

CAF_TEST(a bad signature is a 400 and changes nothing) {
  auto a = signup("badsig");
  onboard(a);
  auto [id, session] = submit(a, "tip", 700);
  auto body = session_completed("evt_bad_" + id.substr(0, 8), session,
                                "pi_bad_" + id.substr(0, 8), "paid")
                .dump();
  DJ_EXPECT_ERROR(post_webhook(body, "whsec_wrong_secret"), 400, "bad_signature", "wrong secret");
  auto tampered = body;
  tampered[tampered.size() - 2] = tampered[tampered.size() - 2] == '1' ? '2' : '1';
  auto sig = stripe::sign_webhook(body, webhook_secret, static_cast<int64_t>(std::time(nullptr)));
  DJ_EXPECT_ERROR(api.call("POST", "/api/webhooks/stripe", tampered, {{"Stripe-Signature", sig}}),
                  400, "bad_signature", "tampered body");
  DJ_EXPECT_ERROR(post_webhook(body, webhook_secret, std::time(nullptr) - 301), 400,
                  "bad_signature", "too old");
  DJ_EXPECT_ERROR(api.call("POST", "/api/webhooks/stripe", body), 400, "bad_signature",
                  "no header");
  auto payments = payments_count(a);
  CAF_CHECK_EQUAL(payments, 0);
  auto view = guest_view(id);
  auto status = view["status"].get<std::string>();
  CAF_CHECK_EQUAL(status, "pending_payment");
  // Signed, but not an event: 400 too; an unknown event type: 200 and ignored.
  DJ_EXPECT_STATUS(post_webhook(R"({"hello":"world"})"), 400, "not an event");
  deliver(event("evt_unknown_" + id.substr(0, 8), "customer.created",
                {{"id", "cus_1"}, {"object", "customer"}}));
  // The real signed event still works afterwards.
  deliver(json::parse(body));
  auto after = payments_count(a);
  CAF_CHECK_EQUAL(after, 1);
}

CAF_TEST(payment routes need a member and Stripe answers conflicts clearly) {
  auto a = signup("routes");
  DJ_EXPECT_STATUS(api.get("/api/payments"), 401, "no token");
  DJ_EXPECT_STATUS(api.get("/api/stripe/connect/status"), 401, "no token");
  DJ_EXPECT_STATUS(api.call("POST", "/api/stripe/connect/onboard", json::object()), 401,
                   "no token");
  auto status = ok(api.get("/api/stripe/connect/status", a.auth()), 200, "status");
  auto connected = status["connected"].get<bool>();
  CAF_CHECK(!connected);
  DJ_EXPECT_ERROR(api.call("POST", "/api/stripe/connect/onboard",
                           json{{"return_url", "ftp://nope"}}, a.auth()),
                  400, "bad_request", "bad return url");
  // Onboarding twice keeps the one account and mints a fresh link.
  auto first = ok(api.call("POST", "/api/stripe/connect/onboard", json::object(), a.auth()), 200,
                  "onboard 1");
  auto second = ok(api.call("POST", "/api/stripe/connect/onboard", json::object(), a.auth()), 200,
                   "onboard 2");
  CAF_CHECK_EQUAL(first["stripe_account_id"], second["stripe_account_id"]);
  CAF_CHECK_NOT_EQUAL(first["url"], second["url"]);
  // Connected but charges not enabled yet: checkout is a clear 409.
  auto id = sent_invoice(a, 1000);
  auto r = api.call("POST", "/api/invoices/" + id + "/checkout", std::string{}, a.auth());
  DJ_EXPECT_ERROR(r, 409, "conflict", "charges not enabled");
  auto spec = ok(api.get("/openapi.json"), 200, "openapi");
  for (auto path : {"/api/payments", "/api/stripe/connect/onboard", "/api/stripe/connect/status",
                    "/api/webhooks/stripe"}) {
    auto documented = spec["paths"].contains(path);
    CAF_CHECK(documented);
  }
}

CAF_TEST_FIXTURE_SCOPE_END()
