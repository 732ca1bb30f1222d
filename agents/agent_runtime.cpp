#include "agents/agent_runtime.hpp"

#include <chrono>
#include <memory>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/make_message.hpp>
#include <caf/typed_response_promise.hpp>

#include "config/logging.hpp"
#include "protocols/app_errc.hpp"

namespace djdash::agents {

namespace {

using json = nlohmann::json;

constexpr auto tool_timeout = std::chrono::seconds(4);  // the conversation waits 6 s for the whole turn

/// One message being handled: the turn grows with every tool result.
struct run_state {
  turn t;
  planner plan = nullptr;
  int calls = 0;
};

using run_ptr = std::shared_ptr<run_state>;
using promise = caf::typed_response_promise<std::string>;

json error_json(const caf::error& err) {
  auto message = error_message(err);
  return {{"error",
           {{"code", to_string(app_code(err))},
            {"message", message.empty() ? std::string{"the tool did not answer"} : message}}}};
}

db_scope org_scope(const turn& t) {
  return db_scope{t.org_id, "", false, ""};
}

final_reply fallback(const turn& t) {
  return {"Thanks for your message! The team at " + t.org_name
            + " will get back to you shortly.",
          json::object()};
}

void advance(caf::event_based_actor* self, const agent_tools& tools, run_ptr run,
             promise rp);

void record(caf::event_based_actor* self, const agent_tools& tools, run_ptr run,
            promise rp, const tool_request& req, json result, bool ok) {
  run->t.calls.push_back({req.name, req.arguments, std::move(result), ok, req.recorded});
  advance(self, tools, std::move(run), std::move(rp));
}

/// Sends `msg` to the organization entity through the router; `done(ok, result)` gets the
/// entity's JSON answer or the error.
template <class Done>
void ask_org(caf::event_based_actor* self, const agent_tools& tools, const turn& t,
             caf::message msg, Done done) {
  self->request(tools.router, tool_timeout, entity_atom_v, entity_ref{"organization", t.org_id},
                std::move(msg))
    .then(
      [=](std::string& out) mutable {
        auto parsed = json::parse(out, nullptr, false);
        done(!parsed.is_discarded(), parsed.is_discarded() ? json{{"error", "bad reply"}} : parsed);
      },
      [=](caf::error& err) mutable { done(false, error_json(err)); });
}

/// Checks `dates` one by one through the calendar until `want` free days were found.
void scan(caf::event_based_actor* self, const agent_tools& tools, run_ptr run,
          promise rp, tool_request req, size_t index, json free) {
  auto& dates = req.arguments["dates"];
  auto want = req.arguments.value("want", 2u);
  if (index >= dates.size() || free.size() >= want) {
    json result = {{"free", free}, {"checked", index}};
    record(self, tools, std::move(run), std::move(rp), req, std::move(result), true);
    return;
  }
  auto date = dates[index].get<std::string>();
  auto msg = caf::make_message(calendar_atom_v, org_scope(run->t), std::string{"events.availability"},
                               json{{"date", date}}.dump());
  ask_org(self, tools, run->t, std::move(msg), [=](bool ok, json out) mutable {
    if (!ok) {
      record(self, tools, run, rp, req, std::move(out), false);
      return;
    }
    if (out.value("available", false))
      free.push_back(date);
    scan(self, tools, run, rp, req, index + 1, free);
  });
}

void run_tool(caf::event_based_actor* self, const agent_tools& tools, run_ptr run,
              promise rp, tool_request req) {
  auto done = [=](bool ok, json out) mutable {
    record(self, tools, run, rp, req, std::move(out), ok);
  };
  auto& t = run->t;
  switch (req.kind) {
    case tool_kind::local:
      record(self, tools, run, rp, req, req.result, !req.result.contains("error"));
      return;
    case tool_kind::org_state:
      ask_org(self, tools, t, caf::make_message(caf::get_atom_v), done);
      return;
    case tool_kind::calendar:
      ask_org(self, tools, t,
              caf::make_message(calendar_atom_v, org_scope(t), req.op, req.arguments.dump()),
              done);
      return;
    case tool_kind::scan_dates:
      scan(self, tools, run, rp, req, 0, json::array());
      return;
    case tool_kind::db:
      self->request(tools.db, tool_timeout, db_call{req.op, org_scope(t), req.arguments.dump()})
        .then(
          [=](std::string& out) mutable {
            auto parsed = json::parse(out, nullptr, false);
            done(!parsed.is_discarded(), parsed.is_discarded() ? json{{"error", "bad reply"}} : parsed);
          },
          [=](caf::error& err) mutable { done(false, error_json(err)); });
      return;
  }
}

void advance(caf::event_based_actor* self, const agent_tools& tools, run_ptr run,
             promise rp) {
  std::optional<step> next;
  try {
    if (run->calls < max_tool_calls)
      next = run->plan(run->t);
  } catch (const std::exception& e) {
    // A tool answered in a shape the planner did not expect: answer safely, keep the record.
    logger("agents").error("agent planner failed for intent {}: {}", run->t.intent, e.what());
  }
  if (!next)
    next = fallback(run->t);
  if (auto reply = std::get_if<final_reply>(&*next)) {
    rp.deliver(agent_output(run->t, *reply).dump());
    return;
  }
  ++run->calls;
  run_tool(self, tools, std::move(run), std::move(rp), std::get<tool_request>(std::move(*next)));
}

} // namespace

caf::behavior agent_behavior(caf::event_based_actor* self, planner plan, agent_tools tools) {
  return {
    [=](agent_atom, const std::string& intent, const std::string& context)
      -> caf::result<std::string> {
      auto t = parse_context(intent, context);
      if (!t)
        return t.error();
      auto run = std::make_shared<run_state>();
      run->t = std::move(*t);
      run->plan = plan;
      auto rp = self->make_response_promise<std::string>();
      advance(self, tools, std::move(run), rp);
      return rp;
    },
  };
}

caf::actor spawn_agent(caf::actor_system& sys, planner plan, agent_tools tools) {
  return sys.spawn([=](caf::event_based_actor* self) { return agent_behavior(self, plan, tools); });
}

} // namespace djdash::agents
