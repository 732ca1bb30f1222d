#include "http/route_helpers.hpp"

#include "config/settings.hpp"
#include "http/actor_bridge.hpp"
#include "http/auth_context.hpp"

namespace djdash::http {

void run_org_op(const node_services& svc, const request& req, const responder& rsp,
                const char* op, const char* role, const nlohmann::json& args, int status) {
  auto who = authenticate(req, *svc.cfg, rsp);
  if (!who)
    return;
  ask(*svc.sys, svc.db, std::chrono::milliseconds(svc.cfg->http.request_deadline_ms), rsp,
      [status](std::string& out) {
        return status == 204 ? no_content() : json_response(status, nlohmann::json::parse(out));
      },
      db_call{op, who->scope(role), args.dump()});
}

bool uuid_param(const request& req, const char* name, const responder& rsp, const char* what) {
  auto i = req.params.find(name);
  if (i != req.params.end() && is_uuid(i->second))
    return true;
  rsp(error_response(app_errc::not_found, std::string{"no such "} + what));
  return false;
}

} // namespace djdash::http
