#include "persistence/quote_repo.hpp"

#include <regex>
#include <set>

#include "persistence/repo_util.hpp"
#include "protocols/pricing.hpp"

namespace djdash::persistence {

namespace {

using json = nlohmann::json;

constexpr auto quote_columns
  = "id, organization_id, contact_id, event_type, event_date::text, hours::text,"
    " billed_hours::text, guests, to_jsonb(add_ons)::text, amount_cents, currency,"
    " breakdown::text, to_jsonb(created_at) #>> '{}', to_jsonb(updated_at) #>> '{}', version";

json quote_json(const pqxx::row& r) {
  return {{"id", r[0].as<std::string>()},
          {"organization_id", r[1].as<std::string>()},
          {"contact_id", text_or_null(r[2])},
          {"event_type", r[3].as<std::string>()},
          {"date", text_or_null(r[4])},
          {"hours", std::stod(r[5].as<std::string>())},
          {"billed_hours", std::stod(r[6].as<std::string>())},
          {"guests", r[7].is_null() ? json(nullptr) : json(r[7].as<int64_t>())},
          {"add_ons", json::parse(r[8].as<std::string>())},
          {"amount_cents", r[9].as<int64_t>()},
          {"currency", r[10].as<std::string>()},
          {"breakdown", json::parse(r[11].as<std::string>())},
          {"created_at", r[12].as<std::string>()},
          {"updated_at", r[13].as<std::string>()},
          {"version", r[14].as<int64_t>()}};
}

void only_fields(const json& args, const std::set<std::string>& allowed) {
  for (auto& [key, value] : args.items())
    if (allowed.count(key) == 0)
      throw op_error(app_errc::bad_request, key + " is not a field of a quote");
}

/// Returns the optional UUID argument `key`; a malformed one is a bad request naming it.
std::optional<std::string> arg_opt_uuid(const json& args, const char* key) {
  static const std::regex re{"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
                             "[0-9a-fA-F]{12}$"};
  auto value = arg_opt_string(args, key);
  if (value && !std::regex_match(*value, re))
    throw op_error(app_errc::bad_request, std::string{key} + " must be a UUID");
  return value;
}

void valid_event_type(const std::string& type) {
  static const std::set<std::string> types{"wedding",     "corporate", "birthday",
                                           "school_dance", "quinceanera", "mitzvah",
                                           "private_party", "club",    "other"};
  if (types.count(type) == 0)
    throw op_error(app_errc::bad_request,
                   "event_type must be one of wedding, corporate, birthday, school_dance, "
                   "quinceanera, mitzvah, private_party, club, other");
}

pricing::quote_input read_input(const json& args) {
  pricing::quote_input in;
  in.event_type = arg_string(args, "event_type");
  valid_event_type(in.event_type);
  in.date = arg_opt_string(args, "date");
  auto hours = args.find("hours");
  if (hours == args.end() || !hours->is_number())
    throw op_error(app_errc::bad_request, "hours is required (a number, e.g. 4.5)");
  in.hours = hours->get<double>();
  if (args.contains("guests") && !args["guests"].is_null())
    in.guests = arg_int(args, "guests", 0);
  if (auto add_ons = args.find("add_ons"); add_ons != args.end() && !add_ons->is_null()) {
    if (!add_ons->is_array() || add_ons->size() > 50)
      throw op_error(app_errc::bad_request, "add_ons must be an array of add-on names");
    for (auto& a : *add_ons) {
      if (!a.is_string())
        throw op_error(app_errc::bad_request, "add_ons must be an array of add-on names");
      in.add_ons.push_back(a.get<std::string>());
    }
  }
  return in;
}

void require_contact(pqxx::transaction_base& tx, const std::string& id) {
  if (tx.exec_params("select 1 from contacts where organization_id = app_org_id()"
                     " and id = $1::uuid",
                     id)
        .empty())
    throw op_error(app_errc::not_found, "no such contact");
}

/// The organization's pricing rules as stored (null when it has none).
json pricing_rules(pqxx::transaction_base& tx) {
  auto r = tx.exec1("select coalesce(settings -> 'pricing', 'null'::jsonb)::text"
                    " from organizations where id = app_org_id()");
  return json::parse(r[0].as<std::string>());
}

json create(pqxx::transaction_base& tx, const db_scope&, const json& args) {
  only_fields(args, {"contact_id", "event_type", "date", "hours", "guests", "add_ons"});
  auto in = read_input(args);
  auto contact = arg_opt_uuid(args, "contact_id");
  auto q = pricing::get_quote(pricing_rules(tx), in);
  if (!q)
    throw op_error(app_code(q.error()), error_message(q.error()));
  if (contact)
    require_contact(tx, *contact);
  auto quoted = pricing::to_json(*q);
  auto rows = tx.exec_params(
    std::string{"insert into quotes (organization_id, contact_id, event_type, event_date, hours,"
                " billed_hours, guests, add_ons, amount_cents, currency, breakdown)"
                " values (app_org_id(), $1::uuid, $2, $3::date, $4::numeric, $5::numeric, $6,"
                " array(select jsonb_array_elements_text($7::jsonb)), $8, $9, $10::jsonb)"
                " returning "}
      + quote_columns,
    contact, in.event_type, in.date, std::to_string(in.hours), std::to_string(q->billed_hours),
    in.guests, json(in.add_ons).dump(), q->amount_cents, q->currency, quoted["breakdown"].dump());
  // A quote moves an early lead along the pipeline; later stages stay where they are.
  if (contact)
    tx.exec_params("update contacts set status = 'quoted' where organization_id = app_org_id()"
                   " and id = $1::uuid and status in ('new', 'contacted')",
                   *contact);
  return quote_json(rows[0]);
}

json get(pqxx::transaction_base& tx, const db_scope&, const json& args) {
  auto id = arg_opt_uuid(args, "id");
  auto rows = id ? tx.exec_params(std::string{"select "} + quote_columns
                                    + " from quotes where organization_id = app_org_id()"
                                      " and id = $1::uuid",
                                  *id)
                 : pqxx::result{};
  if (rows.empty())
    throw op_error(app_errc::not_found, "no such quote");
  return quote_json(rows[0]);
}

json list(pqxx::transaction_base& tx, const db_scope&, const json& args) {
  auto page = read_page(args);
  auto contact = arg_opt_uuid(args, "contact_id");
  auto rows = tx.exec_params(
    std::string{"select "} + quote_columns
      + " from quotes where organization_id = app_org_id()"
        " and ($1::uuid is null or contact_id = $1::uuid)"
        " and ($2 = '' or (created_at, id) > ($2::timestamptz, nullif($3, '')::uuid))"
        " order by created_at, id limit $4",
    contact, page.after_ts, page.after_id, page.limit + 1);
  return page_result(rows, page, 12, 0, quote_json);
}

} // namespace

void add_quote_operations(std::map<std::string, operation>& ops) {
  ops.emplace("quotes.create", create);
  ops.emplace("quotes.get", get);
  ops.emplace("quotes.list", list);
}

} // namespace djdash::persistence
