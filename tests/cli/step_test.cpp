// cli::StepTracker: what `--step` says ran between two stops. Callbacks are counted as the
// user sees them (fs.readFile is one callback, not its four internal pool steps), look-alike
// callbacks are grouped, and the count at the end agrees with the callbacks.total metric.

#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "cli/step.hpp"
#include "metrics/metric_set.hpp"
#include "runtime/runtime.hpp"
#include "script/scenario.hpp"
#include "support/runtime_helpers.hpp"
#include "support/scenario_runner.hpp"

using namespace nodelab;
using runtime::Phase;
using runtime::Runtime;
using namespace nodelab::testing;

namespace {

struct Stop {
  Phase phase;
  std::uint32_t iteration;
  cli::StepDigest since;
};

}  // namespace

TEST_CASE("StepTracker: readFile is one callback, its pool steps are internal") {
  TempFile file("hello", ".txt");
  Runtime rt;
  script::Scenario scenario;  // no sites: callbacks are labelled by kind
  cli::StepTracker tracker(scenario);
  std::vector<Stop> stops;
  rt.on_phase = [&](Phase p, std::uint32_t iteration) {
    stops.push_back({p, iteration, tracker.advance(rt.recorder())});
  };
  rt.run([&] {
    rt.read_file(
        file.path(),
        [&] {
          rt.log("read");
          for (int i = 0; i < 3; ++i)
            rt.next_tick(logger(rt, "tick"), 0);
        },
        0);
  });
  const cli::StepDigest tail = tracker.advance(rt.recorder());  // after the last stop
  metrics::MetricSet m;
  rt.collect_metrics(m);

  REQUIRE(!stops.empty());
  CHECK(stops.front().phase == Phase::main);
  CHECK(stops.front().since.callbacks == 1);
  CHECK(stops.front().since.ran == "main script");

  std::uint64_t internal = tail.internal;
  std::uint64_t visible = tail.callbacks;
  const Stop* after_read = nullptr;
  for (const auto& s : stops) {
    internal += s.since.internal;
    visible += s.since.callbacks;
    if (s.since.ran.find("fs.readFile callback") != std::string::npos) after_read = &s;
  }
  // open, fstat, read and close: four pool requests, each completed by an internal step on
  // the loop; then the one callback the user wrote.
  CHECK(internal == 4);
  REQUIRE(after_read != nullptr);
  CHECK(after_read->since.callbacks == 4);
  CHECK(after_read->since.ran == "fs.readFile callback, 3 × process.nextTick callback");
  // The count --step shows is the one the metrics print.
  CHECK(visible == 5);
  CHECK(tracker.callbacks_so_far() == 5);
  CHECK(m.get("callbacks.total").value_or(-1) == 5);
  // Quiet stops (no JS callback since the one before) are what --step folds: the pool steps
  // take several.
  std::size_t quiet = 0;
  for (const auto& s : stops)
    quiet += s.since.callbacks == 0 ? 1 : 0;
  CHECK(quiet >= 3);
}

TEST_CASE("StepTracker: many kinds are summed up past the first five") {
  Runtime rt;
  script::Scenario scenario;
  cli::StepTracker tracker(scenario);
  cli::StepDigest first;
  rt.on_phase = [&](Phase p, std::uint32_t) {
    if (p == Phase::main) first = tracker.advance(rt.recorder());
  };
  rt.run([&] {
    rt.next_tick(logger(rt, "a"), 0);
    promise(rt, logger(rt, "b"));
    rt.enqueue_microtask(logger(rt, "c"), 0, runtime::CallbackKind::queue_microtask);
    rt.enqueue_microtask(logger(rt, "d"), 0, runtime::CallbackKind::await_resume);
    rt.emit_warning("W", "w");
    rt.next_tick(logger(rt, "e"), 0);
  });
  // main, 2 ticks, promise, queueMicrotask, await, warning listener: 6 kinds, 7 callbacks.
  CHECK(first.callbacks == 7);
  CHECK(first.ran.find("2 × process.nextTick callback") != std::string::npos);
  CHECK(first.ran.find(", and 1 more callback of 1 other kind") != std::string::npos);
}
