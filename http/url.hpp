#pragma once

// Request-target parsing: percent-decoding, path/query split, query parameters. Pure functions.

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace djdash::http {

/// Returns `in` with `%XX` escapes decoded (and `+` as a space when `plus_is_space`), or nothing
/// when an escape is malformed.
std::optional<std::string> percent_decode(std::string_view in, bool plus_is_space = false);

/// Returns the path and the query string (without the `?`) of a request target.
std::pair<std::string_view, std::string_view> split_target(std::string_view target);

/// Parses `a=1&b=x+y` into decoded parameters (the last of a repeated name wins), or nothing when
/// an escape is malformed. A name without `=` gets an empty value.
std::optional<std::map<std::string, std::string>> parse_query(std::string_view qs);

} // namespace djdash::http
