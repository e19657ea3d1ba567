// process.nextTick, the microtask queue, setImmediate and how a throw ends the process,
// through the runtime's C++ API. Each expected order was printed by node v20.20.2 for the
// JS twin quoted above the test.

#include <doctest/doctest.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "runtime/runtime.hpp"
#include "support/runtime_helpers.hpp"

using namespace nodelab;
using runtime::CallbackKind;
using runtime::CallbackRecord;
using runtime::JsError;
using runtime::JsThrow;
using runtime::Outcome;
using runtime::Phase;
using runtime::Runtime;
using namespace std::chrono_literals;
using namespace nodelab::testing;

// node (CJS): setTimeout(timeout, 0); setImmediate(immediate); Promise.resolve().then(promise);
//   queueMicrotask(queueMicrotask); process.nextTick(nextTick);
//   Promise.resolve().then(promise2); console.log('sync')
//   -> sync nextTick promise queueMicrotask promise2 (then timeout/immediate, in either order)
TEST_CASE("queues.next_tick_runs_before_promises_after_main") {
  runtime::Watchdog wd(20s);
  Runtime rt;
  const auto result = rt.run([&] {
    promise(rt, logger(rt, "promise"));
    rt.enqueue_microtask(logger(rt, "queueMicrotask"), 0, CallbackKind::queue_microtask);
    rt.next_tick(logger(rt, "nextTick"), 0);
    promise(rt, logger(rt, "promise2"));
    rt.log("sync");
  });
  CHECK(result.outcome == Outcome::completed);
  // A CommonJS main runs inside an InternalCallbackScope: after it, all nextTicks, then all
  // microtasks (docs/node-semantics.md §2.3). queueMicrotask shares V8's queue with promise
  // reactions, FIFO.
  CHECK(log_texts(rt) ==
        std::vector<std::string>{"sync", "nextTick", "promise", "queueMicrotask", "promise2"});
  const CallbackRecord* tick = logged_by(rt, "nextTick");
  const CallbackRecord* qm = logged_by(rt, "queueMicrotask");
  REQUIRE(tick != nullptr);
  REQUIRE(qm != nullptr);
  CHECK(tick->phase == Phase::next_tick);
  CHECK(tick->kind == CallbackKind::next_tick);
  CHECK(qm->phase == Phase::microtask);
  CHECK(qm->kind == CallbackKind::queue_microtask);
  // Drained after main, before the loop: iteration 0, drained by (and scheduled by) main.
  CHECK(tick->iteration == 0);
  CHECK(tick->drained_by == runtime::kMainCallback);
  CHECK(tick->parent == runtime::kMainCallback);
  CHECK(rt.shutdown() == 0);
}

// node (§2.3 demo):
//   Promise.resolve().then(() => { p1; nextTick(tick-from-p1); then(p1.inner) });
//   Promise.resolve().then(p2);
//   nextTick(() => { t1; then(p-from-t1); nextTick(t1.inner) }); nextTick(t2)
//   -> t1 t2 t1.inner p1 p2 p-from-t1 p1.inner tick-from-p1
TEST_CASE("queues.all_ticks_then_all_microtasks_nested") {
  runtime::Watchdog wd(20s);
  Runtime rt;
  rt.run([&] {
    promise(rt, [&] {
      rt.log("p1");
      rt.next_tick(logger(rt, "tick-from-p1"), 0);
      promise(rt, logger(rt, "p1.inner"));
    });
    promise(rt, logger(rt, "p2"));
    rt.next_tick(
        [&] {
          rt.log("t1");
          promise(rt, logger(rt, "p-from-t1"));
          rt.next_tick(logger(rt, "t1.inner"), 0);
        },
        0);
    rt.next_tick(logger(rt, "t2"), 0);
  });
  // processTicksAndRejections: every tick (including ones queued meanwhile), then every
  // microtask (including ones queued meanwhile), repeated. A tick queued by a microtask waits
  // until the microtask queue is empty.
  CHECK(log_texts(rt) == std::vector<std::string>{"t1", "t2", "t1.inner", "p1", "p2", "p-from-t1",
                                                  "p1.inner", "tick-from-p1"});
  CHECK(rt.shutdown() == 0);
}

// node (§2.2 demo): setImmediate(() => { A; setImmediate(C); nextTick(tick after A) });
//   setImmediate(B); setTimeout(timer 0ms, 0); busy(3)
//   -> timer 0ms, A, tick after A, B, C
TEST_CASE("queues.immediates_are_snapshotted_per_check_phase") {
  runtime::Watchdog wd(20s);
  Runtime rt;
  rt.run([&] {
    rt.set_immediate(
        [&] {
          rt.log("A");
          rt.set_immediate(logger(rt, "C"), 0);
          rt.next_tick(logger(rt, "tick after A"), 0);
        },
        0);
    rt.set_immediate(logger(rt, "B"), 0);
    rt.set_timeout(0, logger(rt, "timer 0ms"), 0);
    rt.busy_wait(3ms);  // the timer is due when the loop starts
  });
  // runNextTicks() runs between immediates; processImmediate snapshots the queue, so C,
  // queued while A ran, waits for the next check phase.
  CHECK(log_texts(rt) == std::vector<std::string>{"timer 0ms", "A", "tick after A", "B", "C"});
  const CallbackRecord* a = logged_by(rt, "A");
  const CallbackRecord* b = logged_by(rt, "B");
  const CallbackRecord* c = logged_by(rt, "C");
  REQUIRE(a != nullptr);
  REQUIRE(b != nullptr);
  REQUIRE(c != nullptr);
  CHECK(a->phase == Phase::check);
  CHECK(c->phase == Phase::check);
  CHECK(b->iteration == a->iteration);
  CHECK(c->iteration > a->iteration);
  CHECK(c->parent == a->id);
  CHECK(rt.shutdown() == 0);
}

TEST_CASE("queues.recursive_immediates_let_timers_in") {
  runtime::Watchdog wd(20s);
  Runtime rt;
  int immediates = 0;
  int at_timer = -1;
  std::function<void()> step = [&] {
    if (++immediates == 1)
      rt.set_timeout(
          5, [&] { at_timer = immediates; }, 0);
    rt.busy_wait(1ms);
    if (immediates < 1000 && at_timer < 0) rt.set_immediate(step, 0);
  };
  rt.run([&] { rt.set_immediate(step, 0); });
  // One immediate per iteration: the timers phase comes round between them, so the 5 ms
  // timer set by the first immediate runs after a handful of immediates, not after all 1000
  // (docs/node-semantics.md §3, "recursive setImmediate").
  CHECK(at_timer >= 1);
  CHECK(at_timer < 1000);
  CHECK(rt.shutdown() == 0);
}

TEST_CASE("queues.recursive_next_ticks_starve_the_loop") {
  runtime::Watchdog wd(20s);
  Runtime rt;
  int ticks = 0;
  int at_timer = -1;
  std::function<void()> step = [&] {
    if (++ticks < 10'000) rt.next_tick(step, 0);
  };
  rt.run([&] {
    rt.set_timeout(
        0, [&] { at_timer = ticks; }, 0);
    rt.set_immediate([&] { rt.next_tick(step, 0); }, 0);
  });
  // processTicksAndRejections loops until the tick queue is empty: nothing else runs until all
  // 10000 are done (docs/node-semantics.md §3, "recursive nextTick").
  CHECK(ticks == 10'000);
  // The timer races the immediate (main-module setTimeout 0 vs setImmediate), but never runs
  // mid-chain.
  CHECK((at_timer == 0 || at_timer == 10'000));
  CHECK(rt.shutdown() == 0);
}

// node: console.log('before'); nextTick/then/setTimeout/setImmediate(...); throw new Error
//   -> before   (exit 1; nothing else runs)
TEST_CASE("queues.uncaught_throw_in_main_ends_the_run_at_once") {
  runtime::Watchdog wd(20s);
  Runtime rt;
  const auto result = rt.run([&] {
    rt.next_tick(logger(rt, "tick"), 0);
    promise(rt, logger(rt, "promise"));
    rt.set_timeout(0, logger(rt, "timer"), 0);
    rt.set_immediate(logger(rt, "immediate"), 0);
    rt.log("before");
    js_throw("main boom");
  });
  CHECK(result.outcome == Outcome::uncaught_exception);
  CHECK(result.error.message == "main boom");
  CHECK(result.error.headline() == "Error: main boom");
  CHECK(result.phase == Phase::main);
  CHECK(result.where == runtime::kMainCallback);
  CHECK(rt.dead());
  // Not even the pending nextTick runs (docs/scenario-format.md, `throw`).
  CHECK(log_texts(rt) == std::vector<std::string>{"before"});
  CHECK(rt.recorder().callback_count() == 1);
  CHECK(rt.shutdown() == 0);
}

// Regression: a death before the loop ever ran used to leak the loop. Runtime::die() calls
// uv_stop() while no uv_run() is active, so loop->stop_flag stayed set, shutdown()'s
// uv_run() returned at once without running the close callbacks, and uv_loop_close()
// returned UV_EBUSY (-16; an assert failure in builds without NDEBUG).
TEST_CASE("queues.death_before_the_loop_still_closes_the_loop") {
  Runtime rt;
  const auto result = rt.run([] { js_throw("x"); });
  CHECK(result.outcome == Outcome::uncaught_exception);
  CHECK(rt.shutdown() == 0);
}

// node: setTimeout(() => { timer1; nextTick(tick); then(p); throw }, 1); setTimeout(timer2, 1);
//   setImmediate(immediate); busy(5)   -> timer1   (exit 1)
TEST_CASE("queues.uncaught_throw_in_a_timer_ends_the_run_at_once") {
  runtime::Watchdog wd(20s);
  Runtime rt;
  const auto result = rt.run([&] {
    rt.set_timeout(
        1,
        [&] {
          rt.log("timer1");
          rt.next_tick(logger(rt, "tick"), 0);
          promise(rt, logger(rt, "p"));
          js_throw("timer boom");
        },
        0);
    rt.set_timeout(1, logger(rt, "timer2"), 0);
    rt.set_immediate(logger(rt, "immediate"), 0);
    rt.busy_wait(5ms);
  });
  CHECK(result.outcome == Outcome::uncaught_exception);
  CHECK(result.error.message == "timer boom");
  CHECK(result.phase == Phase::timers);
  CHECK(rt.dead());
  // Neither the rest of its list, nor its own tick and microtask, nor the immediate.
  CHECK(log_texts(rt) == std::vector<std::string>{"timer1"});
  const CallbackRecord* where = rt.recorder().find(result.where);
  REQUIRE(where != nullptr);
  CHECK(where->kind == CallbackKind::timeout);
  CHECK(rt.shutdown() == 0);
}

// Deaths in the drain after main (before the loop), with the orders node printed.
// node: (1) nextTick(() => { t1; nextTick(inner); then(p); throw }); nextTick(t2); log(sync)
//           -> sync t1
//       (2) queueMicrotask(() => { qm; nextTick(tick); then(p from qm); throw });
//           then(p after); log(sync)   -> sync qm
//       (3) then(() => { p1; nextTick(tick from p1); then(p from p1); throw }); then(p2);
//           nextTick(t1); log(sync)   -> sync t1 p1 p2 "p from p1" "tick from p1"
// (all exit 1; the setTimeout(0) and setImmediate queued by main never run)
TEST_CASE("queues.deaths_in_the_drain_after_main") {
  runtime::Watchdog wd(20s);
  SUBCASE("uncaught in nextTick") {
    Runtime rt;
    const auto result = rt.run([&] {
      rt.next_tick(
          [&] {
            rt.log("t1");
            rt.next_tick(logger(rt, "inner"), 0);
            promise(rt, logger(rt, "p"));
            js_throw("tick boom");
          },
          0);
      rt.next_tick(logger(rt, "t2"), 0);
      rt.set_timeout(0, logger(rt, "timer"), 0);
      rt.set_immediate(logger(rt, "immediate"), 0);
      rt.log("sync");
    });
    CHECK(result.outcome == Outcome::uncaught_exception);
    CHECK(result.phase == Phase::next_tick);
    CHECK(log_texts(rt) == std::vector<std::string>{"sync", "t1"});
    CHECK(rt.shutdown() == 0);
  }
  SUBCASE("uncaught in queueMicrotask") {
    Runtime rt;
    const auto result = rt.run([&] {
      rt.enqueue_microtask(
          [&] {
            rt.log("qm");
            rt.next_tick(logger(rt, "tick"), 0);
            promise(rt, logger(rt, "p from qm"));
            js_throw("qm boom");
          },
          0, CallbackKind::queue_microtask);
      promise(rt, logger(rt, "p after"));
      rt.set_timeout(0, logger(rt, "timer"), 0);
      rt.log("sync");
    });
    CHECK(result.outcome == Outcome::uncaught_exception);
    CHECK(result.phase == Phase::microtask);
    CHECK(log_texts(rt) == std::vector<std::string>{"sync", "qm"});
    CHECK(rt.shutdown() == 0);
  }
  SUBCASE("rejection in a promise reaction") {
    Runtime rt;
    const auto result = rt.run([&] {
      promise(rt, [&] {
        rt.log("p1");
        rt.next_tick(logger(rt, "tick from p1"), 0);
        promise(rt, logger(rt, "p from p1"));
        js_throw("boom");
      });
      promise(rt, logger(rt, "p2"));
      rt.next_tick(logger(rt, "t1"), 0);
      rt.set_timeout(0, logger(rt, "timer"), 0);
      rt.set_immediate(logger(rt, "immediate"), 0);
      rt.log("sync");
    });
    CHECK(result.outcome == Outcome::unhandled_rejection);
    CHECK(log_texts(rt) ==
          std::vector<std::string>{"sync", "t1", "p1", "p2", "p from p1", "tick from p1"});
    CHECK(rt.shutdown() == 0);
  }
}

// The same deaths inside the loop, in the drain after an immediate: the orders are the same.
// A second immediate of the same check phase shows that nothing else runs.

// node: setImmediate(() => { nextTick(() => { t1; nextTick(inner); then(p); throw });
//   nextTick(t2); setTimeout(timer, 0); log(sync) }); setImmediate(second immediate)
//   -> sync t1   (exit 1)
TEST_CASE("queues.uncaught_throw_in_next_tick_ends_the_run_at_once") {
  runtime::Watchdog wd(20s);
  Runtime rt;
  const auto result = rt.run([&] {
    rt.set_immediate(
        [&] {
          rt.next_tick(
              [&] {
                rt.log("t1");
                rt.next_tick(logger(rt, "inner"), 0);
                promise(rt, logger(rt, "p"));
                js_throw("tick boom");
              },
              0);
          rt.next_tick(logger(rt, "t2"), 0);
          rt.set_timeout(0, logger(rt, "timer"), 0);
          rt.log("sync");
        },
        0);
    rt.set_immediate(logger(rt, "second immediate"), 0);
  });
  CHECK(result.outcome == Outcome::uncaught_exception);
  CHECK(result.phase == Phase::next_tick);
  CHECK(result.error.message == "tick boom");
  CHECK(log_texts(rt) == std::vector<std::string>{"sync", "t1"});
  CHECK(rt.shutdown() == 0);
}

// node: setImmediate(() => { queueMicrotask(() => { qm; nextTick(tick); then(p from qm);
//   throw }); Promise.resolve().then(p after); setTimeout(timer, 0); log(sync) });
//   setImmediate(second immediate)
//   -> sync qm   (exit 1: runMicrotask calls triggerUncaughtException, no rejection)
TEST_CASE("queues.uncaught_throw_in_queue_microtask_ends_the_run_at_once") {
  runtime::Watchdog wd(20s);
  Runtime rt;
  const auto result = rt.run([&] {
    rt.set_immediate(
        [&] {
          rt.enqueue_microtask(
              [&] {
                rt.log("qm");
                rt.next_tick(logger(rt, "tick"), 0);
                promise(rt, logger(rt, "p from qm"));
                js_throw("qm boom");
              },
              0, CallbackKind::queue_microtask);
          promise(rt, logger(rt, "p after"));
          rt.set_timeout(0, logger(rt, "timer"), 0);
          rt.log("sync");
        },
        0);
    rt.set_immediate(logger(rt, "second immediate"), 0);
  });
  CHECK(result.outcome == Outcome::uncaught_exception);
  CHECK(result.phase == Phase::microtask);
  CHECK(result.error.message == "qm boom");
  CHECK(log_texts(rt) == std::vector<std::string>{"sync", "qm"});
  CHECK(rt.shutdown() == 0);
}

// node: setImmediate(() => { i1; nextTick(tick); throw }); setImmediate(i2)   -> i1 (exit 1)
TEST_CASE("queues.uncaught_throw_in_an_immediate_skips_the_rest_of_the_snapshot") {
  runtime::Watchdog wd(20s);
  Runtime rt;
  const auto result = rt.run([&] {
    rt.set_immediate(
        [&] {
          rt.log("i1");
          rt.next_tick(logger(rt, "tick"), 0);
          js_throw("imm boom");
        },
        0);
    rt.set_immediate(logger(rt, "i2"), 0);
  });
  CHECK(result.outcome == Outcome::uncaught_exception);
  CHECK(result.phase == Phase::check);
  CHECK(log_texts(rt) == std::vector<std::string>{"i1"});
  CHECK(rt.shutdown() == 0);
}

// node: setImmediate(() => { Promise.resolve().then(() => { p1; nextTick(tick from p1);
//   then(p from p1); throw }); Promise.resolve().then(p2); nextTick(t1);
//   setTimeout(timer, 0); setImmediate(immediate); log(sync) });
//   setImmediate(second immediate)
//   -> sync t1 p1 p2 "p from p1" "tick from p1"   (then exit 1)
TEST_CASE("queues.throw_in_a_promise_reaction_is_an_unhandled_rejection_after_the_drain") {
  runtime::Watchdog wd(20s);
  Runtime rt;
  const auto result = rt.run([&] {
    rt.set_immediate(
        [&] {
          promise(rt, [&] {
            rt.log("p1");
            rt.next_tick(logger(rt, "tick from p1"), 0);
            promise(rt, logger(rt, "p from p1"));
            js_throw("boom");
          });
          promise(rt, logger(rt, "p2"));
          rt.next_tick(logger(rt, "t1"), 0);
          rt.set_timeout(0, logger(rt, "timer"), 0);
          rt.set_immediate(logger(rt, "immediate"), 0);
          rt.log("sync");
        },
        0);
    rt.set_immediate(logger(rt, "second immediate"), 0);
  });
  // The throw rejects the derived promise; processPromiseRejections runs only once both
  // queues are empty (docs/node-semantics.md §2.5), so the rest of the microtasks and the tick
  // queued by p1 still run; then Node 15+'s default `throw` mode kills the process before
  // the second immediate of the snapshot.
  CHECK(result.outcome == Outcome::unhandled_rejection);
  CHECK(result.error.message == "boom");
  CHECK(log_texts(rt) ==
        std::vector<std::string>{"sync", "t1", "p1", "p2", "p from p1", "tick from p1"});
  const CallbackRecord* where = rt.recorder().find(result.where);
  REQUIRE(where != nullptr);
  CHECK(where->kind == CallbackKind::promise);
  CHECK(rt.shutdown() == 0);
}

// node: setImmediate(() => { (async () => { async start; await undefined; resumed;
//   nextTick(tick from async); then(p from async); throw })();
//   Promise.resolve().then(p1).then(p1b).then(p1c); nextTick(t1); setTimeout(timer, 0);
//   log(sync) }); setImmediate(second immediate)
//   -> async start, sync, t1, resumed, p1, p from async, p1b, p1c, tick from async (exit 1)
TEST_CASE("queues.throw_after_an_await_rejects_and_the_chains_still_drain") {
  runtime::Watchdog wd(20s);
  Runtime rt;
  const auto result = rt.run([&] {
    rt.set_immediate(
        [&] {
          rt.log("async start");
          rt.enqueue_microtask(
              [&] {
                rt.log("resumed");
                rt.next_tick(logger(rt, "tick from async"), 0);
                promise(rt, logger(rt, "p from async"));
                js_throw("async boom");
              },
              0, CallbackKind::await_resume);
          promise(rt, [&] {
            rt.log("p1");
            promise(rt, [&] {
              rt.log("p1b");
              promise(rt, logger(rt, "p1c"));
            });
          });
          rt.next_tick(logger(rt, "t1"), 0);
          rt.set_timeout(0, logger(rt, "timer"), 0);
          rt.log("sync");
        },
        0);
    rt.set_immediate(logger(rt, "second immediate"), 0);
  });
  // An await continuation that throws rejects the async function's promise, like a promise
  // reaction: the chains still drain first.
  CHECK(result.outcome == Outcome::unhandled_rejection);
  CHECK(result.error.message == "async boom");
  CHECK(log_texts(rt) == std::vector<std::string>{"async start", "sync", "t1", "resumed", "p1",
                                                  "p from async", "p1b", "p1c", "tick from async"});
  CHECK(rt.shutdown() == 0);
}

TEST_CASE("queues.reject_promise_is_checked_after_the_drain") {
  runtime::Watchdog wd(20s);
  Runtime rt;
  const auto result = rt.run([&] {
    rt.set_timeout(
        1,
        [&] {
          rt.log("timer");
          // An async function that threw synchronously: its promise rejects now ...
          rt.reject_promise(JsError{"Error", "", "rejected"});
          // ... but the check waits for this callback's drain.
          rt.next_tick(logger(rt, "tick"), 0);
          promise(rt, logger(rt, "microtask"));
        },
        0);
    rt.set_timeout(1, logger(rt, "second timer"), 0);
    rt.busy_wait(3ms);
  });
  CHECK(result.outcome == Outcome::unhandled_rejection);
  CHECK(result.error.message == "rejected");
  // The drain after the first timer (runNextTicks between timers) runs both queues, then
  // the rejection kills the process before the second timer.
  CHECK(log_texts(rt) == std::vector<std::string>{"timer", "tick", "microtask"});
  CHECK(rt.shutdown() == 0);
}
