#pragma once

// Durable timers (as Orleans reminders): due work lives in PostgreSQL (`timers`), so it survives
// restarts; this actor claims what is due (leased, so a node that dies mid-run leaves it to the
// others) and hands each timer to the entity that owns it.

#include <caf/fwd.hpp>

#include "config/settings.hpp"
#include "protocols/actor_handles.hpp"

namespace djdash::actors {

/// Spawns the timer runner: every `cfg.timer_poll_ms` it claims due timers through `db` and
/// delivers them. Kinds: `hold_expiry` → the organization releases the hold;
/// `invoice_overdue`, `followup_reminder` → a notification (and a follow-up task) for the DJ;
/// `payment_capture` / `payment_release` (charge on play) → the crowd request's held
/// PaymentIntent is captured / cancelled at Stripe (Idempotency-Key: the timer id, so a retry
/// never charges twice) and the outcome recorded, published on `hub` (may be null);
/// `payment_auth_expiry` → authorizations of an event that is over get released;
/// `sms_send_draft` → the SMS conversation (payload.key) sends the draft reply through Twilio.
caf::actor spawn_timer_runner(caf::actor_system& sys, const entity_settings& cfg, db_actor db,
                              caf::actor router, stripe_actor stripe, caf::actor hub);

} // namespace djdash::actors
