#include "persistence/contact_repo.hpp"

#include <algorithm>
#include <cctype>
#include <set>
#include <vector>

#include "persistence/repo_util.hpp"

namespace djdash::persistence {

namespace {

using json = nlohmann::json;

constexpr auto contact_columns
  = "id, organization_id, name, email, phone, status, source, to_jsonb(tags)::text, notes,"
    " to_jsonb(created_at) #>> '{}', to_jsonb(updated_at) #>> '{}', version";

/// The column list above as the JSON resource.
json contact_json(const pqxx::row& r) {
  return {{"id", r[0].as<std::string>()},       {"organization_id", r[1].as<std::string>()},
          {"name", text_or_null(r[2])},         {"email", text_or_null(r[3])},
          {"phone", text_or_null(r[4])},        {"status", r[5].as<std::string>()},
          {"source", r[6].as<std::string>()},   {"tags", json::parse(r[7].as<std::string>())},
          {"notes", r[8].as<std::string>()},    {"created_at", r[9].as<std::string>()},
          {"updated_at", r[10].as<std::string>()}, {"version", r[11].as<int64_t>()}};
}

[[noreturn]] void bad(const std::string& msg) {
  throw op_error(app_errc::bad_request, msg);
}

/// Characters (code points) of UTF-8 text, as PostgreSQL's length() counts them.
size_t chars(const std::string& s) {
  return static_cast<size_t>(std::count_if(s.begin(), s.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

std::string trimmed(const std::string& s) {
  auto begin = s.find_first_not_of(" \t\r\n");
  if (begin == std::string::npos)
    return {};
  return s.substr(begin, s.find_last_not_of(" \t\r\n") - begin + 1);
}

const std::set<std::string> statuses{"new", "contacted", "quoted", "booked", "lost"};
const std::set<std::string> sources{"web", "sms", "email", "manual"};

std::string one_of(const json& v, const char* key, const std::set<std::string>& allowed,
                   const char* names) {
  if (!v.is_string() || allowed.count(v.get<std::string>()) == 0)
    bad(std::string{key} + " must be one of " + names);
  return v.get<std::string>();
}

/// A field a PATCH may set to null: `given` says whether the body named it.
struct nullable {
  bool given = false;
  std::optional<std::string> value;
};

struct contact_fields {
  nullable name, email, phone;
  std::optional<std::string> status, source, notes;
  std::optional<std::string> tags;  // a JSON array of distinct, trimmed tags
};

const char* phone_message = "phone must be a phone number like +19015551234 or (901) 555-1234";

/// Reads a nullable text field through `normalize` (nothing back: `message`); "" clears it.
template <class F>
nullable read_nullable(const json& body, const char* key, const char* message, F normalize) {
  nullable out;
  auto i = body.find(key);
  if (i == body.end())
    return out;
  out.given = true;
  if (i->is_null())
    return out;
  if (!i->is_string())
    bad(std::string{key} + " must be a string");
  auto text = trimmed(i->get<std::string>());
  if (text.empty())
    return out;
  out.value = normalize(text);
  if (!out.value)
    bad(message);
  return out;
}

std::string read_tags(const json& v) {
  if (!v.is_array())
    bad("tags must be an array of strings");
  if (v.size() > 50)
    bad("tags must have at most 50 entries");
  json out = json::array();
  std::set<std::string> seen;
  for (auto& t : v) {
    if (!t.is_string())
      bad("tags must be an array of strings");
    auto tag = trimmed(t.get<std::string>());
    if (tag.empty() || chars(tag) > 50)
      bad("tags must each be 1 to 50 characters");
    if (seen.insert(tag).second)
      out.push_back(tag);
  }
  return out.dump();
}

std::string read_notes(const json& v) {
  if (v.is_null())
    return {};
  if (!v.is_string())
    bad("notes must be a string");
  if (chars(v.get<std::string>()) > 20000)
    bad("notes must be at most 20000 characters");
  return v.get<std::string>();
}

/// Reads and checks the contact fields of `body`; any key outside `allowed` is a bad_request.
contact_fields read_fields(const json& body, const std::set<std::string>& allowed) {
  if (!body.is_object())
    bad("the body must be a JSON object");
  for (auto& [key, value] : body.items())
    if (allowed.count(key) == 0)
      bad(key + " is not a contact field");
  contact_fields f;
  f.name = read_nullable(body, "name", "name must be at most 200 characters",
                         [](const std::string& s) {
                           return chars(s) <= 200 ? std::optional<std::string>{s} : std::nullopt;
                         });
  f.email = read_nullable(body, "email", "email must be a valid address", plausible_email);
  f.phone = read_nullable(body, "phone", phone_message, e164_phone);
  if (body.contains("status"))
    f.status = one_of(body["status"], "status", statuses, "new, contacted, quoted, booked, lost");
  if (body.contains("source"))
    f.source = one_of(body["source"], "source", sources, "web, sms, email, manual");
  if (body.contains("tags"))
    f.tags = read_tags(body["tags"]);
  if (body.contains("notes"))
    f.notes = read_notes(body["notes"]);
  return f;
}

const std::set<std::string> create_keys{"name",   "email", "phone", "status",
                                        "source", "tags",  "notes"};
const std::set<std::string> update_keys{"name",   "email", "phone", "status",
                                        "source", "tags",  "notes", "version"};
const std::set<std::string> inquiry_keys{"name", "email", "phone", "source", "tags", "notes"};

bool looks_like_uuid(const std::string& s) {
  static const std::string shape = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";
  if (s.size() != shape.size())
    return false;
  for (size_t i = 0; i < s.size(); ++i)
    if (shape[i] == '-' ? s[i] != '-' : !std::isxdigit(static_cast<unsigned char>(s[i])))
      return false;
  return true;
}

/// The `id` argument; an id that is no UUID names nothing (not_found, like a missing one).
std::string contact_id_arg(const json& args) {
  auto id = arg_string(args, "id");
  if (!looks_like_uuid(id))
    throw op_error(app_errc::not_found, "no such contact");
  return id;
}

/// Throws conflict naming the contact of the org (other than `except`) that already has
/// `email` or `phone`.
void refuse_twin(pqxx::transaction_base& tx, const std::optional<std::string>& email,
                 const std::optional<std::string>& phone, const std::string& except) {
  if (!email && !phone)
    return;
  auto rows = tx.exec_params(
    "select id, case when email = $1 then 'email' else 'phone' end from contacts"
    " where organization_id = app_org_id() and (email = $1 or phone = $2)"
    " and ($3 = '' or id <> nullif($3, '')::uuid) order by (email = $1) desc nulls last limit 1",
    email, phone, except);
  if (!rows.empty())
    throw op_error(app_errc::conflict, "a contact with this " + rows[0][1].as<std::string>()
                                         + " already exists: " + rows[0][0].as<std::string>());
}

/// SQL for a text[] from the JSON array parameter $n (keeping its order).
std::string tags_from(int n) {
  auto p = "$" + std::to_string(n);
  return "array(select t from jsonb_array_elements_text(" + p
         + "::jsonb) with ordinality as e(t, i) order by i)";
}

json create(pqxx::transaction_base& tx, const db_scope&, const json& args) {
  auto f = read_fields(args, create_keys);
  if (!f.name.value && !f.email.value && !f.phone.value)
    bad("name, email or phone is required");
  refuse_twin(tx, f.email.value, f.phone.value, "");
  auto rows = tx.exec_params(
    "insert into contacts (organization_id, name, email, phone, status, source, tags, notes)"
    " values (app_org_id(), $1, $2, $3, coalesce($4, 'new'), coalesce($5, 'manual'),"
    " coalesce(" + tags_from(6) + ", '{}'), coalesce($7, ''))"
    " on conflict do nothing returning " + std::string{contact_columns},
    f.name.value, f.email.value, f.phone.value, f.status, f.source, f.tags.value_or("[]"),
    f.notes);
  if (rows.empty()) {
    // Another request created the twin between our check and the insert.
    refuse_twin(tx, f.email.value, f.phone.value, "");
    throw op_error(app_errc::conflict, "a contact with this email or phone already exists");
  }
  return contact_json(rows[0]);
}

json get(pqxx::transaction_base& tx, const db_scope&, const json& args) {
  auto rows = tx.exec_params(std::string{"select "} + contact_columns
                               + " from contacts where organization_id = app_org_id()"
                                 " and id = $1::uuid",
                             contact_id_arg(args));
  if (rows.empty())
    throw op_error(app_errc::not_found, "no such contact");
  return contact_json(rows[0]);
}

std::optional<int64_t> version_arg(const json& fields) {
  auto i = fields.find("version");
  if (i == fields.end() || i->is_null())
    return std::nullopt;
  if (!i->is_number_integer())
    bad("version must be an integer");
  return i->get<int64_t>();
}

json update(pqxx::transaction_base& tx, const db_scope&, const json& args) {
  auto id = contact_id_arg(args);
  auto body = args.contains("fields") ? args["fields"] : json::object();
  auto f = read_fields(body, update_keys);
  auto version = version_arg(body);
  refuse_twin(tx, f.email.value, f.phone.value, id);
  auto rows = tx.exec_params(
    "update contacts set name = case when $2 then $3 else name end,"
    " email = case when $4 then $5 else email end, phone = case when $6 then $7 else phone end,"
    " status = coalesce($8, status), source = coalesce($9, source),"
    " tags = case when $10::jsonb is null then tags else " + tags_from(10) + " end,"
    " notes = coalesce($11, notes)"
    " where organization_id = app_org_id() and id = $1::uuid"
    " and ($12::bigint is null or version = $12) returning " + std::string{contact_columns},
    id, f.name.given, f.name.value, f.email.given, f.email.value, f.phone.given, f.phone.value,
    f.status, f.source, f.tags, f.notes, version);
  if (rows.empty()) {
    if (tx.exec_params("select 1 from contacts where organization_id = app_org_id()"
                       " and id = $1::uuid", id).empty())
      throw op_error(app_errc::not_found, "no such contact");
    throw op_error(app_errc::conflict, "the contact changed since you read it; reload and retry");
  }
  auto out = contact_json(rows[0]);
  if (out["name"].is_null() && out["email"].is_null() && out["phone"].is_null())
    bad("a contact needs a name, an email or a phone");
  return out;
}

json remove(pqxx::transaction_base& tx, const db_scope&, const json& args) {
  auto id = contact_id_arg(args);
  if (tx.exec_params("select 1 from contacts where organization_id = app_org_id()"
                     " and id = $1::uuid for update", id).empty())
    throw op_error(app_errc::not_found, "no such contact");
  // Follow-ups and bookings outlive the contact: they lose the link, not their data.
  tx.exec_params("update tasks set contact_id = null where organization_id = app_org_id()"
                 " and contact_id = $1::uuid", id);
  tx.exec_params("update events set contact_id = null where organization_id = app_org_id()"
                 " and contact_id = $1::uuid", id);
  try {
    tx.exec_params("delete from contacts where organization_id = app_org_id() and id = $1::uuid",
                   id);
  } catch (const pqxx::foreign_key_violation&) {
    throw op_error(app_errc::conflict,
                   "this contact is still referenced by quotes, invoices or contracts");
  }
  return json::object();
}

/// Digits of `q` when it is written like a phone number (at least 3 digits), else "".
std::string phone_digits(const std::string& q) {
  std::string digits;
  for (unsigned char c : q) {
    if (std::isdigit(c))
      digits += static_cast<char>(c);
    else if (c != '+' && c != '(' && c != ')' && c != '-' && c != '.' && c != ' ')
      return {};
  }
  return digits.size() >= 3 ? digits : std::string{};
}

std::optional<std::string> filter_arg(const json& args, const char* key,
                                      const std::set<std::string>& allowed, const char* names) {
  auto value = arg_opt_string(args, key);
  if (!value || value->empty())
    return std::nullopt;
  return one_of(*value, key, allowed, names);
}

/// Prefix ranges (see migration 0007): leakproof operators, so the indexes serve them under RLS.
std::string prefix(const char* column, const char* param) {
  // ~>=~, ~<~ and || share one precedence level: the parentheses are needed.
  return std::string{"("} + column + " ~>=~ (" + param + ") and " + column + " ~<~ ((" + param
         + ") || chr(1114111)))";
}

json list(pqxx::transaction_base& tx, const db_scope&, const json& args) {
  auto page = read_page(args);
  auto status = filter_arg(args, "status", statuses, "new, contacted, quoted, booked, lost");
  auto source = filter_arg(args, "source", sources, "web, sms, email, manual");
  auto q = trimmed(arg_opt_string(args, "q").value_or(""));
  if (chars(q) > 200)
    bad("q must be at most 200 characters");
  auto digits = phone_digits(q);
  // $6 and $7 are always referenced, so PostgreSQL can type them when there is no search.
  std::string search = " and $6::text = '' and $7::text = ''";
  if (!q.empty()) {
    search = " and (" + prefix("search_name", "lower($6::text)") + " or "
             + prefix("search_surname", "lower($6)") + " or " + prefix("email", "lower($6)");
    if (digits.empty())
      search += " or $7::text <> ''";
    else
      search += " or " + prefix("search_phone", "$7::text") + " or " + prefix("search_phone", "'1' || $7");
    search += ")";
  }
  auto rows = tx.exec_params(
    std::string{"select "} + contact_columns
      + " from contacts where organization_id = app_org_id()"
        " and ($1::text is null or status = $1) and ($2::text is null or source = $2)"
        " and ($3 = '' or (created_at, id) > ($3::timestamptz, nullif($4, '')::uuid))"
      + search + " order by created_at, id limit $5",
    status, source, page.after_ts, page.after_id, page.limit + 1, q, digits);
  return page_result(rows, page, 9, 0, contact_json);
}

/// The contact an inquiry belongs to (by email first, then phone), locked; or nothing.
std::optional<std::string> find_inquirer(pqxx::transaction_base& tx, const contact_fields& f) {
  auto rows = tx.exec_params(
    "select id from contacts where organization_id = app_org_id() and (email = $1 or phone = $2)"
    " order by (email = $1) desc nulls last, created_at limit 1 for update",
    f.email.value, f.phone.value);
  if (rows.empty())
    return std::nullopt;
  return rows[0][0].as<std::string>();
}

/// Folds an inquiry into its contact; an email or phone that another contact owns stays out.
json merge_inquiry(pqxx::transaction_base& tx, const std::string& id, const contact_fields& f) {
  auto rows = tx.exec_params(
    "update contacts c set name = coalesce($2, c.name),"
    " email = coalesce(c.email, case when not exists (select 1 from contacts o"
    "   where o.organization_id = app_org_id() and o.email = $3) then $3 end),"
    " phone = coalesce(c.phone, case when not exists (select 1 from contacts o"
    "   where o.organization_id = app_org_id() and o.phone = $4) then $4 end),"
    " status = case when c.status = 'lost' then 'new' else c.status end,"
    " tags = (c.tags || array(select t from jsonb_array_elements_text($5::jsonb)"
    "   with ordinality as e(t, i) where t <> all(c.tags) order by i))[1:50],"
    " notes = case when coalesce($6, '') = '' then c.notes when c.notes = '' then $6"
    "   else right(c.notes || E'\\n\\n' || $6, 20000) end"
    " where c.organization_id = app_org_id() and c.id = $1::uuid returning "
      + std::string{contact_columns},
    id, f.name.value, f.email.value, f.phone.value, f.tags.value_or("[]"), f.notes);
  return contact_json(rows[0]);
}

json upsert_inquiry(pqxx::transaction_base& tx, const db_scope&, const json& args) {
  auto f = read_fields(args, inquiry_keys);
  if (!f.email.value && !f.phone.value)
    bad("email or phone is required");
  // Two tries: when a concurrent inquiry inserts the same contact first, the second pass finds it.
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (auto id = find_inquirer(tx, f))
      return {{"contact", merge_inquiry(tx, *id, f)}, {"created", false}};
    auto rows = tx.exec_params(
      "insert into contacts (organization_id, name, email, phone, source, tags, notes)"
      " values (app_org_id(), $1, $2, $3, coalesce($4, 'manual'), " + tags_from(5) + ","
      " coalesce($6, '')) on conflict do nothing returning " + std::string{contact_columns},
      f.name.value, f.email.value, f.phone.value, f.source, f.tags.value_or("[]"), f.notes);
    if (!rows.empty())
      return {{"contact", contact_json(rows[0])}, {"created", true}};
  }
  throw op_error(app_errc::conflict, "the contact is being changed concurrently; retry");
}

} // namespace

std::optional<std::string> e164_phone(const std::string& phone) {
  std::string digits;
  bool plus = false;
  for (size_t i = 0; i < phone.size(); ++i) {
    auto c = static_cast<unsigned char>(phone[i]);
    if (std::isdigit(c))
      digits += static_cast<char>(c);
    else if (c == '+' && digits.empty() && !plus)
      plus = true;
    else if (c != ' ' && c != '-' && c != '.' && c != '(' && c != ')')
      return std::nullopt;
  }
  if (!plus && digits.size() == 10)
    digits = "1" + digits;
  else if (!plus && !(digits.size() == 11 && digits[0] == '1'))
    return std::nullopt;
  if (digits.size() < 7 || digits.size() > 15 || digits[0] == '0')
    return std::nullopt;
  // North American numbers: area code and exchange never start with 0 or 1.
  if (digits[0] == '1'
      && (digits.size() != 11 || digits[1] < '2' || digits[4] < '2'))
    return std::nullopt;
  return "+" + digits;
}

std::optional<std::string> plausible_email(const std::string& email) {
  auto e = trimmed(email);
  std::transform(e.begin(), e.end(), e.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  auto at = e.find('@');
  if (e.size() < 3 || e.size() > 320 || at == 0 || at == std::string::npos
      || e.find('@', at + 1) != std::string::npos)
    return std::nullopt;
  auto domain = e.substr(at + 1);
  if (domain.size() < 3 || domain.find('.') == std::string::npos || domain.front() == '.'
      || domain.back() == '.' || domain.find("..") != std::string::npos)
    return std::nullopt;
  // ASCII only: PostgreSQL's lower() (the table's check) and ours then agree.
  for (unsigned char c : e)
    if (c <= ' ' || c >= 0x7f || c == '"' || c == '<' || c == '>' || c == ',' || c == ';'
        || c == '(' || c == ')' || c == '[' || c == ']' || c == '\\')
      return std::nullopt;
  return e;
}

void add_contact_operations(std::map<std::string, operation>& ops) {
  ops.emplace("contacts.create", create);
  ops.emplace("contacts.list", list);
  ops.emplace("contacts.get", get);
  ops.emplace("contacts.update", update);
  ops.emplace("contacts.delete", remove);
  ops.emplace("contacts.upsert_inquiry", upsert_inquiry);
}

} // namespace djdash::persistence
