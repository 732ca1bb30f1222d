#pragma once

#include <map>
#include <optional>
#include <string>

#include "persistence/operations.hpp"

namespace djdash::persistence {

/// Registers the contact (lead) operations (scope: org + user, role member):
/// - `contacts.create` {name?, email?, phone?, status?, source?, tags?, notes?} → contact; at
///   least one of name, email, phone; conflict (naming the existing contact's id) when the email
///   or phone already belongs to a contact of the org.
/// - `contacts.list` {status?, source?, q?, limit?, cursor?} → {items, next_cursor}, oldest
///   first; `q` is a case-insensitive prefix of the name, the surname, the email or the phone.
/// - `contacts.get` {id} → contact
/// - `contacts.update` {id, fields: {name?, email?, phone?, status?, source?, tags?, notes?,
///   version?}} → contact; conflict when `version` is stale or the email/phone is taken.
/// - `contacts.delete` {id} → {}; the contact's tasks and events stay, their contact_id is
///   cleared; conflict while other records (quotes, invoices, ...) still reference it.
/// - `contacts.upsert_inquiry` {name?, email?, phone?, source?, tags?, notes?} → {contact,
///   created}: an inquiry (SMS, email, web form) finds its contact by email, then by phone, and
///   updates it (name replaced when given, missing email/phone filled in, tags merged, notes
///   appended, a `lost` contact reopened as `new`), else creates one. Never creates a twin,
///   even when two inquiries race.
/// A contact is {id, organization_id, name, email, phone, status, source, tags, notes,
/// created_at, updated_at, version}. Every bad field is a bad_request naming it.
void add_contact_operations(std::map<std::string, operation>& ops);

/// Returns `phone` in E.164 (+19015551234) when it is a plausible number: "+" and 7 to 15
/// digits, or a US number of 10 digits (or 11 starting with 1) in the usual spellings.
std::optional<std::string> e164_phone(const std::string& phone);

/// Returns `email` trimmed and lower-cased when it is a plausible address.
std::optional<std::string> plausible_email(const std::string& email);

} // namespace djdash::persistence
