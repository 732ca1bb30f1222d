#pragma once

// The common shape of an organization-scoped route: authenticate, then run one named database
// operation in the caller's organization with a minimum role, and answer with its JSON.

#include <nlohmann/json.hpp>

#include "http/node_services.hpp"
#include "http/request.hpp"

namespace djdash::http {

/// Authenticates the caller (401/400 otherwise) and runs `op` with `args` in their current
/// organization requiring `role` ("member", "admin", "owner"); answers `status` with the
/// operation's JSON result (204: no body) or the mapped error.
void run_org_op(const node_services& svc, const request& req, const responder& rsp,
                const char* op, const char* role, const nlohmann::json& args, int status);

/// Returns whether the path parameter `name` is a UUID; otherwise answers 404 `what` (an id
/// that cannot exist names nothing) and returns false.
bool uuid_param(const request& req, const char* name, const responder& rsp, const char* what);

} // namespace djdash::http
