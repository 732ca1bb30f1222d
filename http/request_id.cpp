#include "http/request_id.hpp"

#include <cstdint>
#include <random>

namespace djdash::http {

bool valid_request_id(std::string_view id) {
  if (id.empty() || id.size() > 64)
    return false;
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
              || c == '-' || c == '_' || c == '.';
    if (!ok)
      return false;
  }
  return true;
}

std::string make_request_id() {
  // Not a secret, only unique enough to correlate logs: a per-thread PRNG is plenty.
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char hex[] = "0123456789abcdef";
  uint64_t hi = rng();
  uint64_t lo = rng();
  hi = (hi & ~uint64_t{0xf000}) | 0x4000;                         // version 4
  lo = (lo & ~(uint64_t{0xc} << 60)) | (uint64_t{0x8} << 60);      // RFC 4122 variant
  std::string out;
  out.reserve(36);
  for (int i = 0; i < 32; ++i) {
    if (i == 8 || i == 12 || i == 16 || i == 20)
      out += '-';
    uint64_t word = i < 16 ? hi : lo;
    out += hex[(word >> (60 - 4 * (i % 16))) & 0xf];
  }
  return out;
}

std::string pick_request_id(std::string_view incoming) {
  return valid_request_id(incoming) ? std::string{incoming} : make_request_id();
}

} // namespace djdash::http
