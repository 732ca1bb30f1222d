#include "http/route_table.hpp"

#include <algorithm>
#include <set>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "http/cors.hpp"
#include "http/url.hpp"

namespace djdash::http {

namespace {

bool is_param(const std::string& segment) {
  return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> out;
  path.remove_prefix(1);  // callers checked the leading '/'
  for (;;) {
    auto slash = path.find('/');
    out.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos)
      return out;
    path.remove_prefix(slash + 1);
  }
}

bool valid_param_name(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  });
}

std::vector<std::string> parse_pattern(const std::string& pattern) {
  if (pattern.empty() || pattern.front() != '/')
    throw std::invalid_argument("route pattern must start with '/': " + pattern);
  std::vector<std::string> out;
  std::set<std::string> names;
  for (auto seg : split_path(pattern)) {
    std::string s{seg};
    bool braces = s.find_first_of("{}") != std::string::npos;
    if (braces && !(is_param(s) && valid_param_name(seg.substr(1, seg.size() - 2))))
      throw std::invalid_argument("malformed route parameter '" + s + "' in " + pattern);
    if (braces && !names.insert(s).second)
      throw std::invalid_argument("repeated route parameter " + s + " in " + pattern);
    out.push_back(std::move(s));
  }
  return out;
}

void check_schema(const std::string& text, const std::string& what) {
  if (!text.empty() && nlohmann::json::parse(text, nullptr, false).is_discarded())
    throw std::invalid_argument(what + " is not valid JSON");
}

bool same_shape(const route& a, const route& b) {
  if (a.method != b.method || a.segments.size() != b.segments.size())
    return false;
  for (size_t i = 0; i < a.segments.size(); ++i) {
    bool pa = is_param(a.segments[i]);
    if (pa != is_param(b.segments[i]) || (!pa && a.segments[i] != b.segments[i]))
      return false;
  }
  return true;
}

bool path_matches(const route& r, const std::vector<std::string>& segs) {
  if (r.segments.size() != segs.size())
    return false;
  for (size_t i = 0; i < segs.size(); ++i)
    if (!is_param(r.segments[i]) && r.segments[i] != segs[i])
      return false;
  return true;
}

/// Literal segments beat parameters at the first position where two patterns differ, so
/// `/orgs/current` wins over `/orgs/{id}` whatever the registration order.
bool more_specific(const route& a, const route& b) {
  for (size_t i = 0; i < a.segments.size(); ++i) {
    bool pa = is_param(a.segments[i]);
    bool pb = is_param(b.segments[i]);
    if (pa != pb)
      return pb;
  }
  return false;
}

std::optional<std::vector<std::string>> decode_segments(std::string_view path) {
  std::vector<std::string> out;
  for (auto seg : split_path(path)) {
    auto decoded = percent_decode(seg);
    if (!decoded)
      return std::nullopt;
    out.push_back(std::move(*decoded));
  }
  return out;
}

void append_allow(std::string& allow, const std::string& method) {
  if (allow.empty()) {
    allow = method;
    return;
  }
  // Few methods per path: a substring scan is enough to keep the list unique.
  if ((", " + allow + ",").find(" " + method + ",") == std::string::npos)
    allow += ", " + method;
}

} // namespace

route_table::route_table() : routes_(std::make_shared<std::vector<route>>()) {
  // nop
}

void route_table::add(std::string method, std::string pattern, handler fn, route_doc doc) {
  if (!routes_)
    routes_ = std::make_shared<std::vector<route>>();
  if (method.empty() || !fn)
    throw std::invalid_argument("route needs a method and a handler: " + pattern);
  check_schema(doc.request_schema_json, "request schema of " + pattern);
  check_schema(doc.response_schema_json, "response schema of " + pattern);
  route r{std::move(method), pattern, parse_pattern(pattern), std::move(fn), std::move(doc)};
  for (auto& other : *routes_)
    if (same_shape(other, r))
      throw std::invalid_argument("duplicate route " + r.method + " " + pattern + " (clashes with "
                                  + other.pattern + ")");
  routes_->push_back(std::move(r));
}

route_match route_table::match(std::string_view method, std::string_view path) const {
  route_match out;
  if (!routes_ || path.empty() || path.front() != '/')
    return out;
  auto segs = decode_segments(path);
  if (!segs) {
    out.outcome = route_match::bad_path;
    return out;
  }
  for (auto& r : *routes_) {
    if (!path_matches(r, *segs))
      continue;
    if (!out.pattern)
      out.pattern = &r.pattern;
    append_allow(out.allow, r.method);
    if (r.method == method && (!out.matched || more_specific(r, *out.matched)))
      out.matched = &r;
  }
  if (!out.matched) {
    out.outcome = out.pattern ? route_match::method_not_allowed : route_match::not_found;
    return out;
  }
  out.outcome = route_match::found;
  out.pattern = &out.matched->pattern;
  out.allow.clear();
  for (size_t i = 0; i < segs->size(); ++i)
    if (is_param(out.matched->segments[i]))
      out.params.emplace(out.matched->segments[i].substr(1, out.matched->segments[i].size() - 2),
                         std::move((*segs)[i]));
  return out;
}

const std::vector<route>& route_table::routes() const {
  static const std::vector<route> none;
  return routes_ ? *routes_ : none;
}

std::weak_ptr<const std::vector<route>> route_table::watch() const {
  return routes_;
}

void route_table::set_cors(std::shared_ptr<const cors_policy> policy) {
  cors_ = std::move(policy);
}

const cors_policy* route_table::cors() const {
  return cors_.get();
}

} // namespace djdash::http
