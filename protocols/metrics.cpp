#include "protocols/metrics.hpp"

#include <cstdio>

namespace djdash::metrics {

namespace {

std::string escape_label(const std::string& v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\' || c == '"')
      out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

std::string format_double(double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.15g", v);
  return buf;
}

void header(std::string& out, const std::string& name, const std::string& help,
            const char* type) {
  out += "# HELP " + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
}

} // namespace

family::family(std::string name, std::string help, std::vector<std::string> labels)
  : name_(std::move(name)), help_(std::move(help)), labels_(std::move(labels)) {
  // nop
}

std::string family::label_text(const label_values& values, const std::string& extra) const {
  std::string out;
  for (size_t i = 0; i < labels_.size() && i < values.size(); ++i) {
    out += out.empty() ? "{" : ",";
    out += labels_[i] + "=\"" + escape_label(values[i]) + "\"";
  }
  if (!extra.empty())
    out += (out.empty() ? "{" : ",") + extra;
  if (!out.empty())
    out += "}";
  return out;
}

void counter::inc(const label_values& values, uint64_t by) {
  std::atomic<uint64_t>* c;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    auto& slot = cells_[values];
    if (!slot)
      slot = std::make_unique<std::atomic<uint64_t>>(0);
    c = slot.get();
  }
  c->fetch_add(by, std::memory_order_relaxed);
}

uint64_t counter::value(const label_values& values) const {
  std::lock_guard<std::mutex> guard{mtx_};
  auto i = cells_.find(values);
  return i == cells_.end() ? 0 : i->second->load();
}

void counter::render(std::string& out) const {
  header(out, name_, help_, "counter");
  std::lock_guard<std::mutex> guard{mtx_};
  for (auto& [values, cell] : cells_)
    out += name_ + label_text(values) + " " + std::to_string(cell->load()) + "\n";
}

std::atomic<int64_t>& gauge::cell(const label_values& values) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto& slot = cells_[values];
  if (!slot)
    slot = std::make_unique<std::atomic<int64_t>>(0);
  return *slot;
}

void gauge::add(const label_values& values, int64_t by) {
  cell(values).fetch_add(by, std::memory_order_relaxed);
}

void gauge::set(const label_values& values, int64_t v) {
  cell(values).store(v, std::memory_order_relaxed);
}

int64_t gauge::value(const label_values& values) const {
  std::lock_guard<std::mutex> guard{mtx_};
  auto i = cells_.find(values);
  return i == cells_.end() ? 0 : i->second->load();
}

void gauge::render(std::string& out) const {
  header(out, name_, help_, "gauge");
  std::lock_guard<std::mutex> guard{mtx_};
  if (cells_.empty() && labels_.empty())
    out += name_ + " 0\n";
  for (auto& [values, cell] : cells_)
    out += name_ + label_text(values) + " " + std::to_string(cell->load()) + "\n";
}

histogram::histogram(std::string name, std::string help, std::vector<std::string> labels,
                     std::vector<double> bounds)
  : family(std::move(name), std::move(help), std::move(labels)), bounds_(std::move(bounds)) {
  // nop
}

histogram::cell& histogram::get(const label_values& values) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto& slot = cells_[values];
  if (!slot)
    slot = std::make_unique<cell>(bounds_.size() + 1);
  return *slot;
}

void histogram::observe(const label_values& values, double v) {
  auto& c = get(values);
  size_t i = 0;
  while (i < bounds_.size() && v > bounds_[i])
    ++i;
  c.buckets[i].fetch_add(1, std::memory_order_relaxed);
  c.count.fetch_add(1, std::memory_order_relaxed);
  c.sum_micros.fetch_add(static_cast<uint64_t>(v * 1e6), std::memory_order_relaxed);
}

uint64_t histogram::count(const label_values& values) const {
  std::lock_guard<std::mutex> guard{mtx_};
  auto i = cells_.find(values);
  return i == cells_.end() ? 0 : i->second->count.load();
}

void histogram::render(std::string& out) const {
  header(out, name_, help_, "histogram");
  std::lock_guard<std::mutex> guard{mtx_};
  for (auto& [values, c] : cells_) {
    uint64_t cumulative = 0;
    for (size_t i = 0; i <= bounds_.size(); ++i) {
      cumulative += c->buckets[i].load();
      auto le = i < bounds_.size() ? format_double(bounds_[i]) : std::string{"+Inf"};
      out += name_ + "_bucket" + label_text(values, "le=\"" + le + "\"") + " "
             + std::to_string(cumulative) + "\n";
    }
    out += name_ + "_sum" + label_text(values) + " "
           + format_double(static_cast<double>(c->sum_micros.load()) / 1e6) + "\n";
    out += name_ + "_count" + label_text(values) + " " + std::to_string(c->count.load()) + "\n";
  }
}

std::vector<double> latency_buckets() {
  return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

counter& registry::make_counter(std::string name, std::string help,
                                std::vector<std::string> labels) {
  std::lock_guard<std::mutex> guard{mtx_};
  families_.push_back(
    std::make_unique<counter>(std::move(name), std::move(help), std::move(labels)));
  return static_cast<counter&>(*families_.back());
}

gauge& registry::make_gauge(std::string name, std::string help,
                            std::vector<std::string> labels) {
  std::lock_guard<std::mutex> guard{mtx_};
  families_.push_back(
    std::make_unique<gauge>(std::move(name), std::move(help), std::move(labels)));
  return static_cast<gauge&>(*families_.back());
}

histogram& registry::make_histogram(std::string name, std::string help,
                                    std::vector<std::string> labels,
                                    std::vector<double> bounds) {
  std::lock_guard<std::mutex> guard{mtx_};
  families_.push_back(std::make_unique<histogram>(std::move(name), std::move(help),
                                                  std::move(labels), std::move(bounds)));
  return static_cast<histogram&>(*families_.back());
}

std::string registry::render() const {
  std::string out;
  std::lock_guard<std::mutex> guard{mtx_};
  for (auto& f : families_)
    f->render(out);
  return out;
}

node_metrics_t::node_metrics_t()
  : http_requests(reg.make_counter("djdash_http_requests_total",
                                   "HTTP requests by route, method and status.",
                                   {"route", "method", "status"})),
    http_latency(reg.make_histogram("djdash_http_request_duration_seconds",
                                    "HTTP request latency by route.", {"route"})),
    http_connections(reg.make_gauge("djdash_http_connections",
                                    "Open HTTP and WebSocket connections.", {})),
    actors_active(reg.make_gauge("djdash_actors_active", "Active entity actors by kind.",
                                 {"kind"})),
    entity_activations(reg.make_counter("djdash_entity_activations_total",
                                        "Entity activations by kind.", {"kind"})),
    entity_crashes(reg.make_counter("djdash_entity_crashes_total",
                                    "Entity actors that terminated abnormally, by kind.",
                                    {"kind"})),
    db_queue_depth(reg.make_gauge("djdash_db_pool_queue_depth",
                                  "Database calls waiting for a free connection.", {})),
    db_wait(reg.make_histogram("djdash_db_pool_wait_seconds",
                               "Time a database call waited for a connection.", {})),
    db_calls(reg.make_counter("djdash_db_calls_total", "Database calls by operation and outcome.",
                              {"op", "outcome"})),
    cluster_members(reg.make_gauge("djdash_cluster_members",
                                   "Live cluster members this node places entities over.", {})),
    cluster_forwards(reg.make_counter("djdash_cluster_forwards_total",
                                      "Entity messages forwarded to their owner node, by outcome.",
                                      {"outcome"})),
    cluster_peer_losses(reg.make_counter("djdash_cluster_peer_losses_total",
                                         "Peer node connections lost.", {})) {
  // nop
}

node_metrics_t& node_metrics() {
  static node_metrics_t instance;
  return instance;
}

} // namespace djdash::metrics
