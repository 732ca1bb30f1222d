#pragma once

#include <map>
#include <string>

#include "persistence/operations.hpp"

namespace djdash::persistence {

/// Registers the organization operations:
/// - `schema_status` {} → {current, expected} (readiness; works on an unmigrated database)
/// - `org.load` (scope: org) {id} → the organization entity's state
/// - `org.public_by_slug` {slug} → {id, slug, name, product_context}
/// - `org.get` (scope: org, role member) {} → organization
/// - `org.update` (scope: org, role admin) {name?, slug?, sms_number?, timezone?, settings?,
///   version?} → organization; settings are merged key by key (null removes a key); conflict
///   when the slug or SMS number is taken or `version` is stale
/// - `org.list_all` (scope: platform admin) {limit?, cursor?} → {items, next_cursor}
/// An organization is {id, product_context, name, slug, sms_number, timezone, settings,
/// stripe_connect_account_id, created_at, updated_at, version}.
void add_org_operations(std::map<std::string, operation>& ops);

} // namespace djdash::persistence
