#include "protocols/crypto.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <stdexcept>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

namespace djdash::crypto {

namespace {

constexpr std::size_t sha256_size = 32;
constexpr char std_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr char url_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

const unsigned char* bytes_of(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

unsigned char* bytes_of(std::string& s) {
  return reinterpret_cast<unsigned char*>(s.data());
}

uint32_t byte_at(std::string_view s, std::size_t i) {
  return static_cast<unsigned char>(s[i]);
}

/// Returns the base64 encoding of `in` over `alphabet`, optionally '='-padded.
std::string encode(std::string_view in, const char* alphabet, bool pad) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  auto put = [&](uint32_t v, int n) {
    for (int shift = 18; n-- > 0; shift -= 6)
      out += alphabet[(v >> shift) & 63];
  };
  std::size_t i = 0;
  for (; i + 3 <= in.size(); i += 3)
    put(byte_at(in, i) << 16 | byte_at(in, i + 1) << 8 | byte_at(in, i + 2), 4);
  auto rest = in.size() - i;
  if (rest == 0)
    return out;
  auto v = byte_at(in, i) << 16 | (rest == 2 ? byte_at(in, i + 1) << 8 : 0);
  put(v, static_cast<int>(rest) + 1);
  if (pad)
    out.append(3 - rest, '=');
  return out;
}

/// Maps each byte to its 6-bit value in the url alphabet, or -1.
constexpr std::array<int8_t, 256> make_url_table() {
  std::array<int8_t, 256> t{};
  for (auto& x : t)
    x = -1;
  for (int i = 0; i < 64; ++i)
    t[static_cast<unsigned char>(url_alphabet[i])] = static_cast<int8_t>(i);
  return t;
}

constexpr auto url_table = make_url_table();

} // namespace

std::string hmac_sha256(std::string_view key, std::string_view data) {
  std::string out(sha256_size, '\0');
  std::size_t len = 0;
  // EVP_Q_mac takes size_t lengths (HMAC() caps the key at INT_MAX) and is not deprecated.
  auto* res = EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, key.data(), key.size(),
                        bytes_of(data), data.size(), bytes_of(out), out.size(), &len);
  if (res == nullptr || len != sha256_size)
    throw std::runtime_error("HMAC-SHA256 failed");
  return out;
}

std::string sha256(std::string_view data) {
  std::string out(sha256_size, '\0');
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), bytes_of(out), &len, EVP_sha256(), nullptr) != 1
      || len != sha256_size)
    throw std::runtime_error("SHA-256 failed");
  return out;
}

std::string hex(std::string_view bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    out += digits[byte_at(bytes, i) >> 4];
    out += digits[byte_at(bytes, i) & 15];
  }
  return out;
}

std::string base64url_encode(std::string_view bytes) {
  return encode(bytes, url_alphabet, false);
}

std::string base64_encode(std::string_view bytes) {
  return encode(bytes, std_alphabet, true);
}

std::optional<std::string> base64url_decode(std::string_view text) {
  if (text.size() % 4 == 1)
    return std::nullopt;
  std::string out;
  out.reserve(text.size() / 4 * 3 + 2);
  uint32_t acc = 0; // only the low 14 bits matter; higher bits fall off harmlessly
  int bits = 0;
  for (char c : text) {
    auto v = url_table[static_cast<unsigned char>(c)];
    if (v < 0)
      return std::nullopt; // also rejects '=' padding
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  // Non-zero leftover bits would let two different strings decode to the same bytes.
  if (bits > 0 && (acc & ((1u << bits) - 1)) != 0)
    return std::nullopt;
  return out;
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  // Only the length may leak; it is public for MACs and digests.
  if (a.size() != b.size())
    return false;
  return a.empty() || CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string random_bytes(std::size_t n) {
  constexpr std::size_t chunk = 1 << 20; // RAND_bytes takes an int length
  std::string out(n, '\0');
  for (std::size_t off = 0; off < n; off += chunk) {
    auto len = static_cast<int>(std::min(chunk, n - off));
    if (RAND_bytes(bytes_of(out) + off, len) != 1)
      throw std::runtime_error("RAND_bytes failed");
  }
  return out;
}

std::string random_token(std::size_t bytes) {
  return base64url_encode(random_bytes(bytes));
}

} // namespace djdash::crypto
