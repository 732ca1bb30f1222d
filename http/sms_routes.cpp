#include "http/sms_routes.hpp"

#include <regex>

#include "config/settings.hpp"
#include "http/actor_bridge.hpp"
#include "http/auth_context.hpp"
#include "http/error_response.hpp"
#include "http/json_body.hpp"
#include "http/paging.hpp"
#include "http/route_helpers.hpp"
#include "protocols/twilio.hpp"
#include "protocols/type_ids.hpp"

namespace djdash::http {

namespace {

using json = nlohmann::json;

constexpr auto twiml_type = "application/xml";

response twiml(const std::optional<std::string>& text) {
  response r;
  r.status = 200;
  r.content_type = twiml_type;
  r.body = twilio::twiml_reply(text);
  return r;
}

bool is_e164(const std::string& s) {
  static const std::regex re{"^\\+[1-9][0-9]{6,14}$"};
  return std::regex_match(s, re);
}

std::chrono::milliseconds deadline(const node_services& svc) {
  return std::chrono::milliseconds(svc.cfg->http.request_deadline_ms);
}

/// Checks X-Twilio-Signature over the public URL Twilio was given plus the raw request target
/// (path and query exactly as received) and every posted field. Answers 403 and returns nothing
/// when the request is not Twilio's.
std::optional<twilio::form_params> verified_form(const node_services& svc, const request& req,
                                                 const responder& rsp) {
  auto& token = svc.cfg->secrets.twilio_auth_token;
  if (token.empty() || svc.cfg->public_url.empty()) {
    rsp(error_response(app_errc::forbidden,
                       "Twilio webhooks are not configured (TWILIO_AUTH_TOKEN, DJDASH_PUBLIC_URL)"));
    return std::nullopt;
  }
  // The newer HMAC-SHA256 scheme: never silently fall back to SHA-1 (PROTOCOLS.md §1.2).
  if (!req.header("x-twilio-webhooks-signature-settings").empty()) {
    rsp(error_response(app_errc::forbidden, "unsupported Twilio signature scheme"));
    return std::nullopt;
  }
  auto base = svc.cfg->public_url;
  while (!base.empty() && base.back() == '/')
    base.pop_back();
  auto params = twilio::parse_form(req.body);
  if (!twilio::validate_request(token, req.header("x-twilio-signature"), base + req.target,
                                params)) {
    rsp(error_response(app_errc::forbidden, "invalid X-Twilio-Signature"));
    return std::nullopt;
  }
  return params;
}

std::string field(const twilio::form_params& params, const char* name) {
  return twilio::form_value(params, name).value_or(std::string{});
}

void incoming(const node_services& svc, request& req, const responder& rsp) {
  auto params = verified_form(svc, req, rsp);
  if (!params)
    return;
  auto sid = field(*params, "MessageSid");
  if (sid.empty())
    sid = field(*params, "SmsMessageSid");
  auto from = field(*params, "From");
  auto to = field(*params, "To");
  auto body = field(*params, "Body");
  if (sid.empty() || !is_e164(from) || !is_e164(to))
    return rsp(error_response(app_errc::bad_request,
                              "an incoming SMS needs MessageSid and E.164 From and To"));
  if (body.size() > 1600)
    return rsp(error_response(app_errc::bad_request, "Body is longer than 1600 characters"));
  auto router = svc.router;
  auto within = deadline(svc);
  ask_chain(
    *svc.sys, svc.db, within, rsp,
    [router, within, from, sid, body](caf::event_based_actor* self, responder rsp,
                                      std::string& found) {
      auto org = json::parse(found).at("organization_id").get<std::string>();
      json inbound{{"message_sid", sid}, {"body", body}};
      self->request(router, within, entity_atom_v, entity_ref{"sms_conversation", org + "|" + from},
                    caf::make_message(sms_atom_v, inbound.dump()))
        .then(
          [rsp](std::string& out) {
            auto answer = json::parse(out);
            auto& reply = answer["reply"];
            rsp(twiml(reply.is_string() ? std::optional<std::string>{reply.get<std::string>()}
                                        : std::nullopt));
          },
          [rsp](caf::error& err) { rsp(error_response(err)); });
    },
    db_call{"sms.org_by_number", db_scope{}, json{{"number", to}}.dump()});
}

void status_callback(const node_services& svc, request& req, const responder& rsp) {
  auto params = verified_form(svc, req, rsp);
  if (!params)
    return;
  auto sid = field(*params, "MessageSid");
  auto status = field(*params, "MessageStatus");
  if (status.empty())
    status = field(*params, "SmsStatus");
  auto from = field(*params, "From");  // our number: it names the organization
  if (sid.empty() || status.empty() || !is_e164(from))
    return rsp(error_response(app_errc::bad_request,
                              "a status callback needs MessageSid, MessageStatus and E.164 From"));
  json args{{"twilio_sid", sid}, {"status", status}};
  if (auto code = field(*params, "ErrorCode"); !code.empty())
    args["error_code"] = code;
  auto db = svc.db;
  auto within = deadline(svc);
  ask_chain(
    *svc.sys, svc.db, within, rsp,
    [db, within, args](caf::event_based_actor* self, responder rsp, std::string& found) {
      auto org = json::parse(found).at("organization_id").get<std::string>();
      self->request(db, within, db_call{"sms.status", db_scope{org, "", false, ""}, args.dump()})
        .then([rsp](std::string&) { rsp(twiml(std::nullopt)); },
              [rsp](caf::error& err) { rsp(error_response(err)); });
    },
    db_call{"sms.org_by_number", db_scope{}, json{{"number", from}}.dump()});
}

void list_conversations(const node_services& svc, request& req, const responder& rsp) {
  auto args = page_args(req, rsp);
  if (!args)
    return;
  run_org_op(svc, req, rsp, "sms.conversations.list", "member", *args, 200);
}

void get_conversation(const node_services& svc, request& req, const responder& rsp) {
  if (!uuid_param(req, "id", rsp, "conversation"))
    return;
  run_org_op(svc, req, rsp, "sms.conversations.get", "member", {{"id", req.params["id"]}}, 200);
}

/// Both ids of a draft route, or a 404 answered.
std::optional<json> draft_ids(const request& req, const responder& rsp) {
  if (!uuid_param(req, "id", rsp, "conversation")
      || !uuid_param(req, "message_id", rsp, "message"))
    return std::nullopt;
  return json{{"conversation_id", req.params.at("id")},
              {"message_id", req.params.at("message_id")}};
}

void edit_draft(const node_services& svc, request& req, const responder& rsp) {
  auto ids = draft_ids(req, rsp);
  if (!ids)
    return;
  auto body = json_object_body(req, rsp);
  if (!body)
    return;
  if (!body->contains("body") || !(*body)["body"].is_string())
    return rsp(error_response(app_errc::bad_request, "body (the text to send) is required"));
  for (auto& [k, v] : body->items())
    if (k != "body")
      return rsp(error_response(app_errc::bad_request, k + " cannot be changed on a draft"));
  (*ids)["body"] = (*body)["body"];
  run_org_op(svc, req, rsp, "sms.drafts.edit", "member", *ids, 200);
}

void cancel_draft(const node_services& svc, request& req, const responder& rsp) {
  auto ids = draft_ids(req, rsp);
  if (!ids)
    return;
  run_org_op(svc, req, rsp, "sms.drafts.cancel", "member", *ids, 200);
}

/// The member's check (and the conversation's key) through the database, then the
/// conversation entity sends the draft through Twilio.
void send_draft(const node_services& svc, request& req, const responder& rsp) {
  auto ids = draft_ids(req, rsp);
  if (!ids)
    return;
  auto who = authenticate(req, *svc.cfg, rsp);
  if (!who)
    return;
  auto router = svc.router;
  auto within = deadline(svc);
  auto message_id = req.params.at("message_id");
  ask_chain(
    *svc.sys, svc.db, within, rsp,
    [router, within, message_id](caf::event_based_actor* self, responder rsp,
                                 std::string& target) {
      auto key = json::parse(target).at("key").get<std::string>();
      self->request(router, within, entity_atom_v, entity_ref{"sms_conversation", key},
                    caf::make_message(twilio_atom_v, message_id))
        .then([rsp](std::string& message) { rsp(json_response(200, json::parse(message))); },
              [rsp](caf::error& err) { rsp(error_response(err)); });
    },
    db_call{"sms.drafts.target", who->scope("member"), ids->dump()});
}

constexpr auto message_schema = R"({"type":"object","properties":{
  "id":{"type":"string","format":"uuid"},"conversation_id":{"type":"string","format":"uuid"},
  "seq":{"type":"integer"},"direction":{"type":"string","enum":["in","out"]},
  "body":{"type":"string"},"twilio_sid":{"type":"string","nullable":true},
  "status":{"type":"string","enum":["received","draft","queued","sending","sent","delivered",
    "undelivered","failed","cancelled"]},
  "intent":{"type":"string","nullable":true},"confidence":{"type":"number","nullable":true},
  "entities":{"type":"object","nullable":true},
  "tool_calls":{"type":"array","items":{"type":"object","properties":{
    "name":{"type":"string"},"arguments":{"type":"object"},"result":{}}}},
  "reply_to":{"type":"string","format":"uuid","nullable":true},
  "send_after":{"type":"string","format":"date-time","nullable":true,
    "description":"a draft: when it is sent unless a member edits, sends or cancels it"},
  "error_code":{"type":"string","nullable":true},
  "sent_at":{"type":"string","format":"date-time","nullable":true},
  "created_at":{"type":"string","format":"date-time"},
  "updated_at":{"type":"string","format":"date-time"},"version":{"type":"integer"}}})";

constexpr auto conversation_schema = R"({"type":"object","properties":{
  "id":{"type":"string","format":"uuid"},"customer_phone":{"type":"string"},
  "contact_id":{"type":"string","format":"uuid","nullable":true},
  "opted_out":{"type":"boolean"},"opted_out_at":{"type":"string","nullable":true},
  "state":{"type":"object","properties":{"slots":{"type":"object"},
    "last_quote_id":{"type":"string","nullable":true},
    "pending_hold_event_id":{"type":"string","nullable":true}}},
  "last_message_at":{"type":"string","format":"date-time","nullable":true},
  "last_message":{"type":"string","nullable":true,"description":"in lists only"},
  "messages":{"type":"array","description":"in GET /api/sms/conversations/{id} only, oldest first"},
  "created_at":{"type":"string","format":"date-time"},
  "updated_at":{"type":"string","format":"date-time"},"version":{"type":"integer"}}})";

constexpr auto twilio_form_schema = R"({"type":"object","description":
  "application/x-www-form-urlencoded as Twilio posts it; every field is covered by X-Twilio-Signature",
  "properties":{"MessageSid":{"type":"string"},"From":{"type":"string"},"To":{"type":"string"},
  "Body":{"type":"string"},"MessageStatus":{"type":"string"},"ErrorCode":{"type":"string"}}})";

constexpr auto draft_patch_schema = R"({"type":"object","required":["body"],"properties":{
  "body":{"type":"string","minLength":1,"maxLength":1600}}})";

template <class F>
handler bind(const node_services& svc, F f) {
  return [svc, f](request& req, const responder& rsp) { f(svc, req, rsp); };
}

} // namespace

void add_sms_routes(route_table& routes, node_services svc) {
  routes.add("POST", "/api/sms/incoming", bind(svc, incoming),
             route_doc{"Twilio's incoming-SMS webhook (signed with X-Twilio-Signature over "
                       "DJDASH_PUBLIC_URL + path and the sorted fields): the reply as TwiML "
                       "(application/xml; an empty <Response/> when there is none: opted out, a "
                       "repeated MessageSid, or a draft waiting for the review window). 403 for a "
                       "bad or missing signature, 404 for a To number no organization uses",
                       "sms", false, {200, 400, 403, 404, 503, 504}, twilio_form_schema, ""});
  routes.add("POST", "/api/sms/status", bind(svc, status_callback),
             route_doc{"Twilio's delivery status callback (signed): updates the message; a "
                       "status never moves backwards. Answers an empty TwiML <Response/>",
                       "sms", false, {200, 400, 403, 404}, twilio_form_schema, ""});
  routes.add("GET", "/api/sms/conversations", bind(svc, list_conversations),
             route_doc{"SMS conversations, most recent first, with the last message",
                       "sms", true, {200, 400, 401, 403}, "", conversation_schema});
  routes.add("GET", "/api/sms/conversations/{id}", bind(svc, get_conversation),
             route_doc{"One conversation with every message: intent, confidence, entities and "
                       "the tools the agent called with their results",
                       "sms", true, {200, 401, 403, 404}, "", conversation_schema});
  routes.add("PATCH", "/api/sms/conversations/{id}/drafts/{message_id}", bind(svc, edit_draft),
             route_doc{"Edit a draft reply (review window); it is then no longer sent by itself, "
                       "only by .../send. 409 when it is not a draft any more",
                       "sms", true, {200, 400, 401, 403, 404, 409}, draft_patch_schema,
                       message_schema});
  routes.add("POST", "/api/sms/conversations/{id}/drafts/{message_id}/send",
             bind(svc, send_draft),
             route_doc{"Send a draft now through Twilio; answers the message (queued with "
                       "Twilio's sid). 409 when it is not a draft any more",
                       "sms", true, {200, 401, 403, 404, 409, 502, 504}, "", message_schema});
  routes.add("POST", "/api/sms/conversations/{id}/drafts/{message_id}/cancel",
             bind(svc, cancel_draft),
             route_doc{"Cancel a draft: it is never sent. 409 when it is not a draft any more",
                       "sms", true, {200, 401, 403, 404, 409}, "", message_schema});
}

} // namespace djdash::http
