#include "http/client/twilio_connector.hpp"

#include <memory>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <nlohmann/json.hpp>

#include "config/logging.hpp"
#include "config/settings.hpp"
#include "http/client/https_client.hpp"
#include "protocols/app_errc.hpp"
#include "protocols/twilio.hpp"

namespace djdash::http {

namespace {

using json = nlohmann::json;

constexpr int worker_count = 4;
constexpr int connect_attempts = 3;

/// What every worker needs; secrets stay out of logs.
struct twilio_config {
  std::string api_base;
  std::string account_sid;
  std::string auth_token;
  std::string default_status_callback;
};

using worker_actor
  = caf::typed_actor<caf::replies_to<twilio_atom, std::string, std::string, std::string,
                                     std::string>::with<std::string>>;

/// Turns Twilio's answer into the Message JSON or an error with Twilio's own message.
caf::expected<std::string> outcome(const fetch_result& r) {
  if (!r.ok()) {
    if (r.error == transport_errc::timeout)
      return make_app_error(app_errc::upstream_timeout, "Twilio did not answer in time");
    return make_app_error(app_errc::upstream_error,
                          std::string{"Twilio unreachable: "} + to_string(r.error));
  }
  auto body = json::parse(r.response.body, nullptr, false);
  if (r.response.status >= 200 && r.response.status < 300) {
    if (!body.is_object() || !body.contains("sid"))
      return make_app_error(app_errc::upstream_error, "Twilio answered without a message sid");
    return r.response.body;
  }
  std::string message = "Twilio answered " + std::to_string(r.response.status);
  if (body.is_object() && body.contains("message") && body["message"].is_string())
    message += ": " + body["message"].get<std::string>();
  if (body.is_object() && body.contains("code") && body["code"].is_number_integer())
    message += " (code " + std::to_string(body["code"].get<int64_t>()) + ")";
  return make_app_error(app_errc::upstream_error, message);
}

struct worker_state {
  std::unique_ptr<https_client> client;
  static inline const char* name = "twilio_worker";
};

/// One detached worker: blocking calls on its own thread and keep-alive connection.
worker_actor::behavior_type
twilio_worker(worker_actor::stateful_pointer<worker_state> self, twilio_config cfg) {
  client_options opts;
  opts.connect_timeout = std::chrono::seconds(5);
  opts.total_timeout = std::chrono::seconds(20);
  opts.user_agent = "djdash-twilio";
  self->state.client = std::make_unique<https_client>(cfg.api_base, opts);
  return {
    [=](twilio_atom, const std::string& from, const std::string& to, const std::string& body,
        const std::string& callback) -> caf::result<std::string> {
      twilio::send_request send;
      send.from = from;
      send.to = to;
      send.body = body;
      send.status_callback = callback.empty() ? cfg.default_status_callback : callback;
      outbound_request req;
      req.method = "POST";
      req.target = twilio::messages_path(cfg.account_sid);
      req.headers = {{"Authorization", twilio::basic_authorization(cfg.account_sid, cfg.auth_token)},
                     {"Content-Type", "application/x-www-form-urlencoded"},
                     {"Accept", "application/json"}};
      req.body = twilio::send_form(send);
      fetch_result r;
      for (int attempt = 1; attempt <= connect_attempts; ++attempt) {
        r = self->state.client->request(req);
        // Only a connection that never opened is safe to retry: nothing reached Twilio.
        if (r.error != transport_errc::connect_failed && r.error != transport_errc::resolve_failed)
          break;
      }
      auto out = outcome(r);
      if (!out) {
        log_fields(logger("twilio"), spdlog::level::warn, "send failed",
                   {{"error", error_message(out.error())}});
        return out.error();
      }
      return std::move(*out);
    },
  };
}

struct connector_state {
  std::vector<worker_actor> workers;
  std::size_t next = 0;
  static inline const char* name = "twilio_connector";
};

twilio_actor::behavior_type
twilio_connector(twilio_actor::stateful_pointer<connector_state> self, twilio_config cfg) {
  if (!cfg.account_sid.empty() && !cfg.auth_token.empty())
    for (int i = 0; i < worker_count; ++i)
      self->state.workers.push_back(
        self->spawn<caf::detached + caf::linked>(twilio_worker, cfg));
  return {
    [=](twilio_atom a, std::string& from, std::string& to, std::string& body,
        std::string& callback) -> caf::result<std::string> {
      auto& st = self->state;
      if (st.workers.empty())
        return make_app_error(app_errc::unprocessable,
                              "Twilio is not configured (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN)");
      auto& worker = st.workers[st.next++ % st.workers.size()];
      return self->delegate(worker, a, std::move(from), std::move(to), std::move(body),
                            std::move(callback));
    },
  };
}

} // namespace

twilio_actor spawn_twilio_connector(caf::actor_system& sys, const settings& cfg) {
  twilio_config c;
  c.api_base = cfg.services.twilio_api_base;
  c.account_sid = cfg.secrets.twilio_account_sid;
  c.auth_token = cfg.secrets.twilio_auth_token;
  if (!cfg.public_url.empty()) {
    auto base = cfg.public_url;
    while (!base.empty() && base.back() == '/')
      base.pop_back();
    c.default_status_callback = base + "/api/sms/status";
  }
  return sys.spawn(twilio_connector, std::move(c));
}

} // namespace djdash::http
