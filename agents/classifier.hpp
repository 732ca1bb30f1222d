#pragma once

// The SMS classifier as a pure function (AGENTS.md): opt-out rules first, then the fastText
// intent model, then the entity rules. The actor around it is agents/classifier_actor.hpp.

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "agents/entity_extractor.hpp"
#include "agents/intent_model.hpp"

namespace djdash::agents {

/// Returns `{"intent", "confidence", "entities"}` for a customer text (API.md, POST
/// /api/agents/classify): an opt-out request is `optout` with confidence 1 whatever the model
/// thinks; a HELP / INFO keyword is `other` with confidence 1; otherwise the model's intent and
/// probability. Entities are resolved against `now` in the IANA zone `tz` and present only when
/// the text states them.
nlohmann::json classify(const intent_model& model, std::string_view text, sys_seconds now,
                        const std::string& tz);

/// Returns the instant of an RFC 3339 date-time ("2026-06-01T18:30:00-05:00", "...Z", optional
/// fractional seconds, which are dropped), or nothing when `s` is not one or names an impossible
/// date or time.
std::optional<sys_seconds> parse_rfc3339(std::string_view s);

/// Returns the classification an LLM backend answered (`answer`: JSON text) when it is usable:
/// an object whose intent is one of the six and whose confidence is a number in [0, 1]. Its
/// entities complete `local`'s (the rules win where both have a key; only AGENTS.md keys with
/// the right JSON type are taken). A local opt-out is never overridden. Nothing otherwise.
std::optional<nlohmann::json> accept_llm_answer(const std::string& answer,
                                                const nlohmann::json& local);

} // namespace djdash::agents
