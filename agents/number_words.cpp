#include "agents/number_words.hpp"

#include <array>
#include <cctype>
#include <vector>

namespace djdash::agents {

namespace {

enum class kind { unit, teen, tens, hundred, thousand, dozen, article, conj, digits, none };

struct word_info {
  kind k = kind::none;
  long long value = 0;
};

constexpr std::array<std::string_view, 10> units = {"zero", "one", "two",   "three", "four",
                                                     "five", "six", "seven", "eight", "nine"};
constexpr std::array<std::string_view, 10> teens = {"ten",     "eleven",  "twelve",
                                                    "thirteen", "fourteen", "fifteen",
                                                    "sixteen", "seventeen", "eighteen",
                                                    "nineteen"};
constexpr std::array<std::string_view, 10> tens = {"", "", "twenty", "thirty", "forty",
                                                   "fifty", "sixty", "seventy", "eighty",
                                                   "ninety"};

// Ordinal words; index = value. "second" is included: the date rules only accept an ordinal in a
// date position ("the 2nd at 7", "june 2nd"), so "a second question" stays harmless.
constexpr std::array<std::string_view, 20> ordinal_small = {
  "",          "first",      "second",     "third",       "fourth",     "fifth",      "sixth",
  "seventh",   "eighth",     "ninth",      "tenth",       "eleventh",   "twelfth",    "thirteenth",
  "fourteenth", "fifteenth", "sixteenth",  "seventeenth", "eighteenth", "nineteenth"};
constexpr std::array<std::string_view, 10> ordinal_tens = {
  "", "", "twentieth", "thirtieth", "fortieth", "fiftieth", "sixtieth", "seventieth", "eightieth",
  "ninetieth"};

word_info classify(std::string_view w) {
  for (std::size_t i = 0; i < units.size(); ++i)
    if (w == units[i])
      return {kind::unit, static_cast<long long>(i)};
  for (std::size_t i = 0; i < teens.size(); ++i)
    if (w == teens[i])
      return {kind::teen, static_cast<long long>(10 + i)};
  for (std::size_t i = 2; i < tens.size(); ++i)
    if (w == tens[i] || (i == 4 && w == "fourty"))
      return {kind::tens, static_cast<long long>(10 * i)};
  if (w == "hundred")
    return {kind::hundred, 100};
  if (w == "thousand")
    return {kind::thousand, 1000};
  if (w == "dozen")
    return {kind::dozen, 12};
  if (w == "a" || w == "an")
    return {kind::article, 1};
  if (w == "and")
    return {kind::conj, 0};
  if (!w.empty() && w.size() <= 6) {
    bool all = true;
    long long v = 0;
    for (char c : w) {
      if (c < '0' || c > '9') {
        all = false;
        break;
      }
      v = v * 10 + (c - '0');
    }
    if (all)
      return {kind::digits, v};
  }
  return {};
}

/// Ordinal value of `w` ("fourteenth" -> 14), 0 if none.
int ordinal_value(std::string_view w) {
  for (std::size_t i = 1; i < ordinal_small.size(); ++i)
    if (w == ordinal_small[i])
      return static_cast<int>(i);
  for (std::size_t i = 2; i < ordinal_tens.size(); ++i)
    if (w == ordinal_tens[i])
      return static_cast<int>(10 * i);
  return 0;
}

std::string ordinal_text(long long v) {
  const char* suffix = "th";
  if (v % 100 < 11 || v % 100 > 13) {
    if (v % 10 == 1) suffix = "st";
    else if (v % 10 == 2) suffix = "nd";
    else if (v % 10 == 3) suffix = "rd";
  }
  return std::to_string(v) + suffix;
}

struct token {
  std::size_t begin, end; // byte range in the text
  std::string_view text;
};

/// Accumulates a cardinal number phrase word by word; rejects a word that cannot continue it.
struct accumulator {
  long long total = 0;
  long long current = 0;
  kind last = kind::none;
  bool any_value = false; // saw a word that carries a value (not only "a"/"and")
  bool pending_and = false;

  bool accept(const word_info& w, const word_info* next) {
    switch (w.k) {
      case kind::article:
        // "a hundred", "an hour" (not a number), "a dozen": only before a multiplier.
        if (last != kind::none || !next
            || (next->k != kind::hundred && next->k != kind::thousand && next->k != kind::dozen))
          return false;
        current = 1;
        last = kind::article;
        return true;
      case kind::conj:
        // "a hundred and twenty": only after hundred/thousand and before a unit/teen/tens word.
        if ((last != kind::hundred && last != kind::thousand) || !next
            || (next->k != kind::unit && next->k != kind::teen && next->k != kind::tens))
          return false;
        pending_and = true;
        last = kind::conj;
        return true;
      case kind::unit:
      case kind::teen:
        if (!(last == kind::none || last == kind::tens || last == kind::hundred
              || last == kind::thousand || last == kind::conj))
          return false;
        if (w.k == kind::teen && last == kind::tens)
          return false;
        current += w.value;
        break;
      case kind::tens:
        if (!(last == kind::none || last == kind::hundred || last == kind::thousand
              || last == kind::conj))
          return false;
        current += w.value;
        break;
      case kind::digits:
        // Only as the head of "2 hundred" / "3 thousand".
        if (last != kind::none || !next
            || (next->k != kind::hundred && next->k != kind::thousand))
          return false;
        current = w.value;
        break;
      case kind::hundred:
        if (last == kind::hundred || last == kind::conj || (current % 100 == 0 && current != 0
                                                            && last != kind::article))
          return false;
        current = (current == 0 ? 1 : current) * 100;
        break;
      case kind::thousand:
        if (last == kind::thousand || last == kind::conj)
          return false;
        total += (current == 0 ? 1 : current) * 1000;
        current = 0;
        break;
      case kind::dozen:
        if (last == kind::dozen || last == kind::conj || last == kind::hundred
            || last == kind::thousand)
          return false;
        current = (current == 0 ? 1 : current) * 12;
        break;
      case kind::none:
        return false;
    }
    any_value = true;
    last = w.k;
    return true;
  }

  long long value() const { return total + current; }
};

std::vector<token> tokenize(std::string_view text) {
  std::vector<token> out;
  std::size_t i = 0;
  while (i < text.size()) {
    auto c = static_cast<unsigned char>(text[i]);
    if (std::isalnum(c)) {
      std::size_t j = i;
      while (j < text.size() && std::isalnum(static_cast<unsigned char>(text[j])))
        ++j;
      out.push_back({i, j, text.substr(i, j - i)});
      i = j;
    } else {
      ++i;
    }
  }
  return out;
}

/// True if only spaces or a single hyphen separate the two tokens ("twenty-five").
bool joined(std::string_view text, const token& a, const token& b) {
  bool hyphen = false;
  for (std::size_t i = a.end; i < b.begin; ++i) {
    if (text[i] == '-' && !hyphen)
      hyphen = true;
    else if (text[i] != ' ')
      return false;
  }
  return true;
}

} // namespace

std::optional<long long> parse_number_words(std::string_view phrase) {
  auto toks = tokenize(phrase);
  if (toks.empty())
    return std::nullopt;
  accumulator acc;
  for (std::size_t i = 0; i < toks.size(); ++i) {
    auto w = classify(toks[i].text);
    word_info next_info;
    const word_info* next = nullptr;
    if (i + 1 < toks.size()) {
      next_info = classify(toks[i + 1].text);
      next = &next_info;
    }
    if (w.k == kind::digits && toks.size() == 1)
      return w.value;
    if (!acc.accept(w, next))
      return std::nullopt;
  }
  if (!acc.any_value || acc.last == kind::conj || acc.last == kind::article)
    return std::nullopt;
  return acc.value();
}

std::string replace_number_words(std::string_view text) {
  auto toks = tokenize(text);
  std::string out;
  out.reserve(text.size());
  std::size_t copied = 0; // text[0, copied) is already in `out`
  std::size_t i = 0;
  while (i < toks.size()) {
    // Ordinals: "twenty first", "twenty-first", "sixteenth".
    if (auto k = classify(toks[i].text); k.k == kind::tens && i + 1 < toks.size()
                                         && joined(text, toks[i], toks[i + 1])) {
      int o = ordinal_value(toks[i + 1].text);
      if (o >= 1 && o <= 9) {
        out.append(text.substr(copied, toks[i].begin - copied));
        out += ordinal_text(k.value + o);
        copied = toks[i + 1].end;
        i += 2;
        continue;
      }
    }
    if (int o = ordinal_value(toks[i].text); o > 0) {
      out.append(text.substr(copied, toks[i].begin - copied));
      out += ordinal_text(o);
      copied = toks[i].end;
      ++i;
      continue;
    }
    // Cardinals: the longest run of words the accumulator accepts.
    accumulator acc;
    std::size_t j = i;
    while (j < toks.size()) {
      if (j > i && !joined(text, toks[j - 1], toks[j]))
        break;
      auto w = classify(toks[j].text);
      word_info next_info;
      const word_info* next = nullptr;
      if (j + 1 < toks.size() && joined(text, toks[j], toks[j + 1])) {
        next_info = classify(toks[j + 1].text);
        next = &next_info;
      }
      if (!acc.accept(w, next))
        break;
      ++j;
    }
    // Drop a trailing "and" the accumulator took on credit.
    while (j > i && (acc.last == kind::conj) ) {
      --j;
      acc.last = kind::none;
    }
    bool only_digits = (j == i + 1 && classify(toks[i].text).k == kind::digits);
    if (j > i && acc.any_value && !only_digits) {
      out.append(text.substr(copied, toks[i].begin - copied));
      out += std::to_string(acc.value());
      copied = toks[j - 1].end;
      i = j;
      continue;
    }
    ++i;
  }
  out.append(text.substr(copied));
  return out;
}

} // namespace djdash::agents
