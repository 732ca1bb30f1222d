#include "http/task_routes.hpp"

#include "http/error_response.hpp"
#include "http/json_body.hpp"
#include "http/paging.hpp"
#include "http/route_helpers.hpp"

namespace djdash::http {

namespace {

using json = nlohmann::json;

void list_tasks(const node_services& svc, request& req, const responder& rsp) {
  auto args = page_args(req, rsp);
  if (!args)
    return;
  if (auto& done = req.query_param("done"); !done.empty()) {
    if (done != "true" && done != "false")
      return rsp(error_response(app_errc::bad_request, "done must be true or false"));
    (*args)["done"] = done == "true";
  }
  if (auto& contact = req.query_param("contact_id"); !contact.empty())
    (*args)["contact_id"] = contact;
  run_org_op(svc, req, rsp, "tasks.list", "member", *args, 200);
}

void create_task(const node_services& svc, request& req, const responder& rsp) {
  auto body = json_object_body(req, rsp);
  if (!body)
    return;
  run_org_op(svc, req, rsp, "tasks.create", "member", *body, 201);
}

void update_task(const node_services& svc, request& req, const responder& rsp) {
  if (!uuid_param(req, "id", rsp, "task"))
    return;
  auto body = json_object_body(req, rsp);
  if (!body)
    return;
  run_org_op(svc, req, rsp, "tasks.update", "member",
             {{"id", req.params["id"]}, {"fields", std::move(*body)}}, 200);
}

constexpr auto task_schema = R"({"type":"object","properties":{
  "id":{"type":"string","format":"uuid"},"organization_id":{"type":"string","format":"uuid"},
  "title":{"type":"string","maxLength":300},
  "contact_id":{"type":"string","format":"uuid","nullable":true},
  "due_at":{"type":"string","format":"date-time","nullable":true},"done":{"type":"boolean"},
  "notes":{"type":"string","maxLength":20000},
  "created_at":{"type":"string","format":"date-time"},
  "updated_at":{"type":"string","format":"date-time"},"version":{"type":"integer"}}})";

constexpr auto task_input_schema = R"({"type":"object","additionalProperties":false,
  "required":["title"],
  "description":"contact_id must be a contact of the organization (404 otherwise).",
  "properties":{
  "title":{"type":"string","minLength":1,"maxLength":300},
  "contact_id":{"type":"string","format":"uuid","nullable":true},
  "due_at":{"type":"string","format":"date-time","nullable":true},"done":{"type":"boolean"},
  "notes":{"type":"string","maxLength":20000}}})";

constexpr auto task_patch_schema = R"({"type":"object","additionalProperties":false,
  "description":"Only the fields given change; null clears contact_id or due_at. version: 409 when the task changed since.",
  "properties":{
  "title":{"type":"string","minLength":1,"maxLength":300},
  "contact_id":{"type":"string","format":"uuid","nullable":true},
  "due_at":{"type":"string","format":"date-time","nullable":true},"done":{"type":"boolean"},
  "notes":{"type":"string","maxLength":20000},"version":{"type":"integer"}}})";

constexpr auto task_page_schema = R"({"type":"object","properties":{
  "items":{"type":"array","items":{"type":"object"}},
  "next_cursor":{"type":"string","nullable":true}}})";

template <class F>
handler bind(const node_services& svc, F f) {
  return [svc, f](request& req, const responder& rsp) { f(svc, req, rsp); };
}

} // namespace

void add_task_routes(route_table& routes, node_services svc) {
  routes.add("GET", "/api/tasks", bind(svc, list_tasks),
             route_doc{"Follow-up tasks, oldest first; filters done (true|false), contact_id, "
                       "limit, cursor",
                       "crm", true, {200, 400, 401, 403}, "", task_page_schema});
  routes.add("POST", "/api/tasks", bind(svc, create_task),
             route_doc{"Create a follow-up task", "crm", true, {201, 400, 401, 403, 404},
                       task_input_schema, task_schema});
  routes.add("PATCH", "/api/tasks/{id}", bind(svc, update_task),
             route_doc{"Change a task, e.g. mark it done (optional version: 409 when stale)",
                       "crm", true, {200, 400, 401, 403, 404, 409}, task_patch_schema,
                       task_schema});
}

} // namespace djdash::http
