#include "persistence/db_pool.hpp"

#include <chrono>
#include <deque>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "persistence/db_worker.hpp"
#include "persistence/log.hpp"
#include "protocols/app_errc.hpp"
#include "protocols/metrics.hpp"

namespace djdash::persistence {

namespace {

using clock_type = std::chrono::steady_clock;

struct pending_call {
  db_call call;
  caf::typed_response_promise<std::string> promise;
  clock_type::time_point enqueued;
};

struct db_pool_state {
  db_settings cfg;
  std::vector<db_actor> workers;
  std::vector<size_t> idle;  // indexes into workers
  std::deque<pending_call> queue;
  static inline const char* name = "db_pool";
};

using pool_pointer = db_actor::stateful_pointer<db_pool_state>;

void publish_depth(const db_pool_state& st) {
  metrics::node_metrics().db_queue_depth.set({}, static_cast<int64_t>(st.queue.size()));
}

void run_on(pool_pointer self, size_t worker, pending_call job);

/// Hands queued calls to idle workers, oldest first.
void dispatch(pool_pointer self) {
  auto& st = self->state;
  while (!st.idle.empty() && !st.queue.empty()) {
    auto worker = st.idle.back();
    st.idle.pop_back();
    auto job = std::move(st.queue.front());
    st.queue.pop_front();
    run_on(self, worker, std::move(job));
  }
  publish_depth(st);
}

void run_on(pool_pointer self, size_t worker, pending_call job) {
  auto waited = std::chrono::duration<double>(clock_type::now() - job.enqueued).count();
  metrics::node_metrics().db_wait.observe({}, waited);
  auto op = job.call.op;
  auto rp = job.promise;
  // The worker's own statement and connect timeouts bound this request.
  self->request(self->state.workers[worker], caf::infinite, std::move(job.call))
    .then(
      [=](std::string& result) mutable {
        metrics::node_metrics().db_calls.inc({op, "ok"});
        rp.deliver(std::move(result));
        self->state.idle.push_back(worker);
        dispatch(self);
      },
      [=](caf::error& err) mutable {
        metrics::node_metrics().db_calls.inc({op, to_string(app_code(err))});
        rp.deliver(std::move(err));
        self->state.idle.push_back(worker);
        dispatch(self);
      });
}

db_actor::behavior_type db_pool(pool_pointer self, db_settings cfg, bool detached) {
  auto& st = self->state;
  st.cfg = cfg;
  for (int i = 0; i < cfg.pool_size; ++i) {
    st.workers.push_back(spawn_db_worker(self->system(), cfg, detached));
    self->link_to(st.workers.back());  // workers live and die with the pool
    st.idle.push_back(static_cast<size_t>(i));
  }
  return {
    [=](db_call& call) -> caf::result<std::string> {
      auto& st = self->state;
      if (st.queue.size() >= static_cast<size_t>(st.cfg.queue_limit)) {
        metrics::node_metrics().db_calls.inc({call.op, "overloaded"});
        return make_app_error(app_errc::db_overloaded, "database busy, try again");
      }
      auto rp = self->make_response_promise<std::string>();
      st.queue.push_back(pending_call{std::move(call), rp, clock_type::now()});
      dispatch(self);
      return rp;
    },
  };
}

} // namespace

db_actor spawn_db_pool(caf::actor_system& sys, const db_settings& cfg, bool detached) {
  return sys.spawn(db_pool, cfg, detached);
}

} // namespace djdash::persistence
