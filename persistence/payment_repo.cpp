#include "persistence/payment_repo.hpp"

#include <cctype>
#include <regex>

#include "persistence/repo_util.hpp"

namespace djdash::persistence {

namespace {

using json = nlohmann::json;

/// Orders payment row statuses; a step only ever moves a payment up.
int payment_rank(const std::string& status) {
  if (status == "authorized")
    return 1;
  if (status == "succeeded" || status == "canceled")
    return 2;
  if (status == "refunded")
    return 3;
  return 0;
}

/// The payment row status for a step's state.
std::string payment_status_of(const std::string& state) {
  if (state == "authorized")
    return "authorized";
  if (state == "paid")
    return "succeeded";
  if (state == "released")
    return "canceled";
  if (state == "refunded")
    return "refunded";
  throw op_error(app_errc::bad_request, "state must be authorized, paid, released or refunded");
}

/// Orders a crowd request's payment_status (as payment_rank() in 0010_payments.sql).
int request_rank(const std::string& s) {
  if (s == "pending")
    return 1;
  if (s == "authorized")
    return 2;
  if (s == "paid" || s == "released")
    return 3;
  if (s == "refunded")
    return 4;
  return 0;
}

std::string money(int64_t cents, const std::string& currency) {
  auto units = std::to_string(cents / 100), rest = std::to_string(cents % 100);
  if (rest.size() < 2)
    rest = "0" + rest;
  auto amount = units + "." + rest;
  if (currency == "usd")
    return "$" + amount;
  std::string upper;
  for (auto c : currency)
    upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return amount + " " + upper;
}

constexpr auto payment_columns
  = "id, organization_id, amount_cents, platform_fee_cents, net_cents, currency, status,"
    " crowd_request_id, invoice_id, stripe_checkout_session_id, stripe_payment_intent_id,"
    " to_jsonb(created_at) #>> '{}', to_jsonb(updated_at) #>> '{}', version";

json payment_json(const pqxx::row& r) {
  return {{"id", r[0].as<std::string>()},
          {"organization_id", r[1].as<std::string>()},
          {"amount_cents", r[2].as<int64_t>()},
          {"platform_fee_cents", r[3].as<int64_t>()},
          {"net_cents", r[4].as<int64_t>()},
          {"currency", r[5].as<std::string>()},
          {"status", r[6].as<std::string>()},
          {"crowd_request_id", text_or_null(r[7])},
          {"invoice_id", text_or_null(r[8])},
          {"stripe_checkout_session_id", text_or_null(r[9])},
          {"stripe_payment_intent_id", r[10].as<std::string>()},
          {"created_at", r[11].as<std::string>()},
          {"updated_at", r[12].as<std::string>()},
          {"version", r[13].as<int64_t>()}};
}

json load_payment(pqxx::transaction_base& tx, const std::string& id) {
  return payment_json(tx.exec_params1(std::string{"select "} + payment_columns
                                        + " from payments where organization_id = app_org_id()"
                                          " and id = $1::uuid",
                                      id));
}

json event(const std::string& org, const char* topic, const char* name, json payload) {
  return {{"topic", "org:" + org + ":" + topic}, {"event", name}, {"payload", std::move(payload)}};
}

/// What a checkout session pays for.
struct checkout_row {
  std::string kind;
  std::string ref_id;
  int64_t amount = 0;
  int64_t fee = 0;
  std::string currency;
  std::string session_id;
};

std::optional<checkout_row> load_checkout(pqxx::transaction_base& tx, const std::string& id) {
  auto rows = tx.exec_params("select kind, ref_id, amount_cents, platform_fee_cents, currency,"
                             " stripe_checkout_session_id from checkout_sessions"
                             " where organization_id = app_org_id() and id = $1::uuid",
                             id);
  if (rows.empty())
    return std::nullopt;
  auto r = rows[0];
  return checkout_row{r[0].as<std::string>(), r[1].as<std::string>(), r[2].as<int64_t>(),
                      r[3].as<int64_t>(),     r[4].as<std::string>(), r[5].as<std::string>()};
}

/// Inserts or advances the payment row; returns (payment id, previous status, "" when new).
std::pair<std::string, std::string> upsert_payment(pqxx::transaction_base& tx,
                                                   const checkout_row& c,
                                                   const payment_step& step,
                                                   const std::string& status) {
  std::optional<std::string> request, invoice;
  (c.kind == "crowd_request" ? request : invoice) = c.ref_id;
  // A concurrent inserter of the same PaymentIntent makes this wait, then do nothing.
  auto ins = tx.exec_params(
    "insert into payments (organization_id, amount_cents, platform_fee_cents, net_cents,"
    " currency, status, crowd_request_id, invoice_id, stripe_checkout_session_id,"
    " stripe_payment_intent_id) values (app_org_id(), $1::bigint, $2::bigint,"
    " $1::bigint - $2::bigint, $3, $4, $5::uuid, $6::uuid, $7, $8)"
    " on conflict (stripe_payment_intent_id) do nothing returning id",
    c.amount, c.fee, c.currency, status, request, invoice, c.session_id, step.payment_intent);
  if (!ins.empty())
    return {ins[0][0].as<std::string>(), ""};
  auto cur = tx.exec_params("select id, status from payments where organization_id ="
                            " app_org_id() and stripe_payment_intent_id = $1 for update",
                            step.payment_intent);
  if (cur.empty())
    throw op_error(app_errc::conflict, "payment intent belongs to another organization");
  auto id = cur[0][0].as<std::string>(), prev = cur[0][1].as<std::string>();
  if (payment_rank(status) > payment_rank(prev))
    tx.exec_params("update payments set status = $2 where organization_id = app_org_id()"
                   " and id = $1::uuid",
                   id, status);
  return {id, prev};
}

/// Moves the crowd request forward; returns the queue event to publish, or null.
json advance_request(pqxx::transaction_base& tx, const std::string& org, const checkout_row& c,
                     const payment_step& step) {
  auto rows = tx.exec_params("select status, payment_status from crowd_requests where"
                             " organization_id = app_org_id() and id = $1::uuid for update",
                             c.ref_id);
  if (rows.empty())
    return nullptr;
  auto status = rows[0][0].as<std::string>(), paid = rows[0][1].as<std::string>();
  if (request_rank(step.state) <= request_rank(paid))
    return nullptr;
  // Paid or held: a pending request joins the queue; released before it ever was: cancelled.
  // A queued request keeps its place otherwise (the organization entity owns queue moves).
  auto held = step.state == "authorized" || step.state == "paid";
  auto to = status;
  if (status == "pending_payment")
    to = held ? "queued" : "cancelled";
  tx.exec_params("update crowd_requests set payment_status = $2, status = $3,"
                 " stripe_payment_intent_id = coalesce(stripe_payment_intent_id, $4),"
                 " stripe_checkout_session_id = coalesce(stripe_checkout_session_id, $5)"
                 " where organization_id = app_org_id() and id = $1::uuid",
                 c.ref_id, step.state, to, step.payment_intent, c.session_id);
  json payload{{"id", c.ref_id}, {"request_id", c.ref_id}, {"status", to},
               {"payment_status", step.state}, {"amount_cents", c.amount},
               {"currency", c.currency}};
  return event(org, "queue", step.state == "paid" ? "crowd_request.paid" : "crowd_request.updated",
               std::move(payload));
}

/// Adds a succeeded payment to its invoice; the invoice is paid once it is covered.
void advance_invoice(pqxx::transaction_base& tx, const checkout_row& c) {
  tx.exec_params("update invoices set paid_cents = least(total_cents, paid_cents + $2),"
                 " status = case when paid_cents + $2 >= total_cents then 'paid' else status end,"
                 " paid_at = case when paid_cents + $2 >= total_cents then now() else paid_at end"
                 " where organization_id = app_org_id() and id = $1::uuid and status = 'sent'",
                 c.ref_id, c.amount);
}

/// Keeps the organization's sweep timer at the oldest outstanding authorization plus the hold.
void arm_authorization_sweep(pqxx::transaction_base& tx) {
  tx.exec_params("select sync_timer(app_org_id(), 'payment_auth_expiry', app_org_id(),"
                 " (select min(created_at) from payments where organization_id = app_org_id()"
                 "  and status = 'authorized' and crowd_request_id is not null)"
                 " + make_interval(hours => $1))",
                 authorization_hold_hours);
}

json list(pqxx::transaction_base& tx, const db_scope&, const json& args) {
  auto page = read_page(args);
  auto rows = tx.exec_params(
    std::string{"select "} + payment_columns
      + " from payments where organization_id = app_org_id()"
        " and ($1 = '' or (created_at, id) < ($1::timestamptz, nullif($2, '')::uuid))"
        " order by created_at desc, id desc limit $3",
    page.after_ts, page.after_id, page.limit + 1);
  return page_result(rows, page, 11, 0, payment_json);
}

json account_json(pqxx::transaction_base& tx) {
  auto rows = tx.exec("select stripe_account_id, charges_enabled, payouts_enabled,"
                      " details_submitted from stripe_accounts"
                      " where organization_id = app_org_id()");
  if (rows.empty())
    return {{"connected", false}, {"stripe_account_id", nullptr}, {"charges_enabled", false},
            {"payouts_enabled", false}, {"details_submitted", false}};
  auto r = rows[0];
  return {{"connected", true},
          {"stripe_account_id", r[0].as<std::string>()},
          {"charges_enabled", r[1].as<bool>()},
          {"payouts_enabled", r[2].as<bool>()},
          {"details_submitted", r[3].as<bool>()}};
}

json account(pqxx::transaction_base& tx, const db_scope&, const json&) {
  return account_json(tx);
}

json account_save(pqxx::transaction_base& tx, const db_scope&, const json& args) {
  auto id = arg_string(args, "stripe_account_id");
  if (!std::regex_match(id, std::regex{"^acct_[A-Za-z0-9]+$"}))
    throw op_error(app_errc::bad_request, "stripe_account_id must look like acct_...");
  auto ins = tx.exec_params("insert into stripe_accounts (organization_id, stripe_account_id)"
                            " values (app_org_id(), $1) on conflict (organization_id) do nothing"
                            " returning 1",
                            id);
  if (!ins.empty())
    tx.exec_params("update organizations set stripe_connect_account_id = $1"
                   " where id = app_org_id()",
                   id);
  return account_json(tx);
}

json checkout_record(pqxx::transaction_base& tx, const db_scope&, const json& args) {
  auto id = arg_string(args, "id");
  auto kind = arg_string(args, "kind");
  auto ref = arg_string(args, "ref_id");
  auto session = arg_string(args, "stripe_checkout_session_id");
  // Same deterministic id again: a replayed create (same session) or a new session for the
  // same payment after the old one expired; the newest session is the one the payer uses.
  tx.exec_params(
    "insert into checkout_sessions (organization_id, id, kind, ref_id,"
    " stripe_checkout_session_id, stripe_account_id, amount_cents, platform_fee_cents, currency,"
    " manual_capture, url) values (app_org_id(), $1::uuid, $2, $3::uuid, $4, $5, $6, $7, $8, $9,"
    " $10) on conflict (organization_id, id) do update set"
    " stripe_checkout_session_id = excluded.stripe_checkout_session_id, url = excluded.url",
    id, kind, ref, session, arg_string(args, "stripe_account_id"),
    arg_int(args, "amount_cents", 0), arg_int(args, "platform_fee_cents", 0),
    arg_string(args, "currency"), args.value("manual_capture", false),
    arg_opt_string(args, "url").value_or(""));
  if (kind == "crowd_request")
    tx.exec_params("update crowd_requests set stripe_checkout_session_id = $2"
                   " where organization_id = app_org_id() and id = $1::uuid"
                   " and payment_status in ('none', 'pending')",
                   ref, session);
  return {{"id", id}};
}

/// The PaymentIntent behind a crowd request's authorization, or empty.
std::string authorized_intent(pqxx::transaction_base& tx, const std::string& request) {
  auto rows = tx.exec_params("select stripe_payment_intent_id from payments"
                             " where organization_id = app_org_id() and crowd_request_id ="
                             " $1::uuid and status = 'authorized' order by created_at desc limit 1",
                             request);
  return rows.empty() ? std::string{} : rows[0][0].as<std::string>();
}

void complete_timer(pqxx::transaction_base& tx, const std::string& id) {
  tx.exec_params("update timers set done_at = now() where organization_id = app_org_id()"
                 " and id = $1::uuid",
                 id);
}

json timer_plan(pqxx::transaction_base& tx, const db_scope&, const json& args) {
  auto timer = arg_string(args, "timer_id");
  auto kind = arg_string(args, "kind");
  auto request = arg_string(args, "crowd_request_id");
  auto rows = tx.exec_params("select status, payment_status from crowd_requests"
                             " where organization_id = app_org_id() and id = $1::uuid",
                             request);
  std::string action = "none", intent;
  if (!rows.empty() && rows[0][1].as<std::string>() == "authorized") {
    auto played = rows[0][0].as<std::string>() == "played";
    intent = authorized_intent(tx, request);
    // A capture only for a played request; a release only for one that was not played (a
    // late sweep never cancels a hold the DJ has just earned).
    if (!intent.empty() && kind == "payment_capture" && played)
      action = "capture";
    else if (!intent.empty() && kind == "payment_release" && !played)
      action = "cancel";
  }
  if (action == "none")
    complete_timer(tx, timer);
  return {{"action", action}, {"payment_intent", intent}};
}

json timer_done(pqxx::transaction_base& tx, const db_scope&, const json& args) {
  auto intent = arg_string(args, "payment_intent");
  auto state = arg_string(args, "state");
  if (state != "paid" && state != "released")
    throw op_error(app_errc::bad_request, "state must be paid or released");
  auto rows = tx.exec_params("select id from checkout_sessions where organization_id ="
                             " app_org_id() and stripe_payment_intent_id = $1",
                             intent);
  json events = json::array();
  if (!rows.empty())
    events = apply_payment_step(tx, {rows[0][0].as<std::string>(), intent, state})["events"];
  complete_timer(tx, arg_string(args, "timer_id"));
  return {{"events", events}};
}

json expire_authorizations(pqxx::transaction_base& tx, const db_scope&, const json& args) {
  auto released = tx.exec_params(
    "select sync_timer(app_org_id(), 'payment_release', r.id, now())"
    " from payments p join crowd_requests r"
    " on r.organization_id = p.organization_id and r.id = p.crowd_request_id"
    " where p.organization_id = app_org_id() and p.status = 'authorized'"
    " and r.status <> 'played' and p.created_at <= now() - make_interval(hours => $1)",
    authorization_hold_hours);
  // Re-arms for the next oldest authorization that is not being released now, else retires.
  tx.exec_params("select sync_timer(app_org_id(), 'payment_auth_expiry', app_org_id(),"
                 " (select min(p.created_at) from payments p where p.organization_id ="
                 "  app_org_id() and p.status = 'authorized' and p.crowd_request_id is not null"
                 "  and p.created_at > now() - make_interval(hours => $1))"
                 " + make_interval(hours => $1))",
                 authorization_hold_hours);
  auto still = tx.exec_params("select 1 from timers where organization_id = app_org_id()"
                              " and id = $1::uuid and done_at is null and due_at > now()",
                              arg_string(args, "timer_id"));
  if (still.empty())
    complete_timer(tx, arg_string(args, "timer_id"));
  return {{"released", static_cast<int64_t>(released.size())}};
}

} // namespace

json apply_payment_step(pqxx::transaction_base& tx, const payment_step& step) {
  auto status = payment_status_of(step.state);
  auto c = load_checkout(tx, step.checkout_id);
  json events = json::array();
  if (!c)
    return {{"changed", false}, {"events", events}};
  auto org = tx.exec("select app_org_id()::text")[0][0].as<std::string>();
  tx.exec_params("update checkout_sessions set stripe_payment_intent_id = $2"
                 " where organization_id = app_org_id() and id = $1::uuid"
                 " and stripe_payment_intent_id is null",
                 step.checkout_id, step.payment_intent);
  auto [payment_id, prev] = upsert_payment(tx, *c, step, status);
  auto changed = payment_rank(status) > payment_rank(prev);
  auto succeeded_now = status == "succeeded" && (prev.empty() || prev == "authorized");
  if (c->kind == "crowd_request") {
    auto e = advance_request(tx, org, *c, step);
    if (!e.is_null())
      events.push_back(std::move(e));
    if (changed && status == "authorized")
      arm_authorization_sweep(tx);
  } else if (succeeded_now) {
    advance_invoice(tx, *c);
  }
  if (succeeded_now) {
    auto what = c->kind == "invoice" ? "an invoice" : "a crowd request";
    tx.exec_params("insert into notifications (organization_id, kind, title, target_id, details)"
                   " values (app_org_id(), 'payment.succeeded', $1, $2::uuid, $3::jsonb)",
                   "Payment received: " + money(c->amount, c->currency) + " for " + what,
                   payment_id,
                   json{{"payment_id", payment_id}, {"kind", c->kind}, {"ref_id", c->ref_id},
                        {"amount_cents", c->amount}, {"currency", c->currency}}
                     .dump());
    events.push_back(
      event(org, "notifications", "payment.succeeded", load_payment(tx, payment_id)));
  }
  return {{"changed", changed}, {"events", events}};
}

void add_payment_operations(std::map<std::string, operation>& ops) {
  ops.emplace("payments.list", list);
  ops.emplace("stripe.account", account);
  ops.emplace("stripe.account_save", account_save);
  ops.emplace("checkout.record", checkout_record);
  ops.emplace("payments.timer_plan", timer_plan);
  ops.emplace("payments.timer_done", timer_done);
  ops.emplace("payments.expire_authorizations", expire_authorizations);
}

} // namespace djdash::persistence
