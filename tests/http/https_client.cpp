#define CAF_SUITE http.https_client

#include "http/client/https_client.hpp"

#include <cstdio>
#include <string>

#include "support/caf_test.hpp"
#include "support/fake_http_server.hpp"
#include "support/test_pki.hpp"

using namespace djdash;
using djdash::test::fake_http_server;
using djdash::test::fake_request;
using djdash::test::fake_response;

namespace {

fake_response ok_json(const fake_request& r) {
  fake_response res;
  res.body = R"({"seen":")" + r.target + R"("})";
  res.close = r.path == "/v1/bye";
  res.status = r.path == "/v1/missing" ? 404 : 200;
  return res;
}

http::outbound_request post(std::string target, std::string body) {
  http::outbound_request r;
  r.method = "POST";
  r.target = std::move(target);
  r.body = std::move(body);
  r.headers = {{"Content-Type", "application/x-www-form-urlencoded"}, {"X-Custom", "yes"}};
  return r;
}

} // namespace

CAF_TEST(base URLs parse into scheme host port and path prefix) {
  auto a = http::base_url::parse("https://api.openai.com/v1/");
  CAF_REQUIRE(a.has_value());
  CAF_CHECK(a->tls);
  CAF_CHECK_EQUAL(a->host, "api.openai.com");
  CAF_CHECK_EQUAL(a->port, "443");
  CAF_CHECK_EQUAL(a->prefix, "/v1");
  auto b = http::base_url::parse("http://127.0.0.1:8089");
  CAF_REQUIRE(b.has_value());
  CAF_CHECK(!b->tls);
  CAF_CHECK_EQUAL(b->port, "8089");
  CAF_CHECK_EQUAL(b->prefix, "");
  auto v6 = http::base_url::parse("http://[::1]:81/x");
  CAF_REQUIRE(v6.has_value());
  CAF_CHECK_EQUAL(v6->host, "::1");
  for (auto bad : {"ftp://x", "https://", "http://h:0", "http://h:99999", "http://u:p@h/",
                   "http://h/?q=1", "api.stripe.com"}) {
    auto parsed = http::base_url::parse(bad);
    CAF_CHECK(!parsed.has_value());
  }
}

CAF_TEST(requests reuse one connection and carry headers and body) {
  fake_http_server srv{ok_json};
  http::https_client c{srv.base_url() + "/v1"};
  auto a = c.request(post("/charges?x=1", "amount=5"));
  auto b = c.request(post("/missing", ""));
  CAF_REQUIRE(a.ok() && b.ok());
  CAF_CHECK_EQUAL(a.response.status, 200);
  CAF_CHECK_EQUAL(a.response.body, R"({"seen":"/v1/charges?x=1"})");
  auto ct = a.response.header("content-type");
  CAF_CHECK_EQUAL(ct, "application/json");
  CAF_CHECK_EQUAL(b.response.status, 404);
  CAF_CHECK_EQUAL(c.connections_opened(), 1);
  auto reqs = srv.requests();
  CAF_REQUIRE_EQUAL(reqs.size(), 2u);
  CAF_CHECK_EQUAL(reqs[0].connection, reqs[1].connection);
  CAF_CHECK_EQUAL(reqs[0].body, "amount=5");
  auto custom = reqs[0].header("x-custom");
  CAF_CHECK_EQUAL(custom, "yes");
  auto host = reqs[0].header("host");
  CAF_CHECK_EQUAL(host, "127.0.0.1:" + std::to_string(srv.port()));
  auto length = reqs[1].header("content-length");
  CAF_CHECK_EQUAL(length, "0");
}

CAF_TEST(a connection the server closed is reopened transparently) {
  fake_http_server srv{ok_json};
  http::https_client c{srv.base_url() + "/v1"};
  auto bye = c.request(post("/bye", ""));  // server answers with Connection: close
  auto next = c.request(post("/again", ""));
  CAF_REQUIRE(bye.ok() && next.ok());
  CAF_CHECK_EQUAL(next.response.status, 200);
  CAF_CHECK_EQUAL(c.connections_opened(), 2);
  CAF_CHECK_EQUAL(srv.connections(), 2);
}

CAF_TEST(a reused connection dropped by the server is retried once on a new one) {
  int calls = 0;
  fake_http_server srv{[&calls](const fake_request& r) {
    fake_response res = ok_json(r);
    res.drop = r.path == "/v1/flaky" && r.connection == 1 && ++calls == 1;
    return res;
  }};
  http::https_client c{srv.base_url() + "/v1"};
  auto warm = c.request(post("/warm", ""));
  auto flaky = c.request(post("/flaky", "a=1"));
  CAF_REQUIRE(warm.ok());
  CAF_REQUIRE(flaky.ok());
  CAF_CHECK_EQUAL(flaky.response.status, 200);
  CAF_CHECK_EQUAL(srv.connections(), 2);
}

CAF_TEST(transport failures come back as values) {
  std::uint16_t closed_port = 0;
  {
    fake_http_server gone{ok_json};
    closed_port = gone.port();
  }
  http::https_client refused{"http://127.0.0.1:" + std::to_string(closed_port)};
  auto r = refused.request(post("/x", ""));
  CAF_CHECK(r.error == http::transport_errc::connect_failed);

  fake_http_server slow{[](const fake_request&) {
    fake_response res;
    res.delay = std::chrono::minutes(10);
    return res;
  }};
  http::client_options opts;
  opts.total_timeout = std::chrono::milliseconds(300);
  http::https_client hanging{slow.base_url(), opts};
  auto t = hanging.request(post("/x", ""));
  CAF_CHECK(t.error == http::transport_errc::timeout);

  http::https_client bad_url{"gopher://x"};
  auto b = bad_url.request(post("/x", ""));
  CAF_CHECK(b.error == http::transport_errc::bad_request);
  http::https_client ok{slow.base_url()};
  auto injected = ok.request(post("/x HTTP/1.1\r\nX: y", ""));
  CAF_CHECK(injected.error == http::transport_errc::bad_request);
}

CAF_TEST(https verifies the certificate chain and the host name) {
  auto pki = test::test_pki::make({"127.0.0.1", "api.djdash.test"});
  fake_http_server srv{ok_json, test::fake_tls{pki.cert_pem, pki.key_pem}};
  auto url = srv.base_url();
  CAF_CHECK_EQUAL(url.substr(0, 8), "https://");
  http::client_options trusting;
  trusting.ca_file = test::write_temp_file("djdash-test-ca", pki.ca_pem);
  http::https_client c{url + "/v1", trusting};
  auto a = c.request(post("/charges", "amount=5"));
  auto b = c.request(post("/charges", "amount=6"));
  CAF_REQUIRE(a.ok() && b.ok());
  CAF_CHECK_EQUAL(a.response.status, 200);
  CAF_CHECK_EQUAL(b.response.body, R"({"seen":"/v1/charges"})");
  CAF_CHECK_EQUAL(c.connections_opened(), 1);  // keep-alive over TLS

  // Same server, but trusting only the system store: the private CA is unknown.
  http::https_client system_store{url};
  auto untrusted = system_store.request(post("/x", ""));
  CAF_CHECK(untrusted.error == http::transport_errc::tls_failed);

  // Trusted CA, but the certificate is for other names than the one dialled.
  auto other = test::test_pki::make({"10.9.8.7", "elsewhere.example"});
  fake_http_server wrong_name{ok_json, test::fake_tls{other.cert_pem, other.key_pem}};
  http::client_options trusting_other;
  trusting_other.ca_file = test::write_temp_file("djdash-test-ca", other.ca_pem);
  http::https_client mismatch{wrong_name.base_url(), trusting_other};
  auto m = mismatch.request(post("/x", ""));
  CAF_CHECK(m.error == http::transport_errc::tls_failed);
  auto served = wrong_name.requests();
  CAF_CHECK_EQUAL(served.size(), 0u);
  std::remove(trusting.ca_file.c_str());
  std::remove(trusting_other.ca_file.c_str());
}
