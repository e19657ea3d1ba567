// Loading a scenario (docs/scenario-format.md, "Errors"): every problem is reported as
// FILE:LINE:COL: message before anything runs. load_error() returns the message with the
// temporary file's path replaced by "FILE", or "" when the file loaded.

#include <doctest/doctest.h>

#include <string>

#include "support/scenario_runner.hpp"

using nodelab::testing::load_error;
using nodelab::testing::run_yaml;

namespace {

// "FILE:LINE:COL: " followed by a message.
bool is_located(const std::string& err) {
  if (err.rfind("FILE:", 0) != 0) return false;
  std::size_t i = 5;
  for (int field = 0; field < 2; ++field) {
    const std::size_t start = i;
    while (i < err.size() && err[i] >= '0' && err[i] <= '9')
      ++i;
    if (i == start || i >= err.size() || err[i] != ':') return false;
    ++i;
  }
  return err.compare(i, 1, " ") == 0 && err.size() > i + 1;
}

// `depth` nested op bodies: main, then a nextTick's `then` inside each.
std::string nested_ticks(int depth) {
  std::string s = "lab: event-loop\nmain:\n";
  std::string indent = "  ";
  for (int i = 1; i < depth; ++i) {
    s += indent + "- nextTick:\n" + indent + "    then:\n";
    indent += "      ";
  }
  return s + indent + "- log: deep\n";
}

}  // namespace

TEST_CASE("loader.valid_scenario_loads") {
  CHECK(load_error(R"(lab: event-loop
name: demo
title: A valid scenario
answer:
  mechanism: timers run in the timers phase
  evidence: "p99 was {eventLoopDelay.p99_ms} ms"
main:
  - log: start
  - setTimeout: { ms: 5, then: [ { log: t } ] }
  - async:
      do:
        - repeat: { times: 2, do: [ { await: {} } ] }
        - try:
            do: [ { await: {} }, { throw: x } ]
            catch: [ { log: "caught {error}" }, { await: {} } ]
expect:
  order: [start, "caught x", t]
  phases: { start: main, t: timers }
  metrics:
    eventLoopDelay.p99_ms: { gte: 0, lt: 1000 }
)") == "");
  // `then`, `do` and `catch` may be omitted or empty; so may main.
  CHECK(load_error("lab: event-loop\nmain: []\n") == "");
  CHECK(load_error("lab: event-loop\nmain:\n  - setTimeout: {}\n  - try: {}\n  - nextTick:\n") ==
        "");
}

TEST_CASE("loader.every_error_is_located") {
  for (const char* yaml : {
           "lab: event-loop\nmain:\n  - frobnicate: 1\n",
           "lab: event-loop\nmain:\n  log: a\n",
           "lab: event-loop\nmain: [ {log: a}\n",
           "lab: event-loop\nmain:\n  - log:\n",
           "lab: event-loop\nmain: []\n---\nlab: event-loop\n",
           "",
       }) {
    CAPTURE(yaml);
    CHECK(is_located(load_error(yaml)));
  }
}

TEST_CASE("loader.unknown_op_suggests_the_closest_name") {
  CHECK(load_error("lab: event-loop\nmain:\n  - log: a\n  - setTimout: { ms: 1 }\n") ==
        "FILE:4:5: unknown op 'setTimout'; did you mean 'setTimeout'?");
  CHECK(load_error("lab: event-loop\nmain:\n  - nexttick: {}\n") ==
        "FILE:3:5: unknown op 'nexttick'; did you mean 'nextTick'?");
  // Nothing close: no suggestion, a pointer to --help instead.
  CHECK(load_error("lab: event-loop\nmain:\n  - frobnicate: 1\n") ==
        "FILE:3:5: unknown op 'frobnicate' (lab-event-loop ops: see --help)");
}

TEST_CASE("loader.unknown_key_in_an_op") {
  CHECK(load_error("lab: event-loop\nmain:\n  - setTimeout: { ms: 1, thn: [] }\n") ==
        "FILE:3:26: unknown key 'thn' in `setTimeout` (allowed: ms, then); did you mean 'then'?");
  CHECK(load_error("lab: event-loop\nmain:\n  - setImmediate: { ms: 1 }\n") ==
        "FILE:3:21: unknown key 'ms' in `setImmediate` (allowed: then)");
  // `await` takes what it awaits, or nothing (`await: {}` is `await undefined`).
  CHECK(load_error("lab: event-loop\nmain:\n  - async: { do: [ { await: { x: 1 } } ] }\n") ==
        "FILE:3:31: unknown key 'x' in `await` (allowed: value, error, promise)");
}

TEST_CASE("loader.wrong_types") {
  // A quoted "abc", and the plain scalar abc, are strings, not numbers.
  CHECK(load_error("lab: event-loop\nmain:\n  - setTimeout: { ms: \"abc\" }\n") ==
        "FILE:3:23: `ms` of `setTimeout` must be a number; got a string");
  CHECK(load_error("lab: event-loop\nmain:\n  - setTimeout: { ms: abc }\n") ==
        "FILE:3:23: `ms` of `setTimeout` must be a number; got a string");
  CHECK(load_error("lab: event-loop\nmain:\n  - repeat: { times: 1.5, do: [] }\n") ==
        "FILE:3:22: `times` of `repeat` must be a whole number; got 1.5");
  CHECK(load_error("lab: event-loop\nmain:\n  - repeat:\n      times: -1\n      do: []\n") ==
        "FILE:4:14: `times` of `repeat` must be between 0 and 1000000; got -1");
  CHECK(load_error("lab: event-loop\nmain:\n  - repeat: { times: 1000001, do: [] }\n") ==
        "FILE:3:22: `times` of `repeat` must be between 0 and 1000000; got 1000001");
  CHECK(load_error("lab: event-loop\nmain:\n  - setInterval: { ms: 1, times: 0 }\n") ==
        "FILE:3:34: `times` of `setInterval` must be between 1 and 1000000; got 0");
  // Required fields.
  CHECK(load_error("lab: event-loop\nmain:\n  - setInterval: { ms: 1 }\n") ==
        "FILE:3:18: `setInterval` needs `times`");
  // A body must be a list of ops.
  CHECK(load_error("lab: event-loop\nmain:\n  log: a\n") ==
        "FILE:3:3: expected a list of ops, got a mapping (write `- op: ...` items or `[ ... ]`)");
  CHECK(load_error("lab: event-loop\nmain:\n  - log:\n") ==
        "FILE:3:5: `log` must be a text; got null");
  CHECK(load_error("lab: event-loop\nmain:\n  - recurse: { via: setTimeot, times: 2 }\n") ==
        "FILE:3:21: `via` of `recurse` must be nextTick, promise, setImmediate or setTimeout; "
        "got 'setTimeot'");
}

TEST_CASE("loader.values_node_accepts_do_load") {
  // Node coerces these at run time (ms < 1, NaN, Infinity, > 2^31-1), so they are valid:
  // "Where Node itself accepts a value (a negative timeout), the lab does what Node does."
  CHECK(load_error(R"(lab: event-loop
main:
  - setTimeout: { ms: -5 }
  - setTimeout: { ms: 2.5 }
  - setTimeout: { ms: .nan }
  - setTimeout: { ms: .inf }
  - setTimeout: { ms: 2147483648 }
  - repeat: { times: 1e3, do: [] }
)") == "");
  // But a `block` is bounded by the lab: 0..60000 ms.
  CHECK(load_error("lab: event-loop\nmain:\n  - block: { ms: -1 }\n") ==
        "FILE:3:18: `ms` of `block` must be between 0 and 60000; got -1");
}

TEST_CASE("loader.missing_lab_or_main") {
  // Both are reported at the top-level mapping.
  CHECK(load_error("main:\n  - log: a\n") ==
        "FILE:1:1: missing `lab:` (which lab runs this scenario)");
  CHECK(load_error("lab: event-loop\nname: x\n") ==
        "FILE:1:1: missing `main:` (the ops of the main script)");
}

TEST_CASE("loader.lab_mismatch_names_the_right_lab") {
  CHECK(load_error("lab: emitter\nmain: []\n") ==
        "FILE:1:6: this scenario is for lab 'emitter', not 'event-loop' (run it with lab-emitter)");
}

TEST_CASE("loader.unknown_top_level_key") {
  CHECK(load_error("lab: event-loop\nmian: []\n") ==
        "FILE:2:1: unknown top-level key 'mian'; did you mean 'main'?");
  CHECK(load_error("lab: event-loop\nmain: []\nanswer:\n  mechanizm: x\n") ==
        "FILE:4:3: unknown key 'mechanizm' in `answer` (allowed: mechanism, failure, "
        "mitigation, evidence, tradeoff); did you mean 'mechanism'?");
}

TEST_CASE("loader.await_outside_async") {
  const std::string message =
      "`await` may only stand in the `do` of an `async` (not inside a callback's `then`): in "
      "JavaScript it would be a syntax error";
  // In the main script.
  CHECK(load_error("lab: event-loop\nmain:\n  - await: {}\n") == "FILE:3:12: " + message);
  // In a callback created inside an async function: a new, non-async function.
  CHECK(load_error(R"(lab: event-loop
main:
  - async:
      do:
        - setTimeout:
            then:
              - await: {}
)") == "FILE:7:24: " + message);
  // Inside repeat, try and catch of the async body it is fine ...
  CHECK(load_error(R"(lab: event-loop
main:
  - async:
      do:
        - try:
            do: [ { throw: x } ]
            catch:
              - await: {}
              - repeat: { times: 2, do: [ { await: {} } ] }
)") == "");
  // ... and so in an async function nested in a callback.
  CHECK(load_error(R"(lab: event-loop
main:
  - nextTick:
      then:
        - async: { do: [ { await: {} } ] }
)") == "");
}

TEST_CASE("loader.error_placeholder_outside_catch") {
  const std::string message =
      "`{error}` names the caught error: it may only appear inside a `catch` body";
  CHECK(load_error("lab: event-loop\nmain:\n  - log: \"oops {error}\"\n") ==
        "FILE:3:10: " + message);
  // The `do` of a try is not the catch.
  CHECK(load_error("lab: event-loop\nmain:\n  - try:\n      do:\n        - log: \"x {error}\"\n") ==
        "FILE:5:16: " + message);
  CHECK(load_error("lab: event-loop\nmain:\n  - throw: \"{error}\"\n") == "FILE:3:12: " + message);
  // A callback created inside a catch body closes over `e`, as in JavaScript.
  CHECK(load_error(R"(lab: event-loop
main:
  - try:
      catch:
        - setTimeout:
            then:
              - async: { do: [ { log: "{error}" } ] }
)") == "");
}

TEST_CASE("loader.duplicate_keys") {
  CHECK(load_error("lab: event-loop\nmain: []\nmain: []\n") == "FILE:3:1: duplicate key 'main'");
  CHECK(load_error("lab: event-loop\nmain:\n  - setTimeout: { ms: 1, ms: 2 }\n") ==
        "FILE:3:26: duplicate key 'ms' in `setTimeout`");
  CHECK(load_error("lab: event-loop\nmain: []\nanswer:\n  failure: a\n  failure: b\n") ==
        "FILE:5:3: duplicate key 'failure'");
  CHECK(load_error("lab: event-loop\nmain: []\nexpect:\n  metrics:\n    loop.iterations: { gt: 0, "
                   "gt: 1 }\n") == "FILE:5:31: duplicate key 'gt' in `a metric bound`");
}

// Regression: duplicate keys in `expect.phases` and `expect.metrics` are accepted (yaml-cpp keeps
// both pairs), although YAML requires unique keys and the loader rejects duplicates everywhere
// else (top level, op fields, answer, metric bounds). `phases: {a: main, a: poll}` loads and
// yields an expectation that can never hold. Repro: load_error of the YAML below returns "".
TEST_CASE("loader.duplicate_keys_in_expect_maps") {
  CHECK(load_error("lab: event-loop\nmain: [ { log: a } ]\nexpect:\n  phases: { a: main, a: poll "
                   "}\n") != "");
  CHECK(load_error("lab: event-loop\nmain: [ { log: a } ]\nexpect:\n  metrics:\n    "
                   "loop.iterations: { gte: 0 }\n    loop.iterations: { lt: 0 }\n") != "");
}

TEST_CASE("loader.an_op_is_a_one_key_mapping") {
  CHECK(load_error("lab: event-loop\nmain:\n  - log: a\n    setTimeout: {}\n") ==
        "FILE:3:5: an op is a one-key mapping; this one has 2 keys (log, setTimeout): put each op "
        "in its own list item");
  CHECK(load_error("lab: event-loop\nmain:\n  - log\n") ==
        "FILE:3:5: an op is a one-key mapping such as `log: text` or `setTimeout: {ms: 1, then: "
        "[...]}`; got a string");
}

TEST_CASE("loader.yaml_1_2_core_schema_on_yes_are_strings") {
  // In YAML 1.1 (yaml-cpp's own resolution) these would be booleans; the lab reads 1.2's core
  // schema, so `log: on` logs "on" (docs/scenario-format.md, "Exact twins and rules").
  const auto out = run_yaml(
      "lab: event-loop\nmain:\n  - log: on\n  - log: yes\n  - log: off\n  - "
      "log: no\n  - log: true\n  - log: 1.0\n");
  CHECK(out.lines == std::vector<std::string>{"on", "yes", "off", "no", "true", "1.0"});
  // And so `ms: on` is a string, not a number.
  CHECK(load_error("lab: event-loop\nmain:\n  - setTimeout: { ms: on }\n") ==
        "FILE:3:23: `ms` of `setTimeout` must be a number; got a string");
}

TEST_CASE("loader.nesting_deeper_than_32_ops") {
  // main is level 1; 31 nested callbacks make 32 levels, the limit.
  CHECK(load_error(nested_ticks(32)) == "");
  // Level 33 is the `then` of the 32nd nextTick: its first item is on line 2 + 32*2 + 1,
  // indented 2 + 6*32 columns.
  CHECK(load_error(nested_ticks(33)) ==
        "FILE:67:195: ops nested more than 32 levels deep (the limit)");
}

TEST_CASE("loader.more_than_10000_ops_via_aliases") {
  // 100 ops defined once, then used 101 more times through an alias: 10200 ops in all.
  std::string yaml = "lab: event-loop\nmain:\n  - repeat:\n      times: 1\n      do: &a [";
  for (int i = 0; i < 100; ++i)
    yaml += i ? ", {log: a}" : "{log: a}";
  yaml += "]\n";
  for (int i = 0; i < 101; ++i)
    yaml += "  - repeat: {times: 1, do: *a}\n";
  // The alias's ops all carry the anchor's position (line 5, col 16: the first `log`).
  CHECK(load_error(yaml) ==
        "FILE:5:16: more than 10000 ops in the file (the limit; an alias counts each time it is "
        "used)");
}

TEST_CASE("loader.expanded_ops_limit_multiplies_nested_times") {
  const std::string message =
      "the scenario would execute more than 20000000 ops once every `times` is multiplied out "
      "(the limit); lower a `times`";
  auto nested = [](int outer, int inner) {
    return "lab: event-loop\nmain:\n  - repeat:\n      times: " + std::to_string(outer) +
           "\n      do:\n        - repeat:\n            times: " + std::to_string(inner) +
           "\n            do:\n              - log: x\n";
  };
  // 1 + 1000 + 1000 * 19998 = 19999001 ops: under the limit.
  CHECK(load_error(nested(1000, 19998)) == "");
  // 1 + 1000 + 1000 * 20000 > 20000000: reported at the op that crosses it.
  CHECK(load_error(nested(1000, 20000)) == "FILE:9:17: " + message);
  // setInterval's `times` multiplies its body too; recurse counts its `times` itself.
  CHECK(load_error("lab: event-loop\nmain:\n  - setInterval:\n      ms: 1\n      times: 1000\n  "
                   "    then:\n        - recurse: {via: nextTick, times: 1000000}\n") ==
        "FILE:7:20: " + message);
}

TEST_CASE("loader.unknown_metric_in_expect_and_in_answer") {
  CHECK(load_error("lab: event-loop\nmain: []\nexpect:\n  metrics:\n    eventLoopDelay.p98_ms: { "
                   "lt: 1 }\n") ==
        "FILE:5:5: unknown metric 'eventLoopDelay.p98_ms' for lab-event-loop; did you mean "
        "'eventLoopDelay.p90_ms'?");
  CHECK(load_error("lab: event-loop\nanswer:\n  evidence: \"p99 was {eventLoopDelay.p98_ms} "
                   "ms\"\nmain: []\n") ==
        "FILE:3:13: `{eventLoopDelay.p98_ms}` is not a metric of lab-event-loop; did you mean "
        "'{eventLoopDelay.p90_ms}'?");
  // A bound needs at least one comparison, each one of lt, lte, gt, gte, eq.
  CHECK(load_error("lab: event-loop\nmain: []\nexpect:\n  metrics:\n    loop.iterations: {}\n") ==
        "FILE:5:22: a metric bound needs at least one of lt, lte, gt, gte, eq");
  CHECK(load_error("lab: event-loop\nmain: []\nexpect:\n  metrics:\n    loop.iterations: { ge: 1 "
                   "}\n")
            .rfind("FILE:5:24: unknown key 'ge' in `a metric bound`", 0) == 0);
}

TEST_CASE("loader.expect_shapes") {
  CHECK(load_error("lab: event-loop\nmain: [ { log: a } ]\nexpect:\n  phases: { a: polling }\n") ==
        "FILE:4:16: unknown phase 'polling' (main, nextTick, microtask, timers, pending, idle, "
        "prepare, poll, check, close)");
  CHECK(load_error("lab: event-loop\nmain: []\nexpect:\n  order: [a]\n  orderAnyOf: [[a]]\n") ==
        "FILE:5:15: use either `order` or `orderAnyOf`, not both");
  CHECK(load_error("lab: event-loop\nmain: []\nexpect:\n  orders: [a]\n")
            .rfind("FILE:4:3: unknown key 'orders' in `expect`", 0) == 0);
}

TEST_CASE("loader.empty_files") {
  const std::string message = "empty scenario: expected a mapping with at least `lab` and `main`";
  CHECK(load_error("") == "FILE:1:1: " + message);
  CHECK(load_error("\n  \n\n") == "FILE:1:1: " + message);
  CHECK(load_error("# only a comment\n# and another\n") == "FILE:1:1: " + message);
}

TEST_CASE("loader.yaml_syntax_errors_are_located") {
  CHECK(load_error("lab: event-loop\nmain: [ {log: a}\n") ==
        "FILE:3:1: invalid YAML: end of sequence flow not found");
  CHECK(load_error("lab: event-loop\nmain: []\n---\nlab: event-loop\n") ==
        "FILE:4:1: a scenario file holds one YAML document; found a second one");
}

TEST_CASE("loader.text_limit") {
  // One log text may hold 4096 bytes.
  CHECK(load_error("lab: event-loop\nmain:\n  - log: " + std::string(4096, 'x') + "\n") == "");
  CHECK(load_error("lab: event-loop\nmain:\n  - log: " + std::string(4097, 'x') + "\n") ==
        "FILE:3:10: `log` is 4097 bytes; the limit is 4096");
}
