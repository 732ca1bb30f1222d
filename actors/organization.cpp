#include "actors/organization.hpp"

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <nlohmann/json.hpp>

#include "protocols/app_errc.hpp"

namespace djdash::actors {

namespace {

using json = nlohmann::json;

// What a request page shows when an organization has not configured its own minimums.
constexpr int64_t default_minimum_song_cents = 500;
constexpr int64_t default_minimum_shoutout_cents = 500;
constexpr int64_t default_minimum_tip_cents = 100;

struct org_actor_state {
  organization_state org;
  static inline const char* name = "organization";
};

using org_actor = caf::stateful_actor<org_actor_state>;

organization_state from_row(const json& row) {
  organization_state org;
  org.id = row.at("id").get<std::string>();
  org.product_context = row.at("product_context").get<std::string>();
  org.name = row.at("name").get<std::string>();
  org.slug = row.at("slug").get<std::string>();
  org.timezone = row.at("timezone").get<std::string>();
  org.settings_json = row.at("settings").dump();
  org.version = row.at("version").get<int64_t>();
  return org;
}

json full_state(const organization_state& org) {
  return {{"id", org.id},         {"product_context", org.product_context},
          {"name", org.name},     {"slug", org.slug},
          {"timezone", org.timezone}, {"settings", json::parse(org.settings_json)},
          {"version", org.version}};
}

/// Writes a PATCH through the database (which checks the caller's role in the same transaction)
/// and adopts the stored row, so this activation never serves stale state.
caf::result<std::string> update(org_actor* self, const entity_context& ctx, db_scope scope,
                                std::string patch) {
  if (scope.org_id != ctx.ref.key)
    return make_app_error(app_errc::forbidden, "scope does not match the organization");
  auto rp = self->make_response_promise<std::string>();
  self->request(ctx.db, std::chrono::seconds(10), db_call{"org.update", std::move(scope), patch})
    .then(
      [=](std::string& row) mutable {
        auto parsed = json::parse(row, nullptr, false);
        if (parsed.is_object())
          self->state.org = from_row(parsed);
        rp.deliver(std::move(row));
      },
      [=](caf::error& err) mutable { rp.deliver(std::move(err)); });
  return rp;
}

/// Calendar writes run one at a time per organization: `await` holds every other message until
/// the database answered, so two bookings for the same slot are decided in order, never both.
caf::result<std::string> calendar_write(org_actor* self, const entity_context& ctx,
                                        db_scope scope, std::string op, std::string args) {
  if (scope.org_id != ctx.ref.key)
    return make_app_error(app_errc::forbidden, "scope does not match the organization");
  if (op.rfind("events.", 0) != 0)
    return make_app_error(app_errc::internal, "not a calendar operation");
  auto rp = self->make_response_promise<std::string>();
  self->request(ctx.db, std::chrono::seconds(10), db_call{std::move(op), std::move(scope), args})
    .await([=](std::string& out) mutable { rp.deliver(std::move(out)); },
           [=](caf::error& err) mutable { rp.deliver(std::move(err)); });
  return rp;
}

caf::behavior organization(org_actor* self, entity_context ctx) {
  db_call load{"org.load", db_scope{ctx.ref.key, "", false, ""}, json{{"id", ctx.ref.key}}.dump()};
  // Until the state is loaded, every other message waits in the mailbox (await).
  self->request(ctx.db, std::chrono::seconds(10), std::move(load))
    .await(
      [=](const std::string& row) {
        auto parsed = json::parse(row, nullptr, false);
        if (parsed.is_discarded() || !parsed.is_object()) {
          fail_activation(self, ctx, make_app_error(app_errc::internal, "bad organization row"));
          return;
        }
        self->state.org = from_row(parsed);
      },
      [=](caf::error& err) { fail_activation(self, ctx, std::move(err)); });
  return with_passivation(
    self, ctx, [=](profile_atom) { return public_profile(self->state.org).dump(); },
    [=](caf::get_atom) { return full_state(self->state.org).dump(); },
    [=](caf::put_atom, db_scope& scope, std::string& patch) {
      return update(self, ctx, std::move(scope), std::move(patch));
    },
    [=](calendar_atom, db_scope& scope, std::string& op, std::string& args) {
      return calendar_write(self, ctx, std::move(scope), std::move(op), std::move(args));
    });
}

} // namespace

json public_profile(const organization_state& org) {
  auto settings = json::parse(org.settings_json, nullptr, false);
  if (!settings.is_object())
    settings = json::object();
  auto minimums = settings.value("minimum_amounts", json::object());
  auto minimum = [&](const char* kind, int64_t fallback) {
    auto i = minimums.find(kind);
    return i != minimums.end() && i->is_number_integer() ? i->get<int64_t>() : fallback;
  };
  return {{"id", org.id},
          {"slug", org.slug},
          {"name", org.name},
          {"product_context", org.product_context},
          {"accepting_requests", settings.value("accepting_requests", true)},
          {"minimum_amounts",
           {{"song", minimum("song", default_minimum_song_cents)},
            {"shoutout", minimum("shoutout", default_minimum_shoutout_cents)},
            {"tip", minimum("tip", default_minimum_tip_cents)}}},
          {"currency", settings.value("currency", std::string{"usd"})}};
}

caf::actor spawn_organization(caf::actor_system& sys, const entity_context& ctx) {
  return sys.spawn(organization, ctx);
}

} // namespace djdash::actors
