#define CAF_SUITE protocols.crypto

#include "protocols/crypto.hpp"

#include <set>
#include <string>

#include "support/caf_test.hpp"

using namespace djdash::crypto;
using namespace std::string_literals;

CAF_TEST(hmac sha256 matches RFC 4231) {
  // Test case 1: 20 bytes of 0x0b.
  CAF_CHECK_EQUAL(hex(hmac_sha256(std::string(20, '\x0b'), "Hi There")),
                  "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  // Test case 2.
  CAF_CHECK_EQUAL(hex(hmac_sha256("Jefe", "what do ya want for nothing?")),
                  "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  // Test case 6: a key longer than the block size is hashed first.
  CAF_CHECK_EQUAL(hex(hmac_sha256(std::string(131, '\xaa'),
                                  "Test Using Larger Than Block-Size Key - Hash Key First")),
                  "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

CAF_TEST(hmac sha256 accepts empty keys and binary data) {
  CAF_CHECK_EQUAL(hex(hmac_sha256("", "")),
                  "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
  auto mac = hmac_sha256("k\0ey"s, "da\0ta"s);
  CAF_CHECK_EQUAL(mac.size(), 32u);
  CAF_CHECK_NOT_EQUAL(mac, hmac_sha256("k", "da\0ta"s)); // embedded NULs are key bytes
}

CAF_TEST(sha256 known answers) {
  CAF_CHECK_EQUAL(hex(sha256("abc")),
                  "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CAF_CHECK_EQUAL(hex(sha256("")),
                  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CAF_CHECK_EQUAL(sha256("abc").size(), 32u);
}

CAF_TEST(hex is lowercase and covers every byte) {
  CAF_CHECK_EQUAL(hex(""), "");
  CAF_CHECK_EQUAL(hex("\x00\x01\x7f\x80\xff"s), "00017f80ff");
}

CAF_TEST(base64 standard encoding matches RFC 4648) {
  CAF_CHECK_EQUAL(base64_encode(""), "");
  CAF_CHECK_EQUAL(base64_encode("f"), "Zg==");
  CAF_CHECK_EQUAL(base64_encode("fo"), "Zm8=");
  CAF_CHECK_EQUAL(base64_encode("foo"), "Zm9v");
  CAF_CHECK_EQUAL(base64_encode("foob"), "Zm9vYg==");
  CAF_CHECK_EQUAL(base64_encode("fooba"), "Zm9vYmE=");
  CAF_CHECK_EQUAL(base64_encode("foobar"), "Zm9vYmFy");
  CAF_CHECK_EQUAL(base64_encode("\xfb\xff\xfe"), "+//+");
  CAF_CHECK_EQUAL(base64_encode("\xfb\xff"), "+/8=");
}

CAF_TEST(base64url encoding is unpadded with the url alphabet) {
  CAF_CHECK_EQUAL(base64url_encode(""), "");
  CAF_CHECK_EQUAL(base64url_encode("f"), "Zg");
  CAF_CHECK_EQUAL(base64url_encode("fo"), "Zm8");
  CAF_CHECK_EQUAL(base64url_encode("foobar"), "Zm9vYmFy");
  CAF_CHECK_EQUAL(base64url_encode("\xfb\xff\xfe"), "-__-");
  CAF_CHECK_EQUAL(base64url_encode("\xfb\xff"), "-_8");
  CAF_CHECK_EQUAL(base64url_encode(R"({"alg":"HS256","typ":"JWT"})"),
                  "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9");
}

CAF_TEST(base64url round trips every length and byte) {
  std::string all;
  for (int i = 0; i < 256; ++i)
    all += static_cast<char>(i);
  for (size_t n = 0; n <= all.size(); ++n) {
    auto in = all.substr(all.size() - n);
    auto out = base64url_decode(base64url_encode(in));
    CAF_REQUIRE(out.has_value());
    CAF_CHECK_EQUAL(*out, in);
  }
}

CAF_TEST(base64url decode is strict) {
  CAF_CHECK_EQUAL(base64url_decode("").value_or("x"), "");
  CAF_CHECK_EQUAL(base64url_decode("Zg").value_or(""), "f");
  CAF_CHECK(!base64url_decode("Zg=="));  // padding
  CAF_CHECK(!base64url_decode("Zm8="));  // padding
  CAF_CHECK(!base64url_decode("+/8"));   // standard alphabet
  CAF_CHECK(!base64url_decode("Zm 9v")); // whitespace
  CAF_CHECK(!base64url_decode("Zm9v\n"));
  CAF_CHECK(!base64url_decode("Zm9v\0"s));
  CAF_CHECK(!base64url_decode("Z"));     // len % 4 == 1 cannot encode whole bytes
  CAF_CHECK(!base64url_decode("Zm9vY"));
  CAF_CHECK(!base64url_decode("Zh"));    // non-canonical: unused bits set ("Zg" is canonical)
  CAF_CHECK(!base64url_decode("Zm9"));   // non-canonical ("Zm8" is canonical)
  CAF_CHECK(!base64url_decode("\xc3\xa9\xc3\xa9"));
}

CAF_TEST(constant time equality) {
  CAF_CHECK(constant_time_equal("", ""));
  CAF_CHECK(constant_time_equal("abc", "abc"));
  CAF_CHECK(constant_time_equal("a\0c"s, "a\0c"s));
  CAF_CHECK(!constant_time_equal("abc", "abd"));
  CAF_CHECK(!constant_time_equal("abc", "ab"));
  CAF_CHECK(!constant_time_equal("", "a"));
  CAF_CHECK(!constant_time_equal("a\0c"s, "a\0d"s));
}

CAF_TEST(random bytes have the requested size) {
  CAF_CHECK_EQUAL(random_bytes(0).size(), 0u);
  CAF_CHECK_EQUAL(random_bytes(1).size(), 1u);
  CAF_CHECK_EQUAL(random_bytes(4096).size(), 4096u);
  CAF_CHECK_NOT_EQUAL(random_bytes(32), random_bytes(32));
}

CAF_TEST(random tokens are 43 url-safe characters and unique) {
  const std::string url_alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    auto t = random_token(32);
    CAF_REQUIRE_EQUAL(t.size(), 43u);
    CAF_CHECK(t.find_first_not_of(url_alphabet) == std::string::npos);
    CAF_CHECK_EQUAL(base64url_decode(t).value_or("").size(), 32u);
    seen.insert(std::move(t));
  }
  CAF_CHECK_EQUAL(seen.size(), 1000u);
  CAF_CHECK_EQUAL(random_token(16).size(), 22u);
  CAF_CHECK_EQUAL(random_token(0), "");
}
