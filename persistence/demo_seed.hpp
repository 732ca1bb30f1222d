#pragma once

#include <string>
#include <vector>

#include <caf/expected.hpp>

namespace djdash::persistence {

/// A demo login the run command prints.
struct demo_login {
  std::string product;
  std::string org_slug;
  std::string email;
  std::string password;
};

/// Creates (once) a demo organization for each product with an owner login. Idempotent: existing
/// rows are kept. Connects with `owner_url` and acts as platform admin.
caf::expected<std::vector<demo_login>> seed_demo(const std::string& owner_url,
                                                 const std::string& password);

} // namespace djdash::persistence
