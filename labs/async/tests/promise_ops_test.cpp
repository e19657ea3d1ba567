// The async lab's promise ops through whole scenarios: each expected order was printed by
// node v20.20.2 running the scenario's twin, and each test checks the twin on node again.

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "async/ops.hpp"
#include "async/tests/lab_and_node.hpp"
#include "async/world.hpp"
#include "script/interpreter.hpp"
#include "support/scenario_runner.hpp"

using namespace nodelab;
using Lines = std::vector<std::string>;

namespace {

// Runs `main` in the lab and its twin on node; both must print `expected`. Returns the lab's
// run, with the lab's metrics.
testing::RunOutput check(const std::string& main, const Lines& expected) {
  return async::test::lab_and_node(main, expected,
                                   [](script::Interpreter& interp, metrics::MetricSet& m) {
                                     interp.extension<async::World>().collect(m);
                                   });
}

}  // namespace

TEST_CASE("async_ops.await_rejection_throws_at_the_await_and_try_catches_it") {
  const auto out = check(R"(
  - reject: { name: bad, error: nope }
  - async:
      name: job
      do:
        - try:
            do: [ { await: { promise: bad } }, { log: never } ]
            catch: [ { log: "caught {error}" } ]
        - await: { value: 5 }
        - log: "then v is {value}"
        - throw: second
  - catch: { promise: job, do: [ { log: "job rejected: {value}" } ] }
)",
                         {"caught nope", "then v is 5", "job rejected: Error: second"});
  CHECK(out.result.outcome == runtime::Outcome::completed);
}

// A closure sees the function's `v` as it is when it runs, not when it was made.
TEST_CASE("async_ops.value_is_the_functions_binding_shared_by_its_closures") {
  check(R"(
  - async:
      do:
        - setTimeout: { ms: 1, then: [ { log: "timer sees {value}" } ] }
        - await: { value: first }
        - await: { value: second }
)",
        {"timer sees second"});
}

TEST_CASE("async_ops.then_on_a_name_not_given_yet_is_a_type_error") {
  const auto out = check(R"(
  - async:
      do:
        - try:
            do: [ { then: { promise: later, do: [] } } ]
            catch: [ { log: "{error}" } ]
  - resolve: { name: later, value: 1 }
)",
                         {"Cannot read properties of undefined (reading 'then')"});
  CHECK(out.result.outcome == runtime::Outcome::completed);
}

TEST_CASE("async_ops.finally_passes_the_rejection_through") {
  check(R"(
  - reject: { name: r, value: 42 }
  - finally: { promise: r, name: f, do: [ { log: cleanup } ] }
  - catch: { promise: f, do: [ { log: "reason {value}, message {error}" } ] }
  - ticks: { count: 4 }
)",
        {"cleanup", "tick 1", "tick 2", "tick 3", "reason 42, message undefined", "tick 4"});
}

TEST_CASE("async_ops.any_with_every_input_rejected_is_an_aggregate_error") {
  const auto out = check(R"(
  - reject: { name: a, error: a }
  - newPromise: { name: b, settle: reject, error: b, after_ms: 1 }
  - any: { name: n, of: [a, b] }
  - catch: { promise: n, do: [ { log: "{value}" } ] }
)",
                         {"AggregateError: All promises were rejected [Error: a, Error: b]"});
  CHECK(out.metrics.get("combinator.any.settleHop") == 1);
}

TEST_CASE("async_ops.an_unhandled_async_rejection_kills_the_process") {
  const auto out = check(R"(
  - async: { name: job, do: [ { await: {} }, { throw: lost } ] }
  - setTimeout: { ms: 1, then: [ { catch: { promise: job, do: [ { log: too late } ] } } ] }
)",
                         {});
  CHECK(out.result.outcome == runtime::Outcome::unhandled_rejection);
  CHECK(out.result.error.message == "lost");
}

// AbortSignal.timeout's timer is unref'd: alone it lets the process exit; a ref'd timer keeps
// the loop alive long enough for it to fire. `abort` on it is a TypeError (no controller).
TEST_CASE("async_ops.timeout_signal_is_unrefd_and_has_no_abort") {
  check(R"(
  - timeoutSignal: { name: t, ms: 20 }
  - onAbort: { controller: t, do: [ { log: "aborted: {error}" } ] }
)",
        {});
  check(R"(
  - timeoutSignal: { name: t, ms: 20 }
  - onAbort: { controller: t, do: [ { log: "aborted: {value}" } ] }
  - setTimeout: { ms: 200, then: [ { log: kept alive } ] }
  - try:
      do: [ { abort: { controller: t } } ]
      catch: [ { log: "{error}" } ]
)",
        {"AC.t.abort is not a function",
         "aborted: TimeoutError [23]: The operation was aborted due to timeout", "kept alive"});
}

// An already-aborted signal rejects the sleep at once; a second abort() does nothing.
TEST_CASE("async_ops.sleep_on_an_aborted_signal_rejects_at_once") {
  check(R"(
  - abortController: { name: ac }
  - onAbort: { controller: ac, do: [ { log: "abort event" } ] }
  - abort: { controller: ac, error: stop }
  - abort: { controller: ac }
  - sleep: { name: s, ms: 1000, controller: ac }
  - catch: { promise: s, do: [ { log: "{value}" } ] }
  - ticks: { count: 2 }
)",
        {"abort event", "AbortError [ABORT_ERR]: The operation was aborted (cause: Error: stop)",
         "tick 1", "tick 2"});
}
