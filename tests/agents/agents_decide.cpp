#define CAF_SUITE agents.agents_decide

// The agents' pure planners: given a conversation context and the tool results so far, which tool
// comes next and what the customer is told.

#include "agents/agent_pool.hpp"

#include <string>

#include "agents/availability_agent.hpp"
#include "agents/booking_agent.hpp"
#include "agents/followup_agent.hpp"
#include "agents/pricing_agent.hpp"
#include "agents/reply_text.hpp"
#include "protocols/pricing.hpp"
#include "support/caf_test.hpp"

using namespace djdash;
using namespace djdash::agents;
using json = nlohmann::json;

namespace {

constexpr auto org_name = "Bassline Events";
constexpr auto contact = "00000000-0000-4000-8000-0000000000c1";

json rules() {
  return {{"base_cents", {{"wedding", 120000}, {"default", 60000}}},
          {"hourly_cents", 15000},
          {"minimum_hours", 3},
          {"weekend_days", {"fri", "sat"}},
          {"weekend_multiplier", 1.15}};
}

/// A context like the conversation entity sends; `now` is Thursday 2026-05-07 in Chicago.
turn make_turn(const std::string& intent, json entities, json state = json::object(),
               bool with_contact = true) {
  json ctx = {{"org",
               {{"id", "00000000-0000-4000-8000-00000000000a"},
                {"name", org_name},
                {"timezone", "America/Chicago"}}},
              {"customer_phone", "+19015550123"},
              {"conversation_id", "00000000-0000-4000-8000-0000000000f1"},
              {"text", "hi there"},
              {"now", "2026-05-07T10:00:00-05:00"},
              {"classification",
               {{"intent", intent}, {"confidence", 0.9}, {"entities", std::move(entities)}}},
              {"state", std::move(state)}};
  if (with_contact)
    ctx["contact_id"] = contact;
  auto t = parse_context(intent, ctx.dump());
  if (!t)
    CAF_FAIL("bad test context");
  return *t;
}

tool_request as_tool(const step& s) {
  if (!std::holds_alternative<tool_request>(s))
    CAF_FAIL("expected a tool call, got the reply: " << std::get<final_reply>(s).text);
  return std::get<tool_request>(s);
}

final_reply as_reply(const step& s) {
  if (!std::holds_alternative<final_reply>(s))
    CAF_FAIL("expected a reply, got the tool " << std::get<tool_request>(s).name);
  return std::get<final_reply>(s);
}

/// Records `result` as the answer to `req` (local tools keep their own result).
void feed(turn& t, const tool_request& req, json result, bool ok = true) {
  if (req.kind == tool_kind::local) {
    result = req.result;
    ok = !result.contains("error");
  }
  t.calls.push_back({req.name, req.arguments, std::move(result), ok, req.recorded});
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

json error(const char* code) {
  return {{"error", {{"code", code}, {"message", "refused"}}}};
}

json quote_row(int64_t cents, const char* date, double hours, const char* type = "wedding") {
  return {{"id", "00000000-0000-4000-8000-0000000000a7"}, {"amount_cents", cents},
          {"currency", "usd"}, {"billed_hours", hours}, {"hours", hours},
          {"event_type", type}, {"date", date ? json(date) : json(nullptr)}};
}

} // namespace

CAF_TEST(newer entities win when slots merge) {
  auto merged = merge_slots({{"date", "2026-06-13"}, {"hours", 4}},
                            {{"hours", 5}, {"event_type", "wedding"}, {"venue", nullptr}});
  json expected = {{"date", "2026-06-13"}, {"hours", 5}, {"event_type", "wedding"}};
  CAF_CHECK_EQUAL(merged, expected);
  // The context's state slots and the message's entities merge the same way.
  auto t = make_turn("pricing", {{"event_type", "wedding"}, {"hours", 5}},
                     {{"slots", {{"date", "2026-06-13"}, {"hours", 3}}}});
  json slots = {{"date", "2026-06-13"}, {"hours", 5}, {"event_type", "wedding"}};
  CAF_CHECK_EQUAL(t.slots, slots);
  auto out = agent_output(t, final_reply{"ok", {{"last_quote_id", "q1"}}});
  CAF_CHECK_EQUAL(out["state"]["slots"], slots);
  CAF_CHECK_EQUAL(out["state"]["last_quote_id"], "q1");
  CAF_CHECK_EQUAL(out["state"]["contact_id"], contact);
}

CAF_TEST(a bad context is refused) {
  CAF_CHECK(!parse_context("pricing", "not json"));
  CAF_CHECK(!parse_context("pricing", R"({"org":{"id":"x","name":"y"},"now":"2026-05-07T10:00:00Z"})"));
  CAF_CHECK(!parse_context("pricing", R"({"org":{"id":"x","name":"y"},"customer_phone":"+1","now":"soon"})"));
}

CAF_TEST(an unknown customer becomes a contact first) {
  auto t = make_turn("availability", {{"name", "Ann"}}, json::object(), false);
  auto first = as_tool(availability_step(t));
  CAF_CHECK_EQUAL(first.name, "create_contact");
  CAF_CHECK_EQUAL(first.op, "contacts.upsert_inquiry");
  CAF_CHECK_EQUAL(first.arguments["phone"], "+19015550123");
  CAF_CHECK_EQUAL(first.arguments["name"], "Ann");
  // Refused with the name and email: tried once more with the phone alone, then given up.
  feed(t, first, error("bad_request"), false);
  auto retry = as_tool(availability_step(t));
  CAF_CHECK_EQUAL(retry.name, "create_contact");
  CAF_CHECK(!retry.arguments.contains("name"));
  feed(t, retry, {{"contact", {{"id", contact}}}, {"created", true}});
  auto out = agent_output(t, as_reply(availability_step(t)));
  CAF_CHECK_EQUAL(out["state"]["contact_id"], contact);
  CAF_CHECK_EQUAL(out["tool_calls"].size(), 2u);
}

CAF_TEST(availability asks for the date when there is none) {
  auto t = make_turn("availability", json::object());
  auto reply = as_reply(availability_step(t));
  CAF_CHECK(contains(reply.text, org_name));
  CAF_CHECK(contains(reply.text, "What date"));
  CAF_CHECK(t.calls.empty());
}

CAF_TEST(availability on a free date says available) {
  auto t = make_turn("availability", {{"date", "2026-06-13"}});
  auto check = as_tool(availability_step(t));
  CAF_CHECK_EQUAL(check.name, "check_availability");
  CAF_CHECK(check.kind == tool_kind::calendar);
  CAF_CHECK_EQUAL(check.op, "events.availability");
  CAF_CHECK_EQUAL(check.arguments["date"], "2026-06-13");
  feed(t, check, {{"date", "2026-06-13"}, {"available", true}});
  auto reply = as_reply(availability_step(t));
  CAF_CHECK(contains(reply.text, "available on Sat, Jun 13"));
  CAF_CHECK(contains(reply.text, org_name));
  CAF_CHECK(!contains(reply.text, "booked"));
}

CAF_TEST(availability on a taken date offers the nearest free dates) {
  auto t = make_turn("availability", {{"date", "2026-05-08"}});
  auto check = as_tool(availability_step(t));
  feed(t, check, {{"date", "2026-05-08"}, {"available", false}});
  auto scan = as_tool(availability_step(t));
  CAF_CHECK_EQUAL(scan.name, "find_nearest_free_dates");
  CAF_CHECK(scan.kind == tool_kind::scan_dates);
  // Nearest first, and never a day before today (2026-05-07).
  auto dates = scan.arguments["dates"];
  CAF_REQUIRE(dates.size() >= 3u);
  CAF_CHECK_EQUAL(dates[0], "2026-05-09");
  CAF_CHECK_EQUAL(dates[1], "2026-05-07");
  CAF_CHECK_EQUAL(dates[2], "2026-05-10");
  for (auto& d : dates)
    CAF_CHECK(d.get<std::string>() >= "2026-05-07");
  feed(t, scan, {{"free", {"2026-05-09", "2026-05-10"}}, {"checked", 3}});
  auto reply = as_reply(availability_step(t));
  CAF_CHECK(contains(reply.text, "already booked on Fri, May 8"));
  CAF_CHECK(contains(reply.text, "Sat, May 9"));
  CAF_CHECK(contains(reply.text, "Sun, May 10"));
  CAF_CHECK(sms_segments(reply.text) <= 2u);
}

CAF_TEST(availability never claims a date it could not check) {
  auto t = make_turn("availability", {{"date", "2026-06-13"}});
  feed(t, as_tool(availability_step(t)), error("db_unavailable"), false);
  auto reply = as_reply(availability_step(t));
  CAF_CHECK(!contains(reply.text, "available"));
  CAF_CHECK(!contains(reply.text, "booked"));
}

CAF_TEST(pricing asks for event type and hours instead of guessing) {
  auto none = make_turn("pricing", json::object());
  auto ask_both = as_reply(pricing_step(none));
  CAF_CHECK(contains(ask_both.text, "type of event"));
  CAF_CHECK(contains(ask_both.text, "how many hours"));
  CAF_CHECK(!contains(ask_both.text, "$"));
  auto typed = make_turn("pricing", {{"event_type", "wedding"}});
  auto ask_hours = as_reply(pricing_step(typed));
  CAF_CHECK(contains(ask_hours.text, "How many hours"));
  CAF_CHECK(!contains(ask_hours.text, "type of event"));
  auto timed = make_turn("pricing", {{"hours", 4}});
  auto ask_type = as_reply(pricing_step(timed));
  CAF_CHECK(contains(ask_type.text, "type of event"));
  CAF_CHECK(typed.calls.empty());
}

CAF_TEST(pricing quotes the amount of the stored quote) {
  auto t = make_turn("pricing", {{"event_type", "wedding"}, {"hours", 5}},
                     {{"slots", {{"date", "2026-06-13"}}}});
  auto load = as_tool(pricing_step(t));
  CAF_CHECK_EQUAL(load.name, "load_org_settings");
  CAF_CHECK(!load.recorded);
  feed(t, load, {{"settings", {{"pricing", rules()}}}});
  auto quote = as_tool(pricing_step(t));
  CAF_CHECK_EQUAL(quote.name, "get_quote");
  CAF_CHECK(quote.kind == tool_kind::local);
  // Exactly what the pricing rules give: (1200 + 2 × 150) × 1.15 on a Saturday.
  pricing::quote_input in{"wedding", std::string{"2026-06-13"}, 5, std::nullopt, {}};
  auto expected = pricing::get_quote(rules(), in);
  CAF_REQUIRE(expected);
  CAF_CHECK_EQUAL(quote.result["amount_cents"], expected->amount_cents);
  feed(t, quote, json());
  auto send = as_tool(pricing_step(t));
  CAF_CHECK_EQUAL(send.name, "send_quote");
  CAF_CHECK_EQUAL(send.op, "quotes.create");
  CAF_CHECK_EQUAL(send.arguments["contact_id"], contact);
  CAF_CHECK_EQUAL(send.arguments["date"], "2026-06-13");
  feed(t, send, quote_row(expected->amount_cents, "2026-06-13", 5));
  auto reply = as_reply(pricing_step(t));
  CAF_CHECK(contains(reply.text, money(expected->amount_cents, "usd")));
  CAF_CHECK(contains(reply.text, "5-hour wedding on Sat, Jun 13"));
  CAF_CHECK(contains(reply.text, org_name));
  CAF_CHECK_EQUAL(reply.state_patch["last_quote_id"], "00000000-0000-4000-8000-0000000000a7");
  auto out = agent_output(t, reply);
  CAF_CHECK_EQUAL(out["tool_calls"].size(), 2u);  // get_quote, send_quote; the settings read is internal
}

CAF_TEST(pricing names no amount when no quote was stored) {
  auto t = make_turn("pricing", {{"event_type", "birthday"}, {"hours", 4}});
  feed(t, as_tool(pricing_step(t)), {{"settings", {{"pricing", rules()}}}});
  feed(t, as_tool(pricing_step(t)), json());
  feed(t, as_tool(pricing_step(t)), error("db_unavailable"), false);
  auto reply = as_reply(pricing_step(t));
  CAF_CHECK(!contains(reply.text, "$"));
  CAF_CHECK(reply.state_patch.empty());
  // Rules that do not price the request (30 hours) never reach send_quote.
  auto bad = make_turn("pricing", {{"event_type", "birthday"}, {"hours", 30}});
  feed(bad, as_tool(pricing_step(bad)), {{"settings", {{"pricing", rules()}}}});
  auto q = as_tool(pricing_step(bad));
  CAF_CHECK(q.result.contains("error"));
  feed(bad, q, json());
  auto refused = as_reply(pricing_step(bad));
  CAF_CHECK(!contains(refused.text, "$"));
  CAF_CHECK(!last_call(bad, "send_quote"));
}

CAF_TEST(booking after a quote holds the date and asks for the deposit) {
  // Turn 1 said the date, turn 2 the type and hours, turn 3 "ok lets book it".
  json state = {{"slots", {{"date", "2026-06-13"}, {"event_type", "wedding"}, {"hours", 5}}},
                {"last_quote_id", "00000000-0000-4000-8000-0000000000a7"}};
  auto t = make_turn("booking", json::object(), state);
  auto load = as_tool(booking_step(t));
  CAF_CHECK_EQUAL(load.name, "load_quote");
  feed(t, load, quote_row(172500, "2026-06-13", 5));
  auto settings = as_tool(booking_step(t));
  CAF_CHECK_EQUAL(settings.name, "load_org_settings");
  feed(t, settings, {{"settings", {{"pricing", rules()}, {"deposit_percent", 30}}}});
  auto span = as_tool(booking_step(t));
  CAF_CHECK_EQUAL(span.op, "assistant.event_span");
  CAF_CHECK_EQUAL(span.arguments["time"], "18:00");
  feed(t, span, {{"starts_at", "2026-06-13T23:00:00+00:00"}, {"ends_at", "2026-06-14T04:00:00+00:00"}});
  auto hold = as_tool(booking_step(t));
  CAF_CHECK_EQUAL(hold.name, "create_event");
  CAF_CHECK(hold.kind == tool_kind::calendar);
  CAF_CHECK_EQUAL(hold.op, "events.create");
  CAF_CHECK_EQUAL(hold.arguments["status"], "hold");
  CAF_CHECK_EQUAL(hold.arguments["price_cents"], 172500);
  CAF_CHECK_EQUAL(hold.arguments["contact_id"], contact);
  feed(t, hold, {{"id", "00000000-0000-4000-8000-0000000000e1"}, {"status", "hold"}});
  auto invoice = as_tool(booking_step(t));
  CAF_CHECK_EQUAL(invoice.name, "create_deposit_invoice");
  CAF_CHECK_EQUAL(invoice.op, "invoices.create");
  CAF_CHECK_EQUAL(invoice.arguments["deposit_cents"], 51750);  // 30 % of 1,725.00
  CAF_CHECK_EQUAL(invoice.arguments["event_id"], "00000000-0000-4000-8000-0000000000e1");
  feed(t, invoice, {{"id", "00000000-0000-4000-8000-0000000000b1"}, {"number", "INV-0007"},
                    {"currency", "usd"}, {"total_cents", 172500}, {"deposit_cents", 51750}});
  auto reply = as_reply(booking_step(t));
  CAF_CHECK(contains(reply.text, "holding Sat, Jun 13"));
  CAF_CHECK(contains(reply.text, "deposit is $517.50"));
  CAF_CHECK(contains(reply.text, "INV-0007"));
  CAF_CHECK(contains(reply.text, "6pm to 11pm"));
  CAF_CHECK(sms_segments(reply.text) <= 2u);
  CAF_CHECK_EQUAL(reply.state_patch["pending_hold_event_id"], "00000000-0000-4000-8000-0000000000e1");
}

CAF_TEST(booking a taken date holds nothing and offers other dates) {
  json state = {{"slots", {{"event_type", "birthday"}, {"hours", 4}}}};
  auto t = make_turn("booking", {{"date", "2026-06-13"}, {"time", "19:30"}}, state);
  feed(t, as_tool(booking_step(t)), {{"settings", {{"pricing", rules()}}}});  // load_org_settings
  feed(t, as_tool(booking_step(t)), json());                                 // get_quote
  auto send = as_tool(booking_step(t));
  CAF_CHECK_EQUAL(send.name, "send_quote");
  feed(t, send, quote_row(82800, "2026-06-13", 4, "birthday"));
  auto span = as_tool(booking_step(t));
  CAF_CHECK_EQUAL(span.arguments["time"], "19:30");
  feed(t, span, {{"starts_at", "2026-06-14T00:30:00+00:00"}, {"ends_at", "2026-06-14T04:30:00+00:00"}});
  feed(t, as_tool(booking_step(t)), error("conflict"), false);  // create_event refused
  auto scan = as_tool(booking_step(t));
  CAF_CHECK_EQUAL(scan.name, "find_nearest_free_dates");
  feed(t, scan, {{"free", {"2026-06-12"}}, {"checked", 2}});
  auto reply = as_reply(booking_step(t));
  CAF_CHECK(contains(reply.text, "was just taken"));
  CAF_CHECK(contains(reply.text, "Fri, Jun 12"));
  CAF_CHECK(!contains(reply.text, "holding"));
  CAF_CHECK(!last_call(t, "create_deposit_invoice"));
}

CAF_TEST(booking asks for the date first) {
  auto t = make_turn("booking", {{"event_type", "wedding"}});
  auto reply = as_reply(booking_step(t));
  CAF_CHECK(contains(reply.text, "What date"));
  CAF_CHECK(contains(reply.text, org_name));
}

CAF_TEST(a followup becomes a task due the next day and a message to the DJ) {
  auto t = make_turn("followup", {{"name", "Ann"}});
  t.text = "can we push start to 7";
  auto task = as_tool(followup_step(t));
  CAF_CHECK_EQUAL(task.name, "create_task");
  CAF_CHECK_EQUAL(task.op, "tasks.create");
  CAF_CHECK_EQUAL(task.arguments["due_at"], "2026-05-08T10:00:00-05:00");
  CAF_CHECK(contains(task.arguments["title"], "can we push start to 7"));
  CAF_CHECK_EQUAL(task.arguments["contact_id"], contact);
  feed(t, task, {{"id", "00000000-0000-4000-8000-0000000000d1"}});
  auto email = as_tool(followup_step(t));
  CAF_CHECK_EQUAL(email.name, "send_email");
  CAF_CHECK_EQUAL(email.arguments["target_id"], "00000000-0000-4000-8000-0000000000d1");
  feed(t, email, {{"id", "n1"}, {"channel", "notification"}});
  auto reply = as_reply(followup_step(t));
  CAF_CHECK(contains(reply.text, org_name));
  CAF_CHECK(contains(reply.text, "by Fri, May 8"));
}

CAF_TEST(other messages get a polite reply naming the business) {
  auto t = make_turn("other", json::object());
  auto reply = other_reply(t);
  CAF_CHECK(contains(reply.text, org_name));
  CAF_CHECK(sms_segments(reply.text) == 1u);
}

CAF_TEST(replies stay within two segments even for long names) {
  auto t = make_turn("booking", json::object(),
                     {{"slots", {{"date", "2026-06-13"}, {"event_type", "quinceanera"}, {"hours", 7.5}}}});
  t.org_name = "The Extremely Long Named Mobile DJ And Lighting Company Of Greater Memphis";
  feed(t, as_tool(booking_step(t)), {{"settings", {{"pricing", rules()}}}});
  feed(t, as_tool(booking_step(t)), json());
  feed(t, as_tool(booking_step(t)), quote_row(199000, "2026-06-13", 7.5, "quinceanera"));
  feed(t, as_tool(booking_step(t)), {{"starts_at", "2026-06-13T23:00:00Z"}, {"ends_at", "2026-06-14T06:30:00Z"}});
  feed(t, as_tool(booking_step(t)), {{"id", "e"}, {"status", "hold"}});
  feed(t, as_tool(booking_step(t)), {{"id", "i"}, {"number", "INV-0001"}, {"currency", "usd"},
                                     {"total_cents", 199000}, {"deposit_cents", 49750}});
  auto reply = as_reply(booking_step(t));
  CAF_CHECK(contains(reply.text, t.org_name));
  CAF_CHECK(sms_segments(reply.text) <= 2u);
}

CAF_TEST(sms segments count GSM-7 and UCS-2 as carriers do) {
  CAF_CHECK_EQUAL(sms_segments(std::string(160, 'a')), 1u);
  CAF_CHECK_EQUAL(sms_segments(std::string(161, 'a')), 2u);
  CAF_CHECK_EQUAL(sms_segments(std::string(306, 'a')), 2u);
  CAF_CHECK_EQUAL(sms_segments(std::string(307, 'a')), 3u);
  CAF_CHECK_EQUAL(sms_segments(std::string(80, '{')), 1u);   // extension characters count twice
  CAF_CHECK_EQUAL(sms_segments(std::string(81, '{')), 2u);
  CAF_CHECK_EQUAL(sms_segments("caf\xC3\xA9"), 1u);          // é is GSM-7
  std::string emoji = "\xF0\x9F\x8E\xB5";                    // 🎵 forces UCS-2
  CAF_CHECK_EQUAL(sms_segments(std::string(68, 'a') + emoji), 1u);  // 70 UTF-16 units
  CAF_CHECK_EQUAL(sms_segments(std::string(69, 'a') + emoji), 2u);
  auto fitted = fit_sms({std::string(200, 'a'), std::string(200, 'b'), "short"});
  CAF_CHECK_EQUAL(fitted, std::string(200, 'a') + " short");
}

CAF_TEST(money dates and durations read naturally) {
  CAF_CHECK_EQUAL(money(172500, "usd"), "$1,725");
  CAF_CHECK_EQUAL(money(43125, "usd"), "$431.25");
  CAF_CHECK_EQUAL(money(100000050, "usd"), "$1,000,000.50");
  CAF_CHECK_EQUAL(money(5000, "eur"), "50.00 EUR");
  CAF_CHECK_EQUAL(day_label("2026-06-13", "2026-05-07"), "Sat, Jun 13");
  CAF_CHECK_EQUAL(day_label("2027-01-02", "2026-05-07"), "Sat, Jan 2, 2027");
  CAF_CHECK_EQUAL(hours_label(1), "1 hour");
  CAF_CHECK_EQUAL(hours_adjective(4.5), "4.5-hour");
  CAF_CHECK_EQUAL(time_label("18:00"), "6pm");
  CAF_CHECK_EQUAL(time_label("00:30"), "12:30am");
  CAF_CHECK_EQUAL(end_time("21:00", 5), "02:00");
  CAF_CHECK_EQUAL(deposit_cents(json::object(), 172500), 43125);
  CAF_CHECK_EQUAL(deposit_cents({{"deposit_percent", 50}}, 1001), 501);  // half up
  CAF_CHECK_EQUAL(add_days("2026-12-31", 1).value_or(""), "2027-01-01");
  CAF_CHECK_EQUAL(add_days("2028-02-28", 1).value_or(""), "2028-02-29");
}
