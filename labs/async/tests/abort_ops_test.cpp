// The async lab's AbortSignal.any and events.once through whole scenarios: each expected order
// was printed by node v20.20.2 running the scenario's twin, and each test checks the twin on
// node again.

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "async/ops.hpp"
#include "async/tests/lab_and_node.hpp"
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
                                     async::collect_abort_metrics(interp, m);
                                   });
}

}  // namespace

// abortSignal(source) dispatches the source's listeners, then aborts its dependants: during a
// source's listener the any() signal is not aborted yet, so a sleep given it there waits on
// its 'abort' (six hops to the catch) instead of rejecting at once; the dependant's listener,
// though added first, runs after the source's.
TEST_CASE("async_abort.any_aborts_after_the_sources_listeners_with_the_same_reason") {
  const auto out =
      check(R"(
  - abortController: { name: a }
  - anySignal: { name: dep, of: [a] }
  - onAbort: { controller: dep, do: [ { log: "dep listener: {value}" } ] }
  - onAbort:
      controller: a
      do:
        - log: "a listener: {value}"
        - sleep: { name: s, ms: 1000, value: x, controller: dep }
        - catch: { promise: s, do: [ { log: "sleep on dep: {error}" } ] }
  - abort: { controller: a, value: why }
  - ticks: { count: 7 }
)",
            {"a listener: why", "dep listener: why", "tick 1", "tick 2", "tick 3", "tick 4",
             "tick 5", "sleep on dep: The operation was aborted", "tick 6", "tick 7"});
  CHECK(out.metrics.get("signals.anyAborted") == 1);
  CHECK(out.metrics.get("signals.listenersRun") == 3);  // a's, dep's and the sleep's
}

// The first source to abort wins; a later one changes nothing. An any() of an any() follows
// the inner one's sources, so both composites are dependants of `a`, aborted in the order they
// were made; any([]) (and an any() of it) never aborts.
TEST_CASE("async_abort.any_first_source_wins_nested_follow_the_sources") {
  const auto out = check(R"(
  - abortController: { name: a }
  - abortController: { name: b }
  - anySignal: { name: both, of: [a, b] }
  - anySignal: { name: nested, of: [both] }
  - onAbort: { controller: a, do: [ { log: "a: {value}" } ] }
  - onAbort: { controller: nested, do: [ { log: "nested: {value}" } ] }
  - onAbort: { controller: both, do: [ { log: "both: {value}" } ] }
  - onAbort: { controller: b, do: [ { log: "b: {value}" } ] }
  - abort: { controller: a, error: first }
  - abort: { controller: b, error: second }
  - anySignal: { name: none, of: [] }
  - anySignal: { name: ofNone, of: [none] }
  - sleep: { name: s, ms: 1, value: y, controller: ofNone }
  - then: { promise: s, do: [ { log: "ofNone slept {value}" } ] }
)",
                         {"a: Error: first", "both: Error: first", "nested: Error: first",
                          "b: Error: second", "ofNone slept y"});
  CHECK(out.metrics.get("signals.anyMade") == 4);
  CHECK(out.metrics.get("signals.anyAborted") == 2);
}

// A source already aborted: the result is aborted at once with its reason (no 'abort' event:
// a listener added later never runs) and events.once on it rejects at once without adding a
// listener. Neither `abort` on it (no controller) nor an any() of a name whose op has not run
// yet is allowed: TypeErrors.
TEST_CASE("async_abort.any_of_an_aborted_source_is_aborted_at_once") {
  const auto out = check(
      R"(
  - abortController: { name: a }
  - abortController: { name: b }
  - abort: { controller: b, value: early }
  - anySignal: { name: dep, of: [a, b] }
  - onAbort: { controller: dep, do: [ { log: "never: {value}" } ] }
  - eventsOnce: { name: w, emitter: em, event: go, controller: dep }
  - listenerCount: { emitter: em, event: go }
  - catch: { promise: w, do: [ { log: "w: {value}" } ] }
  - abort: { controller: a, value: later }
  - ticks: { count: 2 }
  - async:
      do:
        - try:
            do: [ { abort: { controller: dep } } ]
            catch: [ { log: "{error}" } ]
        - try:
            do: [ { anySignal: { name: early2, of: [notyet] } } ]
            catch: [ { log: "{error}" } ]
  - abortController: { name: notyet }
)",
      {"listenerCount(em, go) = 0", "AC.dep.abort is not a function",
       "Cannot read properties of undefined (reading 'signal')",
       "w: AbortError [ABORT_ERR]: The operation was aborted (cause: early)", "tick 1", "tick 2"});
  CHECK(out.metrics.get("once.aborted") == 1);
  CHECK(out.metrics.get("emitter.listenersLeft") == 0);
}

// events.once is an async function returning a new Promise: its outcome reaches a handler two
// hops after the inner promise settles once the adoption job has run (an abort or an emit in a
// later turn), three when the abort comes in the same turn as the call. Emits pass their
// arguments as an array; the second `go` finds no listener.
TEST_CASE("async_abort.events_once_hops_and_listener_removal") {
  const auto out = check(R"(
  - abortController: { name: same }
  - eventsOnce: { name: sameTurn, emitter: em, event: go, controller: same }
  - abort: { controller: same, error: now }
  - ticks: { count: 4, label: a }
  - catch: { promise: sameTurn, do: [ { log: "same turn: {error}" } ] }
  - abortController: { name: later }
  - eventsOnce: { name: laterTurn, emitter: em, event: go, controller: later }
  - catch: { promise: laterTurn, do: [ { log: "later turn: {error}" } ] }
  - eventsOnce: { name: ev, emitter: em, event: go }
  - then: { promise: ev, do: [ { log: "go: {value}" } ] }
  - eventsOnce: { name: bad, emitter: em, event: done, controller: later }
  - catch:
      promise: bad
      do: [ { log: "done failed: {value}" }, { listenerCount: { emitter: em, event: done } } ]
  - eventsOnce: { name: onErr, emitter: em, event: error }
  - then: { promise: onErr, do: [ { log: "error event: {value}" } ] }
  - setTimeout:
      ms: 1
      then:
        - abort: { controller: later, error: cancel }
        - ticks: { count: 3, label: b }
  - setTimeout:
      ms: 2
      then:
        - emit: { emitter: em, event: go, value: 1 }
        - emit: { emitter: em, event: go, value: 2 }
        - ticks: { count: 3, label: c }
  - setTimeout:
      ms: 3
      then:
        - listenerCount: { emitter: em, event: error }
        - emit: { emitter: em, event: error, error: boom }
        - listenerCount: { emitter: em, event: error }
)",
                         {"a 1", "a 2", "same turn: The operation was aborted", "a 3", "a 4", "b 1",
                          "later turn: The operation was aborted",
                          "done failed: AbortError [ABORT_ERR]: The operation was aborted (cause: "
                          "Error: cancel)",
                          "listenerCount(em, done) = 0", "b 2", "b 3", "c 1", "go: [1]", "c 2",
                          "c 3", "listenerCount(em, error) = 1", "listenerCount(em, error) = 0",
                          "error event: [Error: boom]"});
  CHECK(out.metrics.get("once.calls") == 5);
  CHECK(out.metrics.get("once.aborted") == 3);
  CHECK(out.metrics.get("once.resolved") == 2);
  CHECK(out.metrics.get("emitter.unheardEmits") == 1);
  CHECK(out.metrics.get("emitter.listenersLeft") == 0);
}

// An 'error' event rejects events.once with the error and removes its event and 'abort'
// listeners: the abort that follows runs only the other listener, and a later event finds none.
TEST_CASE("async_abort.events_once_error_event_removes_its_abort_listener") {
  const auto out = check(R"(
  - abortController: { name: ac }
  - onAbort: { controller: ac, do: [ { log: "abort listener: {value}" } ] }
  - eventsOnce: { name: w, emitter: em, event: ready, controller: ac }
  - catch:
      promise: w
      do: [ { log: "w: {value}" }, { listenerCount: { emitter: em, event: ready } } ]
  - emit: { emitter: em, event: error, error: boom }
  - abort: { controller: ac, value: after }
  - emit: { emitter: em, event: ready, value: 1 }
  - listenerCount: { emitter: em, event: error }
)",
                         {"abort listener: after", "listenerCount(em, error) = 0", "w: Error: boom",
                          "listenerCount(em, ready) = 0"});
  CHECK(out.metrics.get("once.errored") == 1);
  CHECK(out.metrics.get("signals.listenersRun") == 1);
}

// emit('error') with no listener throws its Error: an uncaught exception, exit 1.
TEST_CASE("async_abort.unheard_error_event_is_uncaught") {
  const auto out = check(R"(
  - log: before
  - emit: { emitter: em, event: error, error: unheard }
  - log: never
)",
                         {"before"});
  CHECK(out.result.outcome == runtime::Outcome::uncaught_exception);
  CHECK(out.metrics.get("emitter.unheardEmits") == 1);
}
