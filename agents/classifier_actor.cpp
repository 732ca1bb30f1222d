#include "agents/classifier_actor.hpp"

#include <algorithm>
#include <thread>

#include <caf/actor_pool.hpp>
#include <caf/actor_system.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "agents/classifier.hpp"
#include "protocols/app_errc.hpp"

namespace djdash::agents {

namespace {

struct worker_state {
  std::shared_ptr<const intent_model> model;
  llm_actor llm;
  std::chrono::milliseconds deadline{0};
  static inline const char* name = "classifier";
};

using worker_actor = classifier_actor::stateful_pointer<worker_state>;

/// Asks the LLM and answers with its classification, or with `local` when it fails, is late or
/// answers something unusable. A slow model holds this one request, not the actor.
caf::result<std::string> ask_llm(worker_actor self, const std::string& text,
                                 const std::string& now, const std::string& tz,
                                 nlohmann::json local) {
  auto rp = self->make_response_promise<std::string>();
  self->request(self->state.llm, self->state.deadline, llm_atom_v, text, now, tz)
    .then(
      [=](const std::string& answer) mutable {
        auto accepted = accept_llm_answer(answer, local);
        rp.deliver(accepted ? accepted->dump() : local.dump());
      },
      [=](caf::error&) mutable { rp.deliver(local.dump()); });
  return rp;
}

classifier_actor::behavior_type classifier_worker(worker_actor self,
                                                  std::shared_ptr<const intent_model> model,
                                                  llm_actor llm,
                                                  std::chrono::milliseconds deadline) {
  self->state.model = std::move(model);
  self->state.llm = std::move(llm);
  self->state.deadline = deadline;
  return {
    [=](classify_atom, const std::string& text, const std::string& now,
        const std::string& tz) -> caf::result<std::string> {
      auto instant = parse_rfc3339(now);
      if (!instant)
        return make_app_error(app_errc::bad_request, "now must be an RFC 3339 date-time");
      auto local = classify(*self->state.model, text, *instant, tz);
      if (!self->state.llm || local["intent"] == "optout")
        return local.dump();
      return ask_llm(self, text, now, tz, std::move(local));
    },
  };
}

} // namespace

classifier_actor spawn_classifier(caf::actor_system& sys, llm_actor llm,
                                  classifier_options opts) {
  auto model = opts.model ? opts.model : default_intent_model();
  auto n = opts.workers ? opts.workers : std::max(1u, std::thread::hardware_concurrency());
  auto factory = [&sys, model, llm, deadline = opts.llm_deadline] {
    return caf::actor_cast<caf::actor>(sys.spawn(classifier_worker, model, llm, deadline));
  };
  auto pool = caf::actor_pool::make(sys.dummy_execution_unit(), n, factory,
                                    caf::actor_pool::round_robin());
  return caf::actor_cast<classifier_actor>(pool);
}

classifier_actor spawn_classifier(caf::actor_system& sys, const settings&, llm_actor llm) {
  return spawn_classifier(sys, std::move(llm), classifier_options{});
}

} // namespace djdash::agents
