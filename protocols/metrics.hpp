#pragma once

// A small, thread-safe Prometheus metrics registry (text exposition format 0.0.4). HTTP threads,
// actors and DB workers update it; GET /metrics renders it.

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace djdash::metrics {

using label_values = std::vector<std::string>;

/// Common shape of a metric family: name, help, label names, and a text renderer.
class family {
public:
  family(std::string name, std::string help, std::vector<std::string> labels);
  virtual ~family() = default;
  virtual void render(std::string& out) const = 0;
  const std::string& name() const { return name_; }

protected:
  std::string label_text(const label_values& values, const std::string& extra = {}) const;
  std::string name_;
  std::string help_;
  std::vector<std::string> labels_;
};

/// A monotonically increasing count per label set.
class counter final : public family {
public:
  using family::family;
  void inc(const label_values& values, uint64_t by = 1);
  uint64_t value(const label_values& values) const;
  void render(std::string& out) const override;

private:
  mutable std::mutex mtx_;
  std::map<label_values, std::unique_ptr<std::atomic<uint64_t>>> cells_;
};

/// A value that goes up and down per label set.
class gauge final : public family {
public:
  using family::family;
  void add(const label_values& values, int64_t by);
  void set(const label_values& values, int64_t v);
  int64_t value(const label_values& values) const;
  void render(std::string& out) const override;

private:
  std::atomic<int64_t>& cell(const label_values& values);
  mutable std::mutex mtx_;
  std::map<label_values, std::unique_ptr<std::atomic<int64_t>>> cells_;
};

/// Observations in cumulative buckets (seconds), per label set.
class histogram final : public family {
public:
  histogram(std::string name, std::string help, std::vector<std::string> labels,
            std::vector<double> bounds);
  void observe(const label_values& values, double v);
  uint64_t count(const label_values& values) const;
  void render(std::string& out) const override;

private:
  struct cell {
    explicit cell(size_t n) : buckets(n) {}
    std::vector<std::atomic<uint64_t>> buckets;  // one per bound, plus +Inf
    std::atomic<uint64_t> count{0};
    std::atomic<uint64_t> sum_micros{0};
  };
  cell& get(const label_values& values);
  std::vector<double> bounds_;
  mutable std::mutex mtx_;
  std::map<label_values, std::unique_ptr<cell>> cells_;
};

/// Default latency buckets, in seconds (0.5 ms .. 10 s).
std::vector<double> latency_buckets();

/// Owns families and renders them in registration order.
class registry {
public:
  counter& make_counter(std::string name, std::string help, std::vector<std::string> labels);
  gauge& make_gauge(std::string name, std::string help, std::vector<std::string> labels);
  histogram& make_histogram(std::string name, std::string help, std::vector<std::string> labels,
                            std::vector<double> bounds = latency_buckets());
  std::string render() const;

private:
  mutable std::mutex mtx_;
  std::vector<std::unique_ptr<family>> families_;
};

/// The metrics every node exposes; one instance per process (`node_metrics()`).
struct node_metrics_t {
  registry reg;
  counter& http_requests;        // route, method, status
  histogram& http_latency;       // route
  gauge& http_connections;       // -
  gauge& actors_active;          // kind
  counter& entity_activations;   // kind
  counter& entity_crashes;       // kind
  gauge& db_queue_depth;         // -
  histogram& db_wait;            // -
  counter& db_calls;             // op, outcome
  gauge& cluster_members;        // - (live members this node places entities over)
  counter& cluster_forwards;     // outcome: ok, error, peer_down
  counter& cluster_peer_losses;  // - (peer connections lost)
  node_metrics_t();
};

node_metrics_t& node_metrics();

} // namespace djdash::metrics
