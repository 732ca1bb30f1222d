#include "actors/organization.hpp"

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <nlohmann/json.hpp>

#include "protocols/app_errc.hpp"
#include "protocols/request_settings.hpp"

namespace djdash::actors {

namespace {

using json = nlohmann::json;

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

/// What anyone may see of a crowd request (the org's public queue topic): no requester IP or
/// key, no Stripe ids, no payment code.
json public_request(const json& request) {
  auto out = json::object();
  for (auto key : {"id", "organization_id", "kind", "song_title", "artist", "requester_name",
                   "message", "amount_cents", "currency", "priority_tier", "status",
                   "payment_status", "position", "created_at", "updated_at"})
    if (auto i = request.find(key); i != request.end())
      out[key] = *i;
  return out;
}

/// Announces a queue change: the public view on `org:<id>:queue`, the same plus the payment
/// code on `org:<id>:notifications` (members only). A request still waiting for its payment is
/// not announced: the payments side announces it once paid (crowd_request.paid).
void announce(org_actor* self, const entity_context& ctx, const std::string& op,
              const std::string& result) {
  auto& hub = ctx.services.hub;
  if (!hub)
    return;
  auto request = json::parse(result, nullptr, false);
  if (!request.is_object() || request.value("status", "") == "pending_payment")
    return;
  auto event = op == "crowd_requests.submit" ? "crowd_request.created" : "crowd_request.updated";
  auto payload = public_request(request);
  self->send(hub, caf::publish_atom_v, "org:" + ctx.ref.key + ":queue", std::string{event},
             payload.dump());
  payload["payment_code"] = request.value("payment_code", "");
  self->send(hub, caf::publish_atom_v, "org:" + ctx.ref.key + ":notifications",
             std::string{event}, payload.dump());
}

/// Queue writes: submits and the DJ's status changes and moves. Moves and status changes run
/// one at a time (`await`), so two PATCHes are decided in order against the queue the first
/// one left. Submits only add (the database keys them and serializes each requester's limits),
/// so they overlap freely and a busy request page never waits on the DJ's screen.
caf::result<std::string> queue_write(org_actor* self, const entity_context& ctx, db_scope scope,
                                     std::string op, std::string args) {
  if (scope.org_id != ctx.ref.key)
    return make_app_error(app_errc::forbidden, "scope does not match the organization");
  if (op != "crowd_requests.submit" && op != "crowd_requests.update")
    return make_app_error(app_errc::internal, "not a queue operation");
  auto rp = self->make_response_promise<std::string>();
  auto ok = [=](std::string& out) mutable {
    announce(self, ctx, op, out);
    rp.deliver(std::move(out));
  };
  auto fail = [=](caf::error& err) mutable { rp.deliver(std::move(err)); };
  auto call = db_call{op, std::move(scope), std::move(args)};
  if (op == "crowd_requests.submit")
    self->request(ctx.db, std::chrono::seconds(10), std::move(call)).then(ok, fail);
  else
    self->request(ctx.db, std::chrono::seconds(10), std::move(call)).await(ok, fail);
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
    },
    [=](queue_atom, db_scope& scope, std::string& op, std::string& args) {
      return queue_write(self, ctx, std::move(scope), std::move(op), std::move(args));
    });
}

} // namespace

json public_profile(const organization_state& org) {
  auto rules = public_request_rules(
    read_request_settings(json::parse(org.settings_json, nullptr, false)));
  json out{{"id", org.id},
           {"slug", org.slug},
           {"name", org.name},
           {"product_context", org.product_context}};
  out.update(rules);
  return out;
}

caf::actor spawn_organization(caf::actor_system& sys, const entity_context& ctx) {
  return sys.spawn(organization, ctx);
}

} // namespace djdash::actors
