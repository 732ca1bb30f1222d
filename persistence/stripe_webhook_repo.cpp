#include "persistence/stripe_webhook_repo.hpp"

#include <regex>

#include "persistence/payment_repo.hpp"
#include "persistence/repo_util.hpp"

namespace djdash::persistence {

namespace {

using json = nlohmann::json;

std::string str(const json& obj, const char* key) {
  auto i = obj.find(key);
  return i != obj.end() && i->is_string() ? i->get<std::string>() : std::string{};
}

bool flag(const json& obj, const char* key) {
  auto i = obj.find(key);
  return i != obj.end() && i->is_boolean() && i->get<bool>();
}

bool is_uuid(const std::string& s) {
  static const std::regex re{"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
                             "[0-9a-fA-F]{12}$"};
  return std::regex_match(s, re);
}

/// Runs a SECURITY DEFINER lookup returning an org id (or null); enters that org when found.
bool enter_org_by(pqxx::transaction_base& tx, const char* fn, const std::string& key,
                  std::string& org) {
  if (key.empty())
    return false;
  auto r = tx.exec_params1(std::string{"select "} + fn + "($1)::text", key);
  if (r[0].is_null())
    return false;
  org = r[0].as<std::string>();
  set_local(tx, "app.org_id", org);
  return true;
}

std::string checkout_by(pqxx::transaction_base& tx, const char* column, const std::string& v) {
  auto rows = tx.exec_params(std::string{"select id from checkout_sessions where organization_id"
                                         " = app_org_id() and "}
                               + column + " = $1 limit 1",
                             v);
  return rows.empty() ? std::string{} : rows[0][0].as<std::string>();
}

/// Finds our checkout for a PaymentIntent: by the id we stored, else (an intent event that
/// overtook checkout.session.completed) by the metadata we put on the intent, checked against
/// our own rows under that org's RLS.
std::string checkout_for_intent(pqxx::transaction_base& tx, const json& pi, std::string& org) {
  auto id = str(pi, "id");
  if (enter_org_by(tx, "stripe_payment_intent_org", id, org))
    if (auto c = checkout_by(tx, "stripe_payment_intent_id", id); !c.empty())
      return c;
  auto meta = pi.value("metadata", json::object());
  if (!meta.is_object())
    return {};
  auto meta_org = str(meta, "djdash_org"), meta_checkout = str(meta, "djdash_checkout");
  if (!is_uuid(meta_org) || !is_uuid(meta_checkout))
    return {};
  set_local(tx, "app.org_id", meta_org);
  auto c = checkout_by(tx, "id::text", meta_checkout);
  if (c.empty()) {
    set_local(tx, "app.org_id", "");
    return {};
  }
  org = meta_org;
  return c;
}

/// Applies one event; returns the events to publish, or null when the event is not ours.
json apply(pqxx::transaction_base& tx, const std::string& type, const json& ev,
           const json& obj, std::string& org) {
  if (type == "checkout.session.completed") {
    auto session = str(obj, "id"), intent = str(obj, "payment_intent");
    if (intent.empty() && obj.contains("payment_intent") && obj["payment_intent"].is_object())
      intent = str(obj["payment_intent"], "id");  // expanded
    if (!enter_org_by(tx, "stripe_session_org", session, org) || intent.empty())
      return nullptr;
    auto checkout = checkout_by(tx, "stripe_checkout_session_id", session);
    auto manual = tx.exec_params("select manual_capture from checkout_sessions where"
                                 " organization_id = app_org_id() and id = $1::uuid",
                                 checkout);
    auto paid = str(obj, "payment_status");
    std::string state;
    if (paid == "paid" || paid == "no_payment_required")
      state = "paid";
    else if (paid == "unpaid" && !manual.empty() && manual[0][0].as<bool>())
      state = "authorized";
    else
      return json::array();  // a delayed method: async_payment_* or payment_intent.* follow
    return apply_payment_step(tx, {checkout, intent, state})["events"];
  }
  if (type.rfind("payment_intent.", 0) == 0) {
    std::string state;
    if (type == "payment_intent.amount_capturable_updated")
      state = str(obj, "status") == "requires_capture" ? "authorized" : "";
    else if (type == "payment_intent.succeeded")
      state = "paid";
    else if (type == "payment_intent.canceled")
      state = "released";
    if (state.empty())
      return nullptr;
    auto checkout = checkout_for_intent(tx, obj, org);
    if (checkout.empty())
      return nullptr;
    return apply_payment_step(tx, {checkout, str(obj, "id"), state})["events"];
  }
  if (type == "charge.refunded") {
    // Only a full refund changes the payment's status; a partial one is recorded as received.
    auto intent = str(obj, "payment_intent");
    if (!flag(obj, "refunded") || !enter_org_by(tx, "stripe_payment_intent_org", intent, org))
      return nullptr;
    auto checkout = checkout_by(tx, "stripe_payment_intent_id", intent);
    if (checkout.empty())
      return nullptr;
    return apply_payment_step(tx, {checkout, intent, "refunded"})["events"];
  }
  if (type == "account.updated") {
    if (!enter_org_by(tx, "stripe_account_org", str(obj, "id"), org))
      return nullptr;
    // Events may arrive out of order: a flag set by an older event never overwrites a newer one.
    auto created = ev.value("created", json(0));
    tx.exec_params("update stripe_accounts set charges_enabled = $1, payouts_enabled = $2,"
                   " details_submitted = $3, stripe_state_at = $4"
                   " where organization_id = app_org_id() and stripe_state_at <= $4",
                   flag(obj, "charges_enabled"), flag(obj, "payouts_enabled"),
                   flag(obj, "details_submitted"),
                   created.is_number_integer() ? created.get<int64_t>() : 0);
    return json::array();
  }
  return nullptr;
}

json webhook(pqxx::transaction_base& tx, const db_scope&, const json& args) {
  auto i = args.find("event");
  if (i == args.end() || !i->is_object())
    throw op_error(app_errc::bad_request, "event must be a Stripe event object");
  auto& ev = *i;
  auto id = str(ev, "id"), type = str(ev, "type");
  auto data = ev.value("data", json::object());
  if (id.empty() || id.size() > 255 || type.empty() || !data.is_object()
      || !data.value("object", json()).is_object())
    throw op_error(app_errc::bad_request, "event needs id, type and data.object");
  if (!tx.exec_params1("select stripe_record_event($1, $2)", id, type)[0].as<bool>())
    return {{"duplicate", true}, {"applied", false}, {"events", json::array()}};
  std::string org;
  auto events = apply(tx, type, ev, data["object"], org);
  auto applied = !events.is_null();
  tx.exec_params("select stripe_finish_event($1, nullif($2, '')::uuid, $3)", id, org, applied);
  return {{"duplicate", false}, {"applied", applied},
          {"events", applied ? events : json::array()}};
}

} // namespace

void add_stripe_webhook_operations(std::map<std::string, operation>& ops) {
  ops.emplace("stripe.webhook", webhook);
}

} // namespace djdash::persistence
