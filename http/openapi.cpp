#include "http/openapi.hpp"

#include <algorithm>
#include <cctype>

namespace djdash::http {

namespace {

using nlohmann::json;

const char* reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 413: return "Payload Too Large";
    case 422: return "Unprocessable Entity";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
  }
  return "Response";
}

json error_schema() {
  json detail = {{"type", "object"},
                 {"required", {"code", "message"}},
                 {"properties",
                  {{"code", {{"type", "string"}}}, {"message", {{"type", "string"}}}}}};
  return {{"type", "object"}, {"required", {"error"}}, {"properties", {{"error", detail}}}};
}

json json_content(json schema) {
  return {{"application/json", {{"schema", std::move(schema)}}}};
}

json responses_of(const route& r) {
  auto codes = r.doc.responses.empty() ? std::vector<int>{200} : r.doc.responses;
  json out = json::object();
  for (int code : codes) {
    json entry = {{"description", reason(code)}};
    if (code >= 400)
      entry["content"] = json_content({{"$ref", "#/components/schemas/Error"}});
    else if (!r.doc.response_schema_json.empty() && code != 204)
      entry["content"] = json_content(json::parse(r.doc.response_schema_json));
    out[std::to_string(code)] = std::move(entry);
  }
  return out;
}

json path_parameters(const route& r) {
  json out = json::array();
  for (auto& seg : r.segments)
    if (seg.size() > 2 && seg.front() == '{')
      out.push_back({{"name", seg.substr(1, seg.size() - 2)},
                     {"in", "path"},
                     {"required", true},
                     {"schema", {{"type", "string"}}}});
  return out;
}

std::string operation_id(const route& r) {
  std::string id = r.method;
  std::transform(id.begin(), id.end(), id.begin(), [](unsigned char c) { return std::tolower(c); });
  for (char c : r.pattern)
    id += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  return id;
}

json operation(const route& r) {
  json op = {{"operationId", operation_id(r)}, {"responses", responses_of(r)}};
  if (!r.doc.summary.empty())
    op["summary"] = r.doc.summary;
  if (!r.doc.tag.empty())
    op["tags"] = {r.doc.tag};
  if (auto params = path_parameters(r); !params.empty())
    op["parameters"] = std::move(params);
  if (r.doc.auth)
    op["security"] = json::array({{{"bearer", json::array()}}});
  if (!r.doc.request_schema_json.empty())
    op["requestBody"] = {{"required", true},
                         {"content", json_content(json::parse(r.doc.request_schema_json))}};
  return op;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

} // namespace

json openapi_document(const std::vector<route>& routes, const std::string& title,
                      const std::string& version) {
  json paths = json::object();
  for (auto& r : routes)
    paths[r.pattern][lower(r.method)] = operation(r);
  return {
    {"openapi", "3.0.3"},
    {"info", {{"title", title}, {"version", version}}},
    {"paths", std::move(paths)},
    {"components",
     {{"schemas", {{"Error", error_schema()}}},
      {"securitySchemes",
       {{"bearer", {{"type", "http"}, {"scheme", "bearer"}, {"bearerFormat", "JWT"}}}}}}},
  };
}

} // namespace djdash::http
