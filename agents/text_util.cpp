#include "agents/text_util.hpp"

namespace djdash::agents {

namespace {

/// Maps one UTF-8 sequence starting at `s[i]` to ASCII; sets `len` to the bytes consumed.
std::string_view fold_utf8(std::string_view s, std::size_t i, std::size_t& len) {
  auto b = static_cast<unsigned char>(s[i]);
  if (b == 0xE2 && i + 2 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0x80) {
    len = 3;
    switch (static_cast<unsigned char>(s[i + 2])) {
      case 0x98: case 0x99: case 0xB2: return "'";   // ‘ ’ ′
      case 0x9C: case 0x9D: return "\"";             // “ ”
      case 0x90: case 0x91: case 0x92: case 0x93: case 0x94: case 0x95: return "-"; // dashes
      case 0xA6: return "...";
      default: return " ";
    }
  }
  if (b == 0xC3 && i + 1 < s.size()) {
    len = 2;
    auto c = static_cast<unsigned char>(s[i + 1]);
    if (c == 0xB1 || c == 0x91) return "n";                      // ñ Ñ
    if ((c >= 0xA0 && c <= 0xA5) || (c >= 0x80 && c <= 0x85)) return "a";
    if ((c >= 0xA8 && c <= 0xAB) || (c >= 0x88 && c <= 0x8B)) return "e";
    if ((c >= 0xAC && c <= 0xAF) || (c >= 0x8C && c <= 0x8F)) return "i";
    if ((c >= 0xB2 && c <= 0xB6) || (c >= 0x92 && c <= 0x96)) return "o";
    if ((c >= 0xB9 && c <= 0xBC) || (c >= 0x99 && c <= 0x9C)) return "u";
    return " ";
  }
  if (b == 0xC2 && i + 1 < s.size()) {
    len = 2;
    if (static_cast<unsigned char>(s[i + 1]) == 0xBD) return " 1/2"; // ½
    return " ";
  }
  // Any other multi-byte sequence (emoji, ...): skip its continuation bytes.
  len = 1;
  while (i + len < s.size() && (static_cast<unsigned char>(s[i + len]) & 0xC0) == 0x80)
    ++len;
  return " ";
}

} // namespace

std::string fold_lower(std::string_view text) {
  text = text.substr(0, max_rule_text);
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    auto b = static_cast<unsigned char>(text[i]);
    if (b < 0x80) {
      char c = text[i];
      if (c >= 'A' && c <= 'Z')
        c = static_cast<char>(c - 'A' + 'a');
      else if (b < 0x20 || b == 0x7F)
        c = ' ';
      else if (c == '`')
        c = '\'';
      out += c;
      ++i;
      continue;
    }
    std::size_t len = 1;
    out += fold_utf8(text, i, len);
    i += len;
  }
  return out;
}

std::string ascii_lower(std::string_view text) {
  std::string out(text);
  for (auto& c : out)
    if (c >= 'A' && c <= 'Z')
      c = static_cast<char>(c - 'A' + 'a');
  return out;
}

std::string words_only(std::string_view text) {
  auto folded = fold_lower(text);
  std::string out;
  bool pending_space = false;
  for (char c : folded) {
    if (c == '\'')
      continue;
    if (is_alnum(c)) {
      if (pending_space && !out.empty())
        out += ' ';
      pending_space = false;
      out += c;
    } else {
      pending_space = true;
    }
  }
  return out;
}

} // namespace djdash::agents
