#pragma once

// What an SMS agent knows while it handles one customer message: the conversation context the
// sms_conversation entity sends, the slots collected over the dialog, and the tools called so far.
// An agent is a pure planner over this `turn`: it returns the next tool to call or the reply
// (agent_runtime.hpp runs the tools). Pure: no I/O, no clock.

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <caf/expected.hpp>
#include <nlohmann/json.hpp>

namespace djdash::agents {

/// How a tool runs.
enum class tool_kind {
  db,         // a named database operation under the organization's scope
  calendar,   // a calendar operation through the organization entity (serialized per org)
  org_state,  // the organization entity's full state (settings, pricing rules)
  scan_dates, // events.availability through the organization entity for candidate dates
  local,      // computed by the planner itself (result already known)
};

/// The next tool an agent wants called.
struct tool_request {
  std::string name;        // the tool's name in the conversation record (AGENTS.md)
  nlohmann::json arguments = nlohmann::json::object();
  tool_kind kind = tool_kind::db;
  std::string op;          // db / calendar: the operation name
  bool recorded = true;    // false for internal reads the customer never caused
  nlohmann::json result;   // local: the result
};

/// A tool that ran: its result, or `{"error": {"code", "message"}}`.
struct tool_record {
  std::string name;
  nlohmann::json arguments;
  nlohmann::json result;
  bool ok = false;
  bool recorded = true;
};

/// The agent's answer: the text for the customer and what to change in the dialog state.
struct final_reply {
  std::string text;
  nlohmann::json state_patch = nlohmann::json::object();
};

using step = std::variant<tool_request, final_reply>;

/// One customer message being handled.
struct turn {
  std::string intent;
  std::string org_id;
  std::string org_name;
  std::string timezone;
  std::string org_phone;
  std::string customer_phone;
  std::string conversation_id;
  std::string text;
  std::string now;     // RFC 3339
  std::string today;   // the date part of `now` (YYYY-MM-DD)
  nlohmann::json entities = nlohmann::json::object();  // what this message said
  nlohmann::json slots = nlohmann::json::object();     // merged over the dialog
  nlohmann::json state = nlohmann::json::object();     // the dialog state as received
  std::optional<std::string> contact_id;
  std::vector<tool_record> calls;
};

using planner = step (*)(const turn&);

/// Parses the context JSON the conversation entity sends (see agent_pool.hpp). Fails with
/// `app_errc::bad_request` naming what is missing.
caf::expected<turn> parse_context(const std::string& intent, const std::string& context_json);

/// Returns `slots` with every entity of `entities` written over it (the newer message wins).
nlohmann::json merge_slots(const nlohmann::json& slots, const nlohmann::json& entities);

/// Returns the last call of tool `name`, or null.
const tool_record* last_call(const turn& t, std::string_view name);

/// Returns how many times tool `name` was called.
size_t call_count(const turn& t, std::string_view name);

/// Returns the slot `key` as text / number, when present with that type.
std::optional<std::string> slot_text(const turn& t, const char* key);
std::optional<double> slot_number(const turn& t, const char* key);

/// Returns the contact id known for this turn: from the context, the state or a create_contact
/// call that succeeded.
std::optional<std::string> known_contact(const turn& t);

/// The first step of every agent: when no contact is known yet, `create_contact` for the
/// customer's phone (with the name and email collected so far; phone alone when those were
/// refused). Nothing when the contact is known or creating it failed.
std::optional<tool_request> ensure_contact(const turn& t);

/// Returns the JSON the agent pool replies with: {"reply", "tool_calls": [{name, arguments,
/// result}] (recorded ones), "state": the state with merged slots, the contact and `r`'s patch}.
nlohmann::json agent_output(const turn& t, const final_reply& r);

// --- calendar arithmetic on YYYY-MM-DD dates ---------------------------------------------

/// Returns `date` moved by `days`, or nothing when `date` is not a real date.
std::optional<std::string> add_days(const std::string& date, int days);

/// Returns the candidates around a taken `date`, nearest first (date+1, date-1, date+2, ...)
/// up to `span` days away, leaving out days before `today`.
std::vector<std::string> nearby_dates(const std::string& date, const std::string& today,
                                      int span);

/// Returns the RFC 3339 time `days` days after `rfc3339` (same clock time and offset), or
/// nothing when it is not an RFC 3339 time.
std::optional<std::string> add_days_rfc3339(const std::string& rfc3339, int days);

} // namespace djdash::agents
