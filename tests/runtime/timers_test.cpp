// The runtime's timers, through the C++ API (lib/internal/timers.js semantics, one
// uv_timer_t, duration-keyed FIFO lists). Expected orders were checked on node v20.20.2
// with hand-written JS twins (shown above each test).

#include <doctest/doctest.h>

#include <chrono>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "metrics/metric_set.hpp"
#include "runtime/runtime.hpp"
#include "support/runtime_helpers.hpp"

using namespace nodelab;
using runtime::CallbackKind;
using runtime::CallbackRecord;
using runtime::Phase;
using runtime::Runtime;
using namespace std::chrono_literals;
using namespace nodelab::testing;

// node:  setTimeout(A, 1); setTimeout(B, 0); setTimeout(C, NaN); setTimeout(D, 1.9);
//        setTimeout(E, -5); setTimeout(G, 2); busy(10)   ->  A B C D E G
TEST_CASE("timers.zero_negative_nan_and_fractional_ms_share_the_1ms_list") {
  runtime::Watchdog wd(20s);
  Runtime rt;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  rt.run([&] {
    rt.set_timeout(1, logger(rt, "A 1"), 0);
    rt.set_timeout(0, logger(rt, "B 0"), 0);
    rt.set_timeout(nan, logger(rt, "C NaN"), 0);
    rt.set_timeout(1.9, logger(rt, "D 1.9"), 0);
    rt.set_timeout(-5, logger(rt, "E -5"), 0);
    rt.set_timeout(2, logger(rt, "G 2"), 0);
    rt.busy_wait(10ms);  // everything is due when the loop starts
  });
  // 0, NaN and -5 are coerced to 1 and 1.9 is truncated to the 1 ms list key
  // (docs/node-semantics.md §2.1 "Coercion"); one list is FIFO, so insertion order wins, and the
  // whole 1 ms list (created first, lower id) runs before the 2 ms list.
  CHECK(log_texts(rt) == std::vector<std::string>{"A 1", "B 0", "C NaN", "D 1.9", "E -5", "G 2"});
  // No warning: only values above 2^31-1 warn.
  for (const auto& l : rt.recorder().logs())
    CHECK(l.text.find("warning") == std::string::npos);
  // They all ran in one timers phase of one iteration.
  const CallbackRecord* a = logged_by(rt, "A 1");
  const CallbackRecord* g = logged_by(rt, "G 2");
  REQUIRE(a != nullptr);
  REQUIRE(g != nullptr);
  CHECK(a->phase == Phase::timers);
  CHECK(a->kind == CallbackKind::timeout);
  CHECK(g->iteration == a->iteration);
  CHECK(rt.shutdown() == 0);
}

TEST_CASE("timers.zero_ms_fires_only_after_a_millisecond") {
  runtime::Watchdog wd(20s);
  Runtime rt;
  runtime::Nanos scheduled{0};
  rt.run([&] {
    scheduled = runtime::hrtime();
    rt.set_timeout(0, logger(rt, "zero"), 0);
  });
  const CallbackRecord* z = logged_by(rt, "zero");
  REQUIRE(z != nullptr);
  // setTimeout(0) is setTimeout(1) (docs/node-semantics.md §2.1): a timer with a due time that
  // never starts before it.
  REQUIRE(z->due.count() >= 0);
  CHECK(z->start >= z->due);
  CHECK(z->phase == Phase::timers);
  CHECK(rt.shutdown() == 0);
}

// node:  process.on('warning', w => console.log('warning: ' + w.name + ': ' + w.message));
//        process.nextTick(tick1); setTimeout(H, 2**31); process.nextTick(tick2); log(sync)
//        -> sync, tick1, warning: TimeoutOverflowWarning: 2147483648 does not fit ...
//           Timeout duration was set to 1., tick2, H
TEST_CASE("timers.overflow_becomes_1ms_and_warns_on_next_tick") {
  runtime::Watchdog wd(20s);
  Runtime rt;
  rt.run([&] {
    rt.next_tick(logger(rt, "tick1"), 0);
    rt.set_timeout(2147483648.0, logger(rt, "H 2**31"), 0);
    rt.set_timeout(1, logger(rt, "A 1"), 0);
    rt.next_tick(logger(rt, "tick2"), 0);
    rt.log("sync");
  });
  const std::string warning =
      "warning: TimeoutOverflowWarning: 2147483648 does not fit into a 32-bit signed "
      "integer.\nTimeout duration was set to 1.";
  // process.emitWarning delivers on process.nextTick (lib/internal/process/warning.js), so
  // the warning comes after the tick main queued before the setTimeout, and before the one
  // queued after it. The timer itself is in the 1 ms list, ahead of A (FIFO).
  CHECK(log_texts(rt) ==
        std::vector<std::string>{"sync", "tick1", warning, "tick2", "H 2**31", "A 1"});
  const CallbackRecord* w = logged_by(rt, warning);
  REQUIRE(w != nullptr);
  CHECK(w->kind == CallbackKind::warning);
  CHECK(w->phase == Phase::next_tick);
  CHECK(rt.shutdown() == 0);
}

// node: setTimeout(f, Infinity) and setTimeout(f, 3000000000.5) warn with String(after).
TEST_CASE("timers.overflow_warning_prints_the_value_as_javascript_does") {
  runtime::Watchdog wd(20s);
  Runtime rt;
  rt.run([&] {
    rt.set_timeout(std::numeric_limits<double>::infinity(), logger(rt, "inf"), 0);
    rt.set_timeout(3000000000.5, logger(rt, "frac"), 0);
    // 2^31-1 is the largest value that does not warn (it is a real 24.8-day timer).
    const runtime::TimerId max = rt.set_timeout(2147483647.0, logger(rt, "max"), 0);
    rt.clear_timer(max);
  });
  const std::string tail =
      " does not fit into a 32-bit signed integer.\nTimeout duration was set to 1.";
  CHECK(log_texts(rt) ==
        std::vector<std::string>{"warning: TimeoutOverflowWarning: Infinity" + tail,
                                 "warning: TimeoutOverflowWarning: 3000000000.5" + tail, "inf",
                                 "frac"});
  CHECK(rt.shutdown() == 0);
}

// node:  setTimeout(X, 1); setTimeout(Z, 20); busy(40); setTimeout(Y, 1); busy(20)
//        -> X Y Z
TEST_CASE("timers.a_due_list_drains_before_a_later_list_that_expired_earlier") {
  runtime::Watchdog wd(20s);
  Runtime rt;
  rt.run([&] {
    rt.set_timeout(1, logger(rt, "X"), 0);
    rt.set_timeout(20, logger(rt, "Z"), 0);
    rt.busy_wait(40ms);
    rt.set_timeout(1, logger(rt, "Y"), 0);  // appended to the existing 1 ms list (expiry ~1)
    rt.busy_wait(20ms);
  });
  // The list quirk of docs/node-semantics.md §2.1: lists are ordered by (expiry, id) and each is
  // drained completely, so Y (expiry ~41) runs with its list before Z (expiry ~20). A single
  // min-heap of timers would give X Z Y.
  CHECK(log_texts(rt) == std::vector<std::string>{"X", "Y", "Z"});
  CHECK(rt.shutdown() == 0);
}

// node (§2.3 demo): two timeouts and two immediates, each queueing a tick and a promise;
// busy(3) -> timeout1 tick1 promise1 timeout2 tick2 promise2 immediate1 tick3 promise3
//            immediate2 tick4 promise4
TEST_CASE("timers.ticks_and_microtasks_drain_between_timers") {
  runtime::Watchdog wd(20s);
  Runtime rt;
  auto macrotask = [&](std::string name, std::string tick, std::string promise) {
    return [&rt, name, tick, promise] {
      rt.log(name);
      rt.next_tick(logger(rt, tick), 0);
      rt.enqueue_microtask(logger(rt, promise), 0, CallbackKind::promise);
    };
  };
  rt.run([&] {
    rt.set_timeout(0, macrotask("timeout1", "tick1", "promise1"), 0);
    rt.set_timeout(0, macrotask("timeout2", "tick2", "promise2"), 0);
    rt.set_immediate(macrotask("immediate1", "tick3", "promise3"), 0);
    rt.set_immediate(macrotask("immediate2", "tick4", "promise4"), 0);
    rt.busy_wait(3ms);  // both timers are due when the loop starts
  });
  // Since Node 11 (nodejs/node#22842) ticks and microtasks drain after each timer and each
  // immediate, not after the whole phase (docs/node-semantics.md §2.3).
  CHECK(log_texts(rt) == std::vector<std::string>{"timeout1", "tick1", "promise1", "timeout2",
                                                  "tick2", "promise2", "immediate1", "tick3",
                                                  "promise3", "immediate2", "tick4", "promise4"});
  // The drained callbacks are attributed to the macrotask whose drain ran them.
  const CallbackRecord* t1 = logged_by(rt, "timeout1");
  const CallbackRecord* tick1 = logged_by(rt, "tick1");
  const CallbackRecord* p1 = logged_by(rt, "promise1");
  REQUIRE(t1 != nullptr);
  REQUIRE(tick1 != nullptr);
  REQUIRE(p1 != nullptr);
  CHECK(tick1->phase == Phase::next_tick);
  CHECK(p1->phase == Phase::microtask);
  CHECK(tick1->drained_by == t1->id);
  CHECK(p1->drained_by == t1->id);
  CHECK(tick1->parent == t1->id);
  CHECK(rt.shutdown() == 0);
}

TEST_CASE("timers.interval_rearms_from_the_callback_start_and_clears_itself") {
  runtime::Watchdog wd(20s);
  Runtime rt;
  constexpr int kRuns = 4;
  std::vector<runtime::Nanos> starts;
  std::vector<runtime::Nanos> ends;
  int runs = 0;
  runtime::TimerId id = 0;
  rt.run([&] {
    id = rt.set_interval(
        150,
        [&] {
          starts.push_back(runtime::hrtime());
          ++runs;
          if (runs == 2) rt.busy_wait(200ms);  // a callback that overruns the interval
          if (runs == kRuns) rt.clear_timer(id);
          ends.push_back(runtime::hrtime());
        },
        0);
  });
  // clearInterval inside its own callback: exactly kRuns runs, and the loop then exits.
  CHECK(runs == kRuns);
  REQUIRE(starts.size() == static_cast<std::size_t>(kRuns));
  // Never early: each start is at least one interval after the previous start (2 ms of
  // allowance: the loop clock is whole milliseconds, and may be the coarse clock).
  for (int i = 1; i < kRuns; ++i)
    CHECK(starts[i] - starts[i - 1] >= 148ms);
  // listOnTimeout takes `start = getLibuvNow()` before the callback and re-inserts from it
  // (docs/node-semantics.md §2.1 "setInterval drift"): run 2 took 200 ms > 150 ms, so run 3 is
  // already due when run 2 returns and follows at once. Re-arming from the callback's end
  // would put run 3 at least 150 ms after run 2 ended.
  CHECK(starts[2] - ends[1] < 140ms);
  for (const auto& c : rt.recorder().callbacks()) {
    if (c.kind == CallbackKind::interval) CHECK(c.phase == Phase::timers);
  }
  CHECK(rt.shutdown() == 0);
}

TEST_CASE("timers.interval_below_one_ms_is_coerced_like_a_timeout") {
  runtime::Watchdog wd(20s);
  Runtime rt;
  int runs = 0;
  runtime::TimerId id = 0;
  rt.run([&] {
    id = rt.set_interval(
        0,
        [&] {
          if (++runs == 5) rt.clear_timer(id);
        },
        0);
  });
  // setInterval(f, 0) repeats every 1 ms rather than spinning in one timers phase: each run
  // is in a later iteration than the one before.
  CHECK(runs == 5);
  std::vector<std::uint32_t> iterations;
  for (const auto& c : rt.recorder().callbacks()) {
    if (c.kind == CallbackKind::interval) iterations.push_back(c.iteration);
  }
  REQUIRE(iterations.size() == 5);
  for (std::size_t i = 1; i < iterations.size(); ++i)
    CHECK(iterations[i] > iterations[i - 1]);
  CHECK(rt.shutdown() == 0);
}

// node:  const a = setTimeout(() => { log a; clearTimeout(a); setTimeout(later, 30) }, 1);
//        setTimeout(() => { log b; clearTimeout(a); clearTimeout(a); clearTimeout(12345);
//                           setTimeout(after b, 1) }, 10)
//        -> a b after b later
TEST_CASE("timers.clearing_a_fired_or_unknown_id_is_a_no_op") {
  runtime::Watchdog wd(20s);
  Runtime rt;
  runtime::TimerId a = 0;
  rt.run([&] {
    a = rt.set_timeout(
        1,
        [&] {
          rt.log("a");
          rt.clear_timer(a);  // clearTimeout on itself while it runs
          rt.set_timeout(30, logger(rt, "later"), 0);
        },
        0);
    rt.set_timeout(
        10,
        [&] {
          rt.log("b");
          rt.clear_timer(a);  // already fired
          rt.clear_timer(a);
          rt.clear_timer(12345);  // never existed
          rt.set_timeout(1, logger(rt, "after b"), 0);
        },
        0);
  });
  // Clearing a fired timer must not decrement the ref count again: if it did, the single
  // uv timer would be unref'd and the loop would exit before "later" (30 ms) is due.
  CHECK(log_texts(rt) == std::vector<std::string>{"a", "b", "after b", "later"});
  CHECK(rt.shutdown() == 0);
}

TEST_CASE("timers.clear_before_firing_cancels_and_lets_the_loop_exit") {
  runtime::Watchdog wd(20s);
  Runtime rt;
  const auto t0 = runtime::hrtime();
  rt.run([&] {
    const runtime::TimerId long_one = rt.set_timeout(10'000, logger(rt, "never"), 0);
    const runtime::TimerId frac = rt.set_timeout(2.5, logger(rt, "never either"), 0);
    rt.set_timeout(
        1, [&rt, long_one] { rt.clear_timer(long_one); }, 0);
    rt.clear_timer(frac);
  });
  CHECK(rt.recorder().logs().empty());
  // The 10 s timer was cleared from a callback: nothing keeps the loop alive any more.
  CHECK(runtime::hrtime() - t0 < 5s);
  CHECK(rt.shutdown() == 0);
}

TEST_CASE("timers.timer_drift_covers_the_block_that_delayed_it") {
  runtime::Watchdog wd(20s);
  Runtime rt;
  rt.run([&] {
    rt.set_timeout(1, logger(rt, "late"), 0);
    rt.busy_wait(100ms);
  });
  metrics::MetricSet m;
  rt.collect_metrics(m);
  REQUIRE(m.get("timerDrift.count").has_value());
  CHECK(*m.get("timerDrift.count") == 1.0);
  // Due 1 ms after it was set (its start is the truncated loop time, so due is if anything
  // earlier), fired only after the 100 ms block: at least 99 ms late.
  REQUIRE(m.get("timerDrift.max_ms").has_value());
  CHECK(*m.get("timerDrift.max_ms") >= 99.0);
  CHECK(*m.get("timerDrift.min_ms") == *m.get("timerDrift.max_ms"));
  // The record tells the same story.
  const CallbackRecord* late = logged_by(rt, "late");
  REQUIRE(late != nullptr);
  CHECK(late->start - late->due >= 99ms);
  CHECK(rt.shutdown() == 0);
}

TEST_CASE("timers.no_timers_means_no_drift_samples") {
  Runtime rt;
  rt.run([&] { rt.log("only main"); });
  metrics::MetricSet m;
  rt.collect_metrics(m);
  CHECK(m.get("timerDrift.count") == 0.0);
  // Not measured: null in --json, "n/a" in the report, "not measured" for expect.
  CHECK(m.has("timerDrift.max_ms"));
  CHECK_FALSE(m.get("timerDrift.max_ms").has_value());
  CHECK(rt.shutdown() == 0);
}

TEST_CASE("timers.event_loop_delay_includes_the_interval_and_the_block") {
  runtime::Watchdog wd(20s);
  Runtime rt;
  rt.run([&] {
    // 50 ms of idle loop (several 10 ms samples), a 100 ms block, then 50 ms idle again.
    // The block is in the check phase: a block inside a timer callback would leave libuv's
    // cached loop time stale for the monitor's own uv_timer_again() in the same timers phase
    // (Node's RunTimers refreshes it only before running JS), and the next sample would then
    // be ~0 ms.
    rt.set_timeout(
        50, [&] { rt.set_immediate([&] { rt.busy_wait(100ms); }, 0); }, 0);
    rt.set_timeout(
        200, [] {}, 0);
  });
  metrics::MetricSet m;
  rt.collect_metrics(m);
  CHECK(m.get("eventLoopDelay.resolution_ms") == 10.0);
  REQUIRE(m.get("eventLoopDelay.count").has_value());
  CHECK(*m.get("eventLoopDelay.count") >= 3.0);
  // monitorEventLoopDelay samples the time between ticks of a repeating 10 ms timer, so
  // even an idle loop reports about the resolution, never ~0 (docs/node-semantics.md §8: idle
  // min 10.08-10.13 ms). Half the resolution as the bound: the loop clock is whole
  // milliseconds and a loaded machine can preempt the loop thread mid-phase.
  CHECK(*m.get("eventLoopDelay.min_ms") >= 5.0);
  // ... and one long block is one long sample (no catch-up ticks).
  CHECK(*m.get("eventLoopDelay.max_ms") >= 100.0);
  CHECK(*m.get("eventLoopDelay.p50_ms") < *m.get("eventLoopDelay.max_ms"));
  // performance.eventLoopUtilization(): the block is active time, the waits in poll idle.
  CHECK(*m.get("eventLoopUtilization.active_ms") >= 100.0);
  CHECK(*m.get("eventLoopUtilization.idle_ms") > 30.0);
  const double u = *m.get("eventLoopUtilization.utilization");
  CHECK(u > 0.3);
  CHECK(u < 1.0);
  CHECK(rt.shutdown() == 0);
}

TEST_CASE("timers.a_short_run_has_no_delay_samples") {
  Runtime rt;
  rt.run([&] { rt.log("main only"); });
  metrics::MetricSet m;
  rt.collect_metrics(m);
  // The loop starts and stops at once after main: not one 10 ms monitor tick, so no sample.
  CHECK(m.get("eventLoopDelay.count") == 0.0);
  CHECK_FALSE(m.get("eventLoopDelay.max_ms").has_value());
  CHECK(m.get("logs.lines") == 1.0);
  CHECK(m.get("callbacks.total") == 1.0);
  CHECK(rt.shutdown() == 0);
}
