// The verdict after a run (report::diagnose; scenarios/event-loop/README.md, "Diagnosis"):
// each threshold checked at its boundary on hand-built metric sets, then one real run per
// verdict. The thresholds are Clinic.js Doctor's (analysis/analyse-delay.js: median delay
// >= 10 ms or max >= 100 ms) applied to lateness beyond the sampling interval, plus this
// project's ELU >= 0.95 over >= 50 ms of loop and a pool job queued behind busy threads that
// waited >= 10 ms.

#include "report/diagnosis.hpp"

#include <doctest/doctest.h>

#include <optional>
#include <string>
#include <vector>

#include "metrics/metric_set.hpp"
#include "runtime/runtime.hpp"
#include "support/scenario_runner.hpp"

using namespace nodelab;
using nodelab::testing::run_yaml;

namespace {

constexpr const char* kBlocked = "event loop blocked";
constexpr const char* kStarved = "event loop blocked: starved by a nextTick/microtask chain";
constexpr const char* kCpuBound = "CPU-bound on the loop";
constexpr const char* kSaturated = "threadpool saturated";

// What a healthy run of a few hundred ms measures: samples near the 10 ms interval, timers
// on time, a mostly idle loop, no wait for a pool thread.
metrics::MetricSet healthy() {
  metrics::MetricSet m;
  m.set("eventLoopDelay.resolution_ms", 10.0);
  m.set("eventLoopDelay.p50_ms", 10.1);
  m.set("eventLoopDelay.max_ms", 11.5);
  m.set("timerDrift.max_ms", 1.2);
  m.set("drain.max_ms", 0.05);
  m.set("eventLoopUtilization.utilization", 0.05);
  m.set("eventLoopUtilization.active_ms", 15.0);
  m.set("eventLoopUtilization.idle_ms", 285.0);
  m.set("threadpool.size", 4.0);
  m.set("threadpool.queueWait.max_ms", 0.1);
  return m;
}

// `healthy()` with one figure changed.
metrics::MetricSet healthy_with(const std::string& path, std::optional<double> value) {
  metrics::MetricSet m = healthy();
  m.set(path, value);
  return m;
}

std::vector<std::string> verdicts(const metrics::MetricSet& m) {
  std::vector<std::string> out;
  for (const auto& f : report::diagnose(m))
    out.push_back(f.verdict);
  return out;
}

std::vector<std::string> verdicts_of(const std::vector<report::Finding>& findings) {
  std::vector<std::string> out;
  for (const auto& f : findings)
    out.push_back(f.verdict);
  return out;
}

bool has_verdict(const std::vector<std::string>& vs, const std::string& v) {
  for (const auto& x : vs) {
    if (x == v) return true;
  }
  return false;
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace

using Verdicts = std::vector<std::string>;

TEST_CASE("diagnosis.healthy_run_has_no_finding") {
  CHECK(report::diagnose(healthy()).empty());
  // An empty set (nothing measured at all) is not a problem either.
  CHECK(report::diagnose(metrics::MetricSet{}).empty());
}

TEST_CASE("diagnosis.eld_median_lateness_threshold_is_10ms_beyond_the_interval") {
  // Node's samples include the 10 ms interval: p50 19.99 is 9.99 ms of lateness, below
  // Clinic's 10 ms median threshold ...
  CHECK(verdicts(healthy_with("eventLoopDelay.p50_ms", 19.99)).empty());
  // ... and p50 20 is exactly 10 ms late: blocked.
  CHECK(verdicts(healthy_with("eventLoopDelay.p50_ms", 20.0)) == Verdicts{kBlocked});

  // At a 1 ms resolution only 1 ms is subtracted: p50 10.99 is 9.99 late, p50 11 is 10.
  metrics::MetricSet fine = healthy_with("eventLoopDelay.resolution_ms", 1.0);
  fine.set("eventLoopDelay.p50_ms", 10.99);
  CHECK(verdicts(fine).empty());
  fine.set("eventLoopDelay.p50_ms", 11.0);
  CHECK(verdicts(fine) == Verdicts{kBlocked});

  // A raw p50 of 15 ms would be "blocked" if the interval were not subtracted.
  CHECK(verdicts(healthy_with("eventLoopDelay.p50_ms", 15.0)).empty());
}

TEST_CASE("diagnosis.eld_max_lateness_threshold_is_100ms_beyond_the_interval") {
  // max 109.9 at a 10 ms interval is 99.9 ms late: below Clinic's 100 ms max threshold.
  CHECK(verdicts(healthy_with("eventLoopDelay.max_ms", 109.9)).empty());
  // max 110 is 100 ms late: blocked.
  const auto findings = report::diagnose(healthy_with("eventLoopDelay.max_ms", 110.0));
  REQUIRE(findings.size() == 1);
  CHECK(findings[0].verdict == kBlocked);
  // The evidence quotes the lateness (interval subtracted), not the raw sample.
  CHECK(contains(findings[0].evidence, "max 100.0 ms"));
  CHECK(contains(findings[0].evidence, "beyond its 10 ms interval"));
  CHECK_FALSE(findings[0].mitigation.empty());
}

TEST_CASE("diagnosis.missing_resolution_defaults_to_10ms") {
  // Without eventLoopDelay.resolution_ms, 10 ms (monitorEventLoopDelay's default) is
  // subtracted: the same boundary as with it.
  metrics::MetricSet m = healthy();
  m.set("eventLoopDelay.resolution_ms", std::nullopt);
  m.set("eventLoopDelay.p50_ms", 19.99);
  CHECK(verdicts(m).empty());
  m.set("eventLoopDelay.p50_ms", 20.0);
  CHECK(verdicts(m) == Verdicts{kBlocked});
}

TEST_CASE("diagnosis.timer_drift_of_100ms_is_blocked") {
  // A timer 99.9 ms late is under the 100 ms max threshold ...
  CHECK(verdicts(healthy_with("timerDrift.max_ms", 99.9)).empty());
  // ... 100 ms late is blocked, even when the sampler saw nothing (a short run can block
  // before the eventLoopDelay timer ever ticks).
  metrics::MetricSet m = healthy_with("timerDrift.max_ms", 100.0);
  m.set("eventLoopDelay.p50_ms", std::nullopt);
  m.set("eventLoopDelay.max_ms", std::nullopt);
  const auto findings = report::diagnose(m);
  REQUIRE(findings.size() == 1);
  CHECK(findings[0].verdict == kBlocked);
  // With no sampler figures the evidence is only the timers'.
  CHECK(findings[0].evidence == "timers up to 100.0 ms late");
}

TEST_CASE("diagnosis.a_100ms_drain_names_the_nexttick_microtask_chain") {
  metrics::MetricSet m = healthy_with("eventLoopDelay.max_ms", 250.0);
  // A blocked loop whose longest drain is 99.9 ms: the plain verdict, with the chunking
  // mitigation.
  m.set("drain.max_ms", 99.9);
  auto findings = report::diagnose(m);
  REQUIRE(findings.size() == 1);
  CHECK(findings[0].verdict == kBlocked);
  CHECK(contains(findings[0].mitigation, "setImmediate"));
  // One drain of 100 ms: the blocking was a nextTick/microtask chain, and the mitigation
  // says to re-schedule it with setImmediate.
  m.set("drain.max_ms", 100.0);
  findings = report::diagnose(m);
  REQUIRE(findings.size() == 1);
  CHECK(findings[0].verdict == kStarved);
  CHECK(contains(findings[0].evidence, "one drain ran 100.0 ms"));
  CHECK(contains(findings[0].mitigation, "setImmediate"));
  // The drain only qualifies a blocked loop ("the above, and one drain lasted >= 100 ms"):
  // on its own, with the sampler and the timers healthy, it is no finding.
  CHECK(verdicts(healthy_with("drain.max_ms", 500.0)).empty());
}

TEST_CASE("diagnosis.elu_095_needs_50ms_of_loop") {
  metrics::MetricSet m = healthy();
  m.set("eventLoopUtilization.utilization", 0.95);
  // 47.5 ms active + 2.5 ms idle: 50 ms of loop at 0.95, CPU-bound.
  m.set("eventLoopUtilization.active_ms", 47.5);
  m.set("eventLoopUtilization.idle_ms", 2.5);
  const auto findings = report::diagnose(m);
  REQUIRE(findings.size() == 1);
  CHECK(findings[0].verdict == kCpuBound);
  CHECK(findings[0].evidence == "eventLoopUtilization 0.950 over 50 ms");
  // The same ratio over 40 ms of loop says little (a short run is mostly start-up): no
  // finding.
  m.set("eventLoopUtilization.active_ms", 38.0);
  m.set("eventLoopUtilization.idle_ms", 2.0);
  CHECK(verdicts(m).empty());
  // Just under the ratio over a long loop: no finding.
  m.set("eventLoopUtilization.utilization", 0.949);
  m.set("eventLoopUtilization.active_ms", 949.0);
  m.set("eventLoopUtilization.idle_ms", 51.0);
  CHECK(verdicts(m).empty());
}

TEST_CASE("diagnosis.saturation_is_a_job_queued_behind_busy_threads_not_a_long_wait") {
  // A long wait alone (threads starting up, a loop busy elsewhere) is not saturation.
  metrics::MetricSet idle = healthy_with("threadpool.queueWait.max_ms", 500.0);
  idle.set("threadpool.saturated.tasks", 0.0);
  idle.set("threadpool.saturated.wait_max_ms", std::nullopt);
  CHECK(verdicts(idle).empty());
  // Jobs queued while every thread had one, and waited >= 10 ms: saturated.
  metrics::MetricSet busy = healthy();
  busy.set("threadpool.saturated.tasks", 2.0);
  busy.set("threadpool.saturated.wait_max_ms", 9.99);
  CHECK(verdicts(busy).empty());  // a wait too short to matter
  busy.set("threadpool.saturated.wait_max_ms", 10.0);
  const auto findings = report::diagnose(busy);
  REQUIRE(findings.size() == 1);
  CHECK(findings[0].verdict == kSaturated);
  CHECK(findings[0].evidence ==
        "2 pool job(s) queued while all 4 threads were busy; the longest waited 10.0 ms");
  CHECK(contains(findings[0].mitigation, "UV_THREADPOOL_SIZE"));
}

TEST_CASE("diagnosis.a_lab_verdict_comes_first_and_a_stepped_run_has_no_timing_verdict") {
  metrics::MetricSet m = healthy();
  m.set("eventLoopDelay.max_ms", 300.0);  // blocked, as a --step pause would make it look
  const report::LabDiagnosis lab = [](const metrics::MetricSet&) {
    return std::vector<report::Finding>{{"listener leak", "e", "m"},
                                        {"tasks waited", "e", "m", true}};
  };
  CHECK(verdicts_of(report::diagnose(m, lab)) ==
        Verdicts{"listener leak", "tasks waited", kBlocked});
  // Without timing: only what elapsed time cannot fake.
  CHECK(verdicts_of(report::diagnose(m, lab, false)) == Verdicts{"listener leak"});
}

TEST_CASE("diagnosis.findings_come_in_a_fixed_order") {
  // Everything wrong at once: blocked, then CPU-bound, then saturated.
  metrics::MetricSet m = healthy();
  m.set("eventLoopDelay.max_ms", 300.0);
  m.set("eventLoopUtilization.utilization", 0.99);
  m.set("eventLoopUtilization.active_ms", 990.0);
  m.set("eventLoopUtilization.idle_ms", 10.0);
  m.set("threadpool.saturated.tasks", 1.0);
  m.set("threadpool.saturated.wait_max_ms", 50.0);
  CHECK(verdicts(m) == Verdicts{kBlocked, kCpuBound, kSaturated});
}

TEST_CASE("diagnosis.missing_metrics_never_trigger") {
  // A metric present but not measurable in the run (no samples: nullopt) counts as nothing,
  // whatever the rest says.
  metrics::MetricSet m;
  for (const char* path :
       {"eventLoopDelay.resolution_ms", "eventLoopDelay.p50_ms", "eventLoopDelay.max_ms",
        "timerDrift.max_ms", "drain.max_ms", "eventLoopUtilization.utilization",
        "eventLoopUtilization.active_ms", "eventLoopUtilization.idle_ms", "threadpool.size",
        "threadpool.queueWait.max_ms", "threadpool.saturated.tasks",
        "threadpool.saturated.wait_max_ms"}) {
    m.set(path, std::nullopt);
  }
  CHECK(report::diagnose(m).empty());
  // A huge drain without any figure of the loop being late is not a finding.
  m.set("drain.max_ms", 1000.0);
  CHECK(report::diagnose(m).empty());
  // A utilization of 1 with no measured loop time is not enough.
  m.set("eventLoopUtilization.utilization", 1.0);
  CHECK(report::diagnose(m).empty());
  // A pool size but no wait: nothing.
  m.set("threadpool.size", 1.0);
  CHECK(report::diagnose(m).empty());
}

// ---- one real run per verdict ----

TEST_CASE("diagnosis.a_150ms_block_in_a_callback_is_blocked") {
  // The sampler ticks at ~10 and ~20 ms; the 30 ms timer then blocks for 150 ms. The
  // 1 ms timer set after the block keeps the loop alive, so the sampler's next tick (overdue
  // since ~40 ms, ahead of the new timer in libuv's heap) records one gap spanning the block.
  const auto out = run_yaml(R"(lab: event-loop
main:
  - setTimeout:
      ms: 30
      then:
        - block: { ms: 150 }
        - setTimeout: { ms: 1, then: [ { log: after } ] }
)");
  REQUIRE(out.result.outcome == runtime::Outcome::completed);
  CHECK(out.loop_closed_cleanly);
  const auto max = out.metrics.get("eventLoopDelay.max_ms");
  REQUIRE(max.has_value());
  // One sample covers the whole block (plus the interval).
  CHECK(*max >= 150.0);
  const auto findings = report::diagnose(out.metrics);
  REQUIRE_FALSE(findings.empty());
  // The block was in a timer callback, not a drain: the plain verdict, first.
  CHECK(findings[0].verdict == kBlocked);
  CHECK_FALSE(has_verdict(verdicts_of(findings), kStarved));
}

TEST_CASE("diagnosis.four_long_pool_tasks_and_a_read_is_saturated") {
  // One 300 ms task per pool thread (4 by default), then a readFile: its open request waits
  // in libuv's FIFO queue until a task ends, ~300 ms.
  const unsigned pool = runtime::threadpool_size();
  if (pool > 16) {
    MESSAGE("UV_THREADPOOL_SIZE=" << pool << ": too many threads to saturate in a unit test");
    return;
  }
  const auto out =
      run_yaml("lab: event-loop\nmain:\n  - repeat:\n      times: " + std::to_string(pool) +
               "\n      do: [ { threadpool: { ms: 300 } } ]\n"
               "  - readFile: { then: [ { log: read } ] }\n");
  REQUIRE(out.result.outcome == runtime::Outcome::completed);
  CHECK(out.loop_closed_cleanly);
  CHECK(out.lines == std::vector<std::string>{"read"});
  const auto wait = out.metrics.get("threadpool.queueWait.max_ms");
  REQUIRE(wait.has_value());
  // Far above the 10 ms threshold; a slow machine only makes it longer.
  CHECK(*wait >= 100.0);
  // The open was queued while every thread had a task (whatever the machine's speed: the tasks
  // are 300 ms and the main script queues the read right after them); its fstat, read and
  // close follow on a freed thread, behind nothing.
  CHECK(out.metrics.get("threadpool.saturated.tasks") == 1.0);
  // The loop itself idled while the pool worked; other verdicts may join on a loaded
  // machine, so only this one is required.
  CHECK(has_verdict(verdicts_of(report::diagnose(out.metrics)), kSaturated));
}

TEST_CASE("diagnosis.one_read_on_an_idle_pool_is_never_saturated") {
  // io-immediate-first's shape: one readFile, four idle threads (still starting up, which can
  // take long on a loaded machine). Its four requests run one after another: none is ever
  // queued behind a busy thread, so no verdict, however long the first one waited.
  const auto out = run_yaml(R"(lab: event-loop
main:
  - readFile:
      then:
        - setTimeout: { ms: 0, then: [ { log: timeout } ] }
        - setImmediate: { then: [ { log: immediate } ] }
)");
  REQUIRE(out.result.outcome == runtime::Outcome::completed);
  CHECK(out.lines == std::vector<std::string>{"immediate", "timeout"});
  CHECK(out.metrics.get("threadpool.tasks") == 4.0);
  CHECK(out.metrics.get("threadpool.saturated.tasks") == 0.0);
  CHECK_FALSE(has_verdict(verdicts_of(report::diagnose(out.metrics)), kSaturated));
}

TEST_CASE("diagnosis.an_idle_scenario_has_no_finding") {
  // A few timers and an immediate with nothing to do: every figure near its floor.
  const auto out = run_yaml(R"(lab: event-loop
main:
  - setTimeout: { ms: 30, then: [ { log: a } ] }
  - setTimeout: { ms: 60, then: [ { log: b } ] }
  - setImmediate: { then: [ { log: c } ] }
)");
  REQUIRE(out.result.outcome == runtime::Outcome::completed);
  CHECK(out.loop_closed_cleanly);
  CHECK(out.lines == std::vector<std::string>{"c", "a", "b"});
  CHECK(report::diagnose(out.metrics).empty());
}

TEST_CASE("diagnosis.a_loop_busy_by_the_labs_own_driver_is_not_cpu_bound") {
  // The emitter's requests run back to back: ELU 1 is the driver's, not the lesson's.
  metrics::MetricSet m = healthy();
  m.set("eventLoopUtilization.utilization", 1.0);
  m.set("eventLoopUtilization.active_ms", 500.0);
  m.set("eventLoopUtilization.idle_ms", 0.0);
  CHECK(verdicts(m) == Verdicts{kCpuBound});
  CHECK(report::diagnose(m, {}, true, true).empty());
}
