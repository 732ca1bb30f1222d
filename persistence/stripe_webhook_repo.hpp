#pragma once

#include <map>
#include <string>

#include "persistence/operations.hpp"

namespace djdash::persistence {

/// Registers `stripe.webhook` (no tenant scope: the signature was checked by the route)
/// {event: the parsed Stripe event} → {duplicate, applied, events: [{topic, event, payload}]}.
///
/// The event id is recorded in the same transaction as its effect, so a redelivery, or the same
/// event delivered concurrently (which waits on the id's unique index), changes nothing. The
/// organization is found only through the ids we stored (checkout session, PaymentIntent,
/// connected account) by SECURITY DEFINER lookups; the effect then runs under that org's RLS.
/// Applied types: checkout.session.completed (payment_status paid → paid; unpaid with manual
/// capture → authorized), payment_intent.amount_capturable_updated (authorized),
/// payment_intent.succeeded (paid), payment_intent.canceled (released), charge.refunded (a full
/// refund → refunded), account.updated (charges / payouts / details). Other types and events
/// about objects we never created are recorded and ignored.
void add_stripe_webhook_operations(std::map<std::string, operation>& ops);

} // namespace djdash::persistence
