// The scenario interpreter, end to end through run_yaml(): control ops (repeat, try/catch,
// throw), async/await hops, and recurse. Every expected order was printed by node v20.20.2
// running the scenario's twin (twin_of / lab-event-loop --emit-node).

#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <vector>

#include "runtime/runtime.hpp"
#include "support/scenario_runner.hpp"

using namespace nodelab;
using nodelab::testing::run_yaml;
using runtime::CallbackKind;
using runtime::Outcome;
using runtime::Phase;
using Lines = std::vector<std::string>;

namespace {

std::size_t count_kind(const testing::RunOutput& out, CallbackKind kind) {
  std::size_t n = 0;
  for (const auto& c : out.callbacks)
    n += c.kind == kind ? 1 : 0;
  return n;
}

}  // namespace

TEST_CASE("interpreter.repeat_runs_its_body_synchronously") {
  const auto out = run_yaml(R"(lab: event-loop
main:
  - repeat:
      times: 2
      do:
        - log: outer
        - repeat:
            times: 3
            do: [ { log: inner } ]
        - repeat: { times: 0, do: [ { log: never } ] }
  - setTimeout:
      then:
        - repeat:
            times: 2
            do:
              - nextTick: { then: [ { log: tick } ] }
              - log: body
)");
  CHECK(out.result.outcome == Outcome::completed);
  // `for (let i = 0; i < N; i++) {...}`: all synchronous, so the ticks queued by the loop
  // body run only after the whole timer callback.
  CHECK(out.lines == Lines{"outer", "inner", "inner", "inner", "outer", "inner", "inner", "inner",
                           "body", "body", "tick", "tick"});
  CHECK(out.loop_closed_cleanly);
}

TEST_CASE("interpreter.try_catch_binds_error_and_skips_the_rest_of_the_body") {
  const auto out = run_yaml(R"(lab: event-loop
main:
  - try:
      do:
        - log: before
        - throw: first
        - log: not reached
      catch:
        - log: "caught {error}"
  - repeat:
      times: 5
      do:
        - try:
            do:
              - repeat:
                  times: 3
                  do: [ { log: attempt }, { throw: "x" } ]
            catch: [ { log: "loop {error}" } ]
        - log: next
  - log: end
)");
  // A throw unwinds every frame up to the nearest `try` (here through an inner repeat, which
  // stops after its first pass).
  Lines expected{"before", "caught first"};
  for (int i = 0; i < 5; ++i) {
    expected.insert(expected.end(), {"attempt", "loop x", "next"});
  }
  expected.push_back("end");
  CHECK(out.lines == expected);
  CHECK(out.result.outcome == Outcome::completed);
}

// node: try { throw first } catch (e) { log('caught ' + e.message);
//   setTimeout(() => log('later ' + e.message), 5);
//   try { throw second } catch (e) { log('inner ' + e.message);
//                                    process.nextTick(() => log('inner tick ' + e.message)) }
//   log('outer again ' + e.message) }
//   -> caught first, inner second, outer again first, inner tick second, later first
TEST_CASE("interpreter.callbacks_created_in_catch_close_over_the_error") {
  const auto out = run_yaml(R"(lab: event-loop
main:
  - try:
      do: [ { throw: first } ]
      catch:
        - log: "caught {error}"
        - setTimeout:
            ms: 5
            then:
              - log: "later {error}"
        - try:
            do: [ { throw: second } ]
            catch:
              - log: "inner {error}"
              - nextTick: { then: [ { log: "inner tick {error}" } ] }
        - log: "outer again {error}"
)");
  // Each callback sees the `e` of the catch it was created in, even after that catch has
  // finished and another error was caught in between (JavaScript closure semantics).
  CHECK(out.lines == Lines{"caught first", "inner second", "outer again first", "inner tick second",
                           "later first"});
  CHECK(out.result.outcome == Outcome::completed);
}

// node: try { try { throw deep } catch (e) { log('rethrowing ' + e.message);
//   throw new Error('re-' + e.message) } } catch (e) { log('outer got ' + e.message) }
TEST_CASE("interpreter.nested_try_rethrows_from_catch") {
  const auto out = run_yaml(R"(lab: event-loop
main:
  - try:
      do:
        - try:
            do: [ { throw: deep } ]
            catch:
              - log: "rethrowing {error}"
              - throw: "re-{error}"
              - log: not reached
        - log: not reached either
      catch:
        - log: "outer got {error}"
  - log: after
)");
  CHECK(out.lines == Lines{"rethrowing deep", "outer got re-deep", "after"});
}

TEST_CASE("interpreter.uncaught_throw_in_a_callback_ends_the_run") {
  const auto out = run_yaml(R"(lab: event-loop
main:
  - setTimeout:
      then:
        - try:
            do: [ { throw: caught } ]
            catch:
              - throw: "uncaught after {error}"
        - log: not reached
  - setTimeout: { ms: 50, then: [ { log: never } ] }
)");
  // A throw from a catch body with no enclosing try leaves the callback: uncaught exception.
  CHECK(out.result.outcome == Outcome::uncaught_exception);
  CHECK(out.result.error.message == "uncaught after caught");
  CHECK(out.result.phase == Phase::timers);
  CHECK(out.lines.empty());
  CHECK(out.loop_closed_cleanly);
}

// The classic puzzle, with await of a plain value (one microtask hop).
// node: script start, async1 start, script end, async1 end, promise1, promise2, setTimeout
TEST_CASE("interpreter.async_await_classic_puzzle") {
  const auto out = run_yaml(R"(lab: event-loop
main:
  - log: script start
  - setTimeout: { then: [ { log: setTimeout } ] }
  - async:
      do:
        - log: async1 start
        - await: {}
        - log: async1 end
  - promise:
      then:
        - log: promise1
        - promise: { then: [ { log: promise2 } ] }
  - log: script end
)");
  // An async function runs synchronously up to its first await; `await undefined` queues its
  // continuation as one microtask, ahead of the promise reaction queued after the call.
  CHECK(out.lines == Lines{"script start", "async1 start", "script end", "async1 end", "promise1",
                           "promise2", "setTimeout"});
  CHECK(out.result.outcome == Outcome::completed);
  // The continuation is recorded as an await continuation in the microtask queue.
  bool found = false;
  for (const auto& l : out.logged) {
    if (l.text == "async1 end") {
      found = true;
      CHECK(l.phase == Phase::microtask);
    }
  }
  CHECK(found);
  CHECK(count_kind(out, CallbackKind::await_resume) == 1);
}

// node: a1 tick a2 p1 b1 a3 p2 b2 a4 p3 "tick from b"
TEST_CASE("interpreter.await_hops_interleave_with_promise_chains") {
  const auto out = run_yaml(R"(lab: event-loop
main:
  - async:
      do:
        - log: a1
        - await: {}
        - log: a2
        - await: {}
        - log: a3
        - await: {}
        - log: a4
  - promise:
      then:
        - log: p1
        - promise:
            then:
              - log: p2
              - promise: { then: [ { log: p3 } ] }
  - nextTick: { then: [ { log: tick } ] }
  - async:
      do:
        - await: {}
        - log: b1
        - nextTick: { then: [ { log: tick from b } ] }
        - await: {}
        - log: b2
)");
  // Each await is one hop (docs/node-semantics.md §2.4): the three "threads" advance one step per
  // microtask generation, and a nextTick queued by a microtask waits for the queue to empty.
  CHECK(out.lines ==
        Lines{"a1", "tick", "a2", "p1", "b1", "a3", "p2", "b2", "a4", "p3", "tick from b"});
}

// node: loop loop p1 "in try" "caught after await" loop p2 "after catch await" "loop done" p3
TEST_CASE("interpreter.await_inside_repeat_and_try") {
  const auto out = run_yaml(R"(lab: event-loop
main:
  - async:
      do:
        - repeat:
            times: 3
            do:
              - log: loop
              - await: {}
        - log: loop done
  - promise: { then: [ { log: p1 }, { promise: { then: [ { log: p2 }, { promise: { then: [ { log: p3 } ] } } ] } } ] }
  - async:
      do:
        - try:
            do:
              - await: {}
              - log: in try
              - throw: after await
            catch:
              - log: "caught {error}"
              - await: {}
              - log: after catch await
)");
  // The suspended function keeps its repeat counter and its try frame across awaits: the
  // throw after the await is still caught by the try that was entered before it.
  CHECK(out.lines == Lines{"loop", "loop", "p1", "in try", "caught after await", "loop", "p2",
                           "after catch await", "loop done", "p3"});
  CHECK(out.result.outcome == Outcome::completed);
}

// node (inside a timer callback): (async () => { log a; throw })(); log('after call');
//   nextTick(tick); then(p)  -> a, after call, tick, p  (exit 1; the 50 ms timer never runs)
TEST_CASE("interpreter.throw_inside_async_is_an_unhandled_rejection") {
  const auto out = run_yaml(R"(lab: event-loop
main:
  - setTimeout:
      then:
        - async:
            do:
              - log: a
              - throw: sync in async
              - log: not reached
        - log: after call
        - nextTick: { then: [ { log: tick } ] }
        - promise: { then: [ { log: p } ] }
  - setTimeout: { ms: 50, then: [ { log: never } ] }
)");
  // The throw rejects the async function's promise instead of propagating to the caller, so
  // the caller carries on; the rejection is checked after the drain (docs/node-semantics.md §2.5).
  CHECK(out.result.outcome == Outcome::unhandled_rejection);
  CHECK(out.result.error.message == "sync in async");
  CHECK(out.lines == Lines{"a", "after call", "tick", "p"});
  CHECK(out.loop_closed_cleanly);
}

// node: (async () => { log a; throw x })(); log('after call')   -> a, after call (exit 1)
TEST_CASE("interpreter.throw_inside_async_in_main_rejects_after_main") {
  const auto out = run_yaml(R"(lab: event-loop
main:
  - async: { do: [ { log: a }, { throw: x } ] }
  - log: after call
  - setImmediate: { then: [ { log: never } ] }
)");
  CHECK(out.result.outcome == Outcome::unhandled_rejection);
  CHECK(out.lines == Lines{"a", "after call"});
  // The process died before the loop started; the loop still closes cleanly.
  CHECK(out.loop_closed_cleanly);
}

TEST_CASE("interpreter.try_inside_async_catches_across_an_await") {
  const auto out = run_yaml(R"(lab: event-loop
main:
  - setImmediate:
      then:
        - async:
            do:
              - try:
                  do:
                    - await: {}
                    - throw: late
                  catch:
                    - log: "caught {error}"
              - await: {}
              - throw: uncaught
        - log: sync
)");
  CHECK(out.lines == Lines{"sync", "caught late"});
  // The second throw has no try around it: the async function's promise rejects.
  CHECK(out.result.outcome == Outcome::unhandled_rejection);
  CHECK(out.result.error.message == "uncaught");
}

TEST_CASE("interpreter.recurse_runs_times_steps_then_then_via_each_queue") {
  struct Case {
    const char* via;
    CallbackKind kind;
    Phase phase;
  };
  for (const Case& c : {Case{"nextTick", CallbackKind::next_tick, Phase::next_tick},
                        Case{"promise", CallbackKind::promise, Phase::microtask},
                        Case{"setImmediate", CallbackKind::immediate, Phase::check},
                        Case{"setTimeout", CallbackKind::timeout, Phase::timers}}) {
    CAPTURE(c.via);
    const auto out = run_yaml(std::string("lab: event-loop\nmain:\n  - recurse: { via: ") + c.via +
                              ", times: 5, then: [ { log: done } ] }\n");
    CHECK(out.result.outcome == Outcome::completed);
    CHECK(out.lines == Lines{"done"});
    // The first step is scheduled through `via` too, so there are exactly `times` callbacks
    // of that kind, and `then` runs inside the last one.
    CHECK(count_kind(out, c.kind) == 5);
    REQUIRE(out.logged.size() == 1);
    CHECK(out.logged[0].phase == c.phase);
    std::vector<std::uint32_t> iterations;
    for (const auto& cb : out.callbacks) {
      if (cb.kind == c.kind) iterations.push_back(cb.iteration);
    }
    REQUIRE(iterations.size() == 5);
    if (c.phase == Phase::check || c.phase == Phase::timers) {
      // Macrotasks: one step per loop iteration.
      for (std::size_t i = 1; i < iterations.size(); ++i)
        CHECK(iterations[i] > iterations[i - 1]);
    } else {
      // Ticks and microtasks: all in the drain after main, before the loop.
      for (const auto it : iterations)
        CHECK(it == 0);
    }
  }
}

TEST_CASE("interpreter.recurse_work_us_busies_each_step") {
  const auto out = run_yaml(R"(lab: event-loop
main:
  - recurse: { via: setImmediate, times: 4, work_us: 3000, then: [ { log: done } ] }
)");
  CHECK(out.lines == Lines{"done"});
  std::size_t steps = 0;
  for (const auto& c : out.callbacks) {
    if (c.kind != CallbackKind::immediate) continue;
    ++steps;
    CHECK(c.end - c.start >= std::chrono::microseconds(3000));
  }
  CHECK(steps == 4);
}

TEST_CASE("interpreter.recurse_200000_via_next_tick_completes") {
  const auto t0 = runtime::hrtime();
  const auto out = run_yaml(R"(lab: event-loop
main:
  - setTimeout: { then: [ { log: timer } ] }
  - recurse: { via: nextTick, times: 200000, then: [ { log: done } ] }
)",
                            std::chrono::seconds(60));
  CHECK(out.result.outcome == Outcome::completed);
  // A nextTick chain starves the loop: the whole chain runs in the drain after main, before
  // the timer (docs/node-semantics.md §3, "recursive nextTick").
  CHECK(out.lines == Lines{"done", "timer"});
  CHECK(count_kind(out, CallbackKind::next_tick) == 200'000);
  CHECK(*out.metrics.get("drain.maxCallbacks") >= 200'000.0);
  // Bounded: a fraction of a second normally; generous for a loaded 2-core machine.
  CHECK(runtime::hrtime() - t0 < std::chrono::seconds(30));
  CHECK(out.loop_closed_cleanly);
}

TEST_CASE("interpreter.set_interval_runs_times_then_clears") {
  const auto out = run_yaml(R"(lab: event-loop
main:
  - setInterval:
      ms: 0
      times: 3
      then:
        - log: iv
        - nextTick: { then: [ { log: iv tick } ] }
)");
  CHECK(out.lines == Lines{"iv", "iv tick", "iv", "iv tick", "iv", "iv tick"});
  CHECK(count_kind(out, CallbackKind::interval) == 3);
  // The loop exits once the interval is cleared.
  CHECK(out.result.outcome == Outcome::completed);
}

TEST_CASE("interpreter.block_delays_due_timers") {
  const auto out = run_yaml(R"(lab: event-loop
main:
  - setTimeout: { ms: 10, then: [ { log: timer } ] }
  - block: { ms: 100 }
expect:
  metrics:
    timerDrift.max_ms: { gte: 89 }
)");
  // setTimeout(10) behind 100 ms of synchronous work fires ~90 ms late (docs/node-semantics.md
  // §3, "blocking sync work": fired at 101 ms).
  CHECK(out.lines == Lines{"timer"});
  REQUIRE(out.expectations.size() == 1);
  CHECK(out.expectations[0].ok);
}

TEST_CASE("interpreter.overflow_warning_is_logged_like_node") {
  const auto out = run_yaml(R"(lab: event-loop
main:
  - nextTick: { then: [ { log: tick1 } ] }
  - setTimeout: { ms: 2147483648, then: [ { log: fired } ] }
  - log: sync
)");
  // The warning text has a newline: two stdout lines, as console.log prints it.
  CHECK(out.lines == Lines{"sync", "tick1",
                           "warning: TimeoutOverflowWarning: 2147483648 does not fit into a "
                           "32-bit signed integer.",
                           "Timeout duration was set to 1.", "fired"});
  REQUIRE(out.logged.size() == 5);
  CHECK(out.logged[2].phase == Phase::next_tick);
  CHECK(out.logged[3].phase == Phase::next_tick);
}
