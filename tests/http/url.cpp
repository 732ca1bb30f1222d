#define CAF_SUITE http.url

#include "http/url.hpp"

#include "support/caf_test.hpp"

#include "http/request_id.hpp"

using namespace djdash::http;

namespace {

/// By value: CAF_CHECK_EQUAL keeps a reference to its argument past the full expression.
std::string decoded(std::string_view in, bool plus_is_space = false) {
  return percent_decode(in, plus_is_space).value_or("<malformed>");
}

} // namespace

CAF_TEST(percent decoding) {
  CAF_CHECK_EQUAL(decoded("a%20b%2fc"), "a b/c");
  CAF_CHECK_EQUAL(decoded("a+b"), "a+b");
  CAF_CHECK_EQUAL(decoded("a+b", true), "a b");
  CAF_CHECK_EQUAL(decoded("%C3%BC"), "\xC3\xBC");
  CAF_CHECK(!percent_decode("%"));
  CAF_CHECK(!percent_decode("%4"));
  CAF_CHECK(!percent_decode("%zz"));
  CAF_CHECK(!percent_decode("ab%"));
}

CAF_TEST(targets split into path and query) {
  auto [path, query] = split_target("/a/b?x=1&y=2");
  CAF_CHECK_EQUAL(path, "/a/b");
  CAF_CHECK_EQUAL(query, "x=1&y=2");
  auto [bare, none] = split_target("/a#frag");
  CAF_CHECK_EQUAL(bare, "/a");
  CAF_CHECK(none.empty());
}

CAF_TEST(query strings parse with the last value winning) {
  auto q = parse_query("a=1&b=x+y%21&flag&&a=3&empty=");
  CAF_REQUIRE(q);
  CAF_CHECK_EQUAL(q->at("a"), "3");
  CAF_CHECK_EQUAL(q->at("b"), "x y!");
  CAF_CHECK_EQUAL(q->at("flag"), "");
  CAF_CHECK_EQUAL(q->at("empty"), "");
  CAF_CHECK_EQUAL(q->size(), 4u);
  CAF_CHECK(!parse_query("a=%zz"));
  CAF_CHECK(parse_query("")->empty());
}

CAF_TEST(request ids) {
  CAF_CHECK(valid_request_id("abc-DEF_1.2"));
  CAF_CHECK(valid_request_id(std::string(64, 'a')));
  CAF_CHECK(!valid_request_id(std::string(65, 'a')));
  CAF_CHECK(!valid_request_id(""));
  CAF_CHECK(!valid_request_id("a b"));
  CAF_CHECK(!valid_request_id("a\"b"));
  auto id = make_request_id();
  CAF_CHECK_EQUAL(id.size(), 36u);
  CAF_CHECK_EQUAL(id[14], '4');
  CAF_CHECK(valid_request_id(id));
  CAF_CHECK_NOT_EQUAL(make_request_id(), make_request_id());
  CAF_CHECK_EQUAL(pick_request_id("keep-me"), "keep-me");
  CAF_CHECK_NOT_EQUAL(pick_request_id("no way"), "no way");
}
