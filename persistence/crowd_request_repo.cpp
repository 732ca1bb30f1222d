#include "persistence/crowd_request_repo.hpp"

#include <algorithm>
#include <regex>
#include <set>

#include "persistence/repo_util.hpp"
#include "protocols/crypto.hpp"
#include "protocols/request_settings.hpp"

namespace djdash::persistence {

namespace {

using json = nlohmann::json;

constexpr int64_t max_amount_cents = 100'000'000;

// A request that was never paid stops counting against the limits after this long (the guest
// walked away from the checkout page).
constexpr auto abandoned_after = "interval '30 minutes'";

// Place among the requests waiting to be played: 1 = next. Only queued requests have one.
constexpr auto position_expr
  = "case when r.status = 'queued' then"
    " (select count(*) from crowd_requests q where q.organization_id = r.organization_id"
    "   and q.status = 'queued'"
    "   and (q.queue_key, q.created_at, q.id) <= (r.queue_key, r.created_at, r.id)) end";

constexpr auto request_columns
  = "r.id, r.organization_id, r.kind, r.song_title, r.artist, r.requester_name, r.message,"
    " r.amount_cents, r.currency, r.priority_tier, r.priority_cents, r.status, r.payment_status,"
    " r.payment_code, r.charge_on_play, r.requester_ip, r.stripe_checkout_session_id,"
    " r.stripe_payment_intent_id, to_jsonb(r.queued_at) #>> '{}',"
    " to_jsonb(r.created_at) #>> '{}', to_jsonb(r.updated_at) #>> '{}', r.version";

json request_json(const pqxx::row& r) {
  return {{"id", r[0].as<std::string>()},
          {"organization_id", r[1].as<std::string>()},
          {"kind", r[2].as<std::string>()},
          {"song_title", text_or_null(r[3])},
          {"artist", text_or_null(r[4])},
          {"requester_name", text_or_null(r[5])},
          {"message", text_or_null(r[6])},
          {"amount_cents", r[7].as<int64_t>()},
          {"currency", r[8].as<std::string>()},
          {"priority_tier", text_or_null(r[9])},
          {"priority_cents", r[10].as<int64_t>()},
          {"status", r[11].as<std::string>()},
          {"payment_status", r[12].as<std::string>()},
          {"payment_code", r[13].as<std::string>()},
          {"charge_on_play", r[14].as<bool>()},
          {"requester_ip", text_or_null(r[15])},
          {"stripe_checkout_session_id", text_or_null(r[16])},
          {"stripe_payment_intent_id", text_or_null(r[17])},
          {"queued_at", text_or_null(r[18])},
          {"created_at", r[19].as<std::string>()},
          {"updated_at", r[20].as<std::string>()},
          {"version", r[21].as<int64_t>()},
          {"position", r[22].is_null() ? json(nullptr) : json(r[22].as<int64_t>())}};
}

[[noreturn]] void bad(const std::string& message) {
  throw op_error(app_errc::bad_request, message);
}

[[noreturn]] void invalid(const std::string& message) {
  throw op_error(app_errc::unprocessable, message);
}

[[noreturn]] void conflict(const std::string& message) {
  throw op_error(app_errc::conflict, message);
}

void only_fields(const json& args, const std::set<std::string>& allowed, const char* what) {
  for (auto& [key, value] : args.items())
    if (allowed.count(key) == 0)
      bad(key + " is not a field of " + what);
}

std::optional<std::string> arg_opt_uuid(const json& args, const char* key) {
  static const std::regex re{"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
                             "[0-9a-fA-F]{12}$"};
  auto i = args.find(key);
  if (i == args.end() || !i->is_string() || !std::regex_match(i->get<std::string>(), re))
    return std::nullopt;
  return i->get<std::string>();
}

/// Characters (UTF-8 code points) in `s`; the JSON parser already rejected invalid UTF-8.
size_t char_count(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80)
      ++n;
  return n;
}

std::string trim(const std::string& s) {
  auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string::npos)
    return {};
  auto last = s.find_last_not_of(" \t\r\n");
  return s.substr(first, last - first + 1);
}

/// An optional free-text field: trimmed, blank counts as absent, at most `max` characters,
/// no control characters (line breaks only where `multiline`).
std::optional<std::string> text_field(const json& args, const char* key, size_t max,
                                      bool multiline = false) {
  auto raw = arg_opt_string(args, key);
  if (!raw)
    return std::nullopt;
  auto value = trim(*raw);
  if (value.empty())
    return std::nullopt;
  if (char_count(value) > max)
    bad(std::string{key} + " must be at most " + std::to_string(max) + " characters");
  for (unsigned char c : value)
    if ((c < 0x20 && !(multiline && (c == '\n' || c == '\r' || c == '\t'))) || c == 0x7f)
      bad(std::string{key} + " must not contain control characters");
  return value;
}

/// The member view of one request. Its queue position costs a count over the queue, so the
/// submit path (hot, and the guest's status page shows the position anyway) leaves it out.
json load(pqxx::transaction_base& tx, const std::string& id, bool with_position = true) {
  auto rows = tx.exec_params(std::string{"select "} + request_columns + ", "
                               + (with_position ? position_expr : "null::bigint")
                               + " from crowd_requests r"
                                 " where r.organization_id = app_org_id() and r.id = $1::uuid",
                             id);
  if (rows.empty())
    throw op_error(app_errc::not_found, "no such request");
  auto out = request_json(rows[0]);
  if (!with_position)
    out.erase("position");
  return out;
}

/// A short code the guest can read out to the DJ: 6 characters without look-alikes (0/O,
/// 1/I/L), drawn without modulo bias.
std::string new_payment_code() {
  static constexpr char alphabet[] = "ABCDEFGHJKMNPQRSTUVWXYZ23456789";
  constexpr unsigned n = sizeof(alphabet) - 1;  // 31
  constexpr unsigned limit = 256 - 256 % n;     // 248
  std::string code;
  while (code.size() < 6)
    for (unsigned char b : crypto::random_bytes(8))
      if (b < limit && code.size() < 6)
        code.push_back(alphabet[b % n]);
  return code;
}

bool has_stripe_account(pqxx::transaction_base& tx) {
  // The payments migration (stripe_accounts) may come after this one in a partial deployment.
  if (!tx.exec1("select to_regclass('public.stripe_accounts') is not null")[0].as<bool>())
    return false;
  return tx
    .exec1("select exists (select 1 from stripe_accounts where organization_id = app_org_id())")
         [0]
    .as<bool>();
}

std::string kind_label(const std::string& kind) {
  return kind == "song" ? "a song request" : kind == "shoutout" ? "a shout-out" : "a tip";
}

json submit(pqxx::transaction_base& tx, const db_scope&, const json& args) {
  only_fields(args,
              {"kind", "song_title", "artist", "requester_name", "message", "amount_cents",
               "priority", "requester_key", "requester_ip", "payments_configured"},
              "a request");
  // Shape first: every malformed field is a 400 naming it.
  auto kind = arg_opt_string(args, "kind");
  if (!kind || (*kind != "song" && *kind != "shoutout" && *kind != "tip"))
    bad("kind must be song, shoutout or tip");
  auto title = text_field(args, "song_title", 200);
  auto artist = text_field(args, "artist", 200);
  auto name = text_field(args, "requester_name", 100);
  auto message = text_field(args, "message", 500, true);
  auto priority = text_field(args, "priority", 40);
  if (*kind == "song" && !title)
    bad("song_title is required for a song request");
  if (*kind != "song" && (title || artist))
    bad("song_title and artist belong to song requests only");
  if (*kind == "shoutout" && !message)
    bad("message (what the DJ should say) is required for a shout-out");
  if (*kind == "tip" && priority)
    bad("priority is for song requests and shout-outs, not tips");
  auto amount_it = args.find("amount_cents");
  if (amount_it == args.end() || amount_it->is_null())
    bad("amount_cents is required (integer cents; 0 for a free request where allowed)");
  if (!amount_it->is_number_integer())
    bad("amount_cents must be an integer number of cents");
  auto amount = amount_it->get<int64_t>();
  if (amount < 0 || amount > max_amount_cents)
    bad("amount_cents must be from 0 to " + std::to_string(max_amount_cents));
  auto requester_key = arg_opt_string(args, "requester_key");
  if (!requester_key || requester_key->empty() || requester_key->size() > 200)
    bad("requester_key is required");
  auto requester_ip = arg_opt_string(args, "requester_ip");
  auto payments_configured = args.value("payments_configured", false);

  // The organization's rules, read in this transaction.
  auto org = tx.exec("select settings::text from organizations where id = app_org_id()");
  if (org.empty())
    throw op_error(app_errc::not_found, "no organization with this slug");
  auto rules = read_request_settings(json::parse(org[0][0].as<std::string>(), nullptr, false));
  if (!rules.accepting_requests)
    conflict("this DJ is not taking requests right now");
  int64_t priority_cents = 0;
  if (priority) {
    auto tier = rules.priority_prices.find(*priority);
    if (tier == rules.priority_prices.end()) {
      if (rules.priority_prices.empty())
        invalid("this DJ offers no priority; leave priority out");
      std::string names;
      for (auto& [t, price] : rules.priority_prices)
        names += (names.empty() ? "" : ", ") + t;
      invalid("priority must be one of: " + names);
    }
    priority_cents = tier->second;
  }
  auto minimum = rules.minimum_cents(*kind) + priority_cents;
  if (*kind == "tip" && amount == 0)
    invalid("amount_cents must be above 0 for a tip");
  if (amount < minimum)
    invalid("amount_cents must be at least " + std::to_string(minimum) + " for "
            + kind_label(*kind) + (priority ? " with " + *priority + " priority" : std::string{}));
  bool paid = amount > 0;
  if (paid && (!payments_configured || !has_stripe_account(tx)))
    conflict("this DJ cannot take card payments yet (payments are unavailable); only free "
             "requests can be sent");

  // Limits that concurrent submits could race past: one requester (and one song) at a time.
  auto live = std::string{"(r.status in ('queued', 'playing', 'played', 'skipped')"
                          " or (r.status = 'pending_payment' and r.created_at > now() - "}
              + abandoned_after + "))";
  if (rules.max_pending_per_requester > 0) {
    // Only this guest's submits wait for each other; other guests' run in parallel.
    tx.exec_params("select pg_advisory_xact_lock(hashtextextended('crowd-requester:'"
                   " || app_org_id()::text || ':' || $1, 0))",
                   *requester_key);
    auto waiting
      = tx.exec_params1("select count(*) from crowd_requests r"
                        " where r.organization_id = app_org_id() and r.requester_key = $1"
                        " and r.status in ('pending_payment', 'queued', 'playing') and "
                          + live,
                        *requester_key)[0]
          .as<int64_t>();
    if (waiting >= rules.max_pending_per_requester)
      conflict("you already have " + std::to_string(waiting)
               + " requests waiting; send another once one of them has played");
  }
  if (*kind == "song" && rules.song_repeat_window_minutes > 0) {
    auto song_key = "lower(btrim($1)) || '|' || lower(btrim(coalesce($2, '')))";
    tx.exec_params(std::string{"select pg_advisory_xact_lock(hashtextextended('crowd-song:'"
                               " || app_org_id()::text || ':' || "}
                     + song_key + ", 0))",
                   *title, artist);
    auto repeated
      = tx.exec_params1(std::string{"select exists (select 1 from crowd_requests r"
                                    " where r.organization_id = app_org_id()"
                                    " and r.kind = 'song' and r.song_key = "}
                          + song_key
                          + " and r.created_at > now() - make_interval(mins => $3::int) and "
                          + live + ")",
                        *title, artist, rules.song_repeat_window_minutes)[0]
          .as<bool>();
    if (repeated)
      conflict("this song was already requested in the last "
               + std::to_string(rules.song_repeat_window_minutes) + " minutes");
  }

  auto status = paid ? "pending_payment" : "queued";
  auto payment_status = paid ? "pending" : "none";
  bool charge_on_play = paid && *kind == "song" && rules.charge_on_play;
  // A payment code is unique per organization: draw again on the rare collision.
  for (int attempt = 0; attempt < 8; ++attempt) {
    auto rows = tx.exec_params(
      "insert into crowd_requests (organization_id, kind, song_title, artist, requester_name,"
      " message, amount_cents, currency, priority_tier, priority_cents, status, payment_status,"
      " payment_code, requester_ip, requester_key, charge_on_play)"
      " values (app_org_id(), $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"
      " on conflict (organization_id, payment_code) do nothing returning id",
      *kind, title, artist, name, message, amount, rules.currency, priority, priority_cents,
      status, payment_status, new_payment_code(),
      requester_ip ? std::optional<std::string>{requester_ip->substr(0, 100)} : std::nullopt,
      *requester_key, charge_on_play);
    if (!rows.empty())
      return load(tx, rows[0][0].as<std::string>(), false);
  }
  throw op_error(app_errc::internal, "could not draw a free payment code");
}

json get_public(pqxx::transaction_base& tx, const db_scope&, const json& args) {
  auto id = arg_opt_uuid(args, "id");
  if (!id)
    throw op_error(app_errc::not_found, "no such request");
  auto rows = tx.exec_params(
    "select id, organization_id, kind, song_title, artist, requester_name, message,"
    " amount_cents, currency, priority_tier, status, payment_status, payment_code,"
    " queue_position, to_jsonb(created_at) #>> '{}', to_jsonb(updated_at) #>> '{}'"
    " from public_crowd_request($1::uuid)",
    *id);
  if (rows.empty())
    throw op_error(app_errc::not_found, "no such request");
  auto r = rows[0];
  return {{"id", r[0].as<std::string>()},
          {"organization_id", r[1].as<std::string>()},
          {"kind", r[2].as<std::string>()},
          {"song_title", text_or_null(r[3])},
          {"artist", text_or_null(r[4])},
          {"requester_name", text_or_null(r[5])},
          {"message", text_or_null(r[6])},
          {"amount_cents", r[7].as<int64_t>()},
          {"currency", r[8].as<std::string>()},
          {"priority_tier", text_or_null(r[9])},
          {"status", r[10].as<std::string>()},
          {"payment_status", r[11].as<std::string>()},
          {"payment_code", r[12].as<std::string>()},
          {"position", r[13].is_null() ? json(nullptr) : json(r[13].as<int64_t>())},
          {"created_at", r[14].as<std::string>()},
          {"updated_at", r[15].as<std::string>()}};
}

json get(pqxx::transaction_base& tx, const db_scope&, const json& args) {
  auto id = arg_opt_uuid(args, "id");
  if (!id)
    throw op_error(app_errc::not_found, "no such request");
  return load(tx, *id);
}

json cancel_unpaid(pqxx::transaction_base& tx, const db_scope&, const json& args) {
  auto id = arg_opt_uuid(args, "id");
  if (!id)
    throw op_error(app_errc::not_found, "no such request");
  tx.exec_params("update crowd_requests set status = 'cancelled', payment_status = 'none'"
                 " where organization_id = app_org_id() and id = $1::uuid"
                 " and status = 'pending_payment' and payment_status = 'pending'",
                 *id);
  return load(tx, *id);
}

json attach_checkout(pqxx::transaction_base& tx, const db_scope&, const json& args) {
  auto id = arg_opt_uuid(args, "id");
  if (!id)
    throw op_error(app_errc::not_found, "no such request");
  auto session = arg_string(args, "session_id");
  if (session.empty() || session.size() > 255)
    bad("session_id must be 1 to 255 characters");
  tx.exec_params("update crowd_requests set stripe_checkout_session_id = $2"
                 " where organization_id = app_org_id() and id = $1::uuid"
                 " and stripe_checkout_session_id is distinct from $2",
                 *id, session);
  return load(tx, *id);
}

// List order: stage (playing, queued, pending payment, the rest), then the queue key for the
// queue and newest first for the rest. The cursor carries "stage;key;created_at|id".
constexpr auto stage_expr
  = "(case r.status when 'playing' then 0 when 'queued' then 1"
    " when 'pending_payment' then 2 else 3 end)";
constexpr auto key_expr
  = "(case when r.status in ('queued', 'playing') then coalesce(r.queue_key, 0)"
    " else -extract(epoch from r.created_at)::numeric end)";

json list(pqxx::transaction_base& tx, const db_scope&, const json& args) {
  only_fields(args, {"limit", "cursor", "status"}, "a queue listing");
  auto page = read_page(args);
  auto status = arg_opt_string(args, "status").value_or("");
  static const std::set<std::string> filters{"",       "all",     "pending_payment", "queued",
                                             "playing", "played", "skipped",         "cancelled"};
  if (filters.count(status) == 0)
    bad("status must be all, pending_payment, queued, playing, played, skipped or cancelled "
        "(leave it out for the queue: playing and queued)");
  // A cursor names the last row of the previous page: its stage, key, creation time and id.
  bool has_cursor = !page.after_ts.empty();
  int after_stage = 0;
  std::string after_key = "0", after_ts = "epoch", after_id = "00000000-0000-0000-0000-000000000000";
  if (has_cursor) {
    static const std::regex re{"^([0-3]);(-?[0-9]+(?:\\.[0-9]+)?);([0-9T:.+Z-]{10,40})$"};
    static const std::regex uuid{"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"};
    std::smatch m;
    if (!std::regex_match(page.after_ts, m, re) || !std::regex_match(page.after_id, uuid))
      bad("cursor is not valid");
    after_stage = std::stoi(m[1]);
    after_key = m[2];
    after_ts = m[3];
    after_id = page.after_id;
  }
  auto rows = tx.exec_params(
    std::string{"select "} + request_columns + ", " + position_expr + ", " + stage_expr
      + "::text || ';' || " + key_expr + "::text || ';' || (to_jsonb(r.created_at) #>> '{}')"
      + " from crowd_requests r where r.organization_id = app_org_id()"
        " and (($1 = '' and r.status in ('queued', 'playing')) or $1 = 'all' or r.status = $1)"
        " and (not $2 or (" + stage_expr + ", " + key_expr + ", r.created_at, r.id)"
        "   > ($3::int, $4::numeric, $5::timestamptz, $6::uuid))"
        " order by " + stage_expr + ", " + key_expr + ", r.created_at, r.id limit $7",
    status, has_cursor, after_stage, after_key, after_ts, after_id, page.limit + 1);
  return page_result(rows, page, 23, 0, request_json);
}

/// The statuses a DJ may set.
const std::set<std::string>& target_statuses() {
  static const std::set<std::string> targets{"queued", "playing", "played", "skipped",
                                             "cancelled"};
  return targets;
}

/// Which status a DJ may move a request to from `from` (`to` is one of target_statuses()).
void check_transition(const std::string& from, const std::string& to) {
  if (from == to)
    return;
  auto allowed = (from == "pending_payment" && to == "cancelled")
                 || (from == "queued"
                     && (to == "playing" || to == "played" || to == "skipped"
                         || to == "cancelled"))
                 || (from == "playing"
                     && (to == "played" || to == "skipped" || to == "queued"
                         || to == "cancelled"));
  if (!allowed) {
    if (from == "pending_payment")
      conflict("this request is waiting for its payment; it can only be cancelled");
    conflict("a " + from + " request cannot become " + to);
  }
}

/// The queue key that puts a request at `position` (1 = next) among the other queued
/// requests: halfway between its new neighbours (numeric: exact), or one beyond an end.
std::optional<std::string> key_for_position(pqxx::transaction_base& tx, const std::string& id,
                                            int64_t position) {
  auto neighbour = [&](int64_t offset) -> std::optional<std::string> {
    if (offset < 0)
      return std::nullopt;
    auto rows = tx.exec_params("select queue_key::text from crowd_requests"
                               " where organization_id = app_org_id() and status = 'queued'"
                               " and id <> $1::uuid"
                               " order by queue_key, created_at, id offset $2 limit 1",
                               id, offset);
    if (rows.empty())
      return std::nullopt;
    return rows[0][0].as<std::string>();
  };
  // A place beyond the end is the end.
  auto others = tx.exec_params1("select count(*) from crowd_requests"
                                " where organization_id = app_org_id() and status = 'queued'"
                                " and id <> $1::uuid",
                                id)[0]
                  .as<int64_t>();
  position = std::min(position, others + 1);
  auto before = neighbour(position - 2);
  auto after = neighbour(position - 1);
  if (!before && !after)
    return std::nullopt;  // alone in the queue: nothing to move around
  // The end is after the last request and after everything that arrived before this move, so
  // a request that arrives later (same priority) still plays after it.
  if (before && !after)
    return tx
      .exec_params1("select greatest($1::numeric + 0.000001,"
                    " extract(epoch from clock_timestamp())::numeric)::text",
                    *before)[0]
      .as<std::string>();
  if (!before)
    return tx.exec_params1("select ($1::numeric - 1)::text", *after)[0].as<std::string>();
  // The shortest decimal strictly between the neighbours (keys stay short however often the DJ
  // moves into one gap), else the exact midpoint (equal neighbours: nothing fits between).
  return tx
    .exec_params1("select coalesce((select k from generate_series(0, 1000) s,"
                  "   lateral (select round(($1::numeric + $2::numeric) * 0.5, s) as k) m"
                  "   where k > $1::numeric and k < $2::numeric order by s limit 1),"
                  " ($1::numeric + $2::numeric) * 0.5)::text",
                  *before, *after)[0]
    .as<std::string>();
}

json update(pqxx::transaction_base& tx, const db_scope&, const json& args) {
  only_fields(args, {"id", "version", "status", "position"}, "a request update");
  auto id = arg_opt_uuid(args, "id");
  if (!id)
    throw op_error(app_errc::not_found, "no such request");
  auto status = arg_opt_string(args, "status");
  std::optional<int64_t> position;
  if (args.contains("position") && !args["position"].is_null()) {
    if (!args["position"].is_number_integer() || args["position"].get<int64_t>() < 1
        || args["position"].get<int64_t>() > 100000)
      bad("position must be an integer from 1 (next) up");
    position = args["position"].get<int64_t>();
  }
  if (args.contains("version") && !args["version"].is_number_integer())
    bad("version must be an integer");
  if (status && target_statuses().count(*status) == 0)
    bad("status must be queued, playing, played, skipped or cancelled");
  auto rows = tx.exec_params("select status, version from crowd_requests"
                             " where organization_id = app_org_id() and id = $1::uuid for update",
                             *id);
  if (rows.empty())
    throw op_error(app_errc::not_found, "no such request");
  auto from = rows[0][0].as<std::string>();
  auto version = rows[0][1].as<int64_t>();
  if (args.contains("version") && args["version"].get<int64_t>() != version)
    conflict("the request changed since you read it; reload and retry");
  auto to = status.value_or(from);
  check_transition(from, to);
  if (position && to != "queued")
    conflict("only a queued request has a place in the queue");
  std::optional<std::string> key;
  if (position)
    key = key_for_position(tx, *id, *position);
  if (to == from && !key)
    return load(tx, *id);
  tx.exec_params("update crowd_requests set status = $2,"
                 " queue_key = coalesce($3::numeric, queue_key)"
                 " where organization_id = app_org_id() and id = $1::uuid",
                 *id, to, key);
  return load(tx, *id);
}

} // namespace

void add_crowd_request_operations(std::map<std::string, operation>& ops) {
  ops.emplace("crowd_requests.submit", submit);
  ops.emplace("crowd_requests.get_public", get_public);
  ops.emplace("crowd_requests.cancel_unpaid", cancel_unpaid);
  ops.emplace("crowd_requests.attach_checkout", attach_checkout);
  ops.emplace("crowd_requests.list", list);
  ops.emplace("crowd_requests.get", get);
  ops.emplace("crowd_requests.update", update);
}

} // namespace djdash::persistence
