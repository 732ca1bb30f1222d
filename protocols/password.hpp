#pragma once

// Password hashing with argon2id (libsodium's crypto_pwhash_str, interactive limits). Each call
// costs tens of milliseconds and 64 MiB: run it on detached actors, never on an I/O thread.

#include <string>
#include <string_view>

#include <caf/expected.hpp>

namespace djdash::password {

/// Shortest and longest passwords accepted (bytes). The upper bound keeps hashing bounded.
constexpr size_t min_length = 8;
constexpr size_t max_length = 128;

/// Returns the PHC string (`$argon2id$v=19$m=65536,t=2,p=1$…`) for `password`.
caf::expected<std::string> hash(std::string_view password);

/// Returns whether `password` matches `phc`. An empty or malformed `phc` is verified against a
/// dummy hash, so an unknown account costs the same time as a wrong password, and fails.
bool verify(const std::string& phc, std::string_view password);

} // namespace djdash::password
