#include "http/client/stripe_connector.hpp"

#include <algorithm>
#include <cctype>
#include <memory>
#include <thread>

#include <caf/actor_pool.hpp>
#include <caf/actor_system.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "config/logging.hpp"
#include "config/settings.hpp"
#include "http/client/https_client.hpp"
#include "protocols/app_errc.hpp"
#include "protocols/crypto.hpp"
#include "protocols/stripe.hpp"

namespace djdash::http {

std::chrono::milliseconds stripe_connector_options::worst_case() const {
  auto total = attempt_timeout * std::max(1, max_attempts);
  auto wait = backoff;
  for (int i = 1; i < max_attempts; ++i) {
    total += std::min(wait, max_backoff);
    wait *= 2;
  }
  return total;
}

namespace {

struct worker_state {
  std::unique_ptr<https_client> client;
  std::string secret;
  stripe_connector_options opts;
  static inline const char* name = "stripe_worker";
};

bool valid_path(const std::string& p) {
  return p.rfind("/v1/", 0) == 0 && p.size() <= 512
         && std::all_of(p.begin(), p.end(), [](unsigned char c) {
              return std::isalnum(c) || c == '/' || c == '_' || c == '-' || c == '.';
            });
}

// Stripe allows up to 255 characters; printable ASCII keeps the header well formed.
bool valid_key(const std::string& k) {
  return k.size() <= 255
         && std::all_of(k.begin(), k.end(), [](unsigned char c) { return c > 0x20 && c < 0x7f; });
}

outbound_request make_request(const worker_state& st, const std::string& method,
                              const std::string& path, const std::string& form,
                              const std::string& key) {
  outbound_request req;
  req.method = method;
  req.target = path;
  req.headers = {{"Authorization", "Bearer " + st.secret},
                 {"Accept", "application/json"},
                 {"Stripe-Version", stripe::api_version}};
  if (method == "POST") {
    req.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
    req.headers.emplace_back("Idempotency-Key", key);
    req.body = form;
  } else if (!form.empty()) {
    req.target += "?" + form;
  }
  return req;
}

// Mirrors stripe-node: Stripe-Should-Retry wins; otherwise 409 (lock contention) and 5xx.
bool should_retry(const outbound_response& r) {
  auto hint = r.header("stripe-should-retry");
  if (hint == "true")
    return true;
  if (hint == "false")
    return false;
  return r.status == 409 || r.status >= 500;
}

// Runs one call with retries; blocking (detached worker only).
caf::expected<std::string> call_stripe(worker_state& st, const std::string& method,
                                       const std::string& path, const std::string& form,
                                       std::string key) {
  if ((method != "GET" && method != "POST" && method != "DELETE") || !valid_path(path)
      || !valid_key(key))
    return make_app_error(app_errc::internal, "malformed Stripe call");
  if (method == "POST" && key.empty())
    key = "djdash-retry-" + crypto::random_token(16);
  auto req = make_request(st, method, path, form, key);
  std::string last;
  auto wait = st.opts.backoff;
  for (int attempt = 1; attempt <= std::max(1, st.opts.max_attempts); ++attempt) {
    if (attempt > 1) {
      std::this_thread::sleep_for(std::min(wait, st.opts.max_backoff));
      wait *= 2;
    }
    auto res = st.client->request(req);
    if (res.ok()) {
      const auto& r = res.response;
      if (r.status >= 200 && r.status < 300)
        return r.body;
      if (!should_retry(r))
        return make_app_error(app_errc::upstream_error, stripe::error_message_of(r.body, r.status));
      last = "HTTP " + std::to_string(r.status);
    } else if (res.error == transport_errc::bad_request) {
      return make_app_error(app_errc::internal, "malformed Stripe call");
    } else {
      last = res.message;
    }
    log_fields(logger("http"), spdlog::level::warn, "stripe call failed",
               {{"method", method}, {"path", path}, {"attempt", std::to_string(attempt)},
                {"reason", last}});
  }
  return make_app_error(app_errc::upstream_timeout, "Stripe did not answer successfully after "
                                                      + std::to_string(st.opts.max_attempts)
                                                      + " attempts (" + last + ")");
}

stripe_actor::behavior_type stripe_worker(stripe_actor::stateful_pointer<worker_state> self,
                                          std::string base, std::string secret,
                                          stripe_connector_options opts) {
  client_options co;
  co.connect_timeout = opts.connect_timeout;
  co.total_timeout = opts.attempt_timeout;
  co.user_agent = "djdash-stripe/1";
  self->state.client = std::make_unique<https_client>(base, co);
  self->state.secret = std::move(secret);
  self->state.opts = opts;
  return {
    [=](stripe_atom, const std::string& method, const std::string& path, const std::string& form,
        const std::string& key) -> caf::result<std::string> {
      auto r = call_stripe(self->state, method, path, form, key);
      if (!r)
        return std::move(r.error());
      return std::move(*r);
    },
  };
}

stripe_actor::behavior_type unconfigured() {
  return {
    [](stripe_atom, const std::string&, const std::string&, const std::string&,
       const std::string&) -> caf::result<std::string> {
      return make_app_error(app_errc::unprocessable, "payments are not configured");
    },
  };
}

} // namespace

djdash::stripe_actor spawn_stripe_connector(caf::actor_system& sys, const djdash::settings& cfg,
                                            const stripe_connector_options& opts) {
  if (cfg.secrets.stripe_secret_key.empty())
    return sys.spawn(unconfigured);
  if (!base_url::parse(cfg.services.stripe_api_base))
    log_fields(logger("http"), spdlog::level::err, "STRIPE_API_BASE is not an http(s) URL",
               {{"value", cfg.services.stripe_api_base}});
  auto base = cfg.services.stripe_api_base;
  auto secret = cfg.secrets.stripe_secret_key;
  auto factory = [&sys, base, secret, opts] {
    return caf::actor_cast<caf::actor>(sys.spawn<caf::detached>(stripe_worker, base, secret, opts));
  };
  auto pool = caf::actor_pool::make(sys.dummy_execution_unit(),
                                    static_cast<size_t>(std::max(1, opts.workers)), factory,
                                    caf::actor_pool::round_robin());
  return caf::actor_cast<stripe_actor>(pool);
}

} // namespace djdash::http
