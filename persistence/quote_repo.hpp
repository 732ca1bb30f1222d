#pragma once

#include <map>
#include <string>

#include "persistence/operations.hpp"

namespace djdash::persistence {

/// Registers the quote operations (scope: org, role member):
/// - `quotes.create` {contact_id?, event_type, date?, hours, guests?, add_ons?} → quote, priced
///   by pricing::get_quote with the organization's `settings.pricing` read in the same
///   transaction; a given contact must exist (not_found) and moves from new/contacted to quoted.
/// - `quotes.get` {id} → quote
/// - `quotes.list` {limit?, cursor?, contact_id?} → {items, next_cursor}, oldest first.
/// A quote is {id, organization_id, contact_id, event_type, date, hours, billed_hours, guests,
/// add_ons, amount_cents, currency, breakdown: [{label, amount_cents}], created_at, updated_at,
/// version}. Quotes are never changed after creation.
void add_quote_operations(std::map<std::string, operation>& ops);

} // namespace djdash::persistence
