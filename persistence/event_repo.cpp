#include "persistence/event_repo.hpp"

#include <regex>
#include <set>

#include "persistence/repo_util.hpp"

namespace djdash::persistence {

namespace {

using json = nlohmann::json;

constexpr auto event_columns
  = "organization_id, id, title, event_type, to_jsonb(starts_at) #>> '{}',"
    " to_jsonb(ends_at) #>> '{}', status, to_jsonb(hold_expires_at) #>> '{}', contact_id, venue,"
    " guest_count, price_cents, notes, to_jsonb(created_at) #>> '{}',"
    " to_jsonb(updated_at) #>> '{}', version";

json event_json(const pqxx::row& r) {
  auto int_or_null = [](const pqxx::field& f) -> json {
    return f.is_null() ? json(nullptr) : json(f.as<int64_t>());
  };
  return {{"organization_id", r[0].as<std::string>()}, {"id", r[1].as<std::string>()},
          {"title", r[2].as<std::string>()},           {"event_type", r[3].as<std::string>()},
          {"starts_at", r[4].as<std::string>()},       {"ends_at", r[5].as<std::string>()},
          {"status", r[6].as<std::string>()},          {"hold_expires_at", text_or_null(r[7])},
          {"contact_id", text_or_null(r[8])},          {"venue", text_or_null(r[9])},
          {"guest_count", int_or_null(r[10])},         {"price_cents", int_or_null(r[11])},
          {"notes", r[12].as<std::string>()},          {"created_at", r[13].as<std::string>()},
          {"updated_at", r[14].as<std::string>()},     {"version", r[15].as<int64_t>()}};
}

[[noreturn]] void bad(const std::string& msg) {
  throw op_error(app_errc::bad_request, msg);
}

bool is_timestamp(const std::string& s) {
  static const std::regex re{
    R"(^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})$)"};
  return std::regex_match(s, re);
}

bool is_uuid_text(const std::string& s) {
  static const std::regex re{"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
                             "[0-9a-fA-F]{12}$"};
  return std::regex_match(s, re);
}

/// Checks every field a create or update may carry; throws a 400 naming the first bad one.
void validate_fields(const json& f, bool creating) {
  static const std::set<std::string> allowed{
    "id",    "title",       "event_type",  "starts_at", "ends_at", "status", "hold_expires_at",
    "venue", "guest_count", "price_cents", "notes",     "version", "contact_id"};
  static const std::set<std::string> types{"wedding",     "corporate", "birthday",
                                           "school_dance", "quinceanera", "mitzvah",
                                           "private_party", "club",    "other"};
  for (auto& [key, value] : f.items())
    if (allowed.count(key) == 0)
      bad(key + " is not an event field");
  auto str = [&](const char* key, size_t max, bool nullable) {
    if (!f.contains(key))
      return;
    auto& v = f[key];
    if (v.is_null() && nullable)
      return;
    if (!v.is_string() || v.get<std::string>().size() > max)
      bad(std::string{key} + " must be a string of at most " + std::to_string(max) + " bytes");
  };
  str("title", 200, false);
  str("venue", 300, true);
  str("notes", 20000, false);
  if (creating && (!f.contains("title") || f["title"].get<std::string>().empty()))
    bad("title is required");
  if (f.contains("title") && f["title"].get<std::string>().empty())
    bad("title must not be empty");
  if (f.contains("event_type")
      && (!f["event_type"].is_string() || types.count(f["event_type"].get<std::string>()) == 0))
    bad("event_type must be one of wedding, corporate, birthday, school_dance, quinceanera, "
        "mitzvah, private_party, club, other");
  for (auto key : {"starts_at", "ends_at", "hold_expires_at"}) {
    if (!f.contains(key) || (f[key].is_null() && std::string{key} == "hold_expires_at"))
      continue;
    if (!f[key].is_string() || !is_timestamp(f[key].get<std::string>()))
      bad(std::string{key} + " must be an RFC 3339 time like 2027-06-12T18:00:00-05:00");
  }
  if (creating && (!f.contains("starts_at") || !f.contains("ends_at")))
    bad("starts_at and ends_at are required");
  if (f.contains("status")) {
    auto ok = f["status"].is_string();
    auto s = ok ? f["status"].get<std::string>() : std::string{};
    if (creating ? (s != "hold" && s != "booked")
                 : (s != "hold" && s != "booked" && s != "cancelled" && s != "completed"))
      bad(creating ? "status must be hold or booked" : "status must be hold, booked, cancelled or completed");
  }
  if (f.contains("contact_id") && !f["contact_id"].is_null()
      && (!f["contact_id"].is_string() || !is_uuid_text(f["contact_id"].get<std::string>())))
    bad("contact_id must be a contact id");
  if (f.contains("guest_count") && !f["guest_count"].is_null()
      && (!f["guest_count"].is_number_integer() || f["guest_count"].get<int64_t>() < 0
          || f["guest_count"].get<int64_t>() > 100000))
    bad("guest_count must be an integer from 0 to 100000");
  if (f.contains("price_cents") && !f["price_cents"].is_null()
      && (!f["price_cents"].is_number_integer() || f["price_cents"].get<int64_t>() < 0))
    bad("price_cents must be a non-negative integer");
  if (f.contains("version") && !f["version"].is_number_integer())
    bad("version must be an integer");
}

/// Locks the organization row (calendar writes serialize on it) and returns its capacity.
int64_t lock_capacity(pqxx::transaction_base& tx) {
  auto rows = tx.exec("select case when jsonb_typeof(settings->'capacity') = 'number'"
                      " then greatest(1, least(1000, (settings->>'capacity')::numeric::int))"
                      " else 1 end from organizations where id = app_org_id() for update");
  if (rows.empty())
    throw op_error(app_errc::not_found, "organization not found");
  return rows[0][0].as<int64_t>();
}

/// Refuses [starts, ends) when, at some moment, the blocking events (holds that have not
/// expired, and bookings) already use the whole capacity. Back-to-back events do not overlap.
void check_capacity(pqxx::transaction_base& tx, const std::string& starts,
                    const std::string& ends, const std::string& except_id) {
  auto capacity = lock_capacity(tx);
  auto peak = tx.exec_params1(
    "with o as (select greatest(starts_at, $1::timestamptz) s, least(ends_at, $2::timestamptz) e"
    "  from events where organization_id = app_org_id() and status in ('hold', 'booked')"
    "  and not (status = 'hold' and hold_expires_at is not null and hold_expires_at <= now())"
    "  and starts_at < $2::timestamptz and ends_at > $1::timestamptz"
    "  and ($3 = '' or id <> nullif($3, '')::uuid)),"
    " p as (select s as t, 1 as d from o union all select e, -1 from o)"
    " select coalesce(max(running), 0) from"
    " (select sum(d) over (order by t, d rows unbounded preceding) as running from p) x",
    starts, ends, except_id)[0].as<int64_t>();
  if (peak + 1 > capacity)
    throw op_error(app_errc::conflict,
                   "not available: " + std::to_string(peak) + " event(s) already booked or held "
                     + "at that time (capacity " + std::to_string(capacity) + ")");
}

void check_times(pqxx::transaction_base& tx, const std::string& starts, const std::string& ends) {
  auto r = tx.exec_params1("select $1::timestamptz < $2::timestamptz,"
                           " $2::timestamptz - $1::timestamptz <= interval '7 days'",
                           starts, ends);
  if (!r[0].as<bool>())
    bad("ends_at must be after starts_at");
  if (!r[1].as<bool>())
    bad("an event lasts at most 7 days");
}

void check_contact(pqxx::transaction_base& tx, const json& f) {
  if (!f.contains("contact_id") || f["contact_id"].is_null())
    return;
  auto found = tx.exec_params("select 1 from contacts where organization_id = app_org_id()"
                              " and id = $1::uuid",
                              f["contact_id"].get<std::string>());
  if (found.empty())  // another organization's contact looks exactly like a missing one
    throw op_error(app_errc::not_found, "contact_id: no such contact");
}

/// Keeps the hold's expiry timer in step with the event: armed while it is a hold, done after.
void sync_hold_timer(pqxx::transaction_base& tx, const json& event) {
  if (event["status"] == "hold" && event["hold_expires_at"].is_string())
    tx.exec_params("insert into timers (organization_id, kind, target_id, due_at)"
                   " values (app_org_id(), 'hold_expiry', $1::uuid, $2::timestamptz)"
                   " on conflict (organization_id, kind, target_id) do update"
                   " set due_at = excluded.due_at, done_at = null, claimed_until = null,"
                   " attempts = 0",
                   event["id"].get<std::string>(), event["hold_expires_at"].get<std::string>());
  else
    tx.exec_params("update timers set done_at = now() where organization_id = app_org_id()"
                   " and kind = 'hold_expiry' and target_id = $1::uuid and done_at is null",
                   event["id"].get<std::string>());
}

json create(pqxx::transaction_base& tx, const db_scope&, const json& f) {
  validate_fields(f, true);
  auto starts = f["starts_at"].get<std::string>();
  auto ends = f["ends_at"].get<std::string>();
  check_times(tx, starts, ends);
  check_contact(tx, f);
  check_capacity(tx, starts, ends, "");
  auto rows = tx.exec_params(
    std::string{"insert into events (organization_id, title, event_type, starts_at, ends_at,"
                " status, hold_expires_at, contact_id, venue, guest_count, price_cents, notes)"
                " select app_org_id(), ($1::jsonb)->>'title', coalesce(($1::jsonb)->>'event_type', 'other'),"
                " (($1::jsonb)->>'starts_at')::timestamptz, (($1::jsonb)->>'ends_at')::timestamptz, s.status,"
                " case when s.status = 'hold' then coalesce((($1::jsonb)->>'hold_expires_at')::timestamptz,"
                "   now() + make_interval(hours => coalesce((o.settings->>'hold_expiry_hours')"
                "   ::numeric::int, 72))) end,"
                " (($1::jsonb)->>'contact_id')::uuid, ($1::jsonb)->>'venue', (($1::jsonb)->>'guest_count')::int,"
                " (($1::jsonb)->>'price_cents')::bigint, coalesce(($1::jsonb)->>'notes', '')"
                " from organizations o, (select coalesce(($1::jsonb)->>'status', 'hold') as status) s"
                " where o.id = app_org_id() returning "}
      + event_columns,
    f.dump());
  auto event = event_json(rows[0]);
  sync_hold_timer(tx, event);
  return event;
}

json load_for_update(pqxx::transaction_base& tx, const std::string& id) {
  auto rows = tx.exec_params(std::string{"select "} + event_columns
                               + " from events where organization_id = app_org_id()"
                                 " and id = $1::uuid for update",
                             id);
  if (rows.empty())
    throw op_error(app_errc::not_found, "no such event");
  return event_json(rows[0]);
}

bool allowed_transition(const std::string& from, const std::string& to) {
  if (from == to)
    return true;
  if (from == "hold")
    return to == "booked" || to == "cancelled";
  if (from == "booked")
    return to == "cancelled" || to == "completed";
  return false;
}

json update(pqxx::transaction_base& tx, const db_scope&, const json& f) {
  validate_fields(f, false);
  auto id = arg_string(f, "id");
  if (!is_uuid_text(id))
    throw op_error(app_errc::not_found, "no such event");
  lock_capacity(tx);  // writers of this calendar serialize here, before reading the event
  auto current = load_for_update(tx, id);
  if (f.contains("version") && f["version"] != current["version"])
    throw op_error(app_errc::conflict, "the event changed since you read it; reload and retry");
  auto status = f.value("status", current["status"].get<std::string>());
  if (!allowed_transition(current["status"], status))
    throw op_error(app_errc::conflict, "an event cannot go from " + current["status"].get<std::string>()
                                         + " to " + status);
  auto starts = f.value("starts_at", current["starts_at"].get<std::string>());
  auto ends = f.value("ends_at", current["ends_at"].get<std::string>());
  check_times(tx, starts, ends);
  check_contact(tx, f);
  if (status == "hold" || status == "booked")
    check_capacity(tx, starts, ends, id);
  auto rows = tx.exec_params(
    std::string{"update events set"
                " title = coalesce(($2::jsonb)->>'title', title),"
                " event_type = coalesce(($2::jsonb)->>'event_type', event_type),"
                " starts_at = coalesce((($2::jsonb)->>'starts_at')::timestamptz, starts_at),"
                " ends_at = coalesce((($2::jsonb)->>'ends_at')::timestamptz, ends_at),"
                " status = coalesce(($2::jsonb)->>'status', status),"
                " hold_expires_at = case when coalesce(($2::jsonb)->>'status', status) <> 'hold' then"
                "   hold_expires_at when ($2::jsonb) ? 'hold_expires_at' then"
                "   (($2::jsonb)->>'hold_expires_at')::timestamptz else hold_expires_at end,"
                " contact_id = case when ($2::jsonb) ? 'contact_id' then (($2::jsonb)->>'contact_id')::uuid"
                "   else contact_id end,"
                " venue = case when ($2::jsonb) ? 'venue' then ($2::jsonb)->>'venue' else venue end,"
                " guest_count = case when ($2::jsonb) ? 'guest_count' then (($2::jsonb)->>'guest_count')::int"
                "   else guest_count end,"
                " price_cents = case when ($2::jsonb) ? 'price_cents' then (($2::jsonb)->>'price_cents')::bigint"
                "   else price_cents end,"
                " notes = coalesce(($2::jsonb)->>'notes', notes)"
                " where organization_id = app_org_id() and id = $1::uuid returning "}
      + event_columns,
    id, f.dump());
  auto event = event_json(rows[0]);
  sync_hold_timer(tx, event);
  return event;
}

json remove(pqxx::transaction_base& tx, const db_scope&, const json& args) {
  auto id = arg_string(args, "id");
  if (!is_uuid_text(id))
    throw op_error(app_errc::not_found, "no such event");
  lock_capacity(tx);
  auto rows = tx.exec_params("delete from events where organization_id = app_org_id()"
                             " and id = $1::uuid returning id",
                             id);
  if (rows.empty())
    throw op_error(app_errc::not_found, "no such event");
  tx.exec_params("delete from timers where organization_id = app_org_id() and target_id = $1::uuid"
                 " and kind = 'hold_expiry'",
                 id);
  return json::object();
}

json get(pqxx::transaction_base& tx, const db_scope&, const json& args) {
  auto id = arg_string(args, "id");
  if (!is_uuid_text(id))
    throw op_error(app_errc::not_found, "no such event");
  auto rows = tx.exec_params(std::string{"select "} + event_columns
                               + " from events where organization_id = app_org_id()"
                                 " and id = $1::uuid",
                             id);
  if (rows.empty())
    throw op_error(app_errc::not_found, "no such event");
  return event_json(rows[0]);
}

json list(pqxx::transaction_base& tx, const db_scope&, const json& args) {
  auto page = read_page(args);
  auto status = arg_opt_string(args, "status").value_or("");
  if (!status.empty() && status != "hold" && status != "booked" && status != "cancelled"
      && status != "completed")
    bad("status must be hold, booked, cancelled or completed");
  auto from = arg_opt_string(args, "from").value_or("");
  auto to = arg_opt_string(args, "to").value_or("");
  for (auto& t : {from, to})
    if (!t.empty() && !is_timestamp(t))
      bad("from and to must be RFC 3339 times");
  auto contact = arg_opt_string(args, "contact_id").value_or("");
  if (!contact.empty() && !is_uuid_text(contact))
    bad("contact_id must be a contact id");
  auto rows = tx.exec_params(
    std::string{"select "} + event_columns
      + " from events where organization_id = app_org_id()"
        " and ($1 = '' or status = $1)"
        " and ($2 = '' or ends_at > nullif($2, '')::timestamptz)"
        " and ($3 = '' or starts_at < nullif($3, '')::timestamptz)"
        " and ($4 = '' or contact_id = nullif($4, '')::uuid)"
        " and ($5 = '' or (starts_at, id) > ($5::timestamptz, nullif($6, '')::uuid))"
        " order by starts_at, id limit $7",
    status, from, to, contact, page.after_ts, page.after_id, page.limit + 1);
  return page_result(rows, page, 4, 1, event_json);
}

json availability(pqxx::transaction_base& tx, const db_scope&, const json& args) {
  auto date = arg_string(args, "date");
  static const std::regex re{R"(^\d{4}-\d{2}-\d{2}$)"};
  if (!std::regex_match(date, re))
    bad("date must be YYYY-MM-DD");
  auto rows = tx.exec_params(
    std::string{"with org as (select timezone, case when jsonb_typeof(settings->'capacity') ="
                " 'number' then greatest(1, least(1000, (settings->>'capacity')::numeric::int))"
                " else 1 end as cap from organizations where id = app_org_id()),"
                " day as (select ($1::date)::timestamp at time zone org.timezone as s,"
                " ($1::date + 1)::timestamp at time zone org.timezone as e from org)"
                " select org.cap, "}
      + event_columns
      + " from org cross join day left join events ev on ev.organization_id = app_org_id()"
        " and ev.status in ('hold', 'booked')"
        " and not (ev.status = 'hold' and ev.hold_expires_at is not null"
        "          and ev.hold_expires_at <= now())"
        " and ev.starts_at < day.e and ev.ends_at > day.s order by ev.starts_at",
    date);
  if (rows.empty())
    throw op_error(app_errc::not_found, "organization not found");
  auto capacity = rows[0][0].as<int64_t>();
  json events = json::array();
  for (auto r : rows) {
    if (r[2].is_null())
      continue;  // the left join's empty row: no events that day
    events.push_back({{"id", r[2].as<std::string>()}, {"title", r[3].as<std::string>()},
                      {"status", r[7].as<std::string>()}, {"starts_at", r[5].as<std::string>()},
                      {"ends_at", r[6].as<std::string>()}});
  }
  auto blocking = static_cast<int64_t>(events.size());
  auto available = blocking < capacity;
  std::string reason = blocking == 0 ? "nothing booked that day"
                       : available  ? std::to_string(blocking) + " of "
                                       + std::to_string(capacity) + " slots taken"
                                    : "fully booked: " + std::to_string(blocking)
                                        + " event(s) held or booked (capacity "
                                        + std::to_string(capacity) + ")";
  return {{"date", date},         {"available", available}, {"capacity", capacity},
          {"blocking", blocking}, {"reason", reason},       {"events", events}};
}

json expire_hold(pqxx::transaction_base& tx, const db_scope&, const json& args) {
  auto id = arg_string(args, "event_id");
  lock_capacity(tx);
  auto released = tx.exec_params("update events set status = 'cancelled'"
                                 " where organization_id = app_org_id() and id = $1::uuid"
                                 " and status = 'hold' and hold_expires_at <= now() returning id",
                                 id);
  auto pending = tx.exec_params("select 1 from events where organization_id = app_org_id()"
                                " and id = $1::uuid and status = 'hold'"
                                " and hold_expires_at > now()",
                                id);
  if (pending.empty())  // released now, or no longer a hold: the timer's work is done
    tx.exec_params("update timers set done_at = now() where organization_id = app_org_id()"
                   " and kind = 'hold_expiry' and target_id = $1::uuid",
                   id);
  else  // the hold was extended: fire again at its new time
    tx.exec_params("update timers set claimed_until = null where organization_id ="
                   " app_org_id() and kind = 'hold_expiry' and target_id = $1::uuid",
                   id);
  return {{"released", !released.empty()}};
}

json claim_timers(pqxx::transaction_base& tx, const db_scope&, const json& args) {
  auto rows = tx.exec_params("select organization_id, id, kind, target_id, payload::text,"
                             " attempts from claim_due_timers($1, $2)",
                             arg_int(args, "limit", 100), arg_int(args, "lease_s", 30));
  json items = json::array();
  for (auto r : rows)
    items.push_back({{"organization_id", r[0].as<std::string>()}, {"id", r[1].as<std::string>()},
                     {"kind", r[2].as<std::string>()}, {"target_id", r[3].as<std::string>()},
                     {"payload", jsonb(r[4])}, {"attempts", r[5].as<int64_t>()}});
  return {{"items", items}};
}

json complete_timer(pqxx::transaction_base& tx, const db_scope&, const json& args) {
  tx.exec_params("update timers set done_at = now() where organization_id = app_org_id()"
                 " and id = $1::uuid",
                 arg_string(args, "id"));
  return json::object();
}

} // namespace

void add_event_operations(std::map<std::string, operation>& ops) {
  ops.emplace("events.create", create);
  ops.emplace("events.update", update);
  ops.emplace("events.delete", remove);
  ops.emplace("events.get", get);
  ops.emplace("events.list", list);
  ops.emplace("events.availability", availability);
  ops.emplace("events.expire_hold", expire_hold);
  ops.emplace("timers.claim", claim_timers);
  ops.emplace("timers.complete", complete_timer);
}

} // namespace djdash::persistence
