#pragma once

// Small crypto and encoding helpers over OpenSSL 3 (HMAC, SHA-256, CSPRNG) plus base64 codecs.
// Byte strings travel as std::string; OpenSSL headers stay in crypto.cpp.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace djdash::crypto {

/// Returns the raw 32-byte HMAC-SHA256 of `data` under `key` (the key's raw bytes, any length).
/// Throws std::runtime_error if OpenSSL fails (out of memory, broken provider).
std::string hmac_sha256(std::string_view key, std::string_view data);

/// Returns the raw 32-byte SHA-256 digest of `data`. Throws std::runtime_error if OpenSSL fails.
std::string sha256(std::string_view data);

/// Returns `bytes` as lowercase hexadecimal.
std::string hex(std::string_view bytes);

/// Returns the base64url encoding of `bytes` (RFC 4648 §5) without '=' padding.
std::string base64url_encode(std::string_view bytes);

/// Returns the bytes of an unpadded base64url string, or nullopt when `text` contains padding or a
/// character outside the url alphabet, has an impossible length (len % 4 == 1), or is not the
/// canonical encoding (non-zero unused trailing bits).
std::optional<std::string> base64url_decode(std::string_view text);

/// Returns the standard base64 encoding of `bytes` (RFC 4648 §4), with '=' padding.
std::string base64_encode(std::string_view bytes);

/// Returns whether `a` and `b` are equal, in time that depends only on their lengths.
bool constant_time_equal(std::string_view a, std::string_view b);

/// Returns `n` bytes from OpenSSL's CSPRNG. Throws std::runtime_error if RAND_bytes fails.
std::string random_bytes(std::size_t n);

/// Returns base64url(random_bytes(bytes)), e.g. 43 characters for 32 bytes (refresh tokens).
std::string random_token(std::size_t bytes = 32);

} // namespace djdash::crypto
