#include "persistence/sms_repo.hpp"

#include <algorithm>
#include <regex>

#include "persistence/repo_util.hpp"

namespace djdash::persistence {

namespace {

using json = nlohmann::json;

// A review window longer than a day is a typo, not a workflow.
constexpr int64_t max_review_window_s = 86400;
constexpr std::size_t max_body = 1600;

[[noreturn]] void bad(const std::string& message) {
  throw op_error(app_errc::bad_request, message);
}

bool is_uuid(const std::string& s) {
  static const std::regex re{"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
                             "[0-9a-fA-F]{12}$"};
  return std::regex_match(s, re);
}

bool is_e164(const std::string& s) {
  static const std::regex re{"^\\+[1-9][0-9]{6,14}$"};
  return std::regex_match(s, re);
}

/// An id argument: a string that is not a UUID names nothing (not found).
std::string id_arg(const json& args, const char* key, const char* what) {
  auto id = arg_string(args, key);
  if (!is_uuid(id))
    throw op_error(app_errc::not_found, std::string{"no such "} + what);
  return id;
}

std::string body_arg(const json& args) {
  auto body = arg_string(args, "body");
  if (body.empty() || body.size() > max_body)
    bad("body must be 1 to 1600 characters");
  return body;
}

constexpr auto conversation_columns
  = "c.id, c.customer_phone, c.contact_id, c.opted_out, to_jsonb(c.opted_out_at) #>> '{}',"
    " c.state::text, to_jsonb(c.last_message_at) #>> '{}', to_jsonb(c.created_at) #>> '{}',"
    " to_jsonb(c.updated_at) #>> '{}', c.version,"
    " to_jsonb(coalesce(c.last_message_at, c.created_at)) #>> '{}'";

json conversation_json(const pqxx::row& r) {
  return {{"id", r[0].as<std::string>()},
          {"customer_phone", r[1].as<std::string>()},
          {"contact_id", text_or_null(r[2])},
          {"opted_out", r[3].as<bool>()},
          {"opted_out_at", text_or_null(r[4])},
          {"state", jsonb(r[5])},
          {"last_message_at", text_or_null(r[6])},
          {"created_at", r[7].as<std::string>()},
          {"updated_at", r[8].as<std::string>()},
          {"version", r[9].as<int64_t>()}};
}

constexpr auto message_columns
  = "m.id, m.conversation_id, m.seq, m.direction, m.body, m.twilio_sid, m.status, m.intent,"
    " m.confidence, m.entities::text, m.tool_calls::text, m.reply_to,"
    " to_jsonb(m.send_after) #>> '{}', m.error_code, to_jsonb(m.sent_at) #>> '{}',"
    " to_jsonb(m.created_at) #>> '{}', to_jsonb(m.updated_at) #>> '{}', m.version";

json message_json(const pqxx::row& r) {
  return {{"id", r[0].as<std::string>()},
          {"conversation_id", r[1].as<std::string>()},
          {"seq", r[2].as<int64_t>()},
          {"direction", r[3].as<std::string>()},
          {"body", r[4].as<std::string>()},
          {"twilio_sid", text_or_null(r[5])},
          {"status", r[6].as<std::string>()},
          {"intent", text_or_null(r[7])},
          {"confidence", r[8].is_null() ? json(nullptr) : json(r[8].as<double>())},
          {"entities", r[9].is_null() ? json(nullptr) : jsonb(r[9])},
          {"tool_calls", jsonb(r[10])},
          {"reply_to", text_or_null(r[11])},
          {"send_after", text_or_null(r[12])},
          {"error_code", text_or_null(r[13])},
          {"sent_at", text_or_null(r[14])},
          {"created_at", r[15].as<std::string>()},
          {"updated_at", r[16].as<std::string>()},
          {"version", r[17].as<int64_t>()}};
}

json load_conversation(pqxx::transaction_base& tx, const std::string& id) {
  auto rows = tx.exec_params(std::string{"select "} + conversation_columns
                               + " from sms_conversations c where c.organization_id = app_org_id()"
                                 " and c.id = $1::uuid",
                             id);
  if (rows.empty())
    throw op_error(app_errc::not_found, "no such conversation");
  return conversation_json(rows[0]);
}

json load_message(pqxx::transaction_base& tx, const std::string& id) {
  auto rows = tx.exec_params(std::string{"select "} + message_columns
                               + " from sms_messages m where m.organization_id = app_org_id()"
                                 " and m.id = $1::uuid",
                             id);
  if (rows.empty())
    throw op_error(app_errc::not_found, "no such message");
  return message_json(rows[0]);
}

/// What the assistant needs to know about the organization; read fresh on every message so a
/// changed review window or name applies at once.
json org_info(pqxx::transaction_base& tx) {
  auto r = tx.exec1("select id, name, timezone, coalesce(sms_number, ''), settings::text"
                    " from organizations where id = app_org_id()");
  auto settings = jsonb(r[4]);
  int64_t window = 0;
  if (auto i = settings.find("sms_review_window_s");
      i != settings.end() && i->is_number_integer())
    window = std::clamp<int64_t>(i->get<int64_t>(), 0, max_review_window_s);
  json org{{"id", r[0].as<std::string>()},
           {"name", r[1].as<std::string>()},
           {"timezone", r[2].as<std::string>()},
           {"review_window_s", window}};
  auto number = r[3].as<std::string>();
  org["sms_number"] = number.empty() ? json(nullptr) : json(number);
  for (auto key : {"contact_email", "contact_phone"})
    if (auto i = settings.find(key); i != settings.end() && i->is_string())
      org[key] = *i;
  return org;
}

/// Links the conversation to the contact with its phone number, when it has none yet.
void link_contact(pqxx::transaction_base& tx, const std::string& conversation_id) {
  tx.exec_params("update sms_conversations c set contact_id = k.id from contacts k"
                 " where c.organization_id = app_org_id() and c.id = $1::uuid"
                 " and c.contact_id is null and k.organization_id = c.organization_id"
                 " and k.phone = c.customer_phone",
                 conversation_id);
}

json org_by_number(pqxx::transaction_base& tx, const db_scope&, const json& args) {
  auto number = arg_string(args, "number");
  if (!is_e164(number))
    throw op_error(app_errc::not_found, "no organization uses that number");
  auto r = tx.exec_params1("select organization_id_by_sms_number($1)::text", number);
  if (r[0].is_null())
    throw op_error(app_errc::not_found, "no organization uses that number");
  return {{"organization_id", r[0].as<std::string>()}};
}

json open(pqxx::transaction_base& tx, const db_scope&, const json& args) {
  auto phone = arg_string(args, "customer_phone");
  if (!is_e164(phone))
    bad("customer_phone must be an E.164 number like +19015551234");
  tx.exec_params("insert into sms_conversations (organization_id, customer_phone)"
                 " values (app_org_id(), $1) on conflict (organization_id, customer_phone)"
                 " do nothing",
                 phone);
  auto id = tx.exec_params1("select id from sms_conversations where organization_id = app_org_id()"
                            " and customer_phone = $1",
                            phone)[0]
              .as<std::string>();
  link_contact(tx, id);
  return {{"conversation", load_conversation(tx, id)}, {"org", org_info(tx)}};
}

json record_inbound(pqxx::transaction_base& tx, const db_scope&, const json& args) {
  auto conversation = id_arg(args, "conversation_id", "conversation");
  auto sid = arg_string(args, "twilio_sid");
  static const std::regex sid_re{"^[A-Za-z0-9]{2,64}$"};
  if (!std::regex_match(sid, sid_re))
    bad("twilio_sid must be Twilio's MessageSid");
  auto body = arg_string(args, "body");
  if (body.size() > max_body)
    bad("body must be at most 1600 characters");
  load_conversation(tx, conversation);  // 404 before anything is written
  auto inserted = tx.exec_params(
    "insert into sms_messages (organization_id, conversation_id, direction, body, twilio_sid,"
    " status) values (app_org_id(), $1::uuid, 'in', $2, $3, 'received')"
    " on conflict (organization_id, twilio_sid) where twilio_sid is not null do nothing"
    " returning id",
    conversation, body, sid);
  if (inserted.empty()) {
    auto existing = tx.exec_params1("select id from sms_messages where organization_id ="
                                    " app_org_id() and twilio_sid = $1",
                                    sid)[0]
                      .as<std::string>();
    return {{"duplicate", true},
            {"message", load_message(tx, existing)},
            {"conversation", load_conversation(tx, conversation)},
            {"org", org_info(tx)}};
  }
  auto id = inserted[0][0].as<std::string>();
  tx.exec_params("update sms_conversations set last_message_at = now()"
                 " where organization_id = app_org_id() and id = $1::uuid",
                 conversation);
  link_contact(tx, conversation);
  return {{"duplicate", false},
          {"message", load_message(tx, id)},
          {"conversation", load_conversation(tx, conversation)},
          {"org", org_info(tx)}};
}

json record_turn(pqxx::transaction_base& tx, const db_scope&, const json& args) {
  auto conversation = id_arg(args, "conversation_id", "conversation");
  auto inbound = id_arg(args, "inbound_id", "message");
  auto version = arg_int(args, "version", -1);
  auto delay = std::clamp<int64_t>(arg_int(args, "draft_delay_s", 0), 0, max_review_window_s);
  auto key = arg_string(args, "key");
  // The state and the opt-out flag, under the version this turn started from.
  std::optional<std::string> state;
  if (auto i = args.find("state"); i != args.end() && !i->is_null()) {
    if (!i->is_object())
      bad("state must be an object");
    state = i->dump();
  }
  std::optional<bool> opted_out;
  if (auto i = args.find("opted_out"); i != args.end() && i->is_boolean())
    opted_out = i->get<bool>();
  auto updated = tx.exec_params(
    "update sms_conversations set state = coalesce($2::jsonb, state),"
    " opted_out = coalesce($3, opted_out),"
    " opted_out_at = case when $3 is null then opted_out_at when $3 then now() else null end,"
    " last_message_at = now()"
    " where organization_id = app_org_id() and id = $1::uuid and version = $4 returning id",
    conversation, state, opted_out, version);
  if (updated.empty()) {
    load_conversation(tx, conversation);  // 404 when it is gone
    throw op_error(app_errc::conflict, "the conversation changed meanwhile (stale version)");
  }
  // What the assistant understood of the inbound message, and the tools it called.
  json classification = args.value("classification", json(nullptr));
  json tools = args.value("tool_calls", json::array());
  if (!tools.is_array())
    bad("tool_calls must be an array");
  std::optional<std::string> intent;
  std::optional<double> confidence;
  std::optional<std::string> entities;
  if (classification.is_object()) {
    if (auto i = classification.find("intent"); i != classification.end() && i->is_string())
      intent = i->get<std::string>();
    if (auto i = classification.find("confidence"); i != classification.end() && i->is_number())
      confidence = i->get<double>();
    if (auto i = classification.find("entities"); i != classification.end() && i->is_object())
      entities = i->dump();
  }
  auto touched = tx.exec_params(
    "update sms_messages set intent = $3, confidence = $4, entities = $5::jsonb,"
    " tool_calls = $6::jsonb where organization_id = app_org_id() and id = $2::uuid"
    " and conversation_id = $1::uuid and direction = 'in' returning id",
    conversation, inbound, intent, confidence, entities, tools.dump());
  if (touched.empty())
    throw op_error(app_errc::not_found, "no such inbound message in this conversation");
  json reply = nullptr;
  if (auto text = arg_opt_string(args, "reply"); text && !text->empty()) {
    if (text->size() > max_body)
      text->resize(max_body);  // a reply is ours: cut it rather than lose the turn
    auto id = delay == 0
                ? tx.exec_params1("insert into sms_messages (organization_id, conversation_id,"
                                  " direction, body, status, reply_to, sent_at) values"
                                  " (app_org_id(), $1::uuid, 'out', $2, 'sent', $3::uuid, now())"
                                  " returning id",
                                  conversation, *text, inbound)[0]
                    .as<std::string>()
                : tx.exec_params1("insert into sms_messages (organization_id, conversation_id,"
                                  " direction, body, status, reply_to, send_after) values"
                                  " (app_org_id(), $1::uuid, 'out', $2, 'draft', $3::uuid,"
                                  " now() + make_interval(secs => $4)) returning id",
                                  conversation, *text, inbound, delay)[0]
                    .as<std::string>();
    if (delay > 0)
      tx.exec_params("insert into timers (organization_id, kind, target_id, due_at, payload)"
                     " values (app_org_id(), 'sms_send_draft', $1::uuid,"
                     " now() + make_interval(secs => $2), jsonb_build_object('key', $3::text))",
                     id, delay, key);
    reply = load_message(tx, id);
  }
  return {{"conversation", load_conversation(tx, conversation)}, {"reply", reply}};
}

/// Retires the auto-send timer of a draft (sent, edited or cancelled by then).
void retire_timer(pqxx::transaction_base& tx, const std::string& message_id) {
  tx.exec_params("update timers set done_at = now() where organization_id = app_org_id()"
                 " and kind = 'sms_send_draft' and target_id = $1::uuid and done_at is null",
                 message_id);
}

json claim_draft(pqxx::transaction_base& tx, const db_scope&, const json& args) {
  auto id = id_arg(args, "message_id", "message");
  auto rows = tx.exec_params(
    "select m.status, c.opted_out, c.customer_phone, coalesce(o.sms_number, '')"
    " from sms_messages m join sms_conversations c on c.organization_id = m.organization_id"
    " and c.id = m.conversation_id join organizations o on o.id = m.organization_id"
    " where m.organization_id = app_org_id() and m.id = $1::uuid and m.direction = 'out'"
    " for update of m",
    id);
  retire_timer(tx, id);  // whatever happens below, this draft's timer has done its job
  if (rows.empty())
    return {{"message", nullptr}};
  if (rows[0][0].as<std::string>() != "draft")
    return {{"message", load_message(tx, id)}};  // sent, edited away or cancelled meanwhile
  if (rows[0][1].as<bool>()) {
    // The customer opted out after the draft was written: it must never go out.
    tx.exec_params("update sms_messages set status = 'cancelled' where organization_id ="
                   " app_org_id() and id = $1::uuid",
                   id);
    return {{"message", load_message(tx, id)}, {"cancelled", true}};
  }
  auto from = rows[0][3].as<std::string>();
  if (from.empty()) {
    // The number was removed since the draft was written: nothing to send it from.
    tx.exec_params("update sms_messages set status = 'failed', error_code = 'no_sms_number'"
                   " where organization_id = app_org_id() and id = $1::uuid",
                   id);
    return {{"message", load_message(tx, id)}, {"cancelled", false}};
  }
  tx.exec_params("update sms_messages set status = 'queued' where organization_id = app_org_id()"
                 " and id = $1::uuid",
                 id);
  return {{"message", load_message(tx, id)},
          {"to", rows[0][2].as<std::string>()},
          {"from", from},
          {"cancelled", false}};
}

/// How far along a status is: callbacks may arrive out of order, a status never goes back.
int status_rank(const std::string& s) {
  if (s == "draft")
    return 0;
  if (s == "queued")
    return 1;
  if (s == "sending")
    return 2;
  if (s == "sent")
    return 3;
  if (s == "delivered" || s == "undelivered" || s == "failed")
    return 4;
  return -1;
}

/// Twilio's MessageStatus values in our vocabulary; empty for ones that are not about delivery.
std::string our_status(const std::string& twilio) {
  if (twilio == "accepted" || twilio == "scheduled" || twilio == "queued")
    return "queued";
  if (twilio == "sending" || twilio == "sent" || twilio == "delivered" || twilio == "undelivered"
      || twilio == "failed")
    return twilio;
  if (twilio == "read")
    return "delivered";
  return {};
}

json mark_sent(pqxx::transaction_base& tx, const db_scope&, const json& args) {
  auto id = id_arg(args, "message_id", "message");
  auto status = our_status(arg_string(args, "status"));
  if (status.empty())
    bad("status must be a Twilio message status");
  auto sid = arg_opt_string(args, "twilio_sid");
  auto error = arg_opt_string(args, "error_code");
  auto rows = tx.exec_params(
    "update sms_messages set status = $2, twilio_sid = coalesce($3, twilio_sid),"
    " error_code = $4, sent_at = case when $2 = 'failed' then sent_at else now() end"
    " where organization_id = app_org_id() and id = $1::uuid and direction = 'out'"
    " returning id",
    id, status, sid, error);
  if (rows.empty())
    throw op_error(app_errc::not_found, "no such message");
  return load_message(tx, id);
}

json delivery_status(pqxx::transaction_base& tx, const db_scope&, const json& args) {
  auto sid = arg_string(args, "twilio_sid");
  auto status = our_status(arg_string(args, "status"));
  if (status.empty())
    return {{"updated", false}};  // e.g. "receiving": nothing to record
  auto error = arg_opt_string(args, "error_code");
  auto rows = tx.exec_params("select id, status from sms_messages where organization_id ="
                             " app_org_id() and twilio_sid = $1 and direction = 'out' for update",
                             sid);
  if (rows.empty())
    return {{"updated", false}};
  if (status_rank(status) <= status_rank(rows[0][1].as<std::string>()))
    return {{"updated", false}};
  tx.exec_params("update sms_messages set status = $2, error_code = coalesce($3, error_code)"
                 " where organization_id = app_org_id() and id = $1::uuid",
                 rows[0][0].as<std::string>(), status, error);
  return {{"updated", true}, {"message", load_message(tx, rows[0][0].as<std::string>())}};
}

json list_conversations(pqxx::transaction_base& tx, const db_scope&, const json& args) {
  auto page = read_page(args);
  auto rows = tx.exec_params(
    std::string{"select "} + conversation_columns
      + ", (select m.body from sms_messages m where m.organization_id = c.organization_id"
        " and m.conversation_id = c.id order by m.seq desc limit 1)"
        " from sms_conversations c where c.organization_id = app_org_id()"
        " and ($1 = '' or (coalesce(c.last_message_at, c.created_at), c.id)"
        " < ($1::timestamptz, nullif($2, '')::uuid))"
        " order by coalesce(c.last_message_at, c.created_at) desc, c.id desc limit $3",
    page.after_ts, page.after_id, page.limit + 1);
  return page_result(rows, page, 10, 0, [](const pqxx::row& r) {
    auto c = conversation_json(r);
    c["last_message"] = text_or_null(r[11]);
    return c;
  });
}

json get_conversation(pqxx::transaction_base& tx, const db_scope&, const json& args) {
  auto id = id_arg(args, "id", "conversation");
  auto c = load_conversation(tx, id);
  auto rows = tx.exec_params(std::string{"select "} + message_columns
                               + " from sms_messages m where m.organization_id = app_org_id()"
                                 " and m.conversation_id = $1::uuid order by m.seq",
                             id);
  auto messages = json::array();
  for (const auto& r : rows)
    messages.push_back(message_json(r));
  c["messages"] = std::move(messages);
  return c;
}

/// The draft `message_id` of conversation `conversation_id`, locked; 404 for anything else.
pqxx::row draft_row(pqxx::transaction_base& tx, const json& args) {
  auto conversation = id_arg(args, "conversation_id", "conversation");
  auto message = id_arg(args, "message_id", "message");
  load_conversation(tx, conversation);
  auto rows = tx.exec_params("select m.status, c.organization_id::text || '|' || c.customer_phone"
                             " from sms_messages m join sms_conversations c"
                             " on c.organization_id = m.organization_id and c.id = m.conversation_id"
                             " where m.organization_id = app_org_id() and m.id = $1::uuid"
                             " and m.conversation_id = $2::uuid and m.direction = 'out'"
                             " for update of m",
                             message, conversation);
  if (rows.empty())
    throw op_error(app_errc::not_found, "no such message in this conversation");
  return rows[0];
}

json draft_target(pqxx::transaction_base& tx, const db_scope&, const json& args) {
  auto r = draft_row(tx, args);
  auto status = r[0].as<std::string>();
  if (status != "draft")
    throw op_error(app_errc::conflict, "the message is " + status + ", not a draft");
  return {{"key", r[1].as<std::string>()}, {"status", status}};
}

json edit_draft(pqxx::transaction_base& tx, const db_scope&, const json& args) {
  for (auto& [k, v] : args.items())
    if (k != "conversation_id" && k != "message_id" && k != "body")
      bad(k + " cannot be changed on a draft (only body)");
  auto body = body_arg(args);
  auto r = draft_row(tx, args);
  if (r[0].as<std::string>() != "draft")
    throw op_error(app_errc::conflict, "the message is " + r[0].as<std::string>()
                                         + ", not a draft");
  auto id = args["message_id"].get<std::string>();
  // The DJ took the draft over: it goes out when they send it, not by the timer.
  retire_timer(tx, id);
  tx.exec_params("update sms_messages set body = $2, send_after = null where organization_id ="
                 " app_org_id() and id = $1::uuid",
                 id, body);
  return load_message(tx, id);
}

json cancel_draft(pqxx::transaction_base& tx, const db_scope&, const json& args) {
  auto r = draft_row(tx, args);
  if (r[0].as<std::string>() != "draft")
    throw op_error(app_errc::conflict, "the message is " + r[0].as<std::string>()
                                         + ", not a draft");
  auto id = args["message_id"].get<std::string>();
  retire_timer(tx, id);
  tx.exec_params("update sms_messages set status = 'cancelled', send_after = null"
                 " where organization_id = app_org_id() and id = $1::uuid",
                 id);
  return load_message(tx, id);
}

} // namespace

void add_sms_operations(std::map<std::string, operation>& ops) {
  ops.emplace("sms.org_by_number", org_by_number);
  ops.emplace("sms.open", open);
  ops.emplace("sms.record_inbound", record_inbound);
  ops.emplace("sms.record_turn", record_turn);
  ops.emplace("sms.claim_draft", claim_draft);
  ops.emplace("sms.mark_sent", mark_sent);
  ops.emplace("sms.status", delivery_status);
  ops.emplace("sms.conversations.list", list_conversations);
  ops.emplace("sms.conversations.get", get_conversation);
  ops.emplace("sms.drafts.target", draft_target);
  ops.emplace("sms.drafts.edit", edit_draft);
  ops.emplace("sms.drafts.cancel", cancel_draft);
}

} // namespace djdash::persistence
