#include "persistence/contract_repo.hpp"

#include <regex>
#include <set>

#include "persistence/repo_util.hpp"
#include "protocols/crypto.hpp"

namespace djdash::persistence {

namespace {

using json = nlohmann::json;

/// The SQLSTATE of contracts_guard (0006_contracts.sql): a change the database refuses.
constexpr auto immutable_state = "ZC409";

constexpr size_t max_template_bytes = 100000;

/// Used when neither the request nor the organization's settings carry a template.
constexpr auto default_template = R"(DJ PERFORMANCE AGREEMENT

This agreement is made between {{organization_name}} ("the DJ") and {{client_name}}
({{client_email}}) ("the Client").

Event: {{event_title}} ({{event_type}})
Date: {{event_date}}, from {{start_time}} to {{end_time}}
Venue: {{venue}}
Expected guests: {{guest_count}}
Fee: {{price}}

1. Services. The DJ will provide music, sound equipment and MC services for the event during
   the hours above. Additional time is available at the DJ's hourly rate, subject to the venue.
2. Payment. The fee above is due in full before the event. The deposit secures the date and is
   non-refundable.
3. Cancellation. If the Client cancels, payments made are kept by the DJ. If the DJ cannot
   perform, the DJ will provide a comparable replacement or refund all payments.
4. Venue. The Client arranges access to the venue, a safe power supply and space for the
   equipment, and is responsible for damage to the equipment caused by guests.
5. Entire agreement. This document is the entire agreement between the parties.

By typing their full name and signing, the Client accepts this agreement.
)";

int64_t utf8_length(const std::string& s) {
  int64_t n = 0;
  for (unsigned char c : s)
    n += (c & 0xC0) != 0x80 ? 1 : 0;
  return n;
}

std::string dollars(int64_t cents) {
  auto whole = std::to_string(cents / 100);
  for (auto i = static_cast<int64_t>(whole.size()) - 3; i > 0; i -= 3)
    whole.insert(static_cast<size_t>(i), ",");
  auto frac = std::to_string(cents % 100);
  return "$" + whole + "." + (frac.size() < 2 ? "0" + frac : frac);
}

std::string text(const pqxx::field& f) {
  return f.is_null() ? std::string{} : f.as<std::string>();
}

/// Throws conflict when the database's immutability guard refused the statement.
template <class F>
json guarded(F&& f) {
  try {
    return f();
  } catch (const pqxx::sql_error& e) {
    if (e.sqlstate() == immutable_state)
      throw op_error(app_errc::conflict, "a signed or void contract cannot be changed");
    throw;
  }
}

constexpr auto contract_columns
  = "id, organization_id, event_id, contact_id, title, body, status,"
    " to_jsonb(sent_at) #>> '{}', to_jsonb(signed_at) #>> '{}', signer_name, signer_ip,"
    " signer_user_agent, signed_sha256, to_jsonb(voided_at) #>> '{}',"
    " to_jsonb(created_at) #>> '{}', to_jsonb(updated_at) #>> '{}', version";

constexpr int created_col = 14;

json contract_json(const pqxx::row& r) {
  return {{"id", r[0].as<std::string>()},
          {"organization_id", r[1].as<std::string>()},
          {"event_id", r[2].as<std::string>()},
          {"contact_id", text_or_null(r[3])},
          {"title", r[4].as<std::string>()},
          {"body", r[5].as<std::string>()},
          {"status", r[6].as<std::string>()},
          {"sent_at", text_or_null(r[7])},
          {"signed_at", text_or_null(r[8])},
          {"signer_name", text_or_null(r[9])},
          {"signer_ip", text_or_null(r[10])},
          {"signer_user_agent", text_or_null(r[11])},
          {"signed_sha256", text_or_null(r[12])},
          {"voided_at", text_or_null(r[13])},
          {"created_at", r[14].as<std::string>()},
          {"updated_at", r[15].as<std::string>()},
          {"version", r[16].as<int64_t>()}};
}

/// The event, its contact and the organization, as placeholder values (times in the org's
/// timezone), plus the default title and the organization's own template.
struct event_facts {
  std::map<std::string, std::string> values;
  std::optional<std::string> contact_id;
  std::string default_title;
  std::optional<std::string> org_template;
};

event_facts load_event_facts(pqxx::transaction_base& tx, const std::string& event_id) {
  auto rows = tx.exec_params(
    "select e.title, replace(e.event_type, '_', ' '),"
    " to_char(e.starts_at at time zone o.timezone, 'FMDay, FMMonth FMDD, YYYY'),"
    " to_char(e.starts_at at time zone o.timezone, 'FMHH12:MI AM'),"
    " to_char(e.ends_at at time zone o.timezone, 'FMHH12:MI AM'),"
    " e.venue, e.guest_count, e.price_cents, e.contact_id, c.name, c.email, c.phone, o.name,"
    " case when jsonb_typeof(o.settings -> 'contract_template') = 'string'"
    "      then o.settings ->> 'contract_template' end,"
    " left('Contract: ' || e.title, 200), e.status"
    " from events e join organizations o on o.id = e.organization_id"
    " left join contacts c on c.organization_id = e.organization_id and c.id = e.contact_id"
    " where e.organization_id = app_org_id() and e.id = $1::uuid",
    event_id);
  if (rows.empty())
    throw op_error(app_errc::not_found, "no such event");
  auto r = rows[0];
  if (r[15].as<std::string>() == "cancelled")
    throw op_error(app_errc::conflict, "the event is cancelled");
  event_facts f;
  f.values = {{"event_title", text(r[0])},   {"event_type", text(r[1])},
              {"event_date", text(r[2])},    {"start_time", text(r[3])},
              {"end_time", text(r[4])},      {"venue", text(r[5])},
              {"guest_count", text(r[6])},   {"price", r[7].is_null() ? "" : dollars(r[7].as<int64_t>())},
              {"client_name", text(r[9])},   {"client_email", text(r[10])},
              {"client_phone", text(r[11])}, {"organization_name", text(r[12])}};
  if (!r[8].is_null())
    f.contact_id = r[8].as<std::string>();
  if (!r[13].is_null())
    f.org_template = r[13].as<std::string>();
  f.default_title = r[14].as<std::string>();
  return f;
}

std::string chosen_template(const json& args, const event_facts& facts) {
  auto tpl = arg_opt_string(args, "template");
  if (!tpl)
    tpl = facts.org_template;
  if (!tpl)
    return default_template;
  if (tpl->find_first_not_of(" \t\r\n") == std::string::npos)
    throw op_error(app_errc::bad_request, "template must not be empty");
  if (tpl->size() > max_template_bytes)
    throw op_error(app_errc::bad_request, "template must be at most 100000 bytes");
  return *tpl;
}

std::string chosen_title(const json& args, const event_facts& facts) {
  auto title = arg_opt_string(args, "title");
  if (!title)
    return facts.default_title;
  if (title->find_first_not_of(" \t\r\n") == std::string::npos || utf8_length(*title) > 200)
    throw op_error(app_errc::bad_request, "title must be 1 to 200 characters");
  return *title;
}

json create(pqxx::transaction_base& tx, const db_scope&, const json& args) {
  auto event_id = arg_string(args, "event_id");
  auto facts = load_event_facts(tx, event_id);
  auto body = fill_contract_template(chosen_template(args, facts), facts.values);
  auto title = chosen_title(args, facts);
  auto rows = tx.exec_params(std::string{"insert into contracts (organization_id, event_id,"
                                         " contact_id, title, body) values (app_org_id(),"
                                         " $1::uuid, $2::uuid, $3, $4) returning "}
                               + contract_columns,
                             event_id, facts.contact_id, title, body);
  return contract_json(rows[0]);
}

json get(pqxx::transaction_base& tx, const db_scope&, const json& args) {
  auto rows = tx.exec_params(std::string{"select "} + contract_columns
                               + " from contracts where organization_id = app_org_id()"
                                 " and id = $1::uuid",
                             arg_string(args, "id"));
  if (rows.empty())
    throw op_error(app_errc::not_found, "no such contract");
  return contract_json(rows[0]);
}

json list(pqxx::transaction_base& tx, const db_scope&, const json& args) {
  auto page = read_page(args);
  auto status = arg_opt_string(args, "status");
  static const std::set<std::string> statuses{"draft", "sent", "signed", "void"};
  if (status && statuses.count(*status) == 0)
    throw op_error(app_errc::bad_request, "status must be draft, sent, signed or void");
  auto rows = tx.exec_params(
    std::string{"select "} + contract_columns
      + " from contracts where organization_id = app_org_id()"
        " and ($1::text is null or status = $1) and ($2::uuid is null or event_id = $2::uuid)"
        " and ($3 = '' or (created_at, id) > ($3::timestamptz, nullif($4, '')::uuid))"
        " order by created_at, id limit $5",
    status, arg_opt_string(args, "event_id"), page.after_ts, page.after_id, page.limit + 1);
  return page_result(rows, page, created_col, 0, contract_json);
}

/// After an update matched nothing: not found, or a conflict naming the contract's status.
[[noreturn]] void explain_no_update(pqxx::transaction_base& tx, const std::string& id,
                                    const char* action) {
  auto rows = tx.exec_params("select status from contracts where organization_id = app_org_id()"
                             " and id = $1::uuid",
                             id);
  if (rows.empty())
    throw op_error(app_errc::not_found, "no such contract");
  throw op_error(app_errc::conflict, std::string{"a "} + rows[0][0].as<std::string>()
                                       + " contract cannot be " + action);
}

bool valid_token_hash(const std::string& h) {
  static const std::regex re{"^[0-9a-f]{64}$"};
  return std::regex_match(h, re);
}

json send(pqxx::transaction_base& tx, const db_scope&, const json& args) {
  auto id = arg_string(args, "id");
  auto token_hash = arg_string(args, "token_hash");
  if (!valid_token_hash(token_hash))
    throw op_error(app_errc::bad_request, "token_hash must be 64 hex digits");
  return guarded([&] {
    auto rows = tx.exec_params(std::string{"update contracts set status = 'sent',"
                                           " sent_at = now(), link_token_hash = $2"
                                           " where organization_id = app_org_id()"
                                           " and id = $1::uuid and status in ('draft', 'sent')"
                                           " returning "}
                                 + contract_columns,
                               id, token_hash);
    if (rows.empty())
      explain_no_update(tx, id, "sent");
    return contract_json(rows[0]);
  });
}

json void_contract(pqxx::transaction_base& tx, const db_scope&, const json& args) {
  auto id = arg_string(args, "id");
  return guarded([&] {
    auto rows = tx.exec_params(std::string{"update contracts set status = 'void',"
                                           " voided_at = now(), link_token_hash = null"
                                           " where organization_id = app_org_id()"
                                           " and id = $1::uuid and status in ('draft', 'sent')"
                                           " returning "}
                                 + contract_columns,
                               id);
    if (rows.empty())
      explain_no_update(tx, id, "voided");
    return contract_json(rows[0]);
  });
}

std::string token_hash_arg(const json& args) {
  auto h = arg_string(args, "token_hash");
  if (!valid_token_hash(h))
    throw op_error(app_errc::not_found, "no such contract");
  return h;
}

json public_get(pqxx::transaction_base& tx, const db_scope&, const json& args) {
  auto rows = tx.exec_params("select title, body, status, organization_name,"
                             " to_jsonb(sent_at) #>> '{}', to_jsonb(signed_at) #>> '{}',"
                             " signer_name, signed_sha256 from public_contract_by_token($1)",
                             token_hash_arg(args));
  if (rows.empty())
    throw op_error(app_errc::not_found, "no such contract");
  auto r = rows[0];
  auto body = r[1].as<std::string>();
  return {{"title", r[0].as<std::string>()},
          {"body", body},
          {"body_sha256", crypto::hex(crypto::sha256(body))},
          {"status", r[2].as<std::string>()},
          {"organization_name", r[3].as<std::string>()},
          {"sent_at", text_or_null(r[4])},
          {"signed_at", text_or_null(r[5])},
          {"signer_name", text_or_null(r[6])},
          {"signed_sha256", text_or_null(r[7])}};
}

json public_sign(pqxx::transaction_base& tx, const db_scope&, const json& args) {
  auto hash = token_hash_arg(args);
  auto name = arg_string(args, "name");
  if (name.find_first_not_of(" \t\r\n") == std::string::npos || utf8_length(name) > 200)
    throw op_error(app_errc::bad_request, "name must be your full name, 1 to 200 characters");
  auto rows = guarded([&] {
    auto found = tx.exec_params(
      "select outcome, title, status, to_jsonb(signed_at) #>> '{}', signer_name, signer_ip,"
      " signer_user_agent, signed_sha256 from public_contract_sign($1, $2, $3, $4)",
      hash, name, arg_opt_string(args, "ip"), arg_opt_string(args, "user_agent"));
    if (found.empty())
      throw op_error(app_errc::not_found, "no such contract");
    if (found[0][0].as<std::string>() == "already_signed")
      throw op_error(app_errc::conflict, "this contract is already signed");
    auto r = found[0];
    return json{{"title", r[1].as<std::string>()},      {"status", r[2].as<std::string>()},
                {"signed_at", r[3].as<std::string>()},  {"signer_name", r[4].as<std::string>()},
                {"signer_ip", text_or_null(r[5])},      {"signer_user_agent", text_or_null(r[6])},
                {"signed_sha256", r[7].as<std::string>()}};
  });
  return rows;
}

/// `{{` then a name, spaces allowed around it, then `}}`.
const std::regex& placeholder_re() {
  static const std::regex re{R"(\{\{\s*([A-Za-z0-9_.\-]+)\s*\}\})"};
  return re;
}

} // namespace

std::string fill_contract_template(const std::string& tpl,
                                   const std::map<std::string, std::string>& values) {
  std::string out;
  std::set<std::string> unknown;
  auto last = tpl.cbegin();
  for (std::sregex_iterator i{tpl.cbegin(), tpl.cend(), placeholder_re()}, end; i != end; ++i) {
    auto& m = *i;
    out.append(last, m[0].first);
    last = m[0].second;
    auto v = values.find(m[1].str());
    if (v == values.end())
      unknown.insert("{{" + m[1].str() + "}}");
    else
      out += v->second;
  }
  out.append(last, tpl.cend());
  if (!unknown.empty()) {
    std::string names;
    for (auto& u : unknown)
      names += (names.empty() ? "" : ", ") + u;
    std::string known;
    for (auto& [k, v] : values)
      known += (known.empty() ? "" : ", ") + k;
    throw op_error(app_errc::bad_request,
                   "template has unknown placeholders: " + names + " (known: " + known + ")");
  }
  return out;
}

void add_contract_operations(std::map<std::string, operation>& ops) {
  ops.emplace("contracts.create", create);
  ops.emplace("contracts.list", list);
  ops.emplace("contracts.get", get);
  ops.emplace("contracts.send", send);
  ops.emplace("contracts.void", void_contract);
  ops.emplace("contracts.public_get", public_get);
  ops.emplace("contracts.public_sign", public_sign);
}

} // namespace djdash::persistence
