#pragma once

#include <string>

#include <caf/expected.hpp>

namespace djdash::persistence {

/// Makes the account `email` a platform administrator (ops command). Connects with
/// `owner_url`; returns `not_found` when there is no such account. Audited.
caf::error grant_platform_admin(const std::string& owner_url, const std::string& email);

} // namespace djdash::persistence
