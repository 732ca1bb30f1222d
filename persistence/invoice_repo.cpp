#include "persistence/invoice_repo.hpp"

#include <regex>
#include <set>

#include "persistence/repo_util.hpp"
#include "protocols/pricing.hpp"

namespace djdash::persistence {

namespace {

using json = nlohmann::json;

constexpr int64_t max_cents = 1'000'000'000;

// "Today" is the organization's local date: an invoice due on the 14th is overdue from the
// 15th where the DJ lives, not from midnight UTC.
constexpr auto invoice_columns
  = "i.id, i.organization_id, i.seq, i.number, i.contact_id, i.event_id, i.status, i.currency,"
    " i.line_items::text, i.total_cents, i.deposit_cents, i.paid_cents, i.due_date::text,"
    " i.notes, to_jsonb(i.sent_at) #>> '{}', to_jsonb(i.paid_at) #>> '{}',"
    " to_jsonb(i.voided_at) #>> '{}', to_jsonb(i.created_at) #>> '{}',"
    " to_jsonb(i.updated_at) #>> '{}', i.version,"
    " coalesce(i.status = 'sent' and i.due_date < (now() at time zone o.timezone)::date, false)";

constexpr auto invoice_from
  = " from invoices i join organizations o on o.id = i.organization_id"
    " where i.organization_id = app_org_id()";

/// What a payment would take now: the deposit first, then the rest.
int64_t amount_due(const std::string& status, int64_t total, int64_t deposit, int64_t paid) {
  if (status == "paid" || status == "void")
    return 0;
  return paid < deposit ? deposit - paid : total - paid;
}

json invoice_json(const pqxx::row& r) {
  auto status = r[6].as<std::string>();
  auto total = r[9].as<int64_t>(), deposit = r[10].as<int64_t>(), paid = r[11].as<int64_t>();
  return {{"id", r[0].as<std::string>()},
          {"organization_id", r[1].as<std::string>()},
          {"seq", r[2].as<int64_t>()},
          {"number", r[3].as<std::string>()},
          {"contact_id", text_or_null(r[4])},
          {"event_id", text_or_null(r[5])},
          {"status", status},
          {"currency", r[7].as<std::string>()},
          {"line_items", json::parse(r[8].as<std::string>())},
          {"total_cents", total},
          {"deposit_cents", deposit},
          {"balance_cents", total - deposit},
          {"paid_cents", paid},
          {"amount_due_cents", amount_due(status, total, deposit, paid)},
          {"due_date", text_or_null(r[12])},
          {"overdue", r[20].as<bool>()},
          {"notes", r[13].as<std::string>()},
          {"sent_at", text_or_null(r[14])},
          {"paid_at", text_or_null(r[15])},
          {"voided_at", text_or_null(r[16])},
          {"created_at", r[17].as<std::string>()},
          {"updated_at", r[18].as<std::string>()},
          {"version", r[19].as<int64_t>()}};
}

[[noreturn]] void bad(const std::string& message) {
  throw op_error(app_errc::bad_request, message);
}

void only_fields(const json& args, const std::set<std::string>& allowed) {
  for (auto& [key, value] : args.items())
    if (allowed.count(key) == 0)
      bad(key + " is not a field of an invoice");
}

std::optional<std::string> arg_opt_uuid(const json& args, const char* key) {
  static const std::regex re{"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
                             "[0-9a-fA-F]{12}$"};
  auto value = arg_opt_string(args, key);
  if (value && !std::regex_match(*value, re))
    bad(std::string{key} + " must be a UUID");
  return value;
}

/// Line items with each line's amount; `total` receives their sum.
json read_line_items(const json& items, int64_t& total) {
  if (!items.is_array() || items.empty() || items.size() > 100)
    bad("line_items must be an array of 1 to 100 items {description, quantity, unit_cents}");
  json out = json::array();
  total = 0;
  for (auto& item : items) {
    auto i = std::to_string(out.size());
    if (!item.is_object() || item.size() != 3 || !item.contains("description")
        || !item.contains("quantity") || !item.contains("unit_cents"))
      bad("line_items[" + i + "] must be {description, quantity, unit_cents}");
    auto& d = item["description"];
    if (!d.is_string() || d.get<std::string>().empty() || d.get<std::string>().size() > 500)
      bad("line_items[" + i + "].description must be 1 to 500 characters");
    auto& q = item["quantity"];
    if (!q.is_number_integer() || q.get<int64_t>() < 1 || q.get<int64_t>() > 10000)
      bad("line_items[" + i + "].quantity must be an integer from 1 to 10000");
    auto& u = item["unit_cents"];
    if (!u.is_number_integer() || u.get<int64_t>() < 0 || u.get<int64_t>() > max_cents)
      bad("line_items[" + i + "].unit_cents must be an integer number of cents from 0 to "
          "1000000000");
    auto amount = q.get<int64_t>() * u.get<int64_t>();
    total += amount;
    out.push_back({{"description", d}, {"quantity", q}, {"unit_cents", u},
                   {"amount_cents", amount}});
  }
  return out;
}

std::optional<std::string> arg_opt_date(const json& args, const char* key) {
  auto value = arg_opt_string(args, key);
  if (value && !pricing::weekday_of(*value))
    bad(std::string{key} + " must be a calendar date written YYYY-MM-DD");
  return value;
}

std::optional<std::string> arg_opt_currency(const json& args) {
  static const std::regex re{"^[a-z]{3}$"};
  auto value = arg_opt_string(args, "currency");
  if (value && !std::regex_match(*value, re))
    bad("currency must be a lowercase ISO 4217 code like \"usd\"");
  return value;
}

std::optional<std::string> arg_opt_notes(const json& args) {
  auto value = arg_opt_string(args, "notes");
  if (value && value->size() > 20000)
    bad("notes must be at most 20000 characters");
  return value;
}

void require_row(pqxx::transaction_base& tx, const char* table, const std::string& id,
                 const char* what) {
  if (tx.exec_params(std::string{"select 1 from "} + table
                       + " where organization_id = app_org_id() and id = $1::uuid",
                     id)
        .empty())
    throw op_error(app_errc::not_found, std::string{"no such "} + what);
}

/// The links an invoice may have; each must exist in the caller's organization.
void require_links(pqxx::transaction_base& tx, const std::optional<std::string>& contact,
                   const std::optional<std::string>& event) {
  if (contact)
    require_row(tx, "contacts", *contact, "contact");
  if (event)
    require_row(tx, "events", *event, "event");
}

int64_t valid_deposit(const json& args, int64_t fallback, int64_t total) {
  auto deposit = arg_int(args, "deposit_cents", fallback);
  if (deposit < 0 || deposit > total)
    bad("deposit_cents must be from 0 to the invoice total (" + std::to_string(total) + ")");
  return deposit;
}

/// The organization's default currency: its pricing rules' currency, else usd.
std::string org_currency(pqxx::transaction_base& tx) {
  auto r = tx.exec1("select coalesce(settings #>> '{pricing,currency}', 'usd')"
                    " from organizations where id = app_org_id()");
  auto c = r[0].as<std::string>();
  return std::regex_match(c, std::regex{"^[a-z]{3}$"}) ? c : "usd";
}

json load(pqxx::transaction_base& tx, const std::string& id) {
  auto rows = tx.exec_params(std::string{"select "} + invoice_columns + invoice_from
                               + " and i.id = $1::uuid",
                             id);
  if (rows.empty())
    throw op_error(app_errc::not_found, "no such invoice");
  return invoice_json(rows[0]);
}

/// Takes the next number of the organization. The counter row stays locked until the creating
/// transaction ends, so concurrent creations queue here and a rollback returns the number.
int64_t next_seq(pqxx::transaction_base& tx) {
  return tx
    .exec1("insert into invoice_counters (organization_id, last_seq) values (app_org_id(), 1)"
           " on conflict (organization_id) do update"
           " set last_seq = invoice_counters.last_seq + 1 returning last_seq")[0]
    .as<int64_t>();
}

std::string format_number(int64_t seq) {
  auto digits = std::to_string(seq);
  return "INV-" + std::string(digits.size() < 4 ? 4 - digits.size() : 0, '0') + digits;
}

json create(pqxx::transaction_base& tx, const db_scope&, const json& args) {
  only_fields(args, {"line_items", "contact_id", "event_id", "deposit_cents", "due_date",
                     "currency", "notes"});
  if (!args.contains("line_items"))
    bad("line_items is required");
  int64_t total = 0;
  auto items = read_line_items(args["line_items"], total);
  auto deposit = valid_deposit(args, 0, total);
  auto due = arg_opt_date(args, "due_date");
  auto currency = arg_opt_currency(args);
  auto notes = arg_opt_notes(args);
  auto contact = arg_opt_uuid(args, "contact_id");
  auto event = arg_opt_uuid(args, "event_id");
  require_links(tx, contact, event);
  auto seq = next_seq(tx);
  auto id = tx.exec_params1(
                "insert into invoices (organization_id, seq, number, contact_id, event_id,"
                " currency, line_items, total_cents, deposit_cents, due_date, notes)"
                " values (app_org_id(), $1, $2, $3::uuid, $4::uuid, $5, $6::jsonb, $7, $8,"
                " $9::date, $10) returning id",
                seq, format_number(seq), contact, event,
                currency.value_or(org_currency(tx)), items.dump(), total, deposit, due,
                notes.value_or(""))[0]
              .as<std::string>();
  return load(tx, id);
}

json get(pqxx::transaction_base& tx, const db_scope&, const json& args) {
  auto id = arg_opt_uuid(args, "id");
  if (!id)
    throw op_error(app_errc::not_found, "no such invoice");
  return load(tx, *id);
}

json list(pqxx::transaction_base& tx, const db_scope&, const json& args) {
  auto page = read_page(args);
  auto status = arg_opt_string(args, "status").value_or("");
  static const std::set<std::string> filters{"",     "draft",  "sent",   "paid",
                                             "void", "unpaid", "overdue"};
  if (filters.count(status) == 0)
    bad("status must be draft, sent, paid, void, unpaid or overdue");
  // unpaid = sent and not yet paid; overdue = unpaid and past its due date.
  auto by_status = status == "unpaid" ? "sent" : status == "overdue" ? "overdue" : status;
  auto contact = arg_opt_uuid(args, "contact_id");
  auto rows = tx.exec_params(
    std::string{"select "} + invoice_columns + invoice_from
      + " and ($1 = '' or ($1 = 'overdue' and i.status = 'sent'"
        "      and i.due_date < (now() at time zone o.timezone)::date) or i.status = $1)"
        " and ($2::uuid is null or i.contact_id = $2::uuid)"
        " and ($3 = '' or (i.created_at, i.id) > ($3::timestamptz, nullif($4, '')::uuid))"
        " order by i.created_at, i.id limit $5",
    by_status, contact, page.after_ts, page.after_id, page.limit + 1);
  return page_result(rows, page, 17, 0, invoice_json);
}

/// The row an update starts from, locked for the rest of the transaction.
struct current_row {
  std::string status;
  int64_t version = 0;
  int64_t total = 0;
  int64_t deposit = 0;
};

current_row lock_invoice(pqxx::transaction_base& tx, const std::string& id) {
  auto rows = tx.exec_params("select status, version, total_cents, deposit_cents from invoices"
                             " where organization_id = app_org_id() and id = $1::uuid for update",
                             id);
  if (rows.empty())
    throw op_error(app_errc::not_found, "no such invoice");
  auto r = rows[0];
  return {r[0].as<std::string>(), r[1].as<int64_t>(), r[2].as<int64_t>(), r[3].as<int64_t>()};
}

void check_transition(const std::string& from, const std::string& to) {
  static const std::set<std::string> statuses{"draft", "sent", "paid", "void"};
  if (statuses.count(to) == 0)
    bad("status must be draft, sent, paid or void");
  auto allowed = (from == "draft" && (to == "sent" || to == "void"))
                 || (from == "sent" && (to == "paid" || to == "void"));
  if (from != to && !allowed)
    throw op_error(app_errc::conflict, "an invoice cannot go from " + from + " to " + to);
}

/// Checks which fields the current status lets change.
void check_editable(const json& args, const current_row& row) {
  if (row.status == "paid" || row.status == "void")
    for (auto key : {"line_items", "deposit_cents", "contact_id", "event_id", "currency",
                     "due_date", "notes"})
      if (args.contains(key))
        throw op_error(app_errc::conflict, "a " + row.status + " invoice cannot be changed");
  if (row.status != "draft")
    for (auto key : {"line_items", "deposit_cents", "contact_id", "event_id", "currency"})
      if (args.contains(key))
        throw op_error(app_errc::conflict, std::string{key}
                                             + " can only change while the invoice is a draft");
}

json update(pqxx::transaction_base& tx, const db_scope&, const json& args) {
  only_fields(args, {"id", "version", "status", "line_items", "deposit_cents", "contact_id",
                     "event_id", "currency", "due_date", "notes"});
  auto id = arg_opt_uuid(args, "id");
  if (!id)
    throw op_error(app_errc::not_found, "no such invoice");
  auto version = arg_int(args, "version", 0);
  auto status = arg_opt_string(args, "status");
  // Validate everything before touching the row, so a bad field never half-applies.
  int64_t total = 0;
  std::optional<json> items;
  if (args.contains("line_items"))
    items = read_line_items(args["line_items"], total);
  auto due = arg_opt_date(args, "due_date");
  auto currency = arg_opt_currency(args);
  auto notes = arg_opt_notes(args);
  auto contact = arg_opt_uuid(args, "contact_id");
  auto event = arg_opt_uuid(args, "event_id");
  auto row = lock_invoice(tx, *id);
  if (args.contains("version") && version != row.version)
    throw op_error(app_errc::conflict, "the invoice changed since you read it; reload and retry");
  if (status)
    check_transition(row.status, *status);
  check_editable(args, row);
  if (!items)
    total = row.total;
  auto deposit = valid_deposit(args, row.deposit, total);
  require_links(tx, contact, event);
  auto to = status.value_or(row.status);
  auto fields = args.size() - 1 - args.count("version") - args.count("status");
  if (to == row.status && fields == 0)
    return load(tx, *id);
  tx.exec_params(
    "update invoices set status = $2,"
    " line_items = coalesce($3::jsonb, line_items), total_cents = $4, deposit_cents = $5,"
    " contact_id = case when $6 then $7::uuid else contact_id end,"
    " event_id = case when $8 then $9::uuid else event_id end,"
    " currency = coalesce($10, currency),"
    " due_date = case when $11 then $12::date else due_date end,"
    " notes = coalesce($13, notes),"
    " sent_at = case when $2 = 'sent' and status = 'draft' then now() else sent_at end,"
    " paid_at = case when $2 = 'paid' and status <> 'paid' then now() else paid_at end,"
    " paid_cents = case when $2 = 'paid' then $4 else paid_cents end,"
    " voided_at = case when $2 = 'void' and status <> 'void' then now() else voided_at end"
    " where organization_id = app_org_id() and id = $1::uuid",
    *id, to, items ? std::optional<std::string>{items->dump()} : std::nullopt, total, deposit,
    args.contains("contact_id"), contact, args.contains("event_id"), event, currency,
    args.contains("due_date"), due, notes);
  return load(tx, *id);
}

json checkout(pqxx::transaction_base& tx, const db_scope&, const json& args) {
  auto id = arg_opt_uuid(args, "id");
  if (!id)
    throw op_error(app_errc::not_found, "no such invoice");
  auto invoice = load(tx, *id);
  auto status = invoice["status"].get<std::string>();
  if (status == "draft")
    throw op_error(app_errc::conflict, "send the invoice before taking a payment");
  if (status != "sent")
    throw op_error(app_errc::conflict, "a " + status + " invoice takes no payment");
  if (invoice["amount_due_cents"].get<int64_t>() <= 0)
    throw op_error(app_errc::conflict, "nothing is due on this invoice");
  return invoice;
}

} // namespace

void add_invoice_operations(std::map<std::string, operation>& ops) {
  ops.emplace("invoices.create", create);
  ops.emplace("invoices.get", get);
  ops.emplace("invoices.list", list);
  ops.emplace("invoices.update", update);
  ops.emplace("invoices.checkout", checkout);
}

} // namespace djdash::persistence
