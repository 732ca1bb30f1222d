#include "persistence/reminder_repo.hpp"

#include "persistence/repo_util.hpp"

namespace djdash::persistence {

namespace {

using json = nlohmann::json;

void notify(pqxx::transaction_base& tx, const std::string& kind, const std::string& title,
            const std::string& target, const json& details) {
  tx.exec_params("insert into notifications (organization_id, kind, title, target_id, details)"
                 " values (app_org_id(), $1, $2, $3::uuid, $4::jsonb)",
                 kind, title, target, details.dump());
}

bool remind_overdue_invoice(pqxx::transaction_base& tx, const std::string& invoice_id) {
  auto rows = tx.exec_params(
    "select i.number, i.contact_id, i.total_cents - i.paid_cents, i.currency from invoices i"
    " join organizations o on o.id = i.organization_id"
    " where i.organization_id = app_org_id() and i.id = $1::uuid and i.status = 'sent'"
    " and i.due_date < (now() at time zone o.timezone)::date",
    invoice_id);
  if (rows.empty())
    return false;  // paid, voided or rescheduled meanwhile
  auto r = rows[0];
  auto number = r[0].as<std::string>();
  auto title = "Invoice " + number + " is overdue: follow up";
  tx.exec_params("insert into tasks (organization_id, title, contact_id)"
                 " values (app_org_id(), $1, $2::uuid)",
                 title, text_or_null(r[1]).is_null() ? std::optional<std::string>{}
                                                     : std::optional{r[1].as<std::string>()});
  notify(tx, "invoice.overdue", title, invoice_id,
         {{"number", number}, {"outstanding_cents", r[2].as<int64_t>()},
          {"currency", r[3].as<std::string>()}});
  return true;
}

bool remind_task(pqxx::transaction_base& tx, const std::string& task_id) {
  auto rows = tx.exec_params("select title, contact_id from tasks where organization_id ="
                             " app_org_id() and id = $1::uuid and not done and due_at <= now()",
                             task_id);
  if (rows.empty())
    return false;  // done or moved meanwhile
  notify(tx, "task.due", "Follow-up due: " + rows[0][0].as<std::string>(), task_id,
         {{"contact_id", text_or_null(rows[0][1])}});
  return true;
}

json remind(pqxx::transaction_base& tx, const db_scope&, const json& args) {
  auto kind = arg_string(args, "kind");
  auto target = arg_string(args, "target_id");
  bool notified = false;
  if (kind == "invoice_overdue")
    notified = remind_overdue_invoice(tx, target);
  else if (kind == "followup_reminder")
    notified = remind_task(tx, target);
  else
    throw op_error(app_errc::bad_request, "not a reminder kind");
  tx.exec_params("update timers set done_at = now() where organization_id = app_org_id()"
                 " and id = $1::uuid and due_at <= now()",
                 arg_string(args, "id"));
  return {{"notified", notified}};
}

json notification_json(const pqxx::row& r) {
  return {{"id", r[0].as<std::string>()},        {"organization_id", r[1].as<std::string>()},
          {"kind", r[2].as<std::string>()},      {"title", r[3].as<std::string>()},
          {"target_id", text_or_null(r[4])},     {"details", jsonb(r[5])},
          {"read_at", text_or_null(r[6])},       {"created_at", r[7].as<std::string>()}};
}

json list(pqxx::transaction_base& tx, const db_scope&, const json& args) {
  auto page = read_page(args);
  auto rows = tx.exec_params(
    "select id, organization_id, kind, title, target_id, details::text,"
    " to_jsonb(read_at) #>> '{}', to_jsonb(created_at) #>> '{}' from notifications"
    " where organization_id = app_org_id()"
    " and ($1 = '' or (created_at, id) < ($1::timestamptz, nullif($2, '')::uuid))"
    " order by created_at desc, id desc limit $3",
    page.after_ts, page.after_id, page.limit + 1);
  return page_result(rows, page, 7, 0, notification_json);
}

} // namespace

void add_reminder_operations(std::map<std::string, operation>& ops) {
  ops.emplace("timers.remind", remind);
  ops.emplace("notifications.list", list);
}

} // namespace djdash::persistence
