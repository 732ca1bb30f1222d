#define CAF_SUITE http.realtime_protocol

#include "http/realtime_protocol.hpp"

#include "support/caf_test.hpp"

#include <string>
#include <vector>

using namespace djdash::http::realtime;
using nlohmann::json;

namespace {

constexpr auto org = "0b6f6c1e-2f6a-4f3e-9a55-6a1d2c3b4e5f";

std::string error_code_of(const std::string& text) {
  auto r = parse_client_frame(text);
  return r.frame ? std::string{} : r.error.code;
}

} // namespace

CAF_TEST(each client frame type parses with its fields and ref) {
  auto sub = parse_client_frame(R"({"type":"subscribe","topic":"org:x:queue","ref":"1"})");
  CAF_REQUIRE(sub.frame.has_value());
  CAF_CHECK(sub.frame->type == frame_type::subscribe);
  CAF_CHECK_EQUAL(sub.frame->topic, "org:x:queue");
  auto ref = sub.frame->ref;
  CAF_CHECK_EQUAL(ref, json("1"));
  auto unsub = parse_client_frame(R"({"type":"unsubscribe","topic":"t","ref":2})");
  CAF_REQUIRE(unsub.frame.has_value());
  CAF_CHECK(unsub.frame->type == frame_type::unsubscribe);
  auto num_ref = unsub.frame->ref;
  CAF_CHECK_EQUAL(num_ref, json(2));
  auto auth = parse_client_frame(R"({"type":"auth","token":"abc.def.ghi"})");
  CAF_REQUIRE(auth.frame.has_value());
  CAF_CHECK(auth.frame->type == frame_type::auth);
  CAF_CHECK_EQUAL(auth.frame->token, "abc.def.ghi");
  auto no_ref = auth.frame->ref;
  CAF_CHECK(no_ref.is_null());
  auto ping = parse_client_frame(R"({"type":"ping","ref":"4"})");
  CAF_REQUIRE(ping.frame.has_value());
  CAF_CHECK(ping.frame->type == frame_type::ping);
  auto bc = parse_client_frame(
    R"({"type":"broadcast","topic":"room:r1:chat","payload":{"name":"a","text":"hi"},"ref":"3"})");
  CAF_REQUIRE(bc.frame.has_value());
  CAF_CHECK(bc.frame->type == frame_type::broadcast);
  auto text = bc.frame->payload.value("text", "");
  CAF_CHECK_EQUAL(text, "hi");
}

CAF_TEST(malformed frames are refused with bad_request and keep a valid ref) {
  std::vector<std::string> frames{
    "{not json",
    "",
    "[1,2]",
    R"({"ref":"1"})",
    R"({"type":"dance","ref":"1"})",
    R"({"type":"subscribe","ref":"1"})",
    R"({"type":"subscribe","topic":7})",
    R"({"type":"subscribe","topic":""})",
    R"({"type":"auth"})",
    R"({"type":"broadcast","topic":"room:a:chat","payload":"x"})",
    R"({"type":"ping","ref":{"a":1}})",
    R"({"type":"ping","ref":")" + std::string(200, 'r') + "\"}",
    "{\"type\":\"subscribe\",\"topic\":\"" + std::string(300, 't') + "\"}",
  };
  for (auto& f : frames) {
    CAF_MESSAGE("frame " << f.substr(0, 60));
    auto code = error_code_of(f);
    CAF_CHECK_EQUAL(code, "bad_request");
  }
  // The ref of a frame that is otherwise wrong is kept, so the client can match the error.
  auto r = parse_client_frame(R"({"type":"subscribe","ref":"9"})");
  CAF_REQUIRE(!r.frame);
  auto ref = r.error.ref;
  CAF_CHECK_EQUAL(ref, json("9"));
  // A malformed ref cannot be echoed.
  auto bad_ref = parse_client_frame(R"({"type":"ping","ref":[1]})");
  auto none = bad_ref.error.ref;
  CAF_CHECK(none.is_null());
}

CAF_TEST(topics are recognized canonically and everything else is unknown) {
  auto n = parse_topic(std::string{"org:"} + org + ":notifications");
  CAF_REQUIRE(n.has_value());
  CAF_CHECK(n->kind == topic_kind::org_notifications);
  CAF_CHECK_EQUAL(n->id, org);
  CAF_CHECK(access_of(n->kind) == topic_access::org_members);
  auto c = parse_topic(std::string{"org:"} + org + ":changes:crowd_requests");
  CAF_REQUIRE(c.has_value());
  CAF_CHECK(c->kind == topic_kind::org_changes);
  CAF_CHECK_EQUAL(c->table, "crowd_requests");
  CAF_CHECK(access_of(c->kind) == topic_access::org_members);
  auto q = parse_topic(std::string{"org:"} + org + ":queue");
  CAF_REQUIRE(q.has_value());
  CAF_CHECK(q->kind == topic_kind::org_queue);
  CAF_CHECK(access_of(q->kind) == topic_access::anyone);
  CAF_CHECK(is_available(q->kind));
  CAF_CHECK(!allows_broadcast(q->kind));
  // Upper-case ids route to the same topic as the lower-case ids publishers use.
  auto upper = parse_topic("org:0B6F6C1E-2F6A-4F3E-9A55-6A1D2C3B4E5F:queue");
  CAF_REQUIRE(upper.has_value());
  CAF_CHECK_EQUAL(upper->canonical, std::string{"org:"} + org + ":queue");
  auto room = parse_topic("room:abc-1:chat");
  CAF_REQUIRE(room.has_value());
  CAF_CHECK(room->kind == topic_kind::room_chat);
  CAF_CHECK(!is_available(room->kind));
  for (auto bad : {"org:not-a-uuid:queue", "org::queue", "queue", "org:", "user:1:x",
                   "org:0b6f6c1e-2f6a-4f3e-9a55-6a1d2c3b4e5f:secrets",
                   "org:0b6f6c1e-2f6a-4f3e-9a55-6a1d2c3b4e5f:changes:",
                   "org:0b6f6c1e-2f6a-4f3e-9a55-6a1d2c3b4e5f:changes:Bad-Table",
                   "room:a b:chat", "room:x:dance"}) {
    CAF_MESSAGE("topic " << bad);
    auto t = parse_topic(bad);
    CAF_CHECK(!t);
  }
}

CAF_TEST(replies carry the ref the status and the error object) {
  auto ok = json::parse(ok_reply(json("1")));
  auto ok_type = ok.value("type", "");
  auto ok_status = ok.value("status", "");
  auto ok_ref = ok["ref"];
  CAF_CHECK_EQUAL(ok_type, "reply");
  CAF_CHECK_EQUAL(ok_status, "ok");
  CAF_CHECK_EQUAL(ok_ref, json("1"));
  CAF_CHECK(!ok.contains("error"));
  auto err = json::parse(error_reply(nullptr, "bad_request", "frame is not valid JSON"));
  auto err_status = err.value("status", "");
  auto err_code = err["error"].value("code", "");
  auto err_ref = err["ref"];
  CAF_CHECK_EQUAL(err_status, "error");
  CAF_CHECK_EQUAL(err_code, "bad_request");
  CAF_CHECK(err_ref.is_null());
  // Bytes that are not UTF-8 never make reply building throw.
  auto odd = error_reply(json("1"), "bad_request", std::string{"\xff\xfe"});
  auto parsed = json::parse(odd, nullptr, false);
  CAF_CHECK(!parsed.is_discarded());
}
