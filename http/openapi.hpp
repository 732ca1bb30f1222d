#pragma once

// Builds the OpenAPI 3.0.3 document from the route table, so /openapi.json lists every route
// the node actually serves.

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "http/route_table.hpp"

namespace djdash::http {

/// Returns the OpenAPI document for `routes`.
nlohmann::json openapi_document(const std::vector<route>& routes, const std::string& title,
                                const std::string& version);

} // namespace djdash::http
