#pragma once

// Numbers written as words in customer texts ("two hundred fifty people", "a dozen", "the
// twenty-first"). The entity rules run on text where such phrases have become digits.

#include <optional>
#include <string>
#include <string_view>

namespace djdash::agents {

/// Returns the value of a phrase that is entirely a cardinal number in words or digits
/// ("two hundred fifty", "a hundred and twenty", "a dozen", "fifteen hundred", "2 thousand",
/// "forty-five"); nullopt for anything else. Input is lower-case.
std::optional<long long> parse_number_words(std::string_view phrase);

/// Returns lower-case `text` with every cardinal number phrase in words replaced by its digits
/// and every ordinal word replaced by digits plus suffix ("twenty first" -> "21st",
/// "sixteenth" -> "16th"). "a"/"an" count only before hundred/thousand/dozen; two unit words in
/// a row are two numbers ("two three hour sets" stays two numbers). Other text is unchanged.
std::string replace_number_words(std::string_view text);

} // namespace djdash::agents
