#pragma once

#include <map>
#include <string>

#include "persistence/operations.hpp"

namespace djdash::persistence {

/// Registers the invoice operations (scope: org, role member):
/// - `invoices.create` {line_items, contact_id?, event_id?, deposit_cents?, due_date?,
///   currency?, notes?} → invoice (status draft). The number comes from the organization's
///   counter row, incremented in the creating transaction: numbers are gapless and unique even
///   under concurrent creation, and a failed creation gives its number back.
/// - `invoices.get` {id} → invoice
/// - `invoices.list` {limit?, cursor?, status?, contact_id?} → {items, next_cursor}, oldest
///   first; status is draft, sent, paid, void, unpaid (= sent) or overdue.
/// - `invoices.update` {id, version?, status?, line_items?, deposit_cents?, contact_id?,
///   event_id?, currency?, due_date?, notes?} → invoice. Status moves draft → sent → paid and
///   draft/sent → void; paid and void are final. Amounts, currency and links change only in
///   draft; due_date and notes in draft or sent. Anything else, or a stale version: conflict.
/// - `invoices.checkout` {id} → invoice when a payment could be taken now (status sent and
///   something due); conflict for draft, paid and void invoices and when nothing is due. The
///   route then starts a Stripe Checkout for `amount_due_cents` (http/checkout.hpp).
/// An invoice is {id, organization_id, number ("INV-0001"), seq (1), status, contact_id,
/// event_id, currency, line_items: [{description, quantity, unit_cents, amount_cents}],
/// total_cents, deposit_cents, balance_cents (= total − deposit: due after the deposit),
/// paid_cents, amount_due_cents (what a payment takes now: the unpaid part of the deposit while
/// the deposit is not covered, then the unpaid rest; 0 once paid or void), due_date, overdue
/// (sent and due_date before today in the organization's timezone), notes, sent_at, paid_at,
/// voided_at, created_at, updated_at, version}.
void add_invoice_operations(std::map<std::string, operation>& ops);

} // namespace djdash::persistence
