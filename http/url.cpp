#include "http/url.hpp"

namespace djdash::http {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

} // namespace

std::optional<std::string> percent_decode(std::string_view in, bool plus_is_space) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size())  // needs two hex digits after '%'
        return std::nullopt;
      int hi = hex_value(in[i + 1]);
      int lo = hex_value(in[i + 2]);
      if (hi < 0 || lo < 0)
        return std::nullopt;
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

std::pair<std::string_view, std::string_view> split_target(std::string_view target) {
  auto end = target.find('#');  // clients should not send fragments; never route on them
  if (end != std::string_view::npos)
    target = target.substr(0, end);
  auto q = target.find('?');
  if (q == std::string_view::npos)
    return {target, {}};
  return {target.substr(0, q), target.substr(q + 1)};
}

std::optional<std::map<std::string, std::string>> parse_query(std::string_view qs) {
  std::map<std::string, std::string> out;
  while (!qs.empty()) {
    auto amp = qs.find('&');
    auto pair = qs.substr(0, amp);
    qs = amp == std::string_view::npos ? std::string_view{} : qs.substr(amp + 1);
    if (pair.empty())
      continue;
    auto eq = pair.find('=');
    auto name = percent_decode(pair.substr(0, eq), true);
    auto value = percent_decode(eq == std::string_view::npos ? std::string_view{}
                                                             : pair.substr(eq + 1),
                                true);
    if (!name || !value)
      return std::nullopt;
    out.insert_or_assign(std::move(*name), std::move(*value));
  }
  return out;
}

} // namespace djdash::http
