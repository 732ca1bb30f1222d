#include "agents/agent_pool.hpp"

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>

#include "agents/availability_agent.hpp"
#include "agents/booking_agent.hpp"
#include "agents/followup_agent.hpp"
#include "agents/pricing_agent.hpp"
#include "agents/reply_text.hpp"
#include "protocols/app_errc.hpp"

namespace djdash::agents {

namespace {

struct agent_set {
  caf::actor availability, pricing, booking, followup;
};

caf::behavior dispatcher(caf::event_based_actor* self, agent_set agents) {
  // The agents live as long as the dispatcher.
  for (auto& a : {agents.availability, agents.pricing, agents.booking, agents.followup})
    self->link_to(a);
  return {
    [=](agent_atom a, std::string& intent, std::string& context) -> caf::result<std::string> {
      auto target = intent == "availability" ? agents.availability
                    : intent == "pricing"    ? agents.pricing
                    : intent == "booking"    ? agents.booking
                    : intent == "followup"   ? agents.followup
                                             : caf::actor{};
      if (target) {
        self->delegate(target, a, std::move(intent), std::move(context));
        return caf::delegated<std::string>{};
      }
      if (intent != "other")
        return make_app_error(app_errc::bad_request, "no agent handles the intent " + intent);
      auto t = parse_context(intent, context);
      if (!t)
        return t.error();
      return agent_output(*t, other_reply(*t)).dump();
    },
  };
}

} // namespace

final_reply other_reply(const turn& t) {
  return {fit_sms({"Hi! You've reached " + t.org_name + ".",
                   "I can check dates, share prices and hold a date for your event. How can I "
                   "help?"})};
}

caf::actor spawn_agents(caf::actor_system& sys, db_actor db, caf::actor router,
                        stripe_actor stripe) {
  agent_tools tools{std::move(db), std::move(router)};
  agent_set agents{spawn_availability_agent(sys, tools), spawn_pricing_agent(sys, tools),
                   spawn_booking_agent(sys, tools), spawn_followup_agent(sys, tools)};
  return sys.spawn(dispatcher, agents);
}

} // namespace djdash::agents
