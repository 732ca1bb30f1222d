#include "http/agent_routes.hpp"

#include <chrono>
#include <ctime>

#include "config/settings.hpp"
#include "http/actor_bridge.hpp"
#include "http/auth_context.hpp"
#include "http/json_body.hpp"
#include "protocols/type_ids.hpp"

namespace djdash::http {

namespace {

using json = nlohmann::json;

constexpr std::size_t max_sms_chars = 1600; // Twilio's limit for one message body

/// Returns the number of UTF-8 code points in `s` (an SMS limit counts characters, not bytes).
std::size_t code_points(const std::string& s) {
  std::size_t n = 0;
  for (unsigned char c : s)
    n += (c & 0xC0) != 0x80;
  return n;
}

bool blank(const std::string& s) {
  return s.find_first_not_of(" \t\r\n") == std::string::npos;
}

std::string utc_now_rfc3339() {
  auto t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

/// Reads `{text, now?}`; answers 400 / 422 and returns false when they are unusable.
bool read_input(const request& req, const responder& rsp, std::string& text, std::string& now) {
  auto body = json_object_body(req, rsp);
  if (!body)
    return false;
  bool failed = false;
  auto t = string_field(*body, "text", 4 * max_sms_chars, rsp, failed);
  auto n = failed ? std::nullopt : string_field(*body, "now", 64, rsp, failed);
  if (failed)
    return false;
  if (!t) {
    rsp(error_response(app_errc::bad_request, "text is required"));
    return false;
  }
  if (blank(*t) || code_points(*t) > max_sms_chars) {
    rsp(error_response(app_errc::unprocessable, "text must be 1 to 1600 characters"));
    return false;
  }
  text = std::move(*t);
  now = n ? std::move(*n) : utc_now_rfc3339(); // the classifier checks it is RFC 3339
  return true;
}

/// The organization's timezone comes from its row (read under the caller's membership), then
/// the classifier answers.
void classify(const node_services& svc, request& req, const responder& rsp) {
  auto who = authenticate(req, *svc.cfg, rsp);
  if (!who)
    return;
  if (!is_uuid(who->org_id))
    return rsp(error_response(app_errc::forbidden, "no organization selected"));
  std::string text, now;
  if (!read_input(req, rsp, text, now))
    return;
  if (!svc.classifier)
    return rsp(error_response(app_errc::entity_unavailable, "the classifier is not running"));
  auto deadline = std::chrono::milliseconds(svc.cfg->http.request_deadline_ms);
  auto classifier = svc.classifier;
  ask_chain(
    *svc.sys, svc.db, deadline, rsp,
    [=](caf::event_based_actor* self, responder rsp, std::string& org) {
      auto tz = json::parse(org).value("timezone", std::string{"UTC"});
      self->request(classifier, deadline, classify_atom_v, text, now, tz)
        .then([rsp](std::string& out) { rsp(json_response(200, json::parse(out))); },
              [rsp](caf::error& err) { rsp(error_response(err)); });
    },
    db_call{"org.get", who->scope("member"), json::object().dump()});
}

constexpr auto classify_request_schema = R"({"type":"object","required":["text"],"properties":{
  "text":{"type":"string","minLength":1,"maxLength":1600,"example":"are you free june 14?"},
  "now":{"type":"string","format":"date-time",
    "description":"anchors relative dates; default the current time"}}})";

constexpr auto classify_response_schema = R"({"type":"object","properties":{
  "intent":{"type":"string",
    "enum":["availability","pricing","booking","followup","other","optout"]},
  "confidence":{"type":"number","minimum":0,"maximum":1},
  "entities":{"type":"object","properties":{
    "date":{"type":"string","format":"date"},"time":{"type":"string","example":"18:30"},
    "hours":{"type":"number"},"guests":{"type":"integer"},
    "event_type":{"type":"string","enum":["wedding","corporate","birthday","school_dance",
      "quinceanera","mitzvah","private_party","club","other"]},
    "venue":{"type":"string"},"name":{"type":"string"},"email":{"type":"string"},
    "budget_cents":{"type":"integer"}}}}})";

} // namespace

void add_agent_routes(route_table& routes, node_services svc) {
  routes.add("POST", "/api/agents/classify",
             [svc](request& req, const responder& rsp) { classify(svc, req, rsp); },
             route_doc{"What the SMS assistant's classifier decides for a text: intent, "
                       "confidence and entities (relative dates in the organization's timezone)",
                       "agents", true, {200, 400, 401, 403, 422}, classify_request_schema,
                       classify_response_schema});
}

} // namespace djdash::http
