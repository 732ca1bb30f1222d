#define CAF_SUITE protocols.metrics

#include "protocols/metrics.hpp"

#include <thread>
#include <vector>

#include "support/caf_test.hpp"

using namespace djdash::metrics;

CAF_TEST(counters render in the Prometheus text format with escaped labels) {
  registry reg;
  auto& c = reg.make_counter("t_requests_total", "Requests.", {"route", "status"});
  c.inc({"/a", "200"});
  c.inc({"/a", "200"}, 2);
  c.inc({"/b\"x", "404"});
  auto text = reg.render();
  CAF_CHECK(text.find("# HELP t_requests_total Requests.\n# TYPE t_requests_total counter\n")
            != std::string::npos);
  CAF_CHECK(text.find("t_requests_total{route=\"/a\",status=\"200\"} 3\n") != std::string::npos);
  CAF_CHECK(text.find("t_requests_total{route=\"/b\\\"x\",status=\"404\"} 1\n")
            != std::string::npos);
}

CAF_TEST(histograms are cumulative with sum and count) {
  registry reg;
  auto& h = reg.make_histogram("t_latency_seconds", "Latency.", {}, {0.1, 1});
  h.observe({}, 0.05);
  h.observe({}, 0.5);
  h.observe({}, 5);
  auto text = reg.render();
  CAF_CHECK(text.find("t_latency_seconds_bucket{le=\"0.1\"} 1\n") != std::string::npos);
  CAF_CHECK(text.find("t_latency_seconds_bucket{le=\"1\"} 2\n") != std::string::npos);
  CAF_CHECK(text.find("t_latency_seconds_bucket{le=\"+Inf\"} 3\n") != std::string::npos);
  CAF_CHECK(text.find("t_latency_seconds_count 3\n") != std::string::npos);
  CAF_CHECK(text.find("t_latency_seconds_sum 5.55\n") != std::string::npos);
}

CAF_TEST(gauges go up and down and unlabelled ones always render) {
  registry reg;
  auto& g = reg.make_gauge("t_active", "Active.", {"kind"});
  auto& q = reg.make_gauge("t_depth", "Depth.", {});
  g.add({"organization"}, 3);
  g.add({"organization"}, -1);
  CAF_CHECK_EQUAL(g.value({"organization"}), 2);
  auto text = reg.render();
  CAF_CHECK(text.find("t_active{kind=\"organization\"} 2\n") != std::string::npos);
  CAF_CHECK(text.find("t_depth 0\n") != std::string::npos);
  q.set({}, 4);
  CAF_CHECK_EQUAL(q.value({}), 4);
}

CAF_TEST(concurrent updates are not lost) {
  registry reg;
  auto& c = reg.make_counter("t_total", "T.", {"k"});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&c, t] {
      for (int i = 0; i < 10000; ++i)
        c.inc({t % 2 == 0 ? "even" : "odd"});
    });
  for (auto& t : threads)
    t.join();
  CAF_CHECK_EQUAL(c.value({"even"}) + c.value({"odd"}), 40000u);
}
