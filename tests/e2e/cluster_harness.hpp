#pragma once

// Helpers for the multi-process cluster suite (e2e.cluster): several real djdash nodes sharing
// one PostgreSQL, each with a stable node id and HTTP port across restarts; many organizations
// created in bulk with one owner and a self-minted access token; a request helper that tells a
// refused connection (nothing reached a server) from a failure after the request was sent.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "accounts_harness.hpp"
#include "node_harness.hpp"
#include "protocols/jwt.hpp"
#include "support/http_client.hpp"
#include "support/pg_fixture.hpp"
#include "support/process.hpp"

namespace djdash::test {

using steady = std::chrono::steady_clock;

inline double ms_since(steady::time_point t0) {
  return std::chrono::duration<double, std::milli>(steady::now() - t0).count();
}

/// One HTTP exchange on a fresh connection.
struct outcome {
  bool connected = false;  // false: refused / not listening, the request was never sent
  int status = 0;          // 0: no reply (dropped, reset or timed out after sending)
  std::string body;
  std::string error;
  double took_ms = 0;

  bool ok() const { return status / 100 == 2; }
  nlohmann::json json() const { return nlohmann::json::parse(body, nullptr, false); }
  std::string describe() const {
    if (!connected)
      return "not connected (" + error + ")";
    if (status == 0)
      return "no reply after sending (" + error + ") after " + std::to_string(took_ms) + " ms";
    return std::to_string(status) + " " + body.substr(0, 300);
  }
};

inline outcome exchange(uint16_t port, const std::string& method, const std::string& target,
                        const std::string& body = {}, const header_list& headers = {},
                        std::chrono::milliseconds timeout = std::chrono::seconds(15)) {
  auto t0 = steady::now();
  outcome out;
  http_client c{port, timeout};
  out.connected = c.connected();
  if (!out.connected) {
    out.error = c.error();
    out.took_ms = ms_since(t0);
    return out;
  }
  header_list all;
  if (!body.empty())
    all.emplace_back("Content-Type", "application/json");
  all.insert(all.end(), headers.begin(), headers.end());
  auto r = c.request(method, target, body, all);
  out.took_ms = ms_since(t0);
  if (!r) {
    out.error = c.error();
    return out;
  }
  out.status = r->status;
  out.body = std::move(r->body);
  return out;
}

/// The organizations of the suite: created by SQL as the owner role, one user owning them all.
struct org_set {
  std::string user_id;
  std::string token;  // HS256 access token of that user, signed with the nodes' secret
  std::vector<std::string> ids;
  std::vector<std::string> slugs;

  header_list auth(size_t k) const {
    return {{"Authorization", "Bearer " + token}, {"X-Organization-Id", ids[k]}};
  }
};

/// Creates `count` TipJar organizations (free song requests accepted) named "org-<k>" with
/// slugs "<prefix>-<k>", and a user who is 'owner' member of all of them.
inline org_set create_orgs(const std::string& owner_url, size_t count,
                           const std::string& prefix = "cluster-org") {
  org_set out;
  pqxx::connection conn{owner_url};
  pqxx::work tx{conn};
  tx.exec("select set_config('app.platform_admin', 'on', true)");
  auto email = prefix + "-owner@example.com";
  out.user_id = tx.exec_params1("insert into users (email, password_hash) values ($1, $2) "
                                "returning id::text",
                                email, "not-a-password-hash")[0]
                  .as<std::string>();
  const std::string settings
    = R"({"accepting_requests": true, "minimum_amounts": {"song": 0, "shoutout": 0, "tip": 100},)"
      R"( "max_pending_per_requester": 50, "song_repeat_window_minutes": 60})";
  auto rows = tx.exec_params(
    "insert into organizations (product_context, name, slug, owner_id, settings) "
    "select 'tipjar', 'org-' || k, $1 || '-' || k, $2::uuid, $3::jsonb "
    "  from generate_series(0, $4 - 1) as k "
    "returning id::text, slug, substring(name from 5)::int as k",
    prefix, out.user_id, settings, static_cast<int64_t>(count));
  out.ids.resize(count);
  out.slugs.resize(count);
  for (const auto& row : rows) {
    auto k = row[2].as<size_t>();
    out.ids[k] = row[0].as<std::string>();
    out.slugs[k] = row[1].as<std::string>();
  }
  tx.exec_params("insert into organization_members (organization_id, user_id, role) "
                 "select id, $1::uuid, 'owner' from organizations where owner_id = $1::uuid",
                 out.user_id);
  tx.commit();
  auto now = std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
               .count();
  nlohmann::json claims{{"iss", "djdash"},
                        {"sub", out.user_id},
                        {"aud", "authenticated"},
                        {"iat", now},
                        {"exp", now + 3600},
                        {"email", email},
                        {"role", "authenticated"},
                        {"app_metadata", {{"platform_admin", false}}},
                        {"organization_id", out.ids.empty() ? std::string{} : out.ids[0]},
                        {"product_context", "tipjar"}};
  out.token = jwt::sign(claims, node_jwt_secret());
  return out;
}

/// Stored organization names by id, read as the owner role with every tenant visible.
inline std::map<std::string, std::string> stored_names(const std::string& owner_url) {
  return as_platform_owner(owner_url, [](pqxx::work& tx) {
    std::map<std::string, std::string> out;
    for (const auto& row : tx.exec("select id::text, name from organizations"))
      out[row[0].as<std::string>()] = row[1].as<std::string>();
    return out;
  });
}

/// Parses the <seq> of "org-<k> v<seq>"; -1 when the name carries none.
inline int64_t name_seq(const std::string& name) {
  auto v = name.rfind(" v");
  if (v == std::string::npos)
    return -1;
  try {
    return std::stoll(name.substr(v + 2));
  } catch (...) {
    return -1;
  }
}

/// Several nodes of one cluster against one fresh database. Node ids keep their HTTP port
/// across restarts, so a load balancer's rotation stays valid.
class cluster {
public:
  explicit cluster(nlohmann::json config = relaxed_auth_config()) {
    config["auth"]["request_ip_limit"] = 1000000;
    config["auth"]["request_ip_window_s"] = 3600;
    config_path_ = write_config_file(config);
  }

  ~cluster() {
    for (auto& [id, n] : nodes_)
      if (n.proc)
        n.proc->signal(SIGTERM);
    for (auto& [id, n] : nodes_)
      if (n.proc)
        n.proc->wait(std::chrono::seconds(20));
    // DJDASH_CLUSTER_TEST_KEEP_LOGS=<dir>: every node's whole output (all incarnations) is
    // appended to <dir>/<node id>.log, for digging into a failure.
    if (auto* dir = std::getenv("DJDASH_CLUSTER_TEST_KEEP_LOGS")) {
      for (auto& [id, n] : nodes_) {
        std::ofstream out{std::string{dir} + "/" + id + ".log", std::ios::app};
        out << output(id);
      }
    }
    std::remove(config_path_.c_str());
  }

  pg_database& db() { return db_; }

  /// Starts node `id` (again, on the same HTTP port, when it ran before).
  void start(const std::string& id) {
    auto& n = nodes_[id];
    if (n.port == 0)
      n.port = free_port();
    if (n.proc) {
      n.past_output += n.proc->output();
      n.proc.reset();
    }
    auto env = node_env(db_.app_url(), db_.owner_url(), n.port);
    env["DJDASH_NODE_ID"] = id;
    env["DJDASH_CLUSTER_BIND"] = "127.0.0.1";
    // Info logs every request; set DJDASH_CLUSTER_TEST_LOG_LEVEL=info to see them when digging.
    auto* level = std::getenv("DJDASH_CLUSTER_TEST_LOG_LEVEL");
    env["DJDASH_LOG_LEVEL"] = level ? level : "warn";
    n.proc = std::make_unique<child_process>(DJDASH_BINARY,
                                             std::vector<std::string>{"--config", config_path_},
                                             env);
  }

  /// Sends `sig` to node `id` and waits for it to exit; returns its exit status.
  std::optional<int> stop(const std::string& id, int sig,
                          std::chrono::milliseconds within = std::chrono::seconds(30)) {
    auto& p = *nodes_.at(id).proc;
    p.signal(sig);
    return p.wait(within);
  }

  /// Sends `sig` to node `id` without waiting (SIGSTOP / SIGCONT: a frozen node).
  void signal(const std::string& id, int sig) { nodes_.at(id).proc->signal(sig); }

  bool running(const std::string& id) { return nodes_.at(id).proc->running(); }

  uint16_t port(const std::string& id) const { return nodes_.at(id).port; }

  /// Everything node `id` wrote, earlier incarnations included.
  std::string output(const std::string& id) const {
    auto& n = nodes_.at(id);
    return n.past_output + (n.proc ? n.proc->output() : std::string{});
  }

  /// The last `max_chars` of every node's output, for failure messages.
  std::string outputs_tail(size_t max_chars = 3000) {
    std::string out;
    for (auto& [id, n] : nodes_) {
      auto all = output(id);
      if (all.size() > max_chars)
        all = "..." + all.substr(all.size() - max_chars);
      std::string state = "running";
      if (n.proc && !n.proc->running())
        state = "exited with " + std::to_string(n.proc->wait(std::chrono::milliseconds(0)).value_or(-1));
      out += "\n----- node " + id + " (" + state + ", http port " + std::to_string(n.port)
             + ") -----\n" + all;
    }
    return out;
  }

  /// Polls /readyz of node `id` until 200; false when the node exits or `within` passes.
  bool wait_ready(const std::string& id,
                  std::chrono::milliseconds within = std::chrono::seconds(30)) {
    auto deadline = steady::now() + within;
    while (steady::now() < deadline && running(id)) {
      auto r = exchange(port(id), "GET", "/readyz", {}, {}, std::chrono::seconds(2));
      if (r.status == 200)
        return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }

  /// GET /debug/cluster of node `id` (a discarded value when it does not answer 200).
  nlohmann::json cluster_info(const std::string& id) {
    auto r = exchange(port(id), "GET", "/debug/cluster", {}, {}, std::chrono::seconds(5));
    return r.status == 200 ? r.json() : nlohmann::json(nlohmann::json::value_t::discarded);
  }

  /// Polls until the "view" of every node in `ids` is exactly `ids` (sorted); false (with the
  /// last views in `last`) when `within` passes.
  bool wait_views(std::vector<std::string> ids,
                  std::chrono::milliseconds within = std::chrono::seconds(30),
                  std::string* last = nullptr) {
    std::sort(ids.begin(), ids.end());
    auto expected = nlohmann::json(ids);
    auto deadline = steady::now() + within;
    std::string seen;
    for (;;) {
      bool all = true;
      seen.clear();
      for (auto& id : ids) {
        auto info = cluster_info(id);
        auto view = info.is_object() && info.contains("view") ? info["view"] : nlohmann::json{};
        seen += id + ": " + view.dump() + "; ";
        if (view != expected)
          all = false;
      }
      if (all)
        return true;
      if (steady::now() > deadline) {
        if (last)
          *last = seen;
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }

  /// Active organization keys on node `id` (/debug/cluster/entities); nothing on error.
  std::optional<std::set<std::string>> active_keys(const std::string& id) {
    auto r = exchange(port(id), "GET", "/debug/cluster/entities?kind=organization", {}, {},
                      std::chrono::seconds(10));
    if (r.status != 200)
      return std::nullopt;
    auto j = r.json();
    if (!j.is_object() || !j.contains("keys") || !j["keys"].is_array())
      return std::nullopt;
    std::set<std::string> out;
    for (auto& k : j["keys"])
      if (k.is_string())
        out.insert(k.get<std::string>());
    return out;
  }

private:
  struct node_slot {
    uint16_t port = 0;
    std::unique_ptr<child_process> proc;
    std::string past_output;
  };

  pg_database db_;
  std::string config_path_;
  std::map<std::string, node_slot> nodes_;
};

inline std::string ping_target(const std::string& key) {
  return "/debug/cluster/ping?kind=organization&key=" + key;
}

inline std::string owner_target(const std::string& key) {
  return "/debug/cluster/owner?kind=organization&key=" + key;
}

inline std::string rename_body(size_t k, int64_t seq) {
  return nlohmann::json{{"name", "org-" + std::to_string(k) + " v" + std::to_string(seq)}}.dump();
}

/// Runs `fn(i)` for i in [0, count) on `threads` threads; returns when all are done.
inline void parallel_for(size_t count, size_t threads, const std::function<void(size_t)>& fn) {
  std::atomic<size_t> next{0};
  std::vector<std::thread> pool;
  for (size_t t = 0; t < threads; ++t)
    pool.emplace_back([&] {
      for (size_t i = next++; i < count; i = next++)
        fn(i);
    });
  for (auto& th : pool)
    th.join();
}

/// Failures seen by load threads, checked by the test thread (CAF checks are not thread-safe).
struct failure_log {
  std::mutex mtx;
  std::vector<std::string> items;
  std::atomic<size_t> count{0};

  void add(std::string what) {
    ++count;
    std::lock_guard<std::mutex> guard{mtx};
    if (items.size() < 20)
      items.push_back(std::move(what));
  }

  std::string summary() {
    std::lock_guard<std::mutex> guard{mtx};
    std::string out;
    for (auto& i : items)
      out += "\n  " + i;
    return out;
  }
};

/// Waits until `pred()` holds or `within` passes; returns the last value of `pred()`.
inline bool poll_until(const std::function<bool()>& pred, std::chrono::milliseconds within,
                       std::chrono::milliseconds every = std::chrono::milliseconds(50)) {
  auto deadline = steady::now() + within;
  for (;;) {
    if (pred())
      return true;
    if (steady::now() > deadline)
      return false;
    std::this_thread::sleep_for(every);
  }
}

} // namespace djdash::test
