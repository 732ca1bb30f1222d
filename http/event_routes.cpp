#include "http/event_routes.hpp"

#include "config/settings.hpp"
#include "http/actor_bridge.hpp"
#include "http/auth_context.hpp"
#include "http/json_body.hpp"
#include "http/paging.hpp"
#include "http/route_helpers.hpp"
#include "protocols/type_ids.hpp"

namespace djdash::http {

namespace {

using json = nlohmann::json;

/// Writes go to the organization entity, which runs them one at a time (no double booking).
void calendar_write(const node_services& svc, const request& req, const responder& rsp,
                    const char* op, json args, int status) {
  auto who = authenticate(req, *svc.cfg, rsp);
  if (!who)
    return;
  if (!is_uuid(who->org_id))
    return rsp(error_response(app_errc::forbidden, "no organization selected"));
  ask(*svc.sys, svc.router, std::chrono::milliseconds(svc.cfg->http.request_deadline_ms), rsp,
      [status](std::string& out) {
        return status == 204 ? no_content() : json_response(status, json::parse(out));
      },
      entity_atom_v, entity_ref{"organization", who->org_id},
      caf::make_message(calendar_atom_v, who->scope("member"), std::string{op}, args.dump()));
}

void create_event(const node_services& svc, request& req, const responder& rsp) {
  auto body = json_object_body(req, rsp);
  if (!body)
    return;
  calendar_write(svc, req, rsp, "events.create", std::move(*body), 201);
}

void update_event(const node_services& svc, request& req, const responder& rsp) {
  if (!uuid_param(req, "id", rsp, "event"))
    return;
  auto body = json_object_body(req, rsp);
  if (!body)
    return;
  if (body->contains("id"))
    return rsp(error_response(app_errc::bad_request, "id cannot be changed"));
  (*body)["id"] = req.params["id"];
  calendar_write(svc, req, rsp, "events.update", std::move(*body), 200);
}

void delete_event(const node_services& svc, request& req, const responder& rsp) {
  if (!uuid_param(req, "id", rsp, "event"))
    return;
  calendar_write(svc, req, rsp, "events.delete", {{"id", req.params["id"]}}, 204);
}

void get_event(const node_services& svc, request& req, const responder& rsp) {
  if (!uuid_param(req, "id", rsp, "event"))
    return;
  run_org_op(svc, req, rsp, "events.get", "member", {{"id", req.params["id"]}}, 200);
}

void list_events(const node_services& svc, request& req, const responder& rsp) {
  auto args = page_args(req, rsp);
  if (!args)
    return;
  for (auto key : {"status", "from", "to", "contact_id"})
    if (auto& v = req.query_param(key); !v.empty())
      (*args)[key] = v;
  run_org_op(svc, req, rsp, "events.list", "member", *args, 200);
}

void availability(const node_services& svc, request& req, const responder& rsp) {
  auto& date = req.query_param("date");
  if (date.empty())
    return rsp(error_response(app_errc::bad_request, "date is required (YYYY-MM-DD)"));
  run_org_op(svc, req, rsp, "events.availability", "member", {{"date", date}}, 200);
}

constexpr auto event_schema = R"({"type":"object","properties":{
  "id":{"type":"string","format":"uuid"},"organization_id":{"type":"string","format":"uuid"},
  "title":{"type":"string"},"event_type":{"type":"string","enum":["wedding","corporate",
  "birthday","school_dance","quinceanera","mitzvah","private_party","club","other"]},
  "starts_at":{"type":"string","format":"date-time"},"ends_at":{"type":"string","format":"date-time"},
  "status":{"type":"string","enum":["hold","booked","cancelled","completed"]},
  "hold_expires_at":{"type":"string","format":"date-time","nullable":true},
  "contact_id":{"type":"string","nullable":true},"venue":{"type":"string","nullable":true},
  "guest_count":{"type":"integer","nullable":true},"price_cents":{"type":"integer","nullable":true},
  "notes":{"type":"string"},"created_at":{"type":"string"},"updated_at":{"type":"string"},
  "version":{"type":"integer"}}})";

constexpr auto event_input_schema = R"({"type":"object","required":["title","starts_at","ends_at"],
  "properties":{"title":{"type":"string"},"event_type":{"type":"string"},
  "starts_at":{"type":"string","format":"date-time"},"ends_at":{"type":"string","format":"date-time"},
  "status":{"type":"string","enum":["hold","booked"]},
  "hold_expires_at":{"type":"string","format":"date-time"},"contact_id":{"type":"string"},
  "venue":{"type":"string"},"guest_count":{"type":"integer"},"price_cents":{"type":"integer"},
  "notes":{"type":"string"},"version":{"type":"integer"}}})";

template <class F>
handler bind(const node_services& svc, F f) {
  return [svc, f](request& req, const responder& rsp) { f(svc, req, rsp); };
}

} // namespace

void add_event_routes(route_table& routes, node_services svc) {
  routes.add("GET", "/api/events", bind(svc, list_events),
             route_doc{"The calendar, by start time; filters status, from, to, contact_id",
                       "events", true, {200, 400, 401, 403}, "", ""});
  routes.add("POST", "/api/events", bind(svc, create_event),
             route_doc{"Hold or book a date; 409 when it would exceed the organization's "
                       "capacity at any moment",
                       "events", true, {201, 400, 401, 403, 409}, event_input_schema,
                       event_schema});
  routes.add("GET", "/api/events/availability", bind(svc, availability),
             route_doc{"Whether a day (the organization's local date) is free, and why", "events",
                       true, {200, 400, 401, 403}, "", ""});
  routes.add("GET", "/api/events/{id}", bind(svc, get_event),
             route_doc{"One event", "events", true, {200, 401, 403, 404}, "", event_schema});
  routes.add("PATCH", "/api/events/{id}", bind(svc, update_event),
             route_doc{"Change an event (status: hold → booked → completed, or cancelled); "
                       "capacity re-checked; version for optimistic concurrency",
                       "events", true, {200, 400, 401, 403, 404, 409}, event_input_schema,
                       event_schema});
  routes.add("DELETE", "/api/events/{id}", bind(svc, delete_event),
             route_doc{"Delete an event", "events", true, {204, 401, 403, 404, 409}, "", ""});
}

} // namespace djdash::http
