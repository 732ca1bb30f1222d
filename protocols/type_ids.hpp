#pragma once

// The project's CAF type-ID block and atoms (0.17: atom text is at most 10 characters).
// Reuse CAF's built-in atoms (get, put, ok, ping, tick, ...) instead of shadowing them.

#include <caf/type_id.hpp>

#include "protocols/cluster.hpp"
#include "protocols/messages.hpp"

CAF_BEGIN_TYPE_ID_BLOCK(djdash, caf::first_custom_type_id)
  CAF_ADD_TYPE_ID(djdash, (djdash::db_scope))
  CAF_ADD_TYPE_ID(djdash, (djdash::db_call))
  CAF_ADD_TYPE_ID(djdash, (djdash::entity_ref))
  CAF_ADD_ATOM(djdash, djdash, entity_atom, "entity")
  CAF_ADD_ATOM(djdash, djdash, passivate_atom, "passivate")
  CAF_ADD_ATOM(djdash, djdash, profile_atom, "profile")
  CAF_ADD_ATOM(djdash, djdash, status_atom, "status")
  CAF_ADD_ATOM(djdash, djdash, drain_atom, "drain")
  CAF_ADD_ATOM(djdash, djdash, hash_atom, "hash")
  CAF_ADD_ATOM(djdash, djdash, verify_atom, "verify")
  CAF_ADD_ATOM(djdash, djdash, calendar_atom, "calendar")
  CAF_ADD_ATOM(djdash, djdash, queue_atom, "queue")
  CAF_ADD_ATOM(djdash, djdash, stripe_atom, "stripe")
  CAF_ADD_ATOM(djdash, djdash, twilio_atom, "twilio")
  CAF_ADD_ATOM(djdash, djdash, classify_atom, "classify")
  CAF_ADD_ATOM(djdash, djdash, sms_atom, "sms")
  CAF_ADD_ATOM(djdash, djdash, agent_atom, "agent")
  CAF_ADD_ATOM(djdash, djdash, llm_atom, "llm")
  CAF_ADD_TYPE_ID(djdash, (djdash::node_endpoints))
  CAF_ADD_TYPE_ID(djdash, (djdash::entity_envelope))
  CAF_ADD_TYPE_ID(djdash, (djdash::realtime_event))
  CAF_ADD_TYPE_ID(djdash, (djdash::cluster_view))
CAF_END_TYPE_ID_BLOCK(djdash)
