#include "actors/timer_runner.hpp"

#include <chrono>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <nlohmann/json.hpp>

#include "actors/log.hpp"
#include "protocols/app_errc.hpp"
#include "protocols/type_ids.hpp"

namespace djdash::actors {

namespace {

using json = nlohmann::json;

struct runner_state {
  entity_settings cfg;
  db_actor db;
  caf::actor router;
  bool busy = false;  // a claim is in flight: don't start another
  static inline const char* name = "timer_runner";
};

using runner = caf::stateful_actor<runner_state>;

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

caf::behavior timer_runner(runner* self, entity_settings cfg, db_actor db, caf::actor router) {
  self->state.cfg = cfg;
  self->state.db = std::move(db);
  self->state.router = std::move(router);
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
                              caf::actor router) {
  return sys.spawn(timer_runner, cfg, std::move(db), std::move(router));
}

} // namespace djdash::actors
