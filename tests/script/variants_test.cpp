// `params`, `variants`, the `when` op and `resolution` (scenarios/event-loop/README.md,
// "Extensions"): substitution while loading, what a variant overrides and adds, the twin
// of each variant, and parity: node running a variant's twin prints what the lab logs for
// that variant. Errors are compared as the lab prints them, with the file name as "FILE".

#include <doctest/doctest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "metrics/metric_set.hpp"
#include "runtime/runtime.hpp"
#include "script/expect.hpp"
#include "script/interpreter.hpp"
#include "script/scenario.hpp"
#include "script/shared_ops.hpp"
#include "script/twin.hpp"
#include "support/scenario_runner.hpp"

using namespace nodelab;
using namespace std::chrono_literals;
using nodelab::testing::load_error;
using nodelab::testing::run_yaml;
using nodelab::testing::TempFile;
using nodelab::testing::twin_of;

namespace {

using testing::node_available;

using Lines = std::vector<std::string>;

// A scenario file loaded with one variant ("" = the params as written), kept alive with
// its registry and file.
struct Loaded {
  TempFile file;
  script::OpRegistry registry = script::shared_registry("event-loop");
  script::Scenario s;

  Loaded(const std::string& yaml, const std::string& variant) : file(yaml) {
    s = script::load_scenario(file.path(), registry, {}, variant);
  }
};

// Loads `yaml` with `variant`; the error as the lab prints it, "FILE" for the path, or "".
std::string variant_error(const std::string& yaml, const std::string& variant) {
  TempFile file(yaml);
  try {
    script::load_scenario(file.path(), script::shared_registry("event-loop"), {}, variant);
  } catch (const script::ScenarioError& e) {
    std::string msg = e.what();
    if (msg.rfind(file.path(), 0) == 0) msg = "FILE" + msg.substr(file.path().size());
    return msg;
  }
  return "";
}

struct VariantRun {
  runtime::RunResult result;
  Lines lines;
  metrics::MetricSet metrics;
  std::vector<script::ExpectResult> expectations;
  bool loop_closed_cleanly = false;
};

// Loads and runs one variant the way lab-event-loop runs `--variant NAME` (its
// `resolution` becomes the eventLoopDelay interval), under a watchdog. A variant with an
// `env` is never run here: libuv reads UV_THREADPOOL_SIZE once per process.
VariantRun run_variant(const std::string& yaml, const std::string& variant) {
  const Loaded l(yaml, variant);
  REQUIRE(l.s.env.empty());
  VariantRun out;
  {
    runtime::RuntimeOptions options;
    if (l.s.resolution_ms) options.eld_resolution = std::chrono::milliseconds(*l.s.resolution_ms);
    runtime::Runtime rt(std::move(options));
    script::Interpreter interp(l.s, rt);
    {
      runtime::Watchdog wd(20s);
      out.result = interp.run();
    }
    rt.collect_metrics(out.metrics);
    for (const auto& line : script::logged_lines(rt.recorder()))
      out.lines.push_back(line.text);
    out.expectations = script::check_expectations(l.s.expect, rt.recorder(), out.metrics);
    out.loop_closed_cleanly = rt.shutdown() == 0;
  }
  runtime::clear_stop();
  return out;
}

bool all_ok(const std::vector<script::ExpectResult>& results) {
  bool ok = true;
  for (const auto& r : results) {
    CAPTURE(r.what);
    CAPTURE(r.detail);
    CHECK(r.ok);
    ok = ok && r.ok;
  }
  return ok;
}

std::string twin_of_variant(const std::string& yaml, const std::string& variant) {
  const Loaded l(yaml, variant);
  return script::emit_twin(l.s);
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

Lines split_lines(const std::string& text) {
  Lines out;
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t nl = text.find('\n', start);
    if (nl == std::string::npos) {
      out.push_back(text.substr(start));
      break;
    }
    out.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  return out;
}

// The twin's lines without the leading `//` comment lines of its header.
Lines code_lines(const std::string& twin) {
  Lines out;
  bool header = true;
  for (const auto& line : split_lines(twin)) {
    if (header && line.rfind("//", 0) == 0) continue;
    header = false;
    out.push_back(line);
  }
  return out;
}

using testing::NodeRun;
using testing::run_node;  // `node FILE.js`, stderr dropped

// For every variant of `yaml`: node on the variant's twin prints exactly the lines the lab
// logs for that variant. Returns the lab's lines per variant.
std::vector<Lines> check_variant_parity(const std::string& yaml,
                                        const std::vector<std::string>& variants) {
  std::vector<Lines> all;
  for (const auto& v : variants) {
    CAPTURE(v);
    const VariantRun lab = run_variant(yaml, v);
    CHECK(lab.result.outcome == runtime::Outcome::completed);
    CHECK(lab.loop_closed_cleanly);
    const NodeRun node = run_node(twin_of_variant(yaml, v));
    CHECK(node.exit_code == 0);
    CHECK(node.lines == lab.lines);
    all.push_back(lab.lines);
  }
  return all;
}

// A scenario whose three variants pick a strategy, a delay and a word.
const std::string kStrategies = R"(lab: event-loop
title: Strategies
params:
  strategy: sync
  delay: 5
  word: hello
variants:
  fast:
    params: { strategy: chunked, delay: 1 }
  slow:
    title: the slow one
    params: { strategy: other, word: "bye bye" }
  plain:
    params: { word: plain }
main:
  - setTimeout: { ms: $delay, then: [ { log: $word } ] }
  - log: "delay ${delay}, word ${word}"
  - when: { strategy: sync, do: [ { log: sync branch } ] }
  - when:
      strategy: [chunked, other]
      do: [ { log: chunked-or-other branch } ]
)";

}  // namespace

TEST_CASE("variants.whole_scalar_param_keeps_its_type") {
  // `$delay` is the number 5 where `ms` needs a number; `$word` is a text where `log`
  // needs one; `$n` (the number 42) logs as the text "42", as `log: 42` would.
  const auto out = run_yaml(R"(lab: event-loop
params: { delay: 5, word: hello, n: 42, f: 2.50 }
main:
  - setTimeout: { ms: $delay, then: [ { log: $word } ] }
  - repeat: { times: $n, do: [] }
  - log: $n
  - log: $f
)");
  CHECK(out.result.outcome == runtime::Outcome::completed);
  CHECK(out.lines == Lines{"42", "2.50", "hello"});
  const std::string twin = twin_of(R"(lab: event-loop
params: { delay: 5, word: hello }
main:
  - setTimeout: { ms: $delay, then: [ { log: $word } ] }
)");
  // The twin holds the values, as if they had been written in place.
  CHECK(contains(twin, "setTimeout(() => {\n  console.log(\"hello\");\n}, 5);"));
  CHECK_FALSE(contains(twin, "$"));

  // A text stays a text: as `ms` it is the usual type error, at the `$word`.
  CHECK(load_error("lab: event-loop\nparams: { word: abc }\nmain:\n  - setTimeout: { ms: $word "
                   "}\n") == "FILE:4:23: `ms` of `setTimeout` must be a number; got a string");
  // A quoted "5" in `params` is a text too (quoted values are always strings).
  CHECK(load_error("lab: event-loop\nparams: { d: \"5\" }\nmain:\n  - setTimeout: { ms: $d }\n") ==
        "FILE:4:23: `ms` of `setTimeout` must be a number; got a string");
  // `times` needs a whole number: 2.5 is rejected as if written there.
  CHECK(load_error("lab: event-loop\nparams: { n: 2.5 }\nmain:\n  - repeat: { times: $n, do: [] "
                   "}\n") == "FILE:4:22: `times` of `repeat` must be a whole number; got 2.5");
}

TEST_CASE("variants.interpolation_inside_a_text") {
  const auto out = run_yaml(R"(lab: event-loop
params: { a: x, n: 500 }
main:
  - log: "chunks of ${n} us"
  - log: "${a}${a}-${n}"
  - log: "costs $5, a lone $ and ${ stay"
  - try:
      do: [ { throw: "bad ${a}" } ]
      catch: [ { log: "caught {error}" } ]
)");
  // `${name}` is replaced by the parameter's text anywhere in a text; `$` not followed by
  // a name, or `${` without one, is just a character.
  CHECK(out.lines ==
        Lines{"chunks of 500 us", "xx-500", "costs $5, a lone $ and ${ stay", "caught bad x"});
  // The twin prints the interpolated text.
  CHECK(contains(twin_of("lab: event-loop\nparams: { n: 500 }\nmain:\n  - log: \"chunks of "
                         "${n} us\"\n"),
                 "console.log(\"chunks of 500 us\");"));
  // An undeclared name inside a text is a located error at the text.
  CHECK(load_error("lab: event-loop\nparams: { a: x }\nmain:\n  - log: \"a ${b} c\"\n") ==
        "FILE:4:10: unknown param 'b'");
}

TEST_CASE("variants.undeclared_param_is_an_error_only_with_params") {
  // With `params:`, `$HOME` must name one of them.
  CHECK(load_error("lab: event-loop\nparams: { a: x }\nmain:\n  - log: $HOME\n") ==
        "FILE:4:10: unknown param 'HOME' (declare it under `params:`)");
  CHECK(load_error("lab: event-loop\nparams: { a: x }\nmain:\n  - setTimeout: { ms: $a2 }\n") ==
        "FILE:4:23: unknown param 'a2' (declare it under `params:`)");
  // Without `params:`, `$` has no meaning: the texts are logged as written.
  const auto out = run_yaml("lab: event-loop\nmain:\n  - log: $HOME\n  - log: \"a ${HOME} b\"\n");
  CHECK(out.lines == Lines{"$HOME", "a ${HOME} b"});
  CHECK(contains(twin_of("lab: event-loop\nmain:\n  - log: $HOME\n"), "console.log(\"$HOME\");"));
}

TEST_CASE("variants.a_variant_overrides_param_values") {
  {
    // Without a variant, the params as written.
    const Loaded l(kStrategies, "");
    CHECK(l.s.variant.empty());
    REQUIRE(l.s.variants.size() == 3);
    CHECK(l.s.variants[0].name == "fast");
    CHECK(l.s.variants[1].name == "slow");
    CHECK(l.s.variants[1].title == "the slow one");
    CHECK(l.s.variants[2].name == "plain");
  }
  CHECK(run_yaml(kStrategies).lines == Lines{"delay 5, word hello", "sync branch", "hello"});
  // Each variant replaces only the params it names; the rest keep their values.
  const VariantRun fast = run_variant(kStrategies, "fast");
  CHECK(fast.lines == Lines{"delay 1, word hello", "chunked-or-other branch", "hello"});
  const VariantRun slow = run_variant(kStrategies, "slow");
  CHECK(slow.lines == Lines{"delay 5, word bye bye", "chunked-or-other branch", "bye bye"});
  const VariantRun plain = run_variant(kStrategies, "plain");
  CHECK(plain.lines == Lines{"delay 5, word plain", "sync branch", "plain"});
  {
    const Loaded l(kStrategies, "slow");
    CHECK(l.s.variant == "slow");
    // The variant's title is added to the scenario's.
    CHECK(l.s.title == "Strategies [the slow one]");
  }
  // A variant may set only declared params.
  CHECK(load_error("lab: event-loop\nparams: { s: a }\nvariants:\n  v: { params: { t: b } "
                   "}\nmain: []\n") ==
        "FILE:4:18: variant 'v' sets 't', which is not under `params:`");
}

TEST_CASE("variants.a_variants_expect_is_merged_into_the_scenarios") {
  const std::string yaml = R"(lab: event-loop
params: { a_ms: 0 }
variants:
  late:
    params: { a_ms: 60 }
    expect:
      order: [b, a]
      phases: { b: timers }
      metrics: { callbacks.timers: { eq: 2 } }
  same: { params: { a_ms: 1 } }
  either:
    expect:
      orderAnyOf: [[a, b], [b, a]]
main:
  - setTimeout: { ms: $a_ms, then: [ { log: a } ] }
  - setTimeout: { ms: 20, then: [ { log: b } ] }
expect:
  order: [a, b]
  phases: { a: timers }
  metrics: { callbacks.total: { gte: 3 } }
)";
  {
    const Loaded l(yaml, "late");
    // Its order replaces the base order; phases and metric bounds add up.
    REQUIRE(l.s.expect.order.has_value());
    CHECK(*l.s.expect.order == Lines{"b", "a"});
    REQUIRE(l.s.expect.phases.size() == 2);
    CHECK(l.s.expect.phases[0].first == "a");
    CHECK(l.s.expect.phases[1].first == "b");
    REQUIRE(l.s.expect.metrics.size() == 2);
    CHECK(l.s.expect.metrics[0].path == "callbacks.total");
    CHECK(l.s.expect.metrics[1].path == "callbacks.timers");
  }
  {
    // A variant without `expect` keeps the scenario's.
    const Loaded l(yaml, "same");
    REQUIRE(l.s.expect.order.has_value());
    CHECK(*l.s.expect.order == Lines{"a", "b"});
    CHECK(l.s.expect.phases.size() == 1);
    CHECK(l.s.expect.metrics.size() == 1);
  }
  {
    // An `orderAnyOf` replaces the base `order` too.
    const Loaded l(yaml, "either");
    CHECK_FALSE(l.s.expect.order.has_value());
    CHECK(l.s.expect.order_any_of.size() == 2);
  }
  {
    // Without a variant, only the top-level expect applies.
    const Loaded l(yaml, "");
    REQUIRE(l.s.expect.order.has_value());
    CHECK(*l.s.expect.order == Lines{"a", "b"});
    CHECK(l.s.expect.phases.size() == 1);
  }
  // Run: the 60 ms timer now comes after the 20 ms one, and every merged check holds.
  const VariantRun late = run_variant(yaml, "late");
  CHECK(late.lines == Lines{"b", "a"});
  CHECK(late.expectations.size() == 5);  // order, 2 phases, 2 metric bounds
  CHECK(all_ok(late.expectations));
  const VariantRun same = run_variant(yaml, "same");
  CHECK(same.lines == Lines{"a", "b"});
  CHECK(all_ok(same.expectations));
}

TEST_CASE("variants.when_keeps_only_the_matching_branch") {
  const std::string yaml = R"(lab: event-loop
params: { mode: a, size: 1 }
variants:
  a1: { params: { mode: a, size: 1 } }
  a2: { params: { mode: a, size: 2 } }
  b2: { params: { mode: b, size: 2 } }
  c1: { params: { mode: c, size: 1 } }
main:
  - when: { mode: a, do: [ { log: only a } ] }
  - when: { mode: [b, c], do: [ { log: b or c } ] }
  - when: { mode: a, size: 2, do: [ { log: a and 2 } ] }
  - when: { mode: [a, b], size: [2, 3], do: [ { log: a-or-b and 2-or-3 } ] }
  - log: end
)";
  // A single value matches that value; a list matches any of its values; several params
  // must all match.
  CHECK(run_variant(yaml, "a1").lines == Lines{"only a", "end"});
  CHECK(run_variant(yaml, "a2").lines == Lines{"only a", "a and 2", "a-or-b and 2-or-3", "end"});
  CHECK(run_variant(yaml, "b2").lines == Lines{"b or c", "a-or-b and 2-or-3", "end"});
  CHECK(run_variant(yaml, "c1").lines == Lines{"b or c", "end"});

  // The choice is made at load time: the twin of b2 holds only b2's branches; the others
  // appear as comments naming their condition.
  const std::string twin = twin_of_variant(yaml, "b2");
  CHECK(contains(twin, "// when mode in [\"a\"]: not in this run\n"));
  CHECK(contains(twin, "// when mode in [\"b\", \"c\"]:\nconsole.log(\"b or c\");\n"));
  CHECK(contains(twin, "// when mode in [\"a\"], size in [\"2\"]: not in this run\n"));
  CHECK(
      contains(twin,
               "// when mode in [\"a\", \"b\"], size in [\"2\", \"3\"]:\nconsole.log(\"a-or-b and "
               "2-or-3\");\n"));
  CHECK_FALSE(contains(twin, "only a"));
  CHECK_FALSE(contains(twin, "a and 2\""));
  // The header names the variant and the command whose output the twin reproduces.
  CHECK(contains(twin, "variant b2)."));
  CHECK(contains(twin, "`lab-event-loop --variant b2 --logs-only`"));

  // `when` matches declared params only, and needs at least one.
  CHECK(load_error("lab: event-loop\nparams: { s: a }\nmain:\n  - when: { t: a, do: [] }\n") ==
        "FILE:4:13: `when` matches declared params (under `params:`); 't' is not one");
  CHECK(load_error("lab: event-loop\nparams: { s: a }\nmain:\n  - when: { do: [] }\n") ==
        "FILE:4:11: `when` needs at least one param to match");
}

TEST_CASE("variants.when_inside_an_async_do_may_await") {
  const std::string yaml = R"(lab: event-loop
params: { mode: hop }
variants:
  hop: { params: { mode: hop } }
  direct: { params: { mode: direct } }
main:
  - async:
      do:
        - log: a start
        - when:
            mode: hop
            do: [ { await: {} }, { log: a after await } ]
        - when: { mode: direct, do: [ { log: a direct } ] }
        - log: a end
  - promise: { then: [ { log: p1 } ] }
  - log: sync end
)";
  // The `do` of a `when` is part of the enclosing async function: the await suspends it
  // for one microtask hop, so "sync end" comes first and p1 (queued after the await's
  // continuation) comes after.
  CHECK(run_variant(yaml, "hop").lines ==
        Lines{"a start", "sync end", "a after await", "a end", "p1"});
  CHECK(run_variant(yaml, "direct").lines ==
        Lines{"a start", "a direct", "a end", "sync end", "p1"});
  // In the twin the branch is inline in the async arrow function, not a nested function.
  CHECK(
      contains(twin_of_variant(yaml, "hop"),
               "(async () => {\n  console.log(\"a start\");\n  // when mode in [\"hop\"]:\n  await "
               "undefined;\n"));
  // Outside an async function the same `when` would hold an invalid await, chosen or not.
  CHECK(load_error("lab: event-loop\nparams: { s: a }\nmain:\n  - when: { s: b, do: [ { await: "
                   "{} } ] }\n") ==
        "FILE:4:34: `await` may only stand in the `do` of an `async` (not inside a callback's "
        "`then`): in JavaScript it would be a syntax error");
}

TEST_CASE("variants.env_sets_the_pool_size_at_the_top_of_the_twin") {
  const std::string yaml = R"(lab: event-loop
variants:
  five: { env: { UV_THREADPOOL_SIZE: 5 } }
  plain: {}
main:
  - readFile: { then: [ { log: read } ] }
)";
  {
    const Loaded l(yaml, "five");
    CHECK(l.s.env == std::vector<std::pair<std::string, std::string>>{{"UV_THREADPOOL_SIZE", "5"}});
  }
  // libuv reads UV_THREADPOOL_SIZE at the first pool request: the assignment is the twin's
  // first statement, before even `require('fs')`.
  const Lines code = code_lines(twin_of_variant(yaml, "five"));
  REQUIRE(code.size() >= 2);
  CHECK(code[0] == "process.env.UV_THREADPOOL_SIZE = \"5\";");
  CHECK(code[1] == "const fs = require('fs');");
  // Another variant of the same file, and the file without a variant, set nothing.
  CHECK_FALSE(contains(twin_of_variant(yaml, "plain"), "process.env"));
  CHECK_FALSE(contains(twin_of(yaml), "process.env"));
  // Only UV_THREADPOOL_SIZE, within libuv's 1..1024.
  CHECK(load_error("lab: event-loop\nvariants:\n  v: { env: { UV_THREADPOOL_SIZE: 0 } }\nmain: "
                   "[]\n") ==
        "FILE:3:35: `UV_THREADPOOL_SIZE` of `a variant's env` must be between 1 and 1024; got 0");
  CHECK(load_error("lab: event-loop\nvariants:\n  v: { env: { HOME: x } }\nmain: []\n") ==
        "FILE:3:15: unknown key 'HOME' in `a variant's env` (allowed: UV_THREADPOOL_SIZE)");
}

TEST_CASE("variants.resolution_at_top_level_and_per_variant") {
  const std::string yaml = R"(lab: event-loop
resolution: 20
variants:
  fine: { resolution: 3 }
  inherits: {}
main:
  - setTimeout: { ms: 30 }
)";
  // A variant's resolution wins over the top-level one; without one it inherits it.
  CHECK(Loaded(yaml, "").s.resolution_ms == 20);
  CHECK(Loaded(yaml, "fine").s.resolution_ms == 3);
  CHECK(Loaded(yaml, "inherits").s.resolution_ms == 20);
  // Without any, the lab's default (10 ms) applies: nothing is set.
  CHECK_FALSE(Loaded("lab: event-loop\nmain: []\n", "").s.resolution_ms.has_value());
  // Run: the sampler's interval is the variant's.
  const VariantRun fine = run_variant(yaml, "fine");
  CHECK(fine.metrics.get("eventLoopDelay.resolution_ms") == 3.0);
  const VariantRun inherits = run_variant(yaml, "inherits");
  CHECK(inherits.metrics.get("eventLoopDelay.resolution_ms") == 20.0);
  // Whole ms, 1 to 10000.
  CHECK(load_error("lab: event-loop\nresolution: 0\nmain: []\n") ==
        "FILE:2:13: `resolution` is the eventLoopDelay sampling interval in whole ms, 1 to "
        "10000");
  CHECK(load_error("lab: event-loop\nvariants:\n  v: { resolution: 2.5 }\nmain: []\n") ==
        "FILE:3:20: `resolution` of `a variant` must be a whole number; got 2.5");
}

TEST_CASE("variants.unknown_variant_lists_the_declared_ones") {
  // The whole file is reported (no line): the name came from the command line.
  CHECK(variant_error(kStrategies, "nope") ==
        "FILE: no variant 'nope' (variants: fast, slow, plain)");
  CHECK(variant_error("lab: event-loop\nmain: []\n", "nope") ==
        "FILE: no variant 'nope': this scenario declares none");
  // As an exception, a ScenarioError (what the lab turns into exit code 2).
  TempFile file(kStrategies);
  CHECK_THROWS_AS(
      script::load_scenario(file.path(), script::shared_registry("event-loop"), {}, "FAST"),
      script::ScenarioError);
  CHECK(script::variant_names(file.path()) == Lines{"fast", "slow", "plain"});
}

TEST_CASE("variants.variant_placeholders_in_answers") {
  auto with_evidence = [](const std::string& evidence) {
    return "lab: event-loop\nparams: { s: a }\nvariants:\n  fast: { params: { s: b } }\nanswer:\n"
           "  evidence: \"" +
           evidence + "\"\nmain: []\n";
  };
  // {VARIANT.metric.path} names a declared variant and one of the lab's metrics; only
  // --compare has every variant's figures, and a single run has only its own.
  CHECK(load_error(with_evidence("p99 {fast.eventLoopDelay.p99_ms} ms, {eventLoopDelay.p99_ms} "
                                 "ms")) ==
        "FILE:6:13: `answer.evidence` cites `{fast.eventLoopDelay.p99_ms}`, a figure of variant "
        "'fast', but a run of the params as written has only its own figures "
        "(`{eventLoopDelay.p99_ms}`); --compare has every variant's: write the text per run, "
        "`{ run: ..., compare: ... }`");
  auto per_run = [](const std::string& body) {
    return "lab: event-loop\nparams: { s: a }\nvariants:\n  fast: { params: { s: b } }\n"
           "answer:\n  evidence:\n" +
           body + "main: []\n";
  };
  CHECK(load_error(per_run("    run: \"p99 {eventLoopDelay.p99_ms} ms (${s})\"\n"
                           "    fast: \"p99 {fast.eventLoopDelay.p99_ms} ms\"\n"
                           "    compare: \"fast: {fast.eventLoopDelay.p99_ms} ms\"\n")) == "");
  // --compare has no single figure: a plain placeholder in its text is refused where it is.
  CHECK(load_error(per_run("    run: \"p99 {eventLoopDelay.p99_ms} ms\"\n")) ==
        "FILE:7:10: `answer.evidence.run` cites `{eventLoopDelay.p99_ms}`, which has no single "
        "value in --compare (one per variant): cite `{<variant>.eventLoopDelay.p99_ms}` in "
        "`compare:`");
  CHECK(load_error(per_run("    compare: \"x\"\n")) ==
        "FILE:7:5: `answer.evidence` written per run needs `run:`, the text of a run of the "
        "params as written");
  CHECK(load_error(per_run("    run: x\n    nope: y\n")) ==
        "FILE:8:5: unknown key 'nope' in `answer.evidence` (allowed: run, a variant's name, "
        "compare; this scenario's: run, compare, fast)");
  // A piece decided on the run's figures.
  CHECK(load_error(per_run("    run:\n      - when: \"{eventLoopDelay.p99_ms} < 5\"\n"
                           "        then: fast\n        else: slow\n    compare: x\n")) == "");
  CHECK(load_error(per_run("    run:\n      - when: \"{eventLoopDelay.p99_ms} ~ 5\"\n"
                           "        then: fast\n")) ==
        "FILE:8:15: `answer.evidence.run` `when` compares two figures: \"{a.metric} < "
        "{b.metric}\" (or a number; operators < <= > >=); got \"{eventLoopDelay.p99_ms} ~ 5\"");
  // An undeclared variant is not a metric path.
  CHECK(load_error(with_evidence("p99 {slow.eventLoopDelay.p99_ms} ms")) ==
        "FILE:6:13: `{slow.eventLoopDelay.p99_ms}` is not a metric of lab-event-loop; did you "
        "mean '{eventLoopDelay.p99_ms}'?");
  // Nor is a declared variant with a path that is not a metric.
  CHECK(load_error(with_evidence("{fast.timerDrift} ms")) ==
        "FILE:6:13: `{fast.timerDrift}` is not a metric of lab-event-loop (see --help for the "
        "list)");
  // Without variants, the same placeholder is unknown.
  CHECK(load_error("lab: event-loop\nanswer:\n  evidence: \"{fast.eventLoopDelay.p99_ms}\"\nmain: "
                   "[]\n") ==
        "FILE:3:13: `{fast.eventLoopDelay.p99_ms}` is not a metric of lab-event-loop; did you "
        "mean '{eventLoopDelay.p99_ms}'?");
}

TEST_CASE("variants.node_prints_what_each_variant_logs") {
  if (!node_available()) {
    MESSAGE("node is not on PATH: parity checks skipped");
    return;
  }
  SUBCASE("timeout vs immediate, scheduled from three places") {
    // Inside an I/O or a timer callback the immediate always wins; after 5 ms of
    // synchronous main-module work the 1 ms timer is due when the loop starts and wins.
    const auto lines = check_variant_parity(R"(lab: event-loop
params: { via: io }
variants:
  io: { params: { via: io } }
  timer: { params: { via: timer } }
  main: { params: { via: main } }
main:
  - log: "via ${via}"
  - when:
      via: io
      do:
        - readFile:
            then:
              - setTimeout: { ms: 0, then: [ { log: timeout } ] }
              - setImmediate: { then: [ { log: immediate } ] }
  - when:
      via: timer
      do:
        - setTimeout:
            ms: 5
            then:
              - setTimeout: { ms: 0, then: [ { log: timeout } ] }
              - setImmediate: { then: [ { log: immediate } ] }
  - when:
      via: main
      do:
        - setTimeout: { ms: 0, then: [ { log: timeout } ] }
        - setImmediate: { then: [ { log: immediate } ] }
        - block: { ms: 5 }
)",
                                            {"io", "timer", "main"});
    REQUIRE(lines.size() == 3);
    CHECK(lines[0] == Lines{"via io", "immediate", "timeout"});
    CHECK(lines[1] == Lines{"via timer", "immediate", "timeout"});
    CHECK(lines[2] == Lines{"via main", "timeout", "immediate"});
  }
  SUBCASE("an await inside a chosen branch") {
    const auto lines = check_variant_parity(R"(lab: event-loop
params: { mode: hop }
variants:
  hop: { params: { mode: hop } }
  direct: { params: { mode: direct } }
main:
  - async:
      do:
        - log: a start
        - when:
            mode: hop
            do: [ { await: {} }, { log: a after await } ]
        - when: { mode: direct, do: [ { log: a direct } ] }
        - log: a end
  - promise: { then: [ { log: p1 } ] }
  - promise: { then: [ { log: p2 } ] }
  - log: sync end
)",
                                            {"hop", "direct"});
    REQUIRE(lines.size() == 2);
    CHECK(lines[0] == Lines{"a start", "sync end", "a after await", "a end", "p1", "p2"});
    CHECK(lines[1] == Lines{"a start", "a direct", "a end", "sync end", "p1", "p2"});
  }
  SUBCASE("a recursion whose queue and length are params") {
    // via nextTick the chain finishes in main's drain before the promise; via promise it
    // joins the microtask queue after it; via setImmediate it takes one iteration per
    // step, and the due 1 ms timer (after 5 ms of main) runs first.
    const auto lines = check_variant_parity(R"(lab: event-loop
params: { via: nextTick, n: 3 }
variants:
  ticks: { params: { via: nextTick } }
  immediates: { params: { via: setImmediate, n: 2 } }
  promises: { params: { via: promise, n: 4 } }
main:
  - setTimeout: { ms: 0, then: [ { log: timer } ] }
  - recurse: { via: $via, times: $n, then: [ { log: "chain of ${n} via ${via} done" } ] }
  - promise: { then: [ { log: promise } ] }
  - nextTick: { then: [ { log: tick } ] }
  - block: { ms: 5 }
  - log: sync
)",
                                            {"ticks", "immediates", "promises"});
    REQUIRE(lines.size() == 3);
    CHECK(lines[0] == Lines{"sync", "tick", "chain of 3 via nextTick done", "promise", "timer"});
    CHECK(lines[1] ==
          Lines{"sync", "tick", "promise", "timer", "chain of 2 via setImmediate done"});
    CHECK(lines[2] == Lines{"sync", "tick", "promise", "chain of 4 via promise done", "timer"});
  }
}

// Regression: a variant's `expect` is parsed (parse_variants in common/script/scenario.cpp)
// before the params are installed (Parser::set_params), so `$name` and `${name}` in it are
// never substituted, and an undeclared `$nope` there is accepted, while the same lines in
// the top-level `expect` are substituted with the loaded variant's values. Repro: the YAML
// below with `--variant small` logs "chunks of 2 us" and "2" but fails its own expectation
// "expected 'chunks of ${n} us'" (exit 3). (A variant's `title`, and the top-level `title`,
// are not interpolated either, for the same reason.)
TEST_CASE("variants.params_are_substituted_in_a_variants_expect") {
  const std::string yaml = R"(lab: event-loop
params: { n: 500 }
variants:
  small:
    params: { n: 2 }
    expect:
      order: ["chunks of ${n} us", $n]
main:
  - log: "chunks of ${n} us"
  - log: $n
)";
  {
    const Loaded l(yaml, "small");
    REQUIRE(l.s.expect.order.has_value());
    CHECK(*l.s.expect.order == Lines{"chunks of 2 us", "2"});
  }
  const VariantRun small = run_variant(yaml, "small");
  CHECK(small.lines == Lines{"chunks of 2 us", "2"});
  CHECK(all_ok(small.expectations));
  // As everywhere else in a file with params, an undeclared name is a located error.
  CHECK(load_error("lab: event-loop\nparams: { n: 1 }\nvariants:\n  v:\n    expect:\n      "
                   "order: [$nope]\nmain: []\n") ==
        "FILE:6:15: unknown param 'nope' (declare it under `params:`)");
}

// Regression: the `when` comment of the twin (WhenOp::emit_twin in common/script/shared_ops.cpp)
// writes the matched values raw after `//`, so a value holding a line break ends the
// comment and the rest of the value becomes code: the twin of the YAML below is a
// SyntaxError in node ("console.log('injected')]: not in this run"), although the lab runs
// it fine and prints "done". Every other text of the twin goes through js_string.
TEST_CASE("variants.a_when_value_with_a_line_break_keeps_the_twin_valid") {
  const std::string yaml =
      "lab: event-loop\nparams: { s: a }\nmain:\n  - when: { s: \"b\\nconsole.log('injected')\", "
      "do: [ { log: never } ] }\n  - log: done\n";
  CHECK(run_yaml(yaml).lines == Lines{"done"});
  const std::string twin = twin_of(yaml);
  for (const auto& line : split_lines(twin)) {
    if (contains(line, "injected")) CHECK(line.rfind("//", 0) == 0);
  }
  if (node_available()) {
    const NodeRun node = run_node(twin);
    CHECK(node.exit_code == 0);
    CHECK(node.lines == Lines{"done"});
  }
}

// Regression: parse_when (common/script/shared_ops.cpp) does not reject duplicate keys, which
// the loader rejects everywhere else ("duplicate key 'ms' in `setTimeout`"): `{s: a, s: b}`
// silently never matches (both conditions ANDed), and a second `do` silently replaces the
// first. Repro: the first YAML below loads and runs, printing only "end".
TEST_CASE("variants.when_rejects_duplicate_keys") {
  CHECK(load_error("lab: event-loop\nparams: { s: a }\nmain:\n  - when: { s: a, s: b, do: [] }\n")
            .rfind("FILE:4:19: duplicate key 's'", 0) == 0);
  CHECK(load_error("lab: event-loop\nparams: { s: a }\nmain:\n  - when: { s: a, do: [], do: [] "
                   "}\n")
            .rfind("FILE:4:27: duplicate key 'do'", 0) == 0);
}

// Regression: a variant's `params` (parse_variants in common/script/scenario.cpp) accepts the same
// param twice and keeps the last value, while the top-level `params` reports "duplicate
// param 's'". Repro: with `--variant v` the YAML below logs "c".
TEST_CASE("variants.a_variant_rejects_a_duplicate_param") {
  CHECK(load_error("lab: event-loop\nparams: { s: a }\nvariants:\n  v: { params: { s: b, s: c } "
                   "}\nmain:\n  - log: $s\n")
            .rfind("FILE:4:24: duplicate", 0) == 0);
}

TEST_CASE("variants.param_and_variant_names_are_any_identifier") {
  // Issue 13 §7: params and variants never become JavaScript names in the twin (params are
  // substituted at load time, a variant's name is only in the twin's first comment), so names
  // the twins use themselves (`runs`, `i`, `setTimeout`), reserved words and `__x` load.
  const std::string yaml = R"(lab: event-loop
params: { runs: 2, __x: hi, setTimeout: 1 }
variants:
  class: { title: a class, params: { runs: 3 } }
  i: { title: an i, params: { __x: bye } }
main:
  - setInterval: { ms: $setTimeout, times: $runs, then: [ { log: "${__x} ${runs}" } ] }
)";
  for (const char* variant : {"", "class", "i"}) {
    CHECK(testing::load_error(yaml, testing::shared_ops(), variant) == "");
  }
  testing::RunOptions run_i;
  run_i.variant = "i";
  const auto lab = testing::run_yaml(yaml, testing::shared_ops(), run_i);
  CHECK(lab.lines == std::vector<std::string>{"bye 2", "bye 2"});
  if (!testing::node_available()) return;
  CHECK(testing::run_node(testing::twin_of(yaml, testing::shared_ops(), "i")).lines == lab.lines);
}
