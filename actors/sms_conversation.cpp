#include "actors/sms_conversation.hpp"

#include <chrono>
#include <regex>

#include <caf/actor_system.hpp>
#include <date/tz.h>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <nlohmann/json.hpp>

#include "actors/log.hpp"
#include "agents/opt_out.hpp"
#include "protocols/app_errc.hpp"

namespace djdash::actors {

namespace {

using json = nlohmann::json;
using std::chrono::seconds;

// Twilio gives a webhook 15 s; these keep one turn well inside the HTTP handler's deadline.
constexpr auto db_timeout = seconds(5);
constexpr auto classify_timeout = seconds(3);
constexpr auto agent_timeout = seconds(6);
constexpr auto twilio_timeout = seconds(30);

struct sms_state {
  std::string org_id;
  std::string phone;
  json conversation;  // as `sms.open` / `sms.record_turn` return it
  static inline const char* name = "sms_conversation";
};

using sms_actor = caf::stateful_actor<sms_state>;

/// The current time with the organization's UTC offset ("2026-06-01T18:30:00-05:00"): the
/// classifier and the agents read "today" from it, which is the DJ's today, not UTC's.
std::string local_now(const std::string& iana_tz) {
  auto now = date::floor<seconds>(std::chrono::system_clock::now());
  try {
    return date::format("%Y-%m-%dT%H:%M:%S%Ez", date::make_zoned(iana_tz, now));
  } catch (const std::exception&) {  // an unknown zone: UTC rather than no answer
    return date::format("%Y-%m-%dT%H:%M:%SZ", now);
  }
}

db_scope scope_of(const sms_state& st) {
  return db_scope{st.org_id, "", false, ""};
}

void publish(sms_actor* self, const entity_context& ctx, const std::string& event,
             const json& payload) {
  if (ctx.services.hub)
    self->send(ctx.services.hub, caf::publish_atom_v,
               "org:" + self->state.org_id + ":notifications", event, payload.dump());
}

/// One turn in progress: the inbound message and what has been decided so far.
struct turn {
  json org;
  json inbound;          // the recorded message
  json classification;   // null when none was made
  json tool_calls = json::array();
  json state;            // null: unchanged
  std::optional<bool> opted_out;
  std::optional<std::string> reply;
  bool immediate = true;  // compliance replies (STOP, HELP) never wait for the review window
};

/// Stores the turn and answers the webhook: the reply in TwiML, or nothing while it is a draft.
void finish(sms_actor* self, const entity_context& ctx, turn t,
            caf::typed_response_promise<std::string> rp) {
  auto window = t.org.value("review_window_s", int64_t{0});
  auto delay = t.reply && !t.immediate ? window : 0;
  json args{{"conversation_id", self->state.conversation["id"]},
            {"version", self->state.conversation["version"]},
            {"inbound_id", t.inbound["id"]},
            {"classification", t.classification},
            {"tool_calls", t.tool_calls},
            {"draft_delay_s", delay},
            {"key", ctx.ref.key}};
  if (!t.state.is_null())
    args["state"] = t.state;
  if (t.opted_out)
    args["opted_out"] = *t.opted_out;
  if (t.reply)
    args["reply"] = *t.reply;
  self->request(ctx.db, db_timeout, db_call{"sms.record_turn", scope_of(self->state), args.dump()})
    .await(
      [=](const std::string& out) mutable {
        auto stored = json::parse(out);
        self->state.conversation = stored["conversation"];
        auto& reply = stored["reply"];
        if (reply.is_object() && reply.value("status", "") == "draft") {
          publish(self, ctx, "sms.draft",
                  {{"conversation_id", self->state.conversation["id"]},
                   {"message_id", reply["id"]},
                   {"customer_phone", self->state.phone},
                   {"body", reply["body"]},
                   {"send_after", reply["send_after"]}});
          rp.deliver(json{{"reply", nullptr}, {"status", "draft"}}.dump());
          return;
        }
        if (reply.is_object())
          rp.deliver(json{{"reply", reply["body"]}, {"status", "replied"}}.dump());
        else
          rp.deliver(json{{"reply", nullptr}, {"status", "silent"}}.dump());
      },
      [=](caf::error& err) mutable {
        // A stale version means another writer got in between: reload before the next turn.
        log().warn("sms turn for {} not stored: {}", self->state.org_id, error_message(err));
        self->state.conversation = json();
        rp.deliver(std::move(err));
      });
}

/// Used when the assistant cannot decide (classifier or agents down): an honest acknowledgement
/// that promises nothing the tools did not confirm.
std::string fallback_reply(const json& org) {
  return "Thanks for texting " + org.value("name", std::string{"us"})
         + "! We got your message and will get back to you shortly.";
}

/// Asks the agent for the classified intent, then finishes the turn.
void run_agent(sms_actor* self, const entity_context& ctx, turn t,
               caf::typed_response_promise<std::string> rp) {
  auto intent = t.classification.value("intent", std::string{"other"});
  if (!ctx.services.agents) {
    t.reply = fallback_reply(t.org);
    finish(self, ctx, std::move(t), rp);
    return;
  }
  auto& conv = self->state.conversation;
  json org{{"id", t.org["id"]}, {"name", t.org["name"]}, {"timezone", t.org["timezone"]}};
  if (t.org.contains("sms_number") && t.org["sms_number"].is_string())
    org["phone"] = t.org["sms_number"];
  json context{{"org", org},
               {"now", local_now(t.org.value("timezone", std::string{"UTC"}))},
               {"customer_phone", self->state.phone},
               {"conversation_id", conv["id"]},
               {"text", t.inbound["body"]},
               {"classification", t.classification},
               {"state", conv["state"]}};
  if (conv["contact_id"].is_string())
    context["contact_id"] = conv["contact_id"];
  self->request(ctx.services.agents, agent_timeout, agent_atom_v, intent, context.dump())
    .await(
      [=](const std::string& out) mutable {
        auto answer = json::parse(out, nullptr, false);
        if (!answer.is_object()) {
          log().warn("agent {} answered something that is not a JSON object", intent);
          t.reply = fallback_reply(t.org);
        } else {
          if (answer.contains("tool_calls") && answer["tool_calls"].is_array())
            t.tool_calls = answer["tool_calls"];
          if (answer.contains("state") && answer["state"].is_object())
            t.state = answer["state"];
          if (answer.contains("reply") && answer["reply"].is_string()
              && !answer["reply"].get<std::string>().empty())
            t.reply = answer["reply"].get<std::string>();
        }
        t.immediate = false;
        finish(self, ctx, std::move(t), rp);
      },
      [=](caf::error& err) mutable {
        log().warn("agent {} failed: {}", intent, error_message(err));
        t.reply = fallback_reply(t.org);
        t.immediate = false;
        finish(self, ctx, std::move(t), rp);
      });
}

/// Opts the customer out (once: a repeated STOP gets no second confirmation).
void opt_out(sms_actor* self, const entity_context& ctx, turn t,
             caf::typed_response_promise<std::string> rp) {
  if (!self->state.conversation.value("opted_out", false)) {
    t.opted_out = true;
    t.reply = opt_out_reply(t.org);
  }
  finish(self, ctx, std::move(t), rp);
}

void classify(sms_actor* self, const entity_context& ctx, turn t,
              caf::typed_response_promise<std::string> rp) {
  if (!ctx.services.classifier) {
    t.classification = json{{"intent", "other"}, {"confidence", 0.0}, {"entities", json::object()}};
    run_agent(self, ctx, std::move(t), rp);
    return;
  }
  auto text = t.inbound["body"].get<std::string>();
  auto tz = t.org.value("timezone", std::string{"UTC"});
  self->request(ctx.services.classifier, classify_timeout, classify_atom_v, text, local_now(tz),
                tz)
    .await(
      [=](const std::string& out) mutable {
        auto c = json::parse(out, nullptr, false);
        if (!c.is_object() || !c.contains("intent") || !c["intent"].is_string()) {
          log().warn("classifier answered something that is not a classification");
          c = json{{"intent", "other"}, {"confidence", 0.0}, {"entities", json::object()}};
        }
        t.classification = c;
        if (c["intent"] == "optout")
          opt_out(self, ctx, std::move(t), rp);  // plain-language opt-outs
        else
          run_agent(self, ctx, std::move(t), rp);
      },
      [=](caf::error& err) mutable {
        log().warn("classifier failed: {}", error_message(err));
        t.classification = json{{"intent", "other"}, {"confidence", 0.0},
                                {"entities", json::object()}};
        t.reply = fallback_reply(t.org);
        t.immediate = false;
        finish(self, ctx, std::move(t), rp);
      });
}

/// After the inbound message is stored: opt-out protocol first, then the assistant.
void decide(sms_actor* self, const entity_context& ctx, turn t,
            caf::typed_response_promise<std::string> rp) {
  auto text = t.inbound["body"].get<std::string>();
  auto opted_out = self->state.conversation.value("opted_out", false);
  // Opt-out keywords and plain-language requests come before anything else.
  if (agents::is_opt_out(text)) {
    t.classification = json{{"intent", "optout"}, {"confidence", 1.0},
                            {"entities", json::object()}};
    opt_out(self, ctx, std::move(t), rp);
    return;
  }
  // START/UNSTOP/YES resubscribe only a conversation that opted out ("yes" is a booking too).
  if (opted_out && agents::is_opt_in(text)) {
    t.opted_out = false;
    t.reply = opt_in_reply(t.org);
    finish(self, ctx, std::move(t), rp);
    return;
  }
  if (agents::is_help(text)) {
    t.reply = help_reply(t.org);  // carriers require HELP to be answered, opted out or not
    finish(self, ctx, std::move(t), rp);
    return;
  }
  if (opted_out) {
    finish(self, ctx, std::move(t), rp);  // recorded, never answered until START
    return;
  }
  classify(self, ctx, std::move(t), rp);
}

/// Opens (or re-opens after a failed turn) the conversation row, then runs `next`.
template <class Next>
void with_conversation(sms_actor* self, const entity_context& ctx,
                       caf::typed_response_promise<std::string> rp, Next next) {
  if (self->state.conversation.is_object()) {
    next();
    return;
  }
  self->request(ctx.db, db_timeout,
                db_call{"sms.open", scope_of(self->state),
                        json{{"customer_phone", self->state.phone}}.dump()})
    .await(
      [=](const std::string& out) mutable {
        self->state.conversation = json::parse(out)["conversation"];
        next();
      },
      [=](caf::error& err) mutable { rp.deliver(std::move(err)); });
}

caf::result<std::string> inbound(sms_actor* self, const entity_context& ctx,
                                 const std::string& msg) {
  auto in = json::parse(msg, nullptr, false);
  if (!in.is_object() || !in["message_sid"].is_string() || !in["body"].is_string())
    return make_app_error(app_errc::bad_request, "an inbound SMS needs message_sid and body");
  auto rp = self->make_response_promise<std::string>();
  with_conversation(self, ctx, rp, [=]() mutable {
    json args{{"conversation_id", self->state.conversation["id"]},
              {"twilio_sid", in["message_sid"]},
              {"body", in["body"]}};
    self->request(ctx.db, db_timeout,
                  db_call{"sms.record_inbound", scope_of(self->state), args.dump()})
      .await(
        [=](const std::string& out) mutable {
          auto rec = json::parse(out);
          self->state.conversation = rec["conversation"];
          if (rec["duplicate"].get<bool>()) {
            rp.deliver(json{{"reply", nullptr}, {"status", "duplicate"}}.dump());
            return;
          }
          publish(self, ctx, "sms.received",
                  {{"conversation_id", self->state.conversation["id"]},
                   {"message_id", rec["message"]["id"]},
                   {"customer_phone", self->state.phone},
                   {"body", rec["message"]["body"]}});
          turn t;
          t.org = rec["org"];
          t.inbound = rec["message"];
          decide(self, ctx, std::move(t), rp);
        },
        [=](caf::error& err) mutable { rp.deliver(std::move(err)); });
  });
  return rp;
}

/// Marks the outcome of the REST call on the message and answers with it.
void mark(sms_actor* self, const entity_context& ctx, caf::typed_response_promise<std::string> rp,
          json args, caf::error failure) {
  self->request(ctx.db, db_timeout, db_call{"sms.mark_sent", scope_of(self->state), args.dump()})
    .then(
      [=](const std::string& message) mutable {
        if (failure)
          rp.deliver(failure);
        else
          rp.deliver(message);
      },
      [=](caf::error& err) mutable { rp.deliver(failure ? failure : err); });
}

caf::result<std::string> send_draft(sms_actor* self, const entity_context& ctx,
                                    const std::string& message_id) {
  auto rp = self->make_response_promise<std::string>();
  // The claim moves the draft to `queued` atomically: the timer and the DJ cannot both send it.
  self->request(ctx.db, db_timeout,
                db_call{"sms.claim_draft", scope_of(self->state),
                        json{{"message_id", message_id}}.dump()})
    .then(
      [=](const std::string& out) mutable {
        auto claim = json::parse(out);
        if (!claim.contains("to")) {  // no longer a draft, or the customer opted out
          rp.deliver(claim["message"].dump());
          return;
        }
        auto message = claim["message"];
        if (!ctx.services.twilio) {
          mark(self, ctx, rp,
               {{"message_id", message_id}, {"status", "failed"}, {"error_code", "not_configured"}},
               make_app_error(app_errc::unprocessable, "Twilio is not configured"));
          return;
        }
        self->request(ctx.services.twilio, twilio_timeout, twilio_atom_v,
                      claim["from"].get<std::string>(), claim["to"].get<std::string>(),
                      message["body"].get<std::string>(), std::string{})
          .then(
            [=](const std::string& created) mutable {
              auto m = json::parse(created, nullptr, false);
              json args{{"message_id", message_id},
                        {"status", m.is_object() ? m.value("status", "queued") : "queued"}};
              if (m.is_object() && m["sid"].is_string())
                args["twilio_sid"] = m["sid"];
              mark(self, ctx, rp, args, caf::error{});
            },
            [=](caf::error& err) mutable {
              log().warn("sending draft {} failed: {}", message_id, error_message(err));
              mark(self, ctx, rp,
                   {{"message_id", message_id}, {"status", "failed"},
                    {"error_code", error_message(err).substr(0, 200)}},
                   err);
            });
      },
      [=](caf::error& err) mutable { rp.deliver(std::move(err)); });
  return rp;
}

caf::behavior sms_conversation(sms_actor* self, entity_context ctx) {
  auto key = split_sms_key(ctx.ref.key);
  if (!key) {
    fail_activation(self, ctx, make_app_error(app_errc::bad_request, "not a conversation key"));
    return {[=](passivate_atom) { self->quit(); }};
  }
  self->state.org_id = key->first;
  self->state.phone = key->second;
  return with_passivation(
    self, ctx,
    [=](sms_atom, const std::string& msg) { return inbound(self, ctx, msg); },
    [=](twilio_atom, const std::string& message_id) { return send_draft(self, ctx, message_id); });
}

std::string org_name(const json& org) {
  return org.value("name", std::string{"us"});
}

} // namespace

std::optional<std::pair<std::string, std::string>> split_sms_key(const std::string& key) {
  static const std::regex re{"^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
                             "[0-9a-fA-F]{12})\\|(\\+[1-9][0-9]{6,14})$"};
  std::smatch m;
  if (!std::regex_match(key, m, re))
    return std::nullopt;
  return std::make_pair(m[1].str(), m[2].str());
}

std::string sms_key(const std::string& org_id, const std::string& customer_phone) {
  return org_id + "|" + customer_phone;
}

std::string opt_out_reply(const json& org) {
  return "You're unsubscribed from " + org_name(org)
         + " texts and won't get any more messages. Reply START to resubscribe.";
}

std::string opt_in_reply(const json& org) {
  return "You're resubscribed to " + org_name(org)
         + " texts. How can we help with your event? Reply STOP to opt out.";
}

std::string help_reply(const json& org) {
  std::string contact;
  if (org.contains("contact_email") && org["contact_email"].is_string())
    contact = org["contact_email"].get<std::string>();
  if (org.contains("contact_phone") && org["contact_phone"].is_string())
    contact += (contact.empty() ? "" : " or ") + org["contact_phone"].get<std::string>();
  if (contact.empty() && org.contains("sms_number") && org["sms_number"].is_string())
    contact = org["sms_number"].get<std::string>();
  auto out = org_name(org) + ": DJ bookings and event questions by text.";
  if (!contact.empty())
    out += " Contact: " + contact + ".";
  return out + " Reply STOP to opt out.";
}

caf::actor spawn_sms_conversation(caf::actor_system& sys, const entity_context& ctx) {
  return sys.spawn(sms_conversation, ctx);
}

} // namespace djdash::actors
