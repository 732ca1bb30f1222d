#include "config/settings.hpp"

#include <cctype>
#include <cstdlib>
#include <cstdio>
#include <fstream>
#include <limits>
#include <regex>
#include <set>
#include <sstream>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "protocols/app_errc.hpp"

namespace djdash {

namespace {

using json = nlohmann::json;

struct config_problem {
  std::string message;
};

[[noreturn]] void fail(const std::string& key, const std::string& what) {
  throw config_problem{key + ": " + what};
}

/// Reads the keys of one JSON object, rejecting unknown ones (typos must not pass silently).
class object_reader {
public:
  object_reader(const json& obj, std::string prefix) : obj_(obj), prefix_(std::move(prefix)) {
    if (!obj_.is_object())
      fail(prefix_.empty() ? "config" : prefix_, "must be a JSON object");
  }

  template <class T>
  void read(const char* key, T& out) {
    seen_.insert(key);
    auto i = obj_.find(key);
    if (i == obj_.end() || i->is_null())
      return;
    out = convert<T>(*i, path(key));
  }

  void read_map(const char* key, std::map<std::string, std::string>& out) {
    seen_.insert(key);
    auto i = obj_.find(key);
    if (i == obj_.end() || i->is_null())
      return;
    if (!i->is_object())
      fail(path(key), "must be an object of strings");
    out.clear();
    for (auto& [k, v] : i->items()) {
      if (!v.is_string())
        fail(path(key) + "." + k, "must be a string");
      out[k] = v.get<std::string>();
    }
  }

  void read_list(const char* key, std::vector<std::string>& out) {
    seen_.insert(key);
    auto i = obj_.find(key);
    if (i == obj_.end() || i->is_null())
      return;
    if (!i->is_array())
      fail(path(key), "must be an array of strings");
    out.clear();
    for (auto& v : *i) {
      if (!v.is_string())
        fail(path(key), "must be an array of strings");
      out.push_back(v.get<std::string>());
    }
  }

  object_reader child(const char* key) {
    seen_.insert(key);
    auto i = obj_.find(key);
    static const json empty = json::object();
    return object_reader{i == obj_.end() ? empty : *i, path(key)};
  }

  void forbid(const char* key, const char* why) {
    if (obj_.contains(key))
      fail(path(key), why);
    seen_.insert(key);
  }

  void reject_unknown() const {
    for (auto& [k, v] : obj_.items())
      if (seen_.count(k) == 0)
        fail(path(k.c_str()), "unknown key");
  }

private:
  std::string path(const std::string& key) const {
    return prefix_.empty() ? key : prefix_ + "." + key;
  }

  template <class T>
  static T convert(const json& v, const std::string& key) {
    if constexpr (std::is_same_v<T, std::string>) {
      if (!v.is_string())
        fail(key, "must be a string");
      return v.get<std::string>();
    } else if constexpr (std::is_same_v<T, bool>) {
      if (!v.is_boolean())
        fail(key, "must be true or false");
      return v.get<bool>();
    } else {
      if (!v.is_number_integer())
        fail(key, "must be an integer");
      auto n = v.get<int64_t>();
      if (n < 0 || static_cast<uint64_t>(n) > std::numeric_limits<T>::max())
        fail(key, "out of range, got " + std::to_string(n));
      return static_cast<T>(n);
    }
  }

  const json& obj_;
  std::string prefix_;
  std::set<std::string> seen_;
};

void apply_file(settings& s, const json& root) {
  object_reader r{root, ""};
  r.read("node_id", s.node_id);
  r.read("public_url", s.public_url);
  r.read("log_level", s.log_level);
  r.read_map("product_domains", s.product_domains);
  {
    auto h = r.child("http");
    h.read("addr", s.http.addr);
    h.read("port", s.http.port);
    h.read("threads", s.http.threads);
    h.read("body_limit", s.http.body_limit);
    h.read("header_limit", s.http.header_limit);
    h.read("read_timeout_ms", s.http.read_timeout_ms);
    h.read("idle_timeout_ms", s.http.idle_timeout_ms);
    h.read("request_deadline_ms", s.http.request_deadline_ms);
    h.read("max_connections", s.http.max_connections);
    h.read("drain_timeout_ms", s.http.drain_timeout_ms);
    h.read("access_log", s.http.access_log);
    h.reject_unknown();
  }
  {
    auto d = r.child("database");
    d.read("url", s.database.url);
    d.read("migrate_url", s.database.migrate_url);
    d.read("pool_size", s.database.pool_size);
    d.read("queue_limit", s.database.queue_limit);
    d.read("connect_timeout_s", s.database.connect_timeout_s);
    d.read("statement_timeout_ms", s.database.statement_timeout_ms);
    d.reject_unknown();
  }
  {
    auto c = r.child("cluster");
    c.read("port", s.cluster.port);
    c.read("bind", s.cluster.bind);
    c.read("host", s.cluster.host);
    c.read("lease_ms", s.cluster.lease_ms);
    c.read("heartbeat_ms", s.cluster.heartbeat_ms);
    c.read("peer_heartbeat_ms", s.cluster.peer_heartbeat_ms);
    c.read("peer_timeout_ms", s.cluster.peer_timeout_ms);
    c.reject_unknown();
  }
  {
    auto e = r.child("entities");
    e.read("idle_timeout_ms", s.entities.idle_timeout_ms);
    e.read("crash_loop_limit", s.entities.crash_loop_limit);
    e.read("crash_loop_window_ms", s.entities.crash_loop_window_ms);
    e.read("crash_loop_cooldown_ms", s.entities.crash_loop_cooldown_ms);
    e.read("timer_poll_ms", s.entities.timer_poll_ms);
    e.reject_unknown();
  }
  {
    auto w = r.child("realtime");
    w.read("max_message_bytes", s.realtime.max_message_bytes);
    w.read("send_queue_frames", s.realtime.send_queue_frames);
    w.read("send_queue_bytes", s.realtime.send_queue_bytes);
    w.read("idle_timeout_ms", s.realtime.idle_timeout_ms);
    w.read("handshake_timeout_ms", s.realtime.handshake_timeout_ms);
    w.read("max_subscriptions", s.realtime.max_subscriptions);
    w.reject_unknown();
  }
  {
    auto v = r.child("services");
    v.read("twilio_api_base", s.services.twilio_api_base);
    v.read("stripe_api_base", s.services.stripe_api_base);
    v.read("livekit_url", s.services.livekit_url);
    v.read("openai_base_url", s.services.openai_base_url);
    v.read("openai_model", s.services.openai_model);
    v.read("google_token_url", s.services.google_token_url);
    v.reject_unknown();
  }
  {
    auto a = r.child("auth");
    a.read("issuer", s.auth.issuer);
    a.read("access_token_ttl_s", s.auth.access_token_ttl_s);
    a.read("refresh_token_ttl_s", s.auth.refresh_token_ttl_s);
    a.read("leeway_s", s.auth.leeway_s);
    a.read("login_ip_limit", s.auth.login_ip_limit);
    a.read("login_ip_window_s", s.auth.login_ip_window_s);
    a.read("login_account_limit", s.auth.login_account_limit);
    a.read("login_account_window_s", s.auth.login_account_window_s);
    a.read("signup_ip_limit", s.auth.signup_ip_limit);
    a.read("signup_ip_window_s", s.auth.signup_ip_window_s);
    a.read("request_ip_limit", s.auth.request_ip_limit);
    a.read("request_ip_window_s", s.auth.request_ip_window_s);
    a.reject_unknown();
  }
  r.read_list("cors_origins", s.cors_origins);
  r.forbid("secrets", "secrets come from the environment only (see README)");
  r.reject_unknown();
}

int64_t parse_int(const std::string& key, const std::string& text) {
  try {
    size_t used = 0;
    auto n = std::stoll(text, &used);
    if (used != text.size())
      throw std::invalid_argument("trailing characters");
    return n;
  } catch (const std::exception&) {
    fail(key, "must be an integer, got \"" + text + "\"");
  }
}

template <class T>
void env_int(const env_lookup& env, const char* name, T& out) {
  if (auto v = env(name)) {
    auto n = parse_int(name, *v);
    if (n < 0 || static_cast<uint64_t>(n) > std::numeric_limits<T>::max())
      fail(name, "out of range, got " + *v);
    out = static_cast<T>(n);
  }
}

void env_str(const env_lookup& env, const char* name, std::string& out) {
  if (auto v = env(name))
    out = *v;
}

void apply_env(settings& s, const env_lookup& env) {
  env_str(env, "DJDASH_HTTP_ADDR", s.http.addr);
  env_int(env, "DJDASH_HTTP_PORT", s.http.port);
  env_int(env, "DJDASH_CLUSTER_PORT", s.cluster.port);
  env_str(env, "DJDASH_CLUSTER_BIND", s.cluster.bind);
  env_str(env, "DJDASH_CLUSTER_HOST", s.cluster.host);
  env_int(env, "DJDASH_CLUSTER_LEASE_MS", s.cluster.lease_ms);
  env_int(env, "DJDASH_CLUSTER_HEARTBEAT_MS", s.cluster.heartbeat_ms);
  env_str(env, "DJDASH_NODE_ID", s.node_id);
  env_str(env, "DJDASH_DATABASE_URL", s.database.url);
  env_str(env, "DJDASH_MIGRATE_DATABASE_URL", s.database.migrate_url);
  env_int(env, "DJDASH_DB_POOL_SIZE", s.database.pool_size);
  env_str(env, "DJDASH_PUBLIC_URL", s.public_url);
  env_str(env, "DJDASH_LOG_LEVEL", s.log_level);
  env_str(env, "TWILIO_API_BASE", s.services.twilio_api_base);
  env_str(env, "STRIPE_API_BASE", s.services.stripe_api_base);
  env_str(env, "LIVEKIT_URL", s.services.livekit_url);
  env_str(env, "OPENAI_BASE_URL", s.services.openai_base_url);
  env_str(env, "OPENAI_MODEL", s.services.openai_model);
  env_str(env, "GOOGLE_TOKEN_URL", s.services.google_token_url);
  auto& k = s.secrets;
  env_str(env, "DJDASH_JWT_SECRET", k.jwt_secret);
  env_str(env, "TWILIO_ACCOUNT_SID", k.twilio_account_sid);
  env_str(env, "TWILIO_AUTH_TOKEN", k.twilio_auth_token);
  env_str(env, "STRIPE_SECRET_KEY", k.stripe_secret_key);
  env_str(env, "STRIPE_WEBHOOK_SECRET", k.stripe_webhook_secret);
  env_str(env, "LIVEKIT_API_KEY", k.livekit_api_key);
  env_str(env, "LIVEKIT_API_SECRET", k.livekit_api_secret);
  env_str(env, "OPENAI_API_KEY", k.openai_api_key);
  env_str(env, "GOOGLE_OAUTH_CLIENT_ID", k.google_client_id);
  env_str(env, "GOOGLE_OAUTH_CLIENT_SECRET", k.google_client_secret);
  env_str(env, "DJDASH_SECRET_KEY", k.secret_key);
  env_str(env, "DJDASH_OPS_TOKEN", k.ops_token);
}

bool is_http_url(const std::string& u) {
  return u.rfind("http://", 0) == 0 || u.rfind("https://", 0) == 0;
}

bool is_pg_url(const std::string& u) {
  return u.rfind("postgresql://", 0) == 0 || u.rfind("postgres://", 0) == 0;
}

void check(const settings& s) {
  if (s.http.threads < 1 || s.http.threads > 64)
    fail("http.threads", "must be 1..64, got " + std::to_string(s.http.threads));
  if (s.http.body_limit < 1024)
    fail("http.body_limit", "must be at least 1024 bytes");
  if (s.http.header_limit < 1024)
    fail("http.header_limit", "must be at least 1024 bytes");
  auto positive = [](const char* key, int v) {
    if (v <= 0)
      fail(key, "must be positive, got " + std::to_string(v));
  };
  positive("http.read_timeout_ms", s.http.read_timeout_ms);
  positive("http.idle_timeout_ms", s.http.idle_timeout_ms);
  positive("http.request_deadline_ms", s.http.request_deadline_ms);
  positive("http.max_connections", s.http.max_connections);
  positive("http.drain_timeout_ms", s.http.drain_timeout_ms);
  if (s.database.url.empty())
    fail("database.url", "required (or set DJDASH_DATABASE_URL)");
  if (!is_pg_url(s.database.url))
    fail("database.url", "must be a postgresql:// URL");
  if (!s.database.migrate_url.empty() && !is_pg_url(s.database.migrate_url))
    fail("database.migrate_url", "must be a postgresql:// URL");
  if (s.database.pool_size < 1 || s.database.pool_size > 256)
    fail("database.pool_size", "must be 1..256, got " + std::to_string(s.database.pool_size));
  positive("database.queue_limit", s.database.queue_limit);
  positive("database.connect_timeout_s", s.database.connect_timeout_s);
  positive("database.statement_timeout_ms", s.database.statement_timeout_ms);
  positive("auth.access_token_ttl_s", s.auth.access_token_ttl_s);
  positive("auth.refresh_token_ttl_s", s.auth.refresh_token_ttl_s);
  positive("auth.login_ip_limit", s.auth.login_ip_limit);
  positive("auth.login_ip_window_s", s.auth.login_ip_window_s);
  positive("auth.login_account_limit", s.auth.login_account_limit);
  positive("auth.login_account_window_s", s.auth.login_account_window_s);
  positive("auth.signup_ip_limit", s.auth.signup_ip_limit);
  positive("auth.signup_ip_window_s", s.auth.signup_ip_window_s);
  positive("auth.request_ip_limit", s.auth.request_ip_limit);
  positive("auth.request_ip_window_s", s.auth.request_ip_window_s);
  if (s.auth.leeway_s < 0 || s.auth.leeway_s > 300)
    fail("auth.leeway_s", "must be 0..300");
  for (auto& origin : s.cors_origins)
    if (!is_http_url(origin))
      fail("cors_origins", "each origin must start with http:// or https://, got \"" + origin + "\"");
  if (s.cluster.lease_ms < 300 || s.cluster.lease_ms > 600000)
    fail("cluster.lease_ms", "must be 300..600000");
  if (s.cluster.heartbeat_ms < 50 || s.cluster.heartbeat_ms * 2 > s.cluster.lease_ms)
    fail("cluster.heartbeat_ms", "must be at least 50 and at most half of cluster.lease_ms");
  positive("cluster.peer_heartbeat_ms", s.cluster.peer_heartbeat_ms);
  if (s.cluster.peer_timeout_ms < 2 * s.cluster.peer_heartbeat_ms)
    fail("cluster.peer_timeout_ms", "must be at least twice cluster.peer_heartbeat_ms");
  if (s.cluster.bind.empty())
    fail("cluster.bind", "must be an address, e.g. 127.0.0.1 or 0.0.0.0");
  static const std::regex node_id_shape{"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$"};
  if (!std::regex_match(s.node_id, node_id_shape))
    fail("node_id", "must be 1..63 letters, digits, '.', '_' or '-', starting with a letter or "
                    "digit");
  if (!s.secrets.ops_token.empty() && s.secrets.ops_token.size() < 16)
    fail("DJDASH_OPS_TOKEN", "must be at least 16 characters");
  positive("entities.idle_timeout_ms", s.entities.idle_timeout_ms);
  positive("entities.crash_loop_limit", s.entities.crash_loop_limit);
  positive("entities.crash_loop_window_ms", s.entities.crash_loop_window_ms);
  positive("entities.crash_loop_cooldown_ms", s.entities.crash_loop_cooldown_ms);
  positive("entities.timer_poll_ms", s.entities.timer_poll_ms);
  if (s.realtime.max_message_bytes < 1024)
    fail("realtime.max_message_bytes", "must be at least 1024 bytes");
  if (s.realtime.send_queue_bytes < 1024)
    fail("realtime.send_queue_bytes", "must be at least 1024 bytes");
  positive("realtime.send_queue_frames", s.realtime.send_queue_frames);
  positive("realtime.idle_timeout_ms", s.realtime.idle_timeout_ms);
  positive("realtime.handshake_timeout_ms", s.realtime.handshake_timeout_ms);
  positive("realtime.max_subscriptions", s.realtime.max_subscriptions);
  static const std::set<std::string> levels{"trace", "debug", "info", "warn", "error", "off"};
  if (levels.count(s.log_level) == 0)
    fail("log_level", "must be one of trace, debug, info, warn, error, off; got \"" + s.log_level
                        + "\"");
  if (!s.public_url.empty() && !is_http_url(s.public_url))
    fail("public_url", "must start with http:// or https://");
  for (auto [key, url] : {std::pair{"services.twilio_api_base", &s.services.twilio_api_base},
                          std::pair{"services.stripe_api_base", &s.services.stripe_api_base},
                          std::pair{"services.openai_base_url", &s.services.openai_base_url},
                          std::pair{"services.google_token_url", &s.services.google_token_url}})
    if (!url->empty() && !is_http_url(*url))
      fail(key, "must start with http:// or https://");
  static const std::set<std::string> products{"tipjar", "djdash", "m10dj"};
  for (auto& [host, product] : s.product_domains)
    if (products.count(product) == 0)
      fail("product_domains." + host, "must be tipjar, djdash or m10dj");
  if (!s.secrets.jwt_secret.empty() && s.secrets.jwt_secret.size() < 32)
    fail("DJDASH_JWT_SECRET", "must be at least 32 characters");
}

std::string default_node_id() {
  char host[256] = {0};
  if (gethostname(host, sizeof(host) - 1) != 0)
    std::snprintf(host, sizeof(host), "node");
  std::string name;
  for (char* c = host; *c && name.size() < 40; ++c)  // keep what a node id may hold
    if (std::isalnum(static_cast<unsigned char>(*c)) || *c == '-' || *c == '.' || *c == '_')
      name += *c;
  if (name.empty() || !std::isalnum(static_cast<unsigned char>(name[0])))
    name = "node" + name;
  return name + "-" + std::to_string(getpid());
}

caf::error problem(const std::string& msg) {
  return make_app_error(app_errc::unprocessable, msg);
}

} // namespace

env_lookup process_env() {
  return [](const std::string& name) -> std::optional<std::string> {
    if (auto v = std::getenv(name.c_str()))
      return std::string{v};
    return std::nullopt;
  };
}

caf::error validate(const settings& s) {
  try {
    check(s);
    return {};
  } catch (const config_problem& p) {
    return problem(p.message);
  }
}

caf::expected<settings> load_settings_text(const std::string& json_text, const env_lookup& env) {
  settings s;
  try {
    if (!json_text.empty()) {
      auto root = json::parse(json_text, nullptr, false, true);
      if (root.is_discarded())
        return problem("config: not valid JSON");
      apply_file(s, root);
    }
    apply_env(s, env);
    if (s.database.migrate_url.empty())
      s.database.migrate_url = s.database.url;
    if (s.node_id.empty())
      s.node_id = default_node_id();
    if (s.cluster.host.empty())
      s.cluster.host = s.cluster.bind == "0.0.0.0" || s.cluster.bind == "::" ? "127.0.0.1"
                                                                             : s.cluster.bind;
    check(s);
  } catch (const config_problem& p) {
    return problem(p.message);
  }
  return s;
}

caf::expected<settings> load_settings(const std::optional<std::string>& file,
                                      const env_lookup& env) {
  std::string text;
  if (file) {
    std::ifstream in{*file};
    if (!in)
      return problem("config: cannot read " + *file);
    std::ostringstream buf;
    buf << in.rdbuf();
    text = buf.str();
  }
  return load_settings_text(text, env);
}

} // namespace djdash
