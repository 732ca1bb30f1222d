#include "persistence/assistant_repo.hpp"

#include <regex>

#include "persistence/repo_util.hpp"
#include "protocols/pricing.hpp"

namespace djdash::persistence {

namespace {

using json = nlohmann::json;

[[noreturn]] void bad(const std::string& msg) {
  throw op_error(app_errc::bad_request, msg);
}

json event_span(pqxx::transaction_base& tx, const db_scope&, const json& args) {
  static const std::regex time_re{"^([01][0-9]|2[0-3]):[0-5][0-9]$"};
  auto date = arg_string(args, "date");
  if (!pricing::weekday_of(date))
    bad("date must be a calendar date written YYYY-MM-DD");
  auto time = arg_string(args, "time");
  if (!std::regex_match(time, time_re))
    bad("time must be HH:MM (24 h)");
  auto hours = args.find("hours");
  if (hours == args.end() || !hours->is_number() || hours->get<double>() <= 0
      || hours->get<double>() > 24)
    bad("hours must be a number above 0 and at most 24");
  auto minutes = static_cast<int64_t>(hours->get<double>() * 60 + 0.5);
  auto rows = tx.exec_params(
    "select to_jsonb(s) #>> '{}', to_jsonb(s + make_interval(mins => $3::int)) #>> '{}'"
    " from (select ($1::date + $2::time) at time zone o.timezone as s"
    "       from organizations o where o.id = app_org_id()) x",
    date, time, minutes);
  if (rows.empty())
    throw op_error(app_errc::not_found, "organization not found");
  return {{"starts_at", rows[0][0].as<std::string>()}, {"ends_at", rows[0][1].as<std::string>()}};
}

json notify(pqxx::transaction_base& tx, const db_scope&, const json& args) {
  static const std::regex kind_re{"^[a-z][a-z0-9_]{0,49}$"};
  static const std::regex uuid_re{"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
                                  "[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"};
  auto kind = arg_string(args, "kind");
  if (!std::regex_match(kind, kind_re))
    bad("kind must be lowercase letters, digits and _");
  auto title = arg_string(args, "title");
  if (title.empty() || title.size() > 500)
    bad("title must be 1 to 500 bytes");
  auto target = arg_opt_string(args, "target_id");
  if (target && !std::regex_match(*target, uuid_re))
    bad("target_id must be a UUID");
  auto details = args.value("details", json::object());
  if (!details.is_object())
    bad("details must be an object");
  auto id = tx.exec_params1("insert into notifications (organization_id, kind, title, target_id,"
                            " details) values (app_org_id(), $1, $2, $3::uuid, $4::jsonb)"
                            " returning id",
                            kind, title, target, details.dump())[0]
              .as<std::string>();
  return {{"id", id}, {"kind", kind}, {"title", title}, {"channel", "notification"}};
}

} // namespace

void add_assistant_operations(std::map<std::string, operation>& ops) {
  ops.emplace("assistant.event_span", event_span);
  ops.emplace("assistant.notify", notify);
}

} // namespace djdash::persistence
