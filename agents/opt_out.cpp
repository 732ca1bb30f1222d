#include "agents/opt_out.hpp"

#include <array>
#include <regex>
#include <string>

#include "agents/text_util.hpp"

namespace djdash::agents {

namespace {

template <std::size_t N>
bool one_of(const std::string& w, const std::array<std::string_view, N>& set) {
  for (auto s : set)
    if (w == s)
      return true;
  return false;
}

constexpr std::array<std::string_view, 10> opt_out_keywords = {
  "stop", "stopall", "stop all", "unsubscribe", "cancel", "end", "quit", "optout", "opt out",
  "revoke"};

// Politeness around a bare keyword still means the keyword ("STOP please", "pls stop!!").
const std::regex& polite_keyword() {
  static const std::regex re(
    "^(?:(?:please|pls|plz|ok|okay)\\s+)?(stop|stopall|unsubscribe|quit|optout|opt out)"
    "(?:\\s+(?:please|pls|plz|now|it|thanks|thank you|thx|already))*$",
    std::regex::optimize);
  return re;
}

// Spam and marketing footers quote the keyword: "Reply STOP to opt out", "Text END to quit".
const std::regex& footer() {
  static const std::regex re(
    "\\b(?:reply|replying|text|txt|send|respond|msg)\\s+(?:with\\s+)?"
    "(?:stop|stopall|end|quit|cancel|unsubscribe|optout|opt out)\\b"
    "(?:\\s+(?:to|2|for)\\s+(?:opt\\s*out|unsubscribe|stop|end|cancel|quit|be removed|remove)\\b)?"
    "|\\b(?:to|2)\\s+(?:opt\\s*out|unsubscribe|stop|end)\\s+(?:reply|text|txt|send|respond)\\b"
    // A list of reply options: "Reply Y to confirm, STOP to opt out" quotes the keyword too.
    "|\\b(?:stop|stopall|end|quit|unsubscribe)\\s+(?:to|2)\\s+(?:opt\\s*out|unsubscribe|be removed)\\b",
    std::regex::optimize);
  return re;
}

// Plain-language requests, matched on words_only() text (no apostrophes, single spaces).
const std::regex& plain_request() {
  static const std::regex re(
    // "please stop texting me", "quit messaging us", "stop sending me these"
    "\\b(?:stop|quit|cease|stp)\\s+(?:all\\s+)?(?:texting|txting|texing|messaging|msging|"
    "contacting|spamming|bothering|harassing|calling and texting|texting and calling)\\b"
    "|\\b(?:stop|quit)\\s+sending\\s+(?:me\\s+|us\\s+)?(?:all\\s+)?(?:these\\s+|those\\s+|the\\s+|"
    "your\\s+)?(?:texts?|messages?|msgs?|sms|spam|stuff|crap|promos?|ads)\\b"
    "|\\b(?:stop|quit)\\s+sending\\s+(?:me|us)\\s*$"
    // "dont text me again", "do not contact me anymore", "never text this number"
    "|\\b(?:dont|do not|never|pls dont|please dont)\\s+(?:ever\\s+)?(?:text|txt|message|msg|"
    "contact|sms)\\s+(?:me|us|this number|my number)\\s+(?:again|anymore|any more|ever)\\b"
    "|\\b(?:dont|do not|never)\\s+(?:ever\\s+)?(?:text|txt|message|msg|contact)\\s+(?:me|us|"
    "this number|my number)\\s*$"
    // "remove me from your list", "take my number off", "delete my number"
    "|\\b(?:remove|delete|take|drop|erase)\\s+(?:me|us|my number|this number|my phone number|"
    "my info|my contact)\\s+(?:from|off)\\b"
    "|\\b(?:remove|delete|erase)\\s+(?:my|this)\\s+(?:phone\\s+)?number\\b"
    "|\\btake\\s+(?:my|this)\\s+(?:phone\\s+)?number\\s+off\\b"
    // "unsubscribe me", "opt me out", "i want to opt out", "no more texts", "lose my number"
    "|\\bunsubscribe\\b|\\bunsub\\b"
    "|\\bopt\\s+(?:me\\s+)?out\\b|\\boptout\\b"
    "|\\bno\\s+more\\s+(?:texts|messages|msgs|txts)\\b"
    "|\\blose\\s+my\\s+number\\b|\\bleave\\s+me\\s+alone\\b"
    "|\\bstop\\s+(?:it|now|already|all)\\s*$",
    std::regex::optimize);
  return re;
}

} // namespace

namespace {

/// True if a sentence or clause of `text` is a bare stop keyword ("Wrong number. STOP",
/// "not interested, unsubscribe"), unless it answers a footer's "reply:" prompt.
bool keyword_clause(std::string_view text) {
  static constexpr std::array<std::string_view, 6> clause_keywords = {
    "stop", "stopall", "stop all", "unsubscribe", "optout", "opt out"};
  static const std::regex prompt("(?:reply|text|txt|send|respond)(?:\\s+with)?\\s*[:\\-]?\\s*\"?\\s*$",
                                 std::regex::optimize);
  auto folded = fold_lower(text);
  std::size_t begin = 0;
  while (begin <= folded.size()) {
    auto end = folded.find_first_of(".,!?;:\n", begin);
    if (end == std::string::npos)
      end = folded.size();
    auto clause = words_only(std::string_view(folded).substr(begin, end - begin));
    if ((one_of(clause, clause_keywords) || std::regex_match(clause, polite_keyword()))
        && !std::regex_search(folded.substr(0, begin), prompt))
      return true;
    begin = end + 1;
  }
  return false;
}

} // namespace

bool is_opt_out(std::string_view text) {
  auto w = words_only(text);
  if (one_of(w, opt_out_keywords) || std::regex_match(w, polite_keyword()))
    return true;
  if (keyword_clause(text))
    return true;
  // Drop keyword footers first, so spam that quotes STOP is not an opt-out, then look for the
  // customer's own request in what is left.
  auto rest = std::regex_replace(w, footer(), " ");
  return std::regex_search(rest, plain_request());
}

bool is_opt_in(std::string_view text) {
  static constexpr std::array<std::string_view, 3> keys = {"start", "unstop", "yes"};
  return one_of(words_only(text), keys);
}

bool is_help(std::string_view text) {
  static constexpr std::array<std::string_view, 2> keys = {"help", "info"};
  return one_of(words_only(text), keys);
}

} // namespace djdash::agents
