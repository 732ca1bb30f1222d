#define CAF_SUITE e2e.sms

// The SMS assistant through the real webhook, the real node and a real PostgreSQL, with requests
// signed as Twilio signs them (protocols/twilio) and Twilio's REST API played by a loopback fake:
// bad signatures are 403 with nothing stored, a retried MessageSid is ignored, STOP silences the
// assistant until START, "stop by the venue" is no opt-out, HELP names the organization, and
// with a review window the reply is a draft that goes out through Twilio after N seconds unless
// the DJ cancels, edits or sends it first; delivery callbacks update it.

#include <csignal>
#include <cstdio>
#include <algorithm>
#include <atomic>
#include <stdexcept>
#include <thread>

#include "accounts_harness.hpp"
#include "protocols/twilio.hpp"
#include "support/caf_test.hpp"
#include "support/fake_http_server.hpp"

using namespace djdash;
using namespace std::chrono_literals;
using nlohmann::json;
using test::product;

namespace {

const std::string password = "sms e2e password";
const std::string auth_token = "e2e-twilio-auth-token-0123456789";
const std::string account_sid = "AC0123456789abcdef0123456789abcdef";
const std::string public_url = "https://hooks.djdash.test";

/// Twilio's Messages endpoint: 201 with a Message resource, like the real API.
test::fake_response twilio_api(const test::fake_request& req) {
  static std::atomic<int> n{0};
  if (req.method != "POST"
      || req.path != "/2010-04-01/Accounts/" + account_sid + "/Messages.json")
    return {404, R"({"code": 20404, "message": "The requested resource was not found"})"};
  char sid[40];
  std::snprintf(sid, sizeof sid, "SMfake%026d", ++n);
  json m{{"sid", sid},
         {"status", "queued"},
         {"to", req.form_value("To").value_or("")},
         {"from", req.form_value("From").value_or("")},
         {"body", req.form_value("Body").value_or("")},
         {"error_code", nullptr}};
  return {201, m.dump()};
}

struct shared_node {
  test::pg_database db;
  test::fake_http_server twilio{twilio_api};
  std::string config_path;
  test::node n;

  static json config() {
    auto c = test::relaxed_auth_config();
    c["entities"] = {{"timer_poll_ms", 100}};
    return c;
  }

  shared_node()
    : config_path(test::write_config_file(config())),
      n(db.app_url(), db.owner_url(),
        {{"TWILIO_AUTH_TOKEN", auth_token},
         {"TWILIO_ACCOUNT_SID", account_sid},
         {"TWILIO_API_BASE", twilio.base_url()},
         {"DJDASH_PUBLIC_URL", public_url}},
        {"--config", config_path}) {
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

std::string form_body(const twilio::form_params& params) {
  std::string out;
  for (auto& [k, v] : params) {
    if (!out.empty())
      out += '&';
    out += twilio::form_encode_component(k) + "=" + twilio::form_encode_component(v);
  }
  return out;
}

int sid_counter = 0;

std::string next_sid() {
  char sid[40];
  std::snprintf(sid, sizeof sid, "SMe2e%027d", ++sid_counter);
  return sid;
}

struct fixture {
  shared_node& s = the_node();
  test::api api{s.n.port()};

  /// A DJ Dash organization with its own Twilio number.
  struct org {
    test::account owner;
    std::string number;
  };

  org make_org(const std::string& tag, const std::string& number, int review_window_s = 0) {
    auto email = "sms-" + tag + "-" + std::to_string(test::free_port()) + "@example.com";
    auto r = api.signup(email, password, product("djdash"), "Beat " + tag);
    DJ_EXPECT_STATUS(r, 201, "signup " << email);
    CAF_REQUIRE_EQUAL(r->status, 201);
    auto owner = test::account::from(email, password, r->json());
    json patch{{"sms_number", number},
               {"settings", {{"sms_review_window_s", review_window_s},
                             {"contact_email", "bookings@" + tag + ".example"}}}};
    auto p = api.call("PATCH", "/api/organizations/current", patch, owner.auth());
    DJ_EXPECT_STATUS(p, 200, "set the SMS number");
    return {owner, number};
  }

  /// POSTs a Twilio webhook to `path` signed with `token` (empty: no signature header).
  std::optional<test::http_reply> webhook(const std::string& path,
                                          const twilio::form_params& params,
                                          const std::string& token = auth_token,
                                          const std::string& signed_url = {}) {
    test::header_list h{{"Content-Type", "application/x-www-form-urlencoded"}};
    if (!token.empty())
      h.emplace_back("X-Twilio-Signature",
                     twilio::signature(token, signed_url.empty() ? public_url + path : signed_url,
                                       params));
    test::http_client c{s.n.port(), 20s};
    return c.request("POST", path, form_body(params), h);
  }

  twilio::form_params sms(const org& o, const std::string& from, const std::string& body,
                          const std::string& sid) {
    return {{"ToCountry", "US"},        {"SmsMessageSid", sid}, {"NumMedia", "0"},
            {"SmsSid", sid},            {"SmsStatus", "received"}, {"Body", body},
            {"To", o.number},           {"MessageSid", sid},    {"AccountSid", account_sid},
            {"From", from},             {"ApiVersion", "2010-04-01"}};
  }

  /// Texts `body` from `from` and returns the TwiML answer (checked 200 application/xml).
  std::string text(const org& o, const std::string& from, const std::string& body,
                   std::string sid = {}) {
    if (sid.empty())
      sid = next_sid();
    auto r = webhook("/api/sms/incoming", sms(o, from, body, sid));
    DJ_EXPECT_STATUS(r, 200, "incoming " << body);
    auto type = r->header("content-type");
    CAF_CHECK(type.find("xml") != std::string::npos);
    return r->body;
  }

  static std::string reply_of(const std::string& twiml) {
    auto open = twiml.find("<Message>");
    auto close = twiml.find("</Message>");
    if (open == std::string::npos || close == std::string::npos)
      return {};
    return twiml.substr(open + 9, close - open - 9);
  }

  static bool empty_twiml(const std::string& twiml) {
    return twiml == twilio::twiml_reply(std::nullopt);
  }

  int64_t rows(const std::string& table) {
    return test::count_rows(s.db.owner_url(), table);
  }

  /// The conversation of `phone` as the owner sees it, with its messages.
  json conversation(const org& o, const std::string& phone) {
    auto list = api.get("/api/sms/conversations?limit=200", o.owner.auth());
    DJ_EXPECT_STATUS(list, 200, "list conversations");
    auto body = list->json();
    for (auto& c : body["items"])
      if (c["customer_phone"] == phone) {
        auto one = api.get("/api/sms/conversations/" + c["id"].get<std::string>(),
                           o.owner.auth());
        DJ_EXPECT_STATUS(one, 200, "get conversation");
        return one->json();
      }
    return json();
  }

  /// Polls the conversation until `pred(messages)` holds or `within` passes.
  template <class Pred>
  json wait_messages(const org& o, const std::string& phone, Pred pred,
                     std::chrono::milliseconds within = 20s) {
    auto deadline = std::chrono::steady_clock::now() + within;
    json c;
    do {
      c = conversation(o, phone);
      if (c.is_object() && pred(c["messages"]))
        return c;
      std::this_thread::sleep_for(100ms);
    } while (std::chrono::steady_clock::now() < deadline);
    return c;
  }

  std::vector<test::fake_request> twilio_sends_to(const std::string& phone) {
    std::vector<test::fake_request> out;
    for (auto& r : s.twilio.requests())
      if (r.form_value("To") == phone)
        out.push_back(r);
    return out;
  }
};

json last_out(const json& messages) {
  for (auto i = messages.size(); i-- > 0;)
    if (messages[i]["direction"] == "out")
      return messages[i];
  return json();
}

} // namespace

CAF_TEST_FIXTURE_SCOPE(sms_tests, fixture)

CAF_TEST(a bad or missing signature is 403 and nothing is stored) {
  auto o = make_org("sig", "+15005550101");
  auto before_c = rows("sms_conversations");
  auto before_m = rows("sms_messages");
  auto params = sms(o, "+14155550001", "are you free june 14?", next_sid());
  auto unsigned_r = webhook("/api/sms/incoming", params, "");
  DJ_EXPECT_ERROR(unsigned_r, 403, "forbidden", "no signature");
  auto wrong_token = webhook("/api/sms/incoming", params, "not-the-token");
  DJ_EXPECT_ERROR(wrong_token, 403, "forbidden", "wrong token");
  // Signed over the internal http:// URL instead of the public one Twilio calls.
  auto wrong_url = webhook("/api/sms/incoming", params, auth_token,
                           "http://127.0.0.1/api/sms/incoming");
  DJ_EXPECT_ERROR(wrong_url, 403, "forbidden", "wrong url");
  // A field changed after signing.
  auto tampered = params;
  auto sig = twilio::signature(auth_token, public_url + "/api/sms/incoming", params);
  tampered[5].second = "book me for free";
  test::http_client c{s.n.port(), 20s};
  auto r = c.request("POST", "/api/sms/incoming", form_body(tampered),
                     {{"Content-Type", "application/x-www-form-urlencoded"},
                      {"X-Twilio-Signature", sig}});
  DJ_EXPECT_ERROR(r, 403, "forbidden", "tampered body");
  auto status = webhook("/api/sms/status",
                        {{"MessageSid", "SMx"}, {"MessageStatus", "delivered"},
                         {"From", o.number}},
                        "wrong");
  DJ_EXPECT_ERROR(status, 403, "forbidden", "status callback with a bad signature");
  CAF_CHECK_EQUAL(rows("sms_conversations"), before_c);
  CAF_CHECK_EQUAL(rows("sms_messages"), before_m);
}

CAF_TEST(an unknown To number is 404 and bad fields are 400) {
  auto o = make_org("unknown", "+15005550102");
  auto stranger = o;
  stranger.number = "+15005559999";
  auto r = webhook("/api/sms/incoming", sms(stranger, "+14155550002", "hi", next_sid()));
  DJ_EXPECT_ERROR(r, 404, "not_found", "unknown To");
  auto bad_from = webhook("/api/sms/incoming", sms(o, "whatsapp:+1415", "hi", next_sid()));
  DJ_EXPECT_ERROR(bad_from, 400, "bad_request", "From not E.164");
  auto no_sid = webhook("/api/sms/incoming", {{"From", "+14155550002"}, {"To", o.number},
                                              {"Body", "hi"}});
  DJ_EXPECT_ERROR(no_sid, 400, "bad_request", "no MessageSid");
}

CAF_TEST(a retried MessageSid is answered once and stored once) {
  auto o = make_org("retry", "+15005550103");
  auto phone = std::string{"+14155550003"};
  auto sid = next_sid();
  auto first = text(o, phone, "hello there", sid);
  CAF_CHECK(!reply_of(first).empty());
  auto again = text(o, phone, "hello there", sid);
  CAF_CHECK(empty_twiml(again));
  auto c = conversation(o, phone);
  CAF_REQUIRE(c.is_object());
  int inbound = 0;
  for (auto& m : c["messages"])
    inbound += m["direction"] == "in" ? 1 : 0;
  CAF_CHECK_EQUAL(inbound, 1);
  CAF_CHECK_EQUAL(c["messages"].size(), 2u);
}

CAF_TEST(STOP silences the assistant until START and HELP names the organization) {
  auto o = make_org("stop", "+15005550104");
  auto phone = std::string{"+14155550004"};
  auto hello = reply_of(text(o, phone, "hi, do you do weddings?"));
  CAF_CHECK(!hello.empty());
  auto stop = reply_of(text(o, phone, "STOP"));
  CAF_CHECK(stop.find("unsubscribed") != std::string::npos);
  CAF_CHECK(stop.find("Beat stop") != std::string::npos);
  auto c = conversation(o, phone);
  CAF_CHECK_EQUAL(c["opted_out"], true);
  // Nothing more: not to questions, not to a second STOP.
  CAF_CHECK(empty_twiml(text(o, phone, "are you free june 14?")));
  CAF_CHECK(empty_twiml(text(o, phone, "Stop")));
  // HELP is answered even now, with the organization's name and contact.
  auto help = reply_of(text(o, phone, "help"));
  CAF_CHECK(help.find("Beat stop") != std::string::npos);
  CAF_CHECK(help.find("bookings@stop.example") != std::string::npos);
  auto start = reply_of(text(o, phone, "START"));
  CAF_CHECK(start.find("resubscribed") != std::string::npos);
  CAF_CHECK(!reply_of(text(o, phone, "ok what are your prices")).empty());
  // Every message was stored in order, the silenced ones too.
  c = conversation(o, phone);
  CAF_CHECK_EQUAL(c["opted_out"], false);
  std::vector<std::string> inbound;
  for (auto& m : c["messages"])
    if (m["direction"] == "in")
      inbound.push_back(m["body"].get<std::string>());
  std::vector<std::string> expected{"hi, do you do weddings?", "STOP", "are you free june 14?",
                                    "Stop", "help", "START", "ok what are your prices"};
  CAF_CHECK_EQUAL(inbound, expected);
  for (auto& keyword : {"STOPALL", "unsubscribe", "Cancel", "END", "quit."}) {
    auto p = "+1415555009" + std::to_string(std::string{keyword}.size());
    auto r = reply_of(text(o, p, keyword));
    CAF_CHECK(r.find("unsubscribed") != std::string::npos);
  }
}

CAF_TEST(stop by the venue is not an opt out) {
  auto o = make_org("venue", "+15005550105");
  auto phone = std::string{"+14155550005"};
  auto r = reply_of(text(o, phone, "can you stop by the venue saturday to look at the room?"));
  CAF_CHECK(!r.empty());
  CAF_CHECK(r.find("unsubscribed") == std::string::npos);
  auto c = conversation(o, phone);
  CAF_CHECK_EQUAL(c["opted_out"], false);
  CAF_CHECK(!reply_of(text(o, phone, "don't stop the music!")).empty());
}

CAF_TEST(with a review window the reply is a draft sent through Twilio after N seconds) {
  auto o = make_org("window", "+15005550106", 1);
  auto phone = std::string{"+14155550006"};
  auto answer = text(o, phone, "how much for a wedding?");
  CAF_CHECK(empty_twiml(answer));  // nothing at once: the DJ may review it
  auto c = conversation(o, phone);
  auto draft = last_out(c["messages"]);
  CAF_REQUIRE(draft.is_object());
  CAF_CHECK_EQUAL(draft["status"], "draft");
  CAF_CHECK(draft["send_after"].is_string());
  // The durable timer sends it through Twilio's REST API once the window is over.
  c = wait_messages(o, phone, [](const json& ms) {
    auto m = last_out(ms);
    return m.is_object() && m["status"] != "draft";
  });
  auto sent = last_out(c["messages"]);
  CAF_CHECK_EQUAL(sent["status"], "queued");
  CAF_CHECK(sent["twilio_sid"].is_string());
  auto calls = twilio_sends_to(phone);
  CAF_REQUIRE_EQUAL(calls.size(), 1u);
  auto& call = calls[0];
  auto from = call.form_value("From").value_or("");
  auto body = call.form_value("Body").value_or("");
  auto callback = call.form_value("StatusCallback").value_or("");
  auto auth = call.header("authorization");
  CAF_CHECK_EQUAL(from, o.number);
  CAF_CHECK_EQUAL(body, sent["body"].get<std::string>());
  CAF_CHECK_EQUAL(callback, public_url + "/api/sms/status");
  CAF_CHECK_EQUAL(auth, twilio::basic_authorization(account_sid, auth_token));
  // Twilio's signed delivery callback moves it on; a late "sent" does not move it back.
  auto sid = sent["twilio_sid"].get<std::string>();
  auto delivered = webhook("/api/sms/status", {{"MessageSid", sid}, {"MessageStatus", "delivered"},
                                              {"From", o.number}, {"To", phone},
                                              {"AccountSid", account_sid}});
  DJ_EXPECT_STATUS(delivered, 200, "delivered callback");
  CAF_CHECK(empty_twiml(delivered->body));
  auto late = webhook("/api/sms/status", {{"MessageSid", sid}, {"MessageStatus", "sent"},
                                         {"From", o.number}, {"To", phone},
                                         {"AccountSid", account_sid}});
  DJ_EXPECT_STATUS(late, 200, "late sent callback");
  c = conversation(o, phone);
  auto final_status = last_out(c["messages"]).value("status", "");
  CAF_CHECK_EQUAL(final_status, "delivered");
}

CAF_TEST(the DJ cancels edits or sends a draft before the window ends) {
  auto o = make_org("review", "+15005550107", 3600);
  auto phone = std::string{"+14155550007"};
  CAF_CHECK(empty_twiml(text(o, phone, "are you free next month?")));
  auto c = conversation(o, phone);
  auto cid = c["id"].get<std::string>();
  auto d1 = last_out(c["messages"])["id"].get<std::string>();
  auto base = "/api/sms/conversations/" + cid + "/drafts/";
  auto cancelled = api.call("POST", base + d1 + "/cancel", std::string{}, o.owner.auth());
  DJ_EXPECT_STATUS(cancelled, 200, "cancel");
  auto cancelled_status = cancelled->json().value("status", "");
  CAF_CHECK_EQUAL(cancelled_status, "cancelled");
  auto twice = api.call("POST", base + d1 + "/send", std::string{}, o.owner.auth());
  DJ_EXPECT_ERROR(twice, 409, "conflict", "send a cancelled draft");
  // The next draft: edited by the DJ, then sent by them at once.
  CAF_CHECK(empty_twiml(text(o, phone, "what about a friday?")));
  c = conversation(o, phone);
  auto d2 = last_out(c["messages"])["id"].get<std::string>();
  auto bad = api.call("PATCH", base + d2, json{{"body", ""}}, o.owner.auth());
  DJ_EXPECT_ERROR(bad, 400, "bad_request", "empty body");
  auto extra = api.call("PATCH", base + d2, json{{"body", "x"}, {"status", "sent"}},
                        o.owner.auth());
  DJ_EXPECT_ERROR(extra, 400, "bad_request", "status is not editable");
  auto edited = api.call("PATCH", base + d2, json{{"body", "Fridays work! - DJ Sam"}},
                         o.owner.auth());
  DJ_EXPECT_STATUS(edited, 200, "edit");
  auto sent = api.call("POST", base + d2 + "/send", std::string{}, o.owner.auth());
  DJ_EXPECT_STATUS(sent, 200, "send now");
  auto sent_body = sent->json();
  CAF_CHECK_EQUAL(sent_body["status"], "queued");
  CAF_CHECK(sent_body["twilio_sid"].is_string());
  auto calls = twilio_sends_to(phone);
  CAF_REQUIRE_EQUAL(calls.size(), 1u);  // the cancelled one never went out
  auto sent_text = calls[0].form_value("Body").value_or("");
  CAF_CHECK_EQUAL(sent_text, "Fridays work! - DJ Sam");
  auto missing = api.call("POST", base + "00000000-0000-4000-8000-000000000000/send",
                          std::string{}, o.owner.auth());
  DJ_EXPECT_ERROR(missing, 404, "not_found", "no such draft");
  auto anonymous = api.call("POST", base + d2 + "/cancel", std::string{});
  DJ_EXPECT_STATUS(anonymous, 401, "no token");
}

/// Names of the tools recorded on the inbound message `body` of the conversation.
std::vector<std::string> tools_of(const json& conv, const std::string& body) {
  std::vector<std::string> out;
  for (auto& m : conv["messages"])
    if (m["direction"] == "in" && m["body"] == body)
      for (auto& t : m["tool_calls"])
        out.push_back(t.value("name", ""));
  return out;
}

/// The result of tool `name` on the inbound message `body`, or null.
json tool_result(const json& conv, const std::string& body, const std::string& name) {
  for (auto& m : conv["messages"])
    if (m["direction"] == "in" && m["body"] == body)
      for (auto& t : m["tool_calls"])
        if (t.value("name", "") == name)
          return t["result"];
  return json();
}

bool has(const std::vector<std::string>& xs, const std::string& x) {
  return std::find(xs.begin(), xs.end(), x) != xs.end();
}

CAF_TEST(a scripted conversation checks the calendar quotes holds the date and hands over) {
  auto o = make_org("script", "+15005550108");
  json rules{{"currency", "usd"},
             {"base_cents", {{"wedding", 120000}, {"default", 60000}}},
             {"hourly_cents", 15000},
             {"minimum_hours", 3}};
  auto p = api.call("PATCH", "/api/organizations/current",
                    json{{"settings", {{"pricing", rules}}}}, o.owner.auth());
  DJ_EXPECT_STATUS(p, 200, "pricing rules");
  // Saturday June 12, 2027 is taken (6 pm to 11 pm in Chicago, the org's timezone).
  test::as_platform_owner(s.db.owner_url(), [&](pqxx::work& tx) {
    tx.exec_params("insert into events (organization_id, title, starts_at, ends_at, status)"
                   " values ($1::uuid, 'Taken', '2027-06-12T23:00:00Z', '2027-06-13T04:00:00Z',"
                   " 'booked')",
                   o.owner.org_id);
    tx.commit();
    return 0;
  });
  auto count_in_org = [&](const std::string& sql) {
    return test::as_platform_owner(s.db.owner_url(), [&](pqxx::work& tx) {
      return tx.exec_params1(sql, o.owner.org_id)[0].as<int64_t>();
    });
  };
  auto phone = std::string{"+14155550008"};
  // A taken date: not available, and the nearest free dates instead.
  auto q1 = std::string{"Hi! Are you available for a wedding on June 12, 2027?"};
  auto r1 = reply_of(text(o, phone, q1));
  CAF_MESSAGE("taken date -> " << r1);
  auto conv = conversation(o, phone);
  auto check1 = tool_result(conv, q1, "check_availability");
  CAF_REQUIRE(check1.is_object());
  CAF_CHECK_EQUAL(check1.value("available", true), false);
  CAF_CHECK(r1.find("booked") != std::string::npos);
  CAF_CHECK(r1.find("nearest open date") != std::string::npos);
  // A free date: available.
  auto q2 = std::string{"What about Saturday June 19, 2027?"};
  auto r2 = reply_of(text(o, phone, q2));
  CAF_MESSAGE("free date -> " << r2);
  conv = conversation(o, phone);
  auto check2 = tool_result(conv, q2, "check_availability");
  CAF_REQUIRE(check2.is_object());
  CAF_CHECK_EQUAL(check2.value("available", false), true);
  CAF_CHECK(r2.find("available") != std::string::npos);
  // Pricing with event type and hours: a quote row and a dollar amount.
  auto quotes_before = count_in_org("select count(*) from quotes where organization_id = $1::uuid");
  auto q3 = std::string{"How much would it be for the wedding, 5 hours?"};
  auto r3 = reply_of(text(o, phone, q3));
  CAF_MESSAGE("pricing -> " << r3);
  conv = conversation(o, phone);
  CAF_CHECK(has(tools_of(conv, q3), "get_quote"));
  CAF_CHECK_EQUAL(count_in_org("select count(*) from quotes where organization_id = $1::uuid"),
                  quotes_before + 1);
  CAF_CHECK(r3.find('$') != std::string::npos);
  auto last_quote = conv["state"].value("last_quote_id", json());
  CAF_CHECK(last_quote.is_string());
  // Booking after the quote: a hold on the calendar and a deposit invoice.
  auto q4 = std::string{"Sounds great, let's book it!"};
  auto r4 = reply_of(text(o, phone, q4));
  CAF_MESSAGE("booking -> " << r4);
  conv = conversation(o, phone);
  auto tools4 = tools_of(conv, q4);
  CAF_CHECK(has(tools4, "create_event"));
  CAF_CHECK(has(tools4, "create_deposit_invoice"));
  CAF_CHECK_EQUAL(count_in_org("select count(*) from events where organization_id = $1::uuid"
                               " and status = 'hold'"),
                  1);
  CAF_CHECK_EQUAL(count_in_org("select count(*) from invoices where organization_id = $1::uuid"
                               " and deposit_cents > 0"),
                  1);
  CAF_CHECK(r4.find("deposit") != std::string::npos);
  // A follow-up: a task for the DJ.
  auto tasks_before = count_in_org("select count(*) from tasks where organization_id = $1::uuid");
  auto q5 = std::string{"Can you call me back tomorrow about the music list?"};
  auto r5 = reply_of(text(o, phone, q5));
  CAF_MESSAGE("followup -> " << r5);
  conv = conversation(o, phone);
  CAF_CHECK(has(tools_of(conv, q5), "create_task"));
  CAF_CHECK_EQUAL(count_in_org("select count(*) from tasks where organization_id = $1::uuid"),
                  tasks_before + 1);
  // Every inbound message carries the classifier's intent and confidence.
  std::vector<std::string> intents;
  for (auto& m : conv["messages"])
    if (m["direction"] == "in") {
      intents.push_back(m["intent"].is_string() ? m["intent"].get<std::string>() : "?");
      CAF_CHECK(m["confidence"].is_number());
    }
  std::vector<std::string> expected{"availability", "availability", "pricing", "booking",
                                    "followup"};
  CAF_CHECK_EQUAL(intents, expected);
}

CAF_TEST(the routes are documented) {
  auto r = api.get("/openapi.json");
  DJ_EXPECT_STATUS(r, 200, "openapi");
  auto doc = r->json();
  for (auto path : {"/api/sms/incoming", "/api/sms/status", "/api/sms/conversations",
                    "/api/sms/conversations/{id}",
                    "/api/sms/conversations/{id}/drafts/{message_id}",
                    "/api/sms/conversations/{id}/drafts/{message_id}/send",
                    "/api/sms/conversations/{id}/drafts/{message_id}/cancel"}) {
    auto has = doc["paths"].contains(path);
    if (!has)
      CAF_TEST_PRINT_ERROR("missing in openapi: " << path);
    CAF_CHECK(has);
  }
}

CAF_TEST_FIXTURE_SCOPE_END()
