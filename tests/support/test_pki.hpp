#pragma once

// A throwaway certificate authority for TLS tests: a CA and a server certificate it signed for
// given names, all in PEM, made in memory with OpenSSL (EC P-256, valid for a day).

#include <string>
#include <vector>

namespace djdash::test {

struct test_pki {
  std::string ca_pem;    // trust this (e.g. as https_client's ca_file)
  std::string cert_pem;  // the server certificate
  std::string key_pem;   // its private key

  /// Makes a CA and a server certificate whose subjectAltNames are `names`: IP literals become
  /// IP entries, anything else DNS entries. Throws std::runtime_error if OpenSSL fails.
  static test_pki make(const std::vector<std::string>& names);
};

/// Writes `text` to a fresh file under the temp directory and returns its path.
std::string write_temp_file(const std::string& stem, const std::string& text);

} // namespace djdash::test
