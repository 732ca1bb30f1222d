#define CAF_SUITE http.route_table

#include "http/route_table.hpp"

#include "support/caf_test.hpp"

#include <stdexcept>

using namespace djdash::http;

namespace {

handler nop() {
  return [](request&, const responder&) {};
}

route_table sample() {
  route_table rt;
  rt.add("GET", "/api/public/orgs/{slug}", nop());
  rt.add("GET", "/api/leads", nop());
  rt.add("POST", "/api/leads", nop());
  rt.add("GET", "/api/organizations/{id}", nop());
  rt.add("GET", "/api/organizations/current", nop());  // literal must win over {id}
  rt.add("PATCH", "/api/karaoke/{room_id}/queue/{entry_id}", nop());
  return rt;
}

/// Returns whether `fn` throws std::invalid_argument (CAF 0.17 has no CHECK_THROWS).
template <class F>
bool rejects(F fn) {
  try {
    fn();
  } catch (const std::invalid_argument&) {
    return true;
  }
  return false;
}

} // namespace

CAF_TEST(literal routes and parameters match) {
  auto rt = sample();
  auto m = rt.match("GET", "/api/public/orgs/dj-bob");
  CAF_REQUIRE_EQUAL(m.outcome, route_match::found);
  CAF_CHECK_EQUAL(m.matched->pattern, "/api/public/orgs/{slug}");
  CAF_CHECK_EQUAL(m.params["slug"], "dj-bob");
  auto two = rt.match("PATCH", "/api/karaoke/r1/queue/e%202");
  CAF_REQUIRE_EQUAL(two.outcome, route_match::found);
  CAF_CHECK_EQUAL(two.params["room_id"], "r1");
  CAF_CHECK_EQUAL(two.params["entry_id"], "e 2");
}

CAF_TEST(an encoded slash stays inside its parameter) {
  auto rt = sample();
  auto m = rt.match("GET", "/api/public/orgs/a%2Fb");
  CAF_REQUIRE_EQUAL(m.outcome, route_match::found);
  CAF_CHECK_EQUAL(m.params["slug"], "a/b");
}

CAF_TEST(literal segments win over parameters) {
  auto rt = sample();
  auto m = rt.match("GET", "/api/organizations/current");
  CAF_REQUIRE_EQUAL(m.outcome, route_match::found);
  CAF_CHECK_EQUAL(m.matched->pattern, "/api/organizations/current");
  CAF_CHECK(m.params.empty());
  auto other = rt.match("GET", "/api/organizations/42");
  CAF_CHECK_EQUAL(other.matched->pattern, "/api/organizations/{id}");
}

CAF_TEST(misses are not found or method not allowed) {
  auto rt = sample();
  CAF_CHECK_EQUAL(rt.match("GET", "/api/nothing").outcome, route_match::not_found);
  CAF_CHECK_EQUAL(rt.match("GET", "/api/leads/").outcome, route_match::not_found);
  CAF_CHECK_EQUAL(rt.match("GET", "/api/public/orgs").outcome, route_match::not_found);
  CAF_CHECK_EQUAL(rt.match("GET", "").outcome, route_match::not_found);
  CAF_CHECK_EQUAL(rt.match("GET", "*").outcome, route_match::not_found);
  auto m = rt.match("DELETE", "/api/leads");
  CAF_CHECK_EQUAL(m.outcome, route_match::method_not_allowed);
  CAF_CHECK_EQUAL(m.allow, "GET, POST");
  CAF_REQUIRE(m.pattern != nullptr);
  CAF_CHECK_EQUAL(*m.pattern, "/api/leads");
  CAF_CHECK_EQUAL(rt.match("HEAD", "/api/leads").outcome, route_match::method_not_allowed);
  CAF_CHECK_EQUAL(rt.match("GET", "/api/public/orgs/%g1").outcome, route_match::bad_path);
}

CAF_TEST(bad registrations throw at startup) {
  route_table rt;
  rt.add("GET", "/a/{x}", nop());
  CAF_CHECK(rejects([&] { rt.add("GET", "/a/{y}", nop()); }));
  CAF_CHECK(rejects([&] { rt.add("GET", "no-slash", nop()); }));
  CAF_CHECK(rejects([&] { rt.add("GET", "/b/{x", nop()); }));
  CAF_CHECK(rejects([&] { rt.add("GET", "/b/{}", nop()); }));
  CAF_CHECK(rejects([&] { rt.add("GET", "/b/{x}/{x}", nop()); }));
  CAF_CHECK(rejects([&] { rt.add("GET", "/c", handler{}); }));
  route_doc doc;
  doc.request_schema_json = "{not json";
  CAF_CHECK(rejects([&] { rt.add("POST", "/d", nop(), doc); }));
  rt.add("POST", "/a/{x}", nop());  // same path, other method: fine
  CAF_CHECK_EQUAL(rt.routes().size(), 2u);
}

CAF_TEST(the watch view follows the table through moves) {
  route_table rt;
  auto view = rt.watch();
  rt.add("GET", "/one", nop());
  route_table moved = std::move(rt);
  moved.add("GET", "/two", nop());
  auto routes = view.lock();
  CAF_REQUIRE(routes);
  CAF_CHECK_EQUAL(routes->size(), 2u);
}
