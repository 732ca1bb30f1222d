#pragma once

#include <map>
#include <string>

#include "persistence/operations.hpp"

namespace djdash::persistence {

/// Registers the organization operations: `schema_status`, `org.load`, `org.public_by_slug`.
void add_org_operations(std::map<std::string, operation>& ops);

} // namespace djdash::persistence
