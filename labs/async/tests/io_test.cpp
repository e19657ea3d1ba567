// The async lab's I/O pieces: the p-limit limiter (labs/async/limiter.hpp), the retry
// policies and their seeded jitter (labs/async/retry.hpp), the `downstream:` block's parsing,
// and a `calls` op run end to end against a Downstream in a thread (checked against node when
// it is on PATH). The mulberry32 vectors were printed by node v20.20.2 for twin/io.js's
// __mulberry32 (`__mulberry32(1)` and `__mulberry32((7 + Math.imul(0x9e3779b9, 3)) >>> 0)`,
// each draw times 2^32).

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "async/io_world.hpp"
#include "async/limiter.hpp"
#include "async/ops.hpp"
#include "async/retry.hpp"
#include "script/interpreter.hpp"
#include "support/scenario_runner.hpp"

using nodelab::async::Backoff;
using nodelab::async::Limiter;
using nodelab::async::Mulberry32;
using nodelab::async::RetryPolicy;
using nodelab::async::RetrySpec;

TEST_CASE("async limiter: at most `concurrency` run, the rest start in FIFO order as one ends") {
  Limiter limit(2);
  std::vector<int> started;
  for (int i = 1; i <= 5; ++i)
    limit.add([&started, i] { started.push_back(i); });
  CHECK(started == std::vector<int>{1, 2});
  CHECK(limit.active() == 2);
  CHECK(limit.pending() == 3);
  limit.done();
  CHECK(started == std::vector<int>{1, 2, 3});
  limit.done();
  limit.done();
  CHECK(started == std::vector<int>{1, 2, 3, 4, 5});
  CHECK(limit.active() == 2);
  limit.done();
  limit.done();
  CHECK(limit.active() == 0);
  CHECK(limit.active_peak() == 2);
  CHECK(limit.queue_peak() == 3);
}

TEST_CASE("async limiter: a task that settles synchronously lets the next one start") {
  Limiter limit(1);
  int ran = 0;
  for (int i = 0; i < 4; ++i)
    limit.add([&limit, &ran] {
      ++ran;
      limit.done();
    });
  CHECK(ran == 4);
  CHECK(limit.active() == 0);
  CHECK(limit.active_peak() == 1);
}

TEST_CASE("async retry: mulberry32 draws what the twin's __mulberry32 draws on node") {
  Mulberry32 a(1);
  CHECK(a.next() == 2693262067U);
  CHECK(a.next() == 11749833U);
  CHECK(a.next() == 2265367787U);
  Mulberry32 b(nodelab::async::call_seed(7, 3));
  CHECK(b.next() == 3370278241U);
  CHECK(b.next() == 2264375528U);
  CHECK(b.next() == 1596458859U);
}

TEST_CASE("async retry: immediate and exponential delays") {
  RetrySpec s;
  s.policy = RetryPolicy::immediate;
  Backoff im(s, 1);
  CHECK(im.delay_ms(1) == 0);
  CHECK(im.delay_ms(5) == 0);
  s.policy = RetryPolicy::exponential;
  s.base_ms = 100;
  s.cap_ms = 1000;
  Backoff ex(s, 1);
  CHECK(ex.delay_ms(1) == 100);
  CHECK(ex.delay_ms(2) == 200);
  CHECK(ex.delay_ms(3) == 400);
  CHECK(ex.delay_ms(4) == 800);
  CHECK(ex.delay_ms(5) == 1000);
  CHECK(ex.delay_ms(60) == 1000);
}

TEST_CASE("async retry: full jitter stays below the exponential bound, is seeded, and spreads") {
  RetrySpec s;
  s.policy = RetryPolicy::full_jitter;
  s.base_ms = 100;
  s.cap_ms = 1000;
  s.seed = 2;
  double below_half = 0, total = 0;
  for (std::uint32_t call = 1; call <= 50; ++call) {
    Backoff a(s, call), b(s, call);
    for (std::uint32_t k = 1; k <= 9; ++k) {
      const double bound = std::min(1000.0, 100.0 * (1U << (k - 1)));
      const double d = a.delay_ms(k);
      CHECK(d >= 0);
      CHECK(d < bound);
      CHECK(d == b.delay_ms(k));  // same seed and call: same delays
      if (d < bound / 2) ++below_half;
      ++total;
    }
  }
  // Uniform below the bound: about half fall in its lower half (450 draws; 5 sigma is ~0.12).
  CHECK(below_half / total > 0.35);
  CHECK(below_half / total < 0.65);
  // The calls' streams differ.
  Backoff c1(s, 1), c2(s, 2);
  bool differ = false;
  for (std::uint32_t k = 1; k <= 5; ++k)
    differ = differ || c1.delay_ms(k) != c2.delay_ms(k);
  CHECK(differ);
}

namespace {
std::string error_of(const std::string& yaml) {
  return nodelab::testing::load_error(yaml, nodelab::async::registry());
}
}  // namespace

TEST_CASE("async downstream block: fields are validated at their line and column") {
  CHECK(error_of("lab: async\nmain: []\ndownstream:\n  api: { latency: 'fixed:10', capacity: 4 }\n")
            .empty());
  CHECK(error_of("lab: async\nmain: []\ndownstream:\n  api: { capacity: -1 }\n").find("FILE:4:") ==
        0);
  CHECK(error_of("lab: async\nmain: []\ndownstream:\n  api: { latency: 'slow' }\n")
            .find("`latency` of `downstream.api`: ") != std::string::npos);
  CHECK(error_of("lab: async\nmain: []\ndownstream:\n  api: { slow_start_ms: 100 }\n")
            .find("needs `capacity`") != std::string::npos);
  CHECK(error_of("lab: async\nmain: []\ndownstream:\n  api: { error_rate: 2 }\n").find("FILE:4:") ==
        0);
  CHECK(
      error_of("lab: async\nmain:\n  - calls: { service: db, count: 1 }\ndownstream:\n  api: {}\n")
          .find("FILE:3:23: no service 'db'") == 0);
  CHECK(error_of("lab: async\nmain:\n  - calls: { service: api, count: 2, fail: { calls: [3] } }\n"
                 "downstream:\n  api: {}\n")
            .find("call 3 is not in 1..2") != std::string::npos);
}

TEST_CASE("async calls: Promise.all rejects at the first failure and the others still complete") {
  const std::string yaml = R"(lab: async
downstream:
  api: { latency: "fixed:200" }
main:
  - calls: { service: api, count: 4, form: all, fail: { calls: [2], status: 500, ms: 5 } }
)";
  nodelab::testing::RunOptions o;
  nodelab::metrics::MetricSet m;
  o.inspect = [&m](nodelab::script::Interpreter& interp, nodelab::runtime::Runtime&,
                   nodelab::testing::RunOutput&) {
    interp.extension<nodelab::async::IoWorld>().collect(m);
  };
  const auto out = nodelab::testing::run_yaml(yaml, nodelab::async::registry(), o);
  CHECK(out.lines == std::vector<std::string>{"Promise.all rejected: Error: HTTP 500",
                                              "after the caller gave up: 3 responses still "
                                              "completed"});
  CHECK(out.loop_closed_cleanly);
  CHECK(m.get("downstream.completed") == 4);
  CHECK(m.get("wasted.lateResponses") == 3);
  CHECK(m.get("requests.inFlightPeak") == 4);
  if (nodelab::testing::node_available()) {
    const auto node =
        nodelab::testing::run_node(nodelab::testing::twin_of(yaml, nodelab::async::registry()));
    CHECK(node.lines == out.lines);
    CHECK(node.exit_code == 0);
  }
}
