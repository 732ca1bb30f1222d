#pragma once

// Who is calling: the verified access token, and the organization the request acts in.

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "http/request.hpp"
#include "protocols/messages.hpp"

namespace djdash {
struct settings;
} // namespace djdash

namespace djdash::http {

struct auth_context {
  std::string user_id;
  std::string email;
  std::string session_id;
  std::string org_id;          // X-Organization-Id, else the token's current organization
  bool platform_admin = false; // claimed by the token; the database checks it again
  nlohmann::json claims;

  /// Returns a DB scope for this caller in `org_id`, requiring `role` ("" for none).
  db_scope scope(const std::string& role) const;
};

/// Verifies `Authorization: Bearer <token>` (HS256 only; exp, aud and iss checked) and resolves
/// the organization. Answers `rsp` (401, or 400 for a malformed X-Organization-Id) and returns
/// nothing when the request may not proceed.
std::optional<auth_context> authenticate(const request& req, const settings& cfg,
                                         const responder& rsp);

/// Returns whether `s` is a canonical UUID string.
bool is_uuid(const std::string& s);

} // namespace djdash::http
