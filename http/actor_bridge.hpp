#pragma once

// From an HTTP handler into actors without blocking the io thread: a short-lived actor issues
// the request and hands the outcome to the responder. Include from route files only.
//
//   ask(*svc.sys, svc.db, 2s, rsp,
//       [](std::string& json) { return json_response(200, nlohmann::json::parse(json)); },
//       djdash::db_call{"org_profile", scope, args});
//
// Everything is captured by value: the actor may outlive the session (the responder then drops
// the answer), and never touches the session itself.

#include <chrono>
#include <exception>
#include <typeinfo>
#include <utility>

#include <caf/actor_system.hpp>
#include <caf/detail/type_traits.hpp>
#include <caf/event_based_actor.hpp>

#include "config/logging.hpp"
#include "http/error_response.hpp"
#include "http/request.hpp"

namespace djdash::http {

namespace detail {

/// Runs a result callback; a throwing callback answers 500 instead of killing the actor
/// silently and leaving the client to the deadline.
template <class F>
void guarded(const responder& rsp, F&& f) {
  try {
    f();
  } catch (const std::exception& e) {
    log_fields(logger("http"), spdlog::level::err, "actor reply handler threw",
               {{"exception", typeid(e).name()}});
    rsp(error_response(app_errc::internal));
  }
}

template <class OnOk, class Args>
struct ok_adapter;

// Gives `.then` a callable with the exact result types (CAF deduces the expected response from
// the handler's signature, so a generic lambda will not do).
template <class OnOk, class... Args>
struct ok_adapter<OnOk, caf::detail::type_list<Args...>> {
  OnOk fn;
  responder rsp;
  caf::event_based_actor* self;
  void operator()(Args... xs) {
    guarded(rsp, [&] { rsp(fn(std::forward<Args>(xs)...)); });
    self->quit();
  }
};

template <class OnOk, class Args>
struct chain_adapter;

// Same for the chaining variant: the callback gets the actor and the responder first.
template <class OnOk, class... Args>
struct chain_adapter<OnOk, caf::detail::type_list<caf::event_based_actor*, responder, Args...>> {
  OnOk fn;
  responder rsp;
  caf::event_based_actor* self;
  void operator()(Args&... xs) {
    guarded(rsp, [&] { fn(self, rsp, xs...); });
  }
};

template <class F>
using callable_args = typename caf::detail::get_callable_trait<F>::arg_types;

template <class F>
using decayed_args = typename caf::detail::tl_map<callable_args<F>, std::decay>::type;

} // namespace detail

/// Sends `msg...` to `dest` and answers `rsp` with `on_ok(result...)` (which returns a
/// `response`), or with the mapped error. The actor quits after one reply.
template <class Handle, class OnOk, class... Ts>
void ask(caf::actor_system& sys, const Handle& dest, std::chrono::milliseconds timeout,
         responder rsp, OnOk on_ok, Ts&&... msg) {
  sys.spawn([dest, timeout, rsp, on_ok,
             args = std::make_tuple(std::forward<Ts>(msg)...)](caf::event_based_actor* self) {
    std::apply(
      [&](const auto&... xs) {
        using adapter = detail::ok_adapter<OnOk, detail::callable_args<OnOk>>;
        self->request(dest, timeout, xs...)
          .then(adapter{on_ok, rsp, self}, [rsp, self](caf::error& err) {
            rsp(error_response(err));
            self->quit();
          });
      },
      args);
  });
}

/// Like `ask`, for handlers that need a second request: `on_ok(self, rsp, result...)` may issue
/// more requests from `self` and must eventually call `rsp`. The actor ends by itself once it
/// has no pending request left.
template <class Handle, class OnOk, class... Ts>
void ask_chain(caf::actor_system& sys, const Handle& dest, std::chrono::milliseconds timeout,
               responder rsp, OnOk on_ok, Ts&&... msg) {
  sys.spawn([dest, timeout, rsp, on_ok,
             args = std::make_tuple(std::forward<Ts>(msg)...)](caf::event_based_actor* self) {
    std::apply(
      [&](const auto&... xs) {
        using adapter = detail::chain_adapter<OnOk, detail::decayed_args<OnOk>>;
        self->request(dest, timeout, xs...)
          .then(adapter{on_ok, rsp, self},
                [rsp](caf::error& err) { rsp(error_response(err)); });
      },
      args);
  });
}

} // namespace djdash::http
