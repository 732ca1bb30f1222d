#define CAF_SUITE protocols.twilio

// Every signature, negative, TwiML and REST vector of twilio.json (made with twilio-node 6.2.0):
// we accept and reject exactly as Twilio's own library does.

#include "protocols/twilio.hpp"

#include <fstream>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "support/caf_test.hpp"

using namespace djdash;
using nlohmann::json;

namespace {

json load_vectors() {
  std::ifstream in(DJDASH_SHARED_DIR "/vectors/twilio.json", std::ios::binary);
  if (!in)
    return json(json::value_t::discarded);
  std::stringstream buf;
  buf << in.rdbuf();
  return json::parse(buf.str(), nullptr, false);
}

const json& vectors() {
  static const json v = load_vectors();
  return v;
}

/// The vector's params object as form params (a JSON array value is a repeated key).
twilio::form_params params_of(const json& obj) {
  twilio::form_params out;
  for (auto& [k, v] : obj.items()) {
    if (v.is_array()) {
      for (auto& x : v)
        out.emplace_back(k, x.get<std::string>());
    } else {
      out.emplace_back(k, v.get<std::string>());
    }
  }
  return out;
}

} // namespace

CAF_TEST(the vector file is there) {
  auto& v = vectors();
  CAF_REQUIRE(v.is_object());
  auto positives = v["signature_vectors"].size();
  auto negatives = v["negative_vectors"].size();
  CAF_CHECK_EQUAL(positives, 9u);
  CAF_CHECK_EQUAL(negatives, 9u);
}

CAF_TEST(every positive form vector signs and validates from params and from the raw body) {
  int checked = 0;
  for (auto& c : vectors()["signature_vectors"]) {
    if (c["kind"] != "form" || !c["inputs"].contains("url"))
      continue;
    CAF_MESSAGE("vector " << c["name"].get<std::string>());
    auto& in = c["inputs"];
    auto token = in["auth_token"].get<std::string>();
    auto url = in["url"].get<std::string>();
    auto expected = c["expected"]["x_twilio_signature"].get<std::string>();
    auto from_params = params_of(in["params"]);
    auto sig = twilio::signature(token, url, from_params);
    CAF_CHECK_EQUAL(sig, expected);
    if (c.contains("intermediate") && c["intermediate"].contains("data_to_sign")) {
      auto data = twilio::signing_string(url, from_params);
      auto want = c["intermediate"]["data_to_sign"].get<std::string>();
      CAF_CHECK_EQUAL(data, want);
    }
    auto from_body = twilio::parse_form(in["raw_form_body"].get<std::string>());
    auto sig_body = twilio::signature(token, url, from_body);
    CAF_CHECK_EQUAL(sig_body, expected);
    auto valid = twilio::validate_request(token, expected, url, from_body);
    auto want_valid = c["expected"]["validateRequest"].get<bool>();
    CAF_CHECK_EQUAL(valid, want_valid);
    ++checked;
  }
  CAF_CHECK_EQUAL(checked, 7);
}

CAF_TEST(port variants validate both ways as validateRequest does) {
  for (auto& c : vectors()["signature_vectors"]) {
    if (c["name"] != "port_variants")
      continue;
    auto& in = c["inputs"];
    auto& ex = c["expected"];
    auto token = in["auth_token"].get<std::string>();
    auto params = params_of(in["params"]);
    auto without = in["url_without_port"].get<std::string>();
    auto with = in["url_with_port"].get<std::string>();
    auto sig_without = ex["signature_over_url_without_port"].get<std::string>();
    auto sig_with = ex["signature_over_url_with_port"].get<std::string>();
    auto s1 = twilio::signature(token, without, params);
    auto s2 = twilio::signature(token, with, params);
    CAF_CHECK_EQUAL(s1, sig_without);
    CAF_CHECK_EQUAL(s2, sig_with);
    auto a = twilio::validate_request(token, sig_without, with, params);
    auto b = twilio::validate_request(token, sig_with, without, params);
    CAF_CHECK_EQUAL(a, ex["validateRequest_sigWithoutPort_against_urlWithPort"].get<bool>());
    CAF_CHECK_EQUAL(b, ex["validateRequest_sigWithPort_against_urlWithoutPort"].get<bool>());
    // A non-standard port: a signature made over the URL without it is accepted.
    auto odd = std::string{"https://example.com:1234/sms?x=1"};
    auto sig_plain = twilio::signature(token, "https://example.com/sms?x=1", params);
    auto c_ok = twilio::validate_request(token, sig_plain, odd, params);
    CAF_CHECK_EQUAL(c_ok,
                    ex["published_https_nonstandard_port_1234_accepts_sig_without_port"].get<bool>());
    // ...but never a signature over another host or path.
    auto other = twilio::signature(token, "https://example.org/sms?x=1", params);
    CAF_CHECK(!twilio::validate_request(token, other, with, params));
  }
}

CAF_TEST(the JSON body vector checks the body hash and the URL signature) {
  for (auto& c : vectors()["signature_vectors"]) {
    if (c["kind"] != "json")
      continue;
    auto& in = c["inputs"];
    auto token = in["auth_token"].get<std::string>();
    auto url = in["url"].get<std::string>();
    auto expected = c["expected"]["x_twilio_signature"].get<std::string>();
    auto sig = twilio::signature(token, url, {});
    CAF_CHECK_EQUAL(sig, expected);
    auto ok = twilio::validate_request_with_body(token, expected, url,
                                                 in["raw_body"].get<std::string>());
    CAF_CHECK_EQUAL(ok, c["expected"]["validateRequestWithBody"].get<bool>());
  }
}

CAF_TEST(every negative vector is rejected) {
  int checked = 0;
  for (auto& c : vectors()["negative_vectors"]) {
    CAF_MESSAGE("negative " << c["name"].get<std::string>());
    auto& in = c["inputs"];
    auto token = in["auth_token"].get<std::string>();
    auto url = in["url"].get<std::string>();
    auto header = in["x_twilio_signature"].get<std::string>();
    bool got = true;
    bool want = true;
    if (in.contains("raw_body")) {
      got = twilio::validate_request_with_body(token, header, url,
                                               in["raw_body"].get<std::string>());
      want = c["expected"]["validateRequestWithBody"].get<bool>();
    } else {
      got = twilio::validate_request(token, header, url, params_of(in["params"]));
      want = c["expected"]["validateRequest"].get<bool>();
    }
    CAF_CHECK_EQUAL(got, want);
    CAF_CHECK(!got);
    ++checked;
  }
  CAF_CHECK_EQUAL(checked, 9);
}

CAF_TEST(an empty token or header never validates and a truncated signature fails) {
  twilio::form_params p{{"Body", "hi"}};
  auto url = std::string{"https://example.com/sms"};
  auto sig = twilio::signature("tok", url, p);
  CAF_CHECK(twilio::validate_request("tok", sig, url, p));
  CAF_CHECK(!twilio::validate_request("", sig, url, p));
  CAF_CHECK(!twilio::validate_request("tok", "", url, p));
  CAF_CHECK(!twilio::validate_request("tok", sig.substr(0, sig.size() - 1), url, p));
  CAF_CHECK(!twilio::validate_request_with_body("tok", sig, url, "{}"));  // no bodySHA256
}

CAF_TEST(form parsing decodes plus and escapes and keeps repeated keys) {
  auto p = twilio::parse_form("Body=Hi%21+there+%2B1&To=%2B15550001111&Tag=b&Tag=a&empty=&flag"
                              "&&bad=%zz%4");
  CAF_REQUIRE_EQUAL(p.size(), 7u);
  CAF_CHECK_EQUAL(p[0].second, "Hi! there +1");
  CAF_CHECK_EQUAL(p[1].second, "+15550001111");
  CAF_CHECK_EQUAL(p[2].second, "b");
  CAF_CHECK_EQUAL(p[3].second, "a");
  CAF_CHECK_EQUAL(p[4].first, "empty");
  CAF_CHECK_EQUAL(p[4].second, "");
  CAF_CHECK_EQUAL(p[5].first, "flag");
  CAF_CHECK_EQUAL(p[6].second, "%zz%4");
  auto body = twilio::form_value(p, "Body");
  CAF_REQUIRE(body);
  CAF_CHECK_EQUAL(*body, "Hi! there +1");
  CAF_CHECK(!twilio::form_value(p, "Missing"));
}

CAF_TEST(every TwiML vector is produced byte for byte) {
  for (auto& c : vectors()["twiml_vectors"]) {
    auto name = c["name"].get<std::string>();
    auto expected = c["expected_xml"].get<std::string>();
    std::string got;
    if (name == "single_message_with_escaping") {
      got = twilio::twiml_reply(std::string{"Thanks! We got: 5 < 6 & \"quotes\" 'apos' > done"});
    } else if (name == "empty_response_no_reply") {
      got = twilio::twiml_reply(std::nullopt);
    } else if (name == "message_with_attributes_body_media") {
      twilio::twiml_message m;
      m.attributes = {{"to", "+14155550199"},
                      {"from", "+14155550100"},
                      {"action", "https://example.com/status"},
                      {"method", "POST"}};
      m.body = "Body text";
      m.media = {"https://example.com/cat.jpg"};
      got = twilio::twiml_response(m);
    } else {
      CAF_FAIL("unknown TwiML vector " << name);
    }
    CAF_CHECK_EQUAL(got, expected);
  }
}

CAF_TEST(the REST send form and authorization match the captured requests) {
  auto& cap = vectors()["rest_send_sms_capture"]["requests"];
  CAF_REQUIRE_EQUAL(cap.size(), 2u);
  twilio::send_request first;
  first.to = "+14155550199";
  first.from = "+14155550100";
  first.status_callback = "https://api.example.com/twilio/status";
  first.body = "Your order #42 has shipped. Reply STOP to opt out & more";
  auto body1 = twilio::send_form(first);
  CAF_CHECK_EQUAL(body1, cap[0]["body"].get<std::string>());
  twilio::send_request second;
  second.to = "+14155550199";
  second.messaging_service_sid = "MG0123456789abcdef0123456789abcdef";
  second.body = "pic";
  second.media_urls = {"https://example.com/a.jpg", "https://example.com/b.jpg"};
  auto body2 = twilio::send_form(second);
  CAF_CHECK_EQUAL(body2, cap[1]["body"].get<std::string>());
  auto path = twilio::messages_path("AC0123456789abcdef0123456789abcdef");
  CAF_CHECK_EQUAL(path, cap[0]["path"].get<std::string>());
  auto auth = twilio::basic_authorization("AC0123456789abcdef0123456789abcdef", "your_auth_token");
  CAF_CHECK_EQUAL(auth, cap[0]["headers"]["authorization"].get<std::string>());
}

CAF_TEST(xml escaping of attributes covers quotes) {
  auto a = twilio::xml_escape_attribute("a\"b<c>&d'");
  CAF_CHECK_EQUAL(a, "a&quot;b&lt;c&gt;&amp;d'");
}
