#include "protocols/form_encoding.hpp"

namespace djdash::form {

namespace {

constexpr char hex_digits[] = "0123456789ABCDEF";

bool is_unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'
         || c == '.' || c == '_' || c == '~';
}

void append_encoded(std::string& out, std::string_view text, bool keep_brackets) {
  for (unsigned char c : text) {
    if (is_unreserved(c) || (keep_brackets && (c == '[' || c == ']'))) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex_digits[c >> 4];
      out += hex_digits[c & 0x0f];
    }
  }
}

int hex_value(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

std::optional<std::string> decode_component(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '+') {
      out += ' ';
    } else if (c == '%') {
      if (i + 2 >= text.size())
        return std::nullopt;
      int hi = hex_value(text[i + 1]);
      int lo = hex_value(text[i + 2]);
      if (hi < 0 || lo < 0)
        return std::nullopt;
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

} // namespace

std::string percent_encode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  append_encoded(out, text, false);
  return out;
}

std::string encode(const fields& f) {
  std::string out;
  for (const auto& [name, value] : f) {
    if (!out.empty())
      out += '&';
    append_encoded(out, name, true);
    out += '=';
    append_encoded(out, value, false);
  }
  return out;
}

std::optional<fields> decode(std::string_view body) {
  fields out;
  while (!body.empty()) {
    auto amp = body.find('&');
    auto segment = body.substr(0, amp);
    body = amp == std::string_view::npos ? std::string_view{} : body.substr(amp + 1);
    if (segment.empty())
      continue;
    auto eq = segment.find('=');
    auto name = decode_component(segment.substr(0, eq));
    auto value = decode_component(eq == std::string_view::npos ? std::string_view{}
                                                               : segment.substr(eq + 1));
    if (!name || !value)
      return std::nullopt;
    out.emplace_back(std::move(*name), std::move(*value));
  }
  return out;
}

std::optional<std::string> find(const fields& f, std::string_view name) {
  for (const auto& [k, v] : f)
    if (k == name)
      return v;
  return std::nullopt;
}

} // namespace djdash::form
