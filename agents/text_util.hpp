#pragma once

// Small text helpers shared by the SMS rules (entities, opt-out). Pure functions, ASCII-centred:
// customer texts are UTF-8, and the few non-ASCII characters that matter (curly quotes, dashes,
// accented letters in "quinceañera") are folded to ASCII first.

#include <cstddef>
#include <string>
#include <string_view>

namespace djdash::agents {

/// Longest text the rules look at; SMS bodies are at most 1600 characters, this bounds the work
/// on anything longer.
constexpr std::size_t max_rule_text = 2000;

/// Returns `text` with typographic quotes and dashes folded to ASCII, common accented Latin
/// letters folded to their base letter, other non-ASCII bytes and control characters turned into
/// spaces, and ASCII letters lower-cased. Truncated to `max_rule_text` bytes first.
std::string fold_lower(std::string_view text);

/// Returns `text` with ASCII letters lower-cased and nothing else changed (same length, so byte
/// offsets into the result are offsets into `text`).
std::string ascii_lower(std::string_view text);

/// Returns `text` reduced to lower-case words separated by single spaces: every byte that is not
/// an ASCII letter or digit separates words, apostrophes vanish ("don't" -> "dont").
std::string words_only(std::string_view text);

/// True if `c` is an ASCII letter or digit.
inline bool is_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

} // namespace djdash::agents
