#include "protocols/password.hpp"

#include <mutex>

#include <sodium.h>

#include "protocols/app_errc.hpp"

namespace djdash::password {

namespace {

bool init_sodium() {
  static const bool ok = sodium_init() >= 0;
  return ok;
}

/// A hash of a random password, made once: what unknown accounts are "verified" against.
const std::string& dummy_hash() {
  static const std::string h = [] {
    char out[crypto_pwhash_STRBYTES];
    char secret[32];
    randombytes_buf(secret, sizeof(secret));
    if (crypto_pwhash_str(out, secret, sizeof(secret), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE)
        != 0)
      return std::string{};
    return std::string{out};
  }();
  return h;
}

} // namespace

caf::expected<std::string> hash(std::string_view password) {
  if (!init_sodium())
    return make_app_error(app_errc::internal, "libsodium failed to initialise");
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str(out, password.data(), password.size(),
                        crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE)
      != 0)
    return make_app_error(app_errc::internal, "out of memory while hashing a password");
  return std::string{out};
}

bool verify(const std::string& phc, std::string_view password) {
  if (!init_sodium())
    return false;
  bool real = !phc.empty() && phc.size() < crypto_pwhash_STRBYTES
              && phc.rfind("$argon2id$", 0) == 0;
  const auto& target = real ? phc : dummy_hash();
  auto ok = crypto_pwhash_str_verify(target.c_str(), password.data(), password.size()) == 0;
  return real && ok;
}

} // namespace djdash::password
