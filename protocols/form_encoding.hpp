#pragma once

// application/x-www-form-urlencoded bodies and query strings with RFC 3986 percent-encoding, as
// Stripe, Twilio and Google expect them (PROTOCOLS.md §1.4, §2.1, §6.1). Pure functions.

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace djdash::form {

/// Ordered name/value pairs; order and repeated names are kept (Twilio's repeated MediaUrl,
/// Stripe's bracket keys like `line_items[0][quantity]`).
using fields = std::vector<std::pair<std::string, std::string>>;

/// Returns `text` with every byte outside RFC 3986's unreserved set (ALPHA DIGIT - . _ ~)
/// written as %XX (upper-case hex). A space becomes %20, '+' becomes %2B.
std::string percent_encode(std::string_view text);

/// Returns `name=value&...`; values are fully percent-encoded. Names keep '[' and ']' unescaped
/// (as stripe-node sends them; the API accepts both) and encode everything else.
std::string encode(const fields& f);

/// Returns the decoded pairs of a form body or query string ('+' is a space, %XX a byte), or
/// nullopt when a '%' is not followed by two hex digits. Empty segments (`a=1&&b=2`) are
/// skipped; a segment without '=' is a name with an empty value.
std::optional<fields> decode(std::string_view body);

/// Returns the value of the first pair named `name`, or nullopt.
std::optional<std::string> find(const fields& f, std::string_view name);

} // namespace djdash::form
