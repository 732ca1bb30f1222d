#include "actors/timer_runner.hpp"

#include <chrono>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <nlohmann/json.hpp>

#include "actors/log.hpp"
#include "protocols/app_errc.hpp"
#include "protocols/stripe.hpp"
#include "protocols/type_ids.hpp"

namespace djdash::actors {

namespace {

using json = nlohmann::json;

struct runner_state {
  entity_settings cfg;
  db_actor db;
  caf::actor router;
  stripe_actor stripe;
  caf::actor hub;
  bool busy = false;  // a claim is in flight: don't start another
  static inline const char* name = "timer_runner";
};

using runner = caf::stateful_actor<runner_state>;

void publish(runner* self, const json& events) {
  if (!self->state.hub || !events.is_array())
    return;
  for (auto& e : events)
    self->send(self->state.hub, caf::publish_atom_v, e["topic"].get<std::string>(),
               e["event"].get<std::string>(), e["payload"].dump());
}

/// Records the outcome of a capture ("paid") or cancel ("released") and completes the timer.
void record_outcome(runner* self, const json& timer, const std::string& request,
                    const std::string& intent, const std::string& state) {
  auto org = timer["organization_id"].get<std::string>();
  self->request(self->state.db, std::chrono::seconds(30),
                db_call{"payments.timer_done", db_scope{org, "", false, ""},
                        json{{"timer_id", timer["id"]}, {"crowd_request_id", request},
                             {"payment_intent", intent}, {"state", state}}
                          .dump()})
    .then([=](const std::string& out) { publish(self, json::parse(out)["events"]); },
          [=](caf::error& err) {
            log().warn("recording {} of {} failed: {}", state, request, error_message(err));
          });
}

/// After a failed capture / cancel, asks Stripe where the PaymentIntent stands: it may already
/// be captured or cancelled (an earlier attempt that succeeded, the dashboard, an expiry). Still
/// held: the timer stays leased and is retried when the lease runs out.
void reconcile(runner* self, const json& timer, const std::string& request,
               const std::string& intent) {
  self->request(self->state.stripe, std::chrono::seconds(60), stripe_atom_v, std::string{"GET"},
                "/v1/payment_intents/" + intent, std::string{}, std::string{})
    .then(
      [=](const std::string& out) {
        auto pi = stripe::parse_payment_intent(json::parse(out, nullptr, false));
        if (pi && pi->status == "succeeded")
          record_outcome(self, timer, request, intent, "paid");
        else if (pi && pi->status == "canceled")
          record_outcome(self, timer, request, intent, "released");
        else
          log().warn("payment intent of {} still held; retrying later", request);
      },
      [=](caf::error& err) {
        log().warn("stripe unreachable for {}: {}; retrying later", request, error_message(err));
      });
}

/// Charge on play: captures (played) or cancels (skipped, event over) the held PaymentIntent.
void settle_hold(runner* self, const json& timer, const std::string& kind) {
  auto org = timer["organization_id"].get<std::string>();
  auto payload = timer.value("payload", json::object());
  auto request = payload.is_object() && payload.value("crowd_request_id", json()).is_string()
                   ? payload["crowd_request_id"].get<std::string>()
                   : timer["target_id"].get<std::string>();
  self->request(self->state.db, std::chrono::seconds(30),
                db_call{"payments.timer_plan", db_scope{org, "", false, ""},
                        json{{"timer_id", timer["id"]}, {"kind", kind},
                             {"crowd_request_id", request}}
                          .dump()})
    .then(
      [=](const std::string& out) {
        auto plan = json::parse(out);
        auto action = plan["action"].get<std::string>();
        if (action == "none")
          return;  // already settled, or not held: the operation completed the timer
        auto intent = plan["payment_intent"].get<std::string>();
        auto path = stripe::payment_intent_path(intent, action);
        if (!path) {
          log().warn("payment intent of {} is malformed: {}", request, error_message(path.error()));
          return;
        }
        auto form = action == "capture" ? form::encode(stripe::capture_form())
                                        : form::encode(*stripe::cancel_form());
        self->request(self->state.stripe, std::chrono::seconds(60), stripe_atom_v,
                      std::string{"POST"}, *path, form,
                      "timer-" + timer["id"].get<std::string>())
          .then(
            [=](const std::string&) {
              record_outcome(self, timer, request, intent,
                             action == "capture" ? "paid" : "released");
            },
            [=](caf::error& err) {
              log().warn("{} of {} failed: {}", action, request, error_message(err));
              reconcile(self, timer, request, intent);
            });
      },
      [=](caf::error& err) {
        log().warn("{} for {} failed: {}", kind, org, error_message(err));
      });
}

/// Hands one due timer to its owner. A failure leaves the timer leased: it is retried once the
/// lease runs out.
void fire(runner* self, const json& timer) {
  auto org = timer["organization_id"].get<std::string>();
  auto kind = timer["kind"].get<std::string>();
  if (kind == "hold_expiry") {
    auto args = json{{"event_id", timer["target_id"]}}.dump();
    self->request(self->state.router, std::chrono::seconds(30), entity_atom_v,
                  entity_ref{"organization", org},
                  caf::make_message(calendar_atom_v, db_scope{org, "", false, ""},
                                    std::string{"events.expire_hold"}, args))
      .then([](const std::string&) {},
            [=](caf::error& err) {
              log().warn("hold expiry for {} failed: {}", org, error_message(err));
            });
    return;
  }
  if (kind == "invoice_overdue" || kind == "followup_reminder") {
    self->request(self->state.db, std::chrono::seconds(30),
                  db_call{"timers.remind", db_scope{org, "", false, ""},
                          json{{"id", timer["id"]}, {"kind", kind}, {"target_id", timer["target_id"]}}
                            .dump()})
      .then([](const std::string&) {},
            [=](caf::error& err) {
              log().warn("{} for {} failed: {}", kind, org, error_message(err));
            });
    return;
  }
  if ((kind == "payment_capture" || kind == "payment_release") && self->state.stripe) {
    settle_hold(self, timer, kind);
    return;
  }
  if (kind == "payment_auth_expiry") {
    self->request(self->state.db, std::chrono::seconds(30),
                  db_call{"payments.expire_authorizations", db_scope{org, "", false, ""},
                          json{{"timer_id", timer["id"]}}.dump()})
      .then([](const std::string&) {},
            [=](caf::error& err) {
              log().warn("releasing expired authorizations of {} failed: {}", org,
                         error_message(err));
            });
    return;
  }
  if (kind == "payment_capture" || kind == "payment_release") {
    // No Stripe on this node: leave the timer to a node that has it (the lease runs out).
    log().warn("timer {} needs Stripe, which this node lacks", kind);
    return;
  }
  if (kind == "sms_send_draft" && timer["payload"].is_object()
      && timer["payload"].value("key", std::string{}).find('|') != std::string::npos) {
    // The SMS conversation sends its draft; claiming it there retires this timer, so the DJ's
    // own send or cancel and this one never both go out.
    auto key = timer["payload"]["key"].get<std::string>();
    self->request(self->state.router, std::chrono::seconds(60), entity_atom_v,
                  entity_ref{"sms_conversation", key},
                  caf::make_message(twilio_atom_v, timer["target_id"].get<std::string>()))
      .then([](const std::string&) {},
            [=](caf::error& err) {
              log().warn("sending the SMS draft of {} failed: {}", org, error_message(err));
            });
    return;
  }
  // A kind no handler knows (written by a newer node, say): mark it done rather than spin.
  log().warn("timer kind {} has no handler; completing it", kind);
  self->request(self->state.db, std::chrono::seconds(30),
                db_call{"timers.complete", db_scope{org, "", false, ""},
                        json{{"id", timer["id"]}}.dump()})
    .then([](const std::string&) {}, [](caf::error&) {});
}

void poll(runner* self) {
  auto& st = self->state;
  if (st.busy)
    return;
  st.busy = true;
  self->request(st.db, std::chrono::seconds(30),
                db_call{"timers.claim", db_scope{}, R"({"limit":100,"lease_s":30})"})
    .then(
      [=](const std::string& out) {
        self->state.busy = false;
        auto claimed = json::parse(out, nullptr, false);
        if (!claimed.is_object() || !claimed["items"].is_array())
          return;
        for (auto& timer : claimed["items"])
          fire(self, timer);
      },
      [=](caf::error&) { self->state.busy = false; });  // the database is down: next tick
}

caf::behavior timer_runner(runner* self, entity_settings cfg, db_actor db, caf::actor router,
                           stripe_actor stripe, caf::actor hub) {
  self->state.cfg = cfg;
  self->state.db = std::move(db);
  self->state.router = std::move(router);
  self->state.stripe = std::move(stripe);
  self->state.hub = std::move(hub);
  self->send(self, caf::tick_atom_v);
  return {
    [=](caf::tick_atom) {
      poll(self);
      self->delayed_send(self, std::chrono::milliseconds(self->state.cfg.timer_poll_ms),
                         caf::tick_atom_v);
    },
  };
}

} // namespace

caf::actor spawn_timer_runner(caf::actor_system& sys, const entity_settings& cfg, db_actor db,
                              caf::actor router, stripe_actor stripe, caf::actor hub) {
  return sys.spawn(timer_runner, cfg, std::move(db), std::move(router), std::move(stripe),
                   std::move(hub));
}

} // namespace djdash::actors
