#include "actors/entity.hpp"

#include <nlohmann/json.hpp>

#include "protocols/type_ids.hpp"

namespace djdash::actors {

std::string json_quoted(const std::string& s) {
  return nlohmann::json(s).dump();
}

void fail_activation(caf::event_based_actor* self, const entity_context& ctx, caf::error err) {
  self->set_default_handler(
    [err](caf::scheduled_actor*, caf::message_view&) -> caf::result<caf::message> {
      return err;
    });
  self->become([=](passivate_atom) { self->quit(); });
  self->send(ctx.registry, passivate_atom_v, ctx.ref);
}

} // namespace djdash::actors
