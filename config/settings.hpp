#pragma once

// Every setting of a node, with its default. Filled in one place (load_settings) from the JSON
// config file, then the environment (names in API.md); secrets come from the environment only.

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <caf/expected.hpp>

namespace djdash {

struct http_settings {
  std::string addr = "0.0.0.0";
  uint16_t port = 8080;
  int threads = 2;
  size_t body_limit = 1 << 20;    // bytes; larger bodies get 413
  size_t header_limit = 16 << 10; // bytes; larger headers get 431
  int read_timeout_ms = 10000;    // a whole request must arrive within this
  int idle_timeout_ms = 60000;    // keep-alive connections idle longer are closed
  int request_deadline_ms = 10000; // a handler slower than this gets 504
  int max_connections = 10000;
  int drain_timeout_ms = 15000;   // SIGTERM waits this long for in-flight requests
  bool access_log = true;
};

struct db_settings {
  std::string url;          // application role (NOSUPERUSER NOBYPASSRLS)
  std::string migrate_url;  // owner role, for `djdash migrate`; defaults to url
  int pool_size = 4;
  int queue_limit = 1024;   // calls waiting beyond this are refused (503)
  int connect_timeout_s = 3;
  int statement_timeout_ms = 10000;
};

/// Every node that shares a database joins the same cluster (DESIGN.md, "Cluster").
struct cluster_settings {
  uint16_t port = 0;               // middleman port peers connect to; 0: any free port (it is
                                   // advertised through the cluster_nodes table)
  std::string bind = "127.0.0.1";  // never reachable from the internet: CAF's protocol has no
                                   // authentication
  std::string host;                // what peers connect to; default: bind (127.0.0.1 for 0.0.0.0)
  int lease_ms = 3000;             // a member whose heartbeat is older is dropped
  int heartbeat_ms = 1000;         // how often a node writes its row and reads the others
  int peer_heartbeat_ms = 250;     // middleman heartbeats: a frozen peer is dropped after
  int peer_timeout_ms = 1500;      // ... this long without traffic
};

struct entity_settings {
  int idle_timeout_ms = 300000;      // passivate after this long without a message
  int crash_loop_limit = 3;          // crashes within the window that open the breaker
  int crash_loop_window_ms = 30000;
  int crash_loop_cooldown_ms = 10000; // how long a crash-looping entity answers with an error
  int timer_poll_ms = 1000;          // how often durable timers are looked for
};

/// WebSocket (/api/realtime) limits, per socket.
struct realtime_settings {
  size_t max_message_bytes = 64 << 10; // a larger client frame closes the socket (1009)
  int send_queue_frames = 1024;        // frames waiting to be written; beyond: the client is
  size_t send_queue_bytes = 4 << 20;   // ... or bytes; a slow consumer is dropped, not buffered
  int idle_timeout_ms = 60000;         // nothing (message or pong) from the client this long: close
  int handshake_timeout_ms = 10000;    // upgrade and close handshakes
  int max_subscriptions = 100;         // topics one socket may follow
};

struct service_settings {
  std::string twilio_api_base = "https://api.twilio.com";
  std::string stripe_api_base = "https://api.stripe.com";
  std::string livekit_url;
  std::string openai_base_url = "https://api.openai.com/v1";
  std::string openai_model = "gpt-4o-mini";
  std::string google_token_url = "https://oauth2.googleapis.com/token";
};

/// Sign-in, tokens and their abuse limits.
struct auth_settings {
  std::string issuer = "djdash";          // `iss` of access tokens
  int access_token_ttl_s = 900;           // 15 minutes
  int refresh_token_ttl_s = 30 * 86400;   // refresh tokens (rotated on every use)
  int leeway_s = 30;                      // clock skew tolerated on exp / nbf
  int login_ip_limit = 20;                // login attempts per IP ...
  int login_ip_window_s = 300;            // ... per this window
  int login_account_limit = 5;            // failed logins per account (email) ...
  int login_account_window_s = 900;       // ... per this window
  int signup_ip_limit = 10;               // signups per IP ...
  int signup_ip_window_s = 3600;          // ... per this window
  int request_ip_limit = 60;              // crowd request submits per IP (guests at a venue
  int request_ip_window_s = 60;           // often share one) ... per this window
};

/// Secrets: environment only. Never logged.
struct secret_settings {
  std::string jwt_secret;
  std::string twilio_account_sid;
  std::string twilio_auth_token;
  std::string stripe_secret_key;
  std::string stripe_webhook_secret;
  std::string livekit_api_key;
  std::string livekit_api_secret;
  std::string openai_api_key;
  std::string google_client_id;
  std::string google_client_secret;
  std::string secret_key;
  std::string ops_token;  // lets non-loopback callers use /debug/* (Authorization: Bearer)
};

struct settings {
  std::string node_id;     // defaults to hostname-pid
  std::string public_url;  // the URL Twilio and Stripe call
  std::string log_level = "info";
  http_settings http;
  db_settings database;
  cluster_settings cluster;
  entity_settings entities;
  realtime_settings realtime;
  auth_settings auth;
  service_settings services;
  secret_settings secrets;
  /// Host suffix → product context (tipjar | djdash | m10dj).
  std::map<std::string, std::string> product_domains = {
    {"djdash.net", "djdash"}, {"m10djcompany.com", "m10dj"}, {"tipjar.live", "tipjar"}};
  /// Extra browser origins allowed by CORS besides the product domains (e.g. a local dev site).
  std::vector<std::string> cors_origins;
};

/// Reads an environment variable; injectable for tests.
using env_lookup = std::function<std::optional<std::string>(const std::string&)>;

/// Returns the process environment as an `env_lookup`.
env_lookup process_env();

/// Builds settings from an optional JSON file and the environment, then validates them.
/// The error message names the offending key (e.g. "http.port: must be 1..65535, got 70000").
caf::expected<settings> load_settings(const std::optional<std::string>& file,
                                      const env_lookup& env);

/// Same, from JSON text (used by tests and by load_settings).
caf::expected<settings> load_settings_text(const std::string& json_text, const env_lookup& env);

/// Checks ranges and formats; returns the first problem, naming its key.
caf::error validate(const settings& s);

} // namespace djdash
