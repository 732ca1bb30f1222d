#include "persistence/task_repo.hpp"

#include <algorithm>
#include <cctype>
#include <regex>
#include <set>

#include "persistence/repo_util.hpp"

namespace djdash::persistence {

namespace {

using json = nlohmann::json;

constexpr auto task_columns
  = "id, organization_id, title, contact_id, to_jsonb(due_at) #>> '{}', done, notes,"
    " to_jsonb(created_at) #>> '{}', to_jsonb(updated_at) #>> '{}', version";

json task_json(const pqxx::row& r) {
  return {{"id", r[0].as<std::string>()},       {"organization_id", r[1].as<std::string>()},
          {"title", r[2].as<std::string>()},    {"contact_id", text_or_null(r[3])},
          {"due_at", text_or_null(r[4])},       {"done", r[5].as<bool>()},
          {"notes", r[6].as<std::string>()},    {"created_at", r[7].as<std::string>()},
          {"updated_at", r[8].as<std::string>()}, {"version", r[9].as<int64_t>()}};
}

[[noreturn]] void bad(const std::string& msg) {
  throw op_error(app_errc::bad_request, msg);
}

size_t chars(const std::string& s) {
  return static_cast<size_t>(std::count_if(s.begin(), s.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

bool looks_like_uuid(const std::string& s) {
  static const std::regex re{"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
                             "[0-9a-fA-F]{12}$"};
  return std::regex_match(s, re);
}

/// A field a PATCH may set to null: `given` says whether the body named it.
struct nullable {
  bool given = false;
  std::optional<std::string> value;
};

struct task_fields {
  std::optional<std::string> title, notes;
  nullable contact_id, due_at;
  std::optional<bool> done;
};

std::string read_title(const json& v) {
  if (!v.is_string())
    bad("title must be a string");
  auto t = v.get<std::string>();
  auto begin = t.find_first_not_of(" \t\r\n");
  t = begin == std::string::npos ? std::string{}
                                 : t.substr(begin, t.find_last_not_of(" \t\r\n") - begin + 1);
  if (t.empty() || chars(t) > 300)
    bad("title must be 1 to 300 characters");
  return t;
}

nullable read_nullable(const json& body, const char* key, bool (*valid)(const std::string&),
                       const char* message) {
  nullable out;
  auto i = body.find(key);
  if (i == body.end())
    return out;
  out.given = true;
  if (i->is_null())
    return out;
  if (!i->is_string() || !valid(i->get<std::string>()))
    bad(message);
  out.value = i->get<std::string>();
  return out;
}

task_fields read_fields(const json& body, const std::set<std::string>& allowed) {
  if (!body.is_object())
    bad("the body must be a JSON object");
  for (auto& [key, value] : body.items())
    if (allowed.count(key) == 0)
      bad(key + " is not a task field");
  task_fields f;
  if (body.contains("title"))
    f.title = read_title(body["title"]);
  f.contact_id = read_nullable(body, "contact_id", looks_like_uuid,
                               "contact_id must be the id of a contact");
  f.due_at = read_nullable(body, "due_at", is_rfc3339,
                           "due_at must be an RFC 3339 time like 2026-06-01T18:00:00Z");
  if (body.contains("done")) {
    if (!body["done"].is_boolean())
      bad("done must be true or false");
    f.done = body["done"].get<bool>();
  }
  if (body.contains("notes")) {
    auto& n = body["notes"];
    if (!n.is_null() && !n.is_string())
      bad("notes must be a string");
    f.notes = n.is_null() ? std::string{} : n.get<std::string>();
    if (chars(*f.notes) > 20000)
      bad("notes must be at most 20000 characters");
  }
  return f;
}

/// Another org's contact looks exactly like a missing one.
void require_contact(pqxx::transaction_base& tx, const nullable& contact_id) {
  if (!contact_id.value)
    return;
  if (tx.exec_params("select 1 from contacts where organization_id = app_org_id()"
                     " and id = $1::uuid", *contact_id.value).empty())
    throw op_error(app_errc::not_found, "contact_id names no contact of this organization");
}

json create(pqxx::transaction_base& tx, const db_scope&, const json& args) {
  auto f = read_fields(args, {"title", "contact_id", "due_at", "done", "notes"});
  if (!f.title)
    bad("title is required");
  require_contact(tx, f.contact_id);
  auto rows = tx.exec_params(
    std::string{"insert into tasks (organization_id, title, contact_id, due_at, done, notes)"
                " values (app_org_id(), $1, $2::uuid, $3::timestamptz, coalesce($4, false),"
                " coalesce($5, '')) returning "} + task_columns,
    f.title, f.contact_id.value, f.due_at.value, f.done, f.notes);
  return task_json(rows[0]);
}

std::optional<bool> done_filter(const json& args) {
  auto i = args.find("done");
  if (i == args.end() || i->is_null())
    return std::nullopt;
  if (!i->is_boolean())
    bad("done must be true or false");
  return i->get<bool>();
}

json list(pqxx::transaction_base& tx, const db_scope&, const json& args) {
  auto page = read_page(args);
  auto done = done_filter(args);
  auto contact = arg_opt_string(args, "contact_id");
  if (contact && !looks_like_uuid(*contact))
    bad("contact_id must be the id of a contact");
  auto rows = tx.exec_params(
    std::string{"select "} + task_columns
      + " from tasks where organization_id = app_org_id()"
        " and ($1::boolean is null or done = $1) and ($2::uuid is null or contact_id = $2)"
        " and ($3 = '' or (created_at, id) > ($3::timestamptz, nullif($4, '')::uuid))"
        " order by created_at, id limit $5",
    done, contact, page.after_ts, page.after_id, page.limit + 1);
  return page_result(rows, page, 7, 0, task_json);
}

json update(pqxx::transaction_base& tx, const db_scope&, const json& args) {
  auto id = arg_string(args, "id");
  if (!looks_like_uuid(id))
    throw op_error(app_errc::not_found, "no such task");
  auto body = args.contains("fields") ? args["fields"] : json::object();
  auto f = read_fields(body, {"title", "contact_id", "due_at", "done", "notes", "version"});
  auto version = arg_int(body, "version", -1);
  require_contact(tx, f.contact_id);
  auto rows = tx.exec_params(
    std::string{"update tasks set title = coalesce($2, title),"
                " contact_id = case when $3 then $4::uuid else contact_id end,"
                " due_at = case when $5 then $6::timestamptz else due_at end,"
                " done = coalesce($7, done), notes = coalesce($8, notes)"
                " where organization_id = app_org_id() and id = $1::uuid"
                " and ($9::bigint < 0 or version = $9) returning "} + task_columns,
    id, f.title, f.contact_id.given, f.contact_id.value, f.due_at.given, f.due_at.value, f.done,
    f.notes, version);
  if (!rows.empty())
    return task_json(rows[0]);
  if (tx.exec_params("select 1 from tasks where organization_id = app_org_id()"
                     " and id = $1::uuid", id).empty())
    throw op_error(app_errc::not_found, "no such task");
  throw op_error(app_errc::conflict, "the task changed since you read it; reload and retry");
}

int days_in(int year, int month) {
  static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : days[month - 1];
}

} // namespace

bool is_rfc3339(const std::string& s) {
  static const std::regex re{"^(\\d{4})-(\\d{2})-(\\d{2})[Tt ](\\d{2}):(\\d{2}):(\\d{2})"
                             "(\\.\\d{1,9})?([Zz]|[+-](\\d{2}):(\\d{2}))$"};
  std::smatch m;
  if (!std::regex_match(s, m, re))
    return false;
  auto n = [&](int i) { return std::stoi(m[i].str()); };
  if (n(1) < 1 || n(2) < 1 || n(2) > 12 || n(3) < 1 || n(3) > days_in(n(1), n(2)))
    return false;
  if (n(4) > 23 || n(5) > 59 || n(6) > 59)
    return false;
  return !m[9].matched || (n(9) <= 23 && n(10) <= 59);
}

void add_task_operations(std::map<std::string, operation>& ops) {
  ops.emplace("tasks.create", create);
  ops.emplace("tasks.list", list);
  ops.emplace("tasks.update", update);
}

} // namespace djdash::persistence
