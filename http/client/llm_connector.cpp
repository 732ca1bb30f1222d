#include "http/client/llm_connector.hpp"

#include <algorithm>
#include <memory>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <nlohmann/json.hpp>

#include "config/logging.hpp"
#include "config/settings.hpp"
#include "http/client/https_client.hpp"
#include "protocols/app_errc.hpp"
#include "protocols/openai.hpp"

namespace djdash::http {

namespace {

using json = nlohmann::json;

/// Texts longer than this are cut before they are sent (an SMS is at most 1600 characters).
constexpr size_t max_text = 2000;

struct worker_state {
  std::unique_ptr<https_client> client;
  std::string api_key;
  std::string model;
  static inline const char* name = "llm_worker";
};

struct dispatcher_state {
  std::vector<llm_actor> workers;
  size_t next = 0;
  static inline const char* name = "llm_connector";
};

/// One blocking classification (detached worker only).
caf::expected<std::string> classify(worker_state& st, const std::string& text,
                                    const std::string& now, const std::string& tz) {
  auto body = openai::to_json(openai::classify_request(st.model, text.substr(0, max_text), now, tz));
  outbound_request req;
  req.method = "POST";
  req.target = "/chat/completions";
  req.headers = {{"Authorization", "Bearer " + st.api_key},
                 {"Content-Type", "application/json"},
                 {"Accept", "application/json"}};
  req.body = body.dump();
  auto r = st.client->request(req);
  if (!r.ok()) {
    st.client->close();  // a half-read response must not poison the next call
    if (r.error == transport_errc::timeout)
      return make_app_error(app_errc::upstream_timeout, "the language model did not answer in time");
    return make_app_error(app_errc::upstream_error,
                          std::string{"the language model is unreachable: "} + to_string(r.error));
  }
  if (r.response.status < 200 || r.response.status > 299)
    return make_app_error(app_errc::upstream_error,
                          "the language model answered HTTP " + std::to_string(r.response.status));
  auto parsed = openai::parse_response(r.response.body);
  if (!parsed)
    return parsed.error();
  auto c = openai::classification_from(*parsed);
  if (!c)
    return c.error();
  return c->dump();
}

llm_actor::behavior_type llm_worker(llm_actor::stateful_pointer<worker_state> self,
                                    std::string base, std::string api_key, std::string model,
                                    llm_connector_options opts) {
  client_options co;
  co.connect_timeout = opts.connect_timeout;
  co.total_timeout = opts.deadline;
  co.body_limit = 1024 * 1024;
  self->state.client = std::make_unique<https_client>(base, co);
  self->state.api_key = std::move(api_key);
  self->state.model = std::move(model);
  return {
    [=](llm_atom, const std::string& text, const std::string& now,
        const std::string& tz) -> caf::result<std::string> {
      if (text.empty())
        return make_app_error(app_errc::bad_request, "nothing to classify");
      auto out = classify(self->state, text, now, tz);
      if (!out) {
        log_fields(logger("http"), spdlog::level::warn, "llm classification failed",
                   {{"error", error_message(out.error())}});
        return out.error();
      }
      return std::move(*out);
    },
  };
}

llm_actor::behavior_type dispatcher(llm_actor::stateful_pointer<dispatcher_state> self,
                                    std::vector<llm_actor> workers) {
  for (auto& w : workers)
    self->link_to(w);  // the workers go when the connector goes
  self->state.workers = std::move(workers);
  return {
    [=](llm_atom a, std::string& text, std::string& now, std::string& tz) {
      auto& st = self->state;
      auto worker = st.workers[st.next++ % st.workers.size()];
      return self->delegate(worker, a, std::move(text), std::move(now), std::move(tz));
    },
  };
}

llm_actor::behavior_type unconfigured() {
  return {
    [](llm_atom, const std::string&, const std::string&,
       const std::string&) -> caf::result<std::string> {
      return make_app_error(app_errc::unprocessable, "the language model is not configured");
    },
  };
}

} // namespace

djdash::llm_actor spawn_llm_connector(caf::actor_system& sys, const djdash::settings& cfg,
                                      const llm_connector_options& opts) {
  if (cfg.secrets.openai_api_key.empty())
    return sys.spawn(unconfigured);
  if (!base_url::parse(cfg.services.openai_base_url))
    log_fields(logger("http"), spdlog::level::err, "OPENAI_BASE_URL is not an http(s) URL",
               {{"value", cfg.services.openai_base_url}});
  std::vector<llm_actor> workers;
  for (int i = 0; i < std::max(1, opts.workers); ++i)
    workers.push_back(sys.spawn<caf::detached>(llm_worker, cfg.services.openai_base_url,
                                                cfg.secrets.openai_api_key,
                                                cfg.services.openai_model, opts));
  return sys.spawn(dispatcher, std::move(workers));
}

} // namespace djdash::http
