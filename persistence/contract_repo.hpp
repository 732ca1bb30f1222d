#pragma once

#include <map>
#include <string>

#include "persistence/operations.hpp"

namespace djdash::persistence {

/// Registers the contract operations. A contract is {id, organization_id, event_id, contact_id,
/// title, body, status (draft|sent|signed|void), sent_at, signed_at, signer_name, signer_ip,
/// signer_user_agent, signed_sha256, voided_at, created_at, updated_at, version}.
/// Member operations (scope: org + user, role member):
/// - `contracts.create` {event_id, template?, title?} → contract. The text is the template (else
///   the organization's `settings.contract_template`, else a built-in one) with its
///   `{{placeholders}}` filled from the event, its contact and the organization; an unknown
///   placeholder is bad_request naming it. The contact is the event's.
/// - `contracts.list` {limit?, cursor?, status?, event_id?} → {items, next_cursor}
/// - `contracts.get` {id} → contract
/// - `contracts.send` {id, token_hash} → contract: status sent, the link is the token whose
///   SHA-256 hex is `token_hash` (a new one replaces the old); conflict once signed or void.
/// - `contracts.void` {id} → contract: status void and the link dies; conflict once signed.
/// Public operations (no tenant scope; the link's token hash finds the contract):
/// - `contracts.public_get` {token_hash} → {title, body, body_sha256, status, organization_name,
///   sent_at, signed_at, signer_name, signed_sha256}; not_found for unknown or dead links.
/// - `contracts.public_sign` {token_hash, name, ip, user_agent} → {title, status, signed_at,
///   signer_name, signer_ip, signer_user_agent, signed_sha256}; conflict when already signed.
/// The database refuses any change to a signed contract (SQLSTATE ZC409), mapped to conflict.
void add_contract_operations(std::map<std::string, operation>& ops);

/// Fills `{{name}}` placeholders of `tpl` from `values` (spaces inside the braces allowed).
/// Throws a bad_request op_error naming every unknown placeholder.
std::string fill_contract_template(const std::string& tpl,
                                   const std::map<std::string, std::string>& values);

} // namespace djdash::persistence
