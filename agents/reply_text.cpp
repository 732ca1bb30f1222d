#include "agents/reply_text.hpp"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <string_view>

#include "protocols/pricing.hpp"

namespace djdash::agents {

namespace {

/// The next UTF-8 code point of `s` at `i` (advancing `i`); invalid bytes read as U+FFFD.
char32_t next_code_point(const std::string& s, size_t& i) {
  auto c = static_cast<unsigned char>(s[i++]);
  int extra = c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : c >= 0xC0 ? 1 : 0;
  if (c >= 0x80 && extra == 0)
    return 0xFFFD;
  char32_t cp = extra == 0 ? c : c & (0x3F >> extra);
  for (int k = 0; k < extra; ++k) {
    if (i >= s.size() || (static_cast<unsigned char>(s[i]) & 0xC0) != 0x80)
      return 0xFFFD;
    cp = (cp << 6) | (static_cast<unsigned char>(s[i++]) & 0x3F);
  }
  return cp;
}

/// Septets of `cp` in GSM 03.38 (1 basic, 2 extension table), 0 when it has none.
int gsm_septets(char32_t cp) {
  static const std::u32string_view basic_non_ascii
    = U"£¥èéùìòÇØøÅåΔΦΓΛΩΠΨΣΘΞÆæßÉ¤¡ÄÖÑÜ§¿äöñüà";
  if (cp == '\n' || cp == '\r')
    return 1;
  if (cp == '^' || cp == '{' || cp == '}' || cp == '\\' || cp == '[' || cp == ']' || cp == '~'
      || cp == '|' || cp == U'€' || cp == '\f')
    return 2;
  if (cp >= 0x20 && cp < 0x7F)
    return cp == '`' ? 0 : 1;
  return basic_non_ascii.find(cp) != std::u32string_view::npos ? 1 : 0;
}

std::string with_commas(int64_t n) {
  auto digits = std::to_string(n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0)
      out += ',';
    out += digits[i];
  }
  return out;
}

} // namespace

std::string money(int64_t cents, const std::string& currency) {
  auto sign = cents < 0 ? "-" : "";
  auto abs = cents < 0 ? -cents : cents;
  auto whole = with_commas(abs / 100);
  char frac[4];
  std::snprintf(frac, sizeof frac, "%02d", static_cast<int>(abs % 100));
  if (currency == "usd" || currency.empty())
    return std::string{sign} + "$" + whole + (abs % 100 == 0 ? "" : std::string{"."} + frac);
  std::string code;
  for (char c : currency)
    code += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return std::string{sign} + whole + "." + frac + " " + code;
}

std::string day_label(const std::string& date, const std::string& today) {
  static const char* days[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
  static const char* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  auto wd = pricing::weekday_of(date);
  if (!wd)
    return date;
  auto month = std::stoi(date.substr(5, 2));
  auto day = std::stoi(date.substr(8, 2));
  auto out = std::string{days[*wd]} + ", " + months[month - 1] + " " + std::to_string(day);
  if (today.size() < 4 || date.compare(0, 4, today, 0, 4) != 0)
    out += ", " + date.substr(0, 4);
  return out;
}

std::string event_label(const std::string& event_type) {
  if (event_type == "corporate")
    return "corporate event";
  if (event_type == "school_dance")
    return "school dance";
  if (event_type == "private_party")
    return "private party";
  if (event_type == "club")
    return "club night";
  if (event_type == "other" || event_type.empty())
    return "event";
  return event_type;  // wedding, birthday, quinceanera, mitzvah
}

std::string hours_label(double hours) {
  char buf[32];
  if (std::fabs(hours - std::round(hours)) < 1e-9)
    std::snprintf(buf, sizeof buf, "%d", static_cast<int>(std::round(hours)));
  else
    std::snprintf(buf, sizeof buf, "%g", std::round(hours * 100) / 100);
  return std::string{buf} + (std::fabs(hours - 1) < 1e-9 ? " hour" : " hours");
}

std::string hours_adjective(double hours) {
  auto label = hours_label(hours);
  return label.substr(0, label.find(' ')) + "-hour";
}

std::string time_label(const std::string& hhmm) {
  if (hhmm.size() != 5 || hhmm[2] != ':')
    return hhmm;
  auto h = std::stoi(hhmm.substr(0, 2));
  auto m = hhmm.substr(3, 2);
  auto suffix = h >= 12 ? "pm" : "am";
  auto h12 = h % 12 == 0 ? 12 : h % 12;
  return std::to_string(h12) + (m == "00" ? "" : ":" + m) + suffix;
}

size_t sms_segments(const std::string& text) {
  size_t septets = 0, chars = 0;
  bool gsm = true;
  for (size_t i = 0; i < text.size();) {
    auto cp = next_code_point(text, i);
    ++chars;
    chars += cp > 0xFFFF ? 1 : 0;  // UCS-2 needs a surrogate pair
    auto n = gsm_septets(cp);
    if (n == 0)
      gsm = false;
    septets += static_cast<size_t>(n);
  }
  auto units = gsm ? septets : chars;
  auto single = gsm ? 160u : 70u;
  auto split = gsm ? 153u : 67u;
  if (units <= single)
    return units == 0 ? 0 : 1;
  return (units + split - 1) / split;
}

std::string fit_sms(const std::vector<std::string>& parts) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (parts[i].empty())
      continue;
    auto candidate = out.empty() ? parts[i] : out + " " + parts[i];
    if (i == 0 || out.empty() || sms_segments(candidate) <= 2)
      out = std::move(candidate);
  }
  return out;
}

} // namespace djdash::agents
