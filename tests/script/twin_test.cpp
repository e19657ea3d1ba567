// The Node.js twin (`--emit-node`): its shape (docs/scenario-format.md, "Exact twins and rules"),
// and parity: real `node` running the twin prints exactly the lines run_yaml() logs.

#include <doctest/doctest.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "runtime/runtime.hpp"
#include "script/scenario.hpp"
#include "script/twin.hpp"
#include "support/scenario_runner.hpp"

using namespace nodelab;
using nodelab::testing::run_yaml;
using nodelab::testing::TempFile;
using nodelab::testing::twin_of;

namespace {

using testing::node_available;

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// Position of `needle` in `s`; fails the test if it is missing.
std::size_t pos_of(const std::string& s, const std::string& needle) {
  const std::size_t p = s.find(needle);
  CHECK_MESSAGE(p != std::string::npos, "missing: " << needle);
  return p;
}

using testing::NodeRun;
using testing::run_node;  // `node FILE.js`, stderr dropped

// The scenario's lab lines and its twin's node lines agree, and so do the exit codes
// (1 when the simulated process died, as Node's).
void check_parity(const std::string& yaml) {
  const auto lab = run_yaml(yaml);
  const NodeRun node = run_node(twin_of(yaml));
  CHECK_FALSE(node.lines.empty());
  CHECK(lab.lines == node.lines);
  const bool died = lab.result.outcome == runtime::Outcome::uncaught_exception ||
                    lab.result.outcome == runtime::Outcome::unhandled_rejection;
  CHECK(node.exit_code == (died ? 1 : 0));
}

}  // namespace

TEST_CASE("twin.head_order_requires_then_warning_handler_then_declarations_then_helpers") {
  // What ops ask for, in any order; the head puts fs first, then events, then the other
  // requires in order of first use; then the 'warning' handler; then the labs' declarations
  // (in order of first use), then helpers; then the body. Each once.
  script::Scenario s;
  s.file = "x.yaml";
  s.lab = "event-loop";
  s.name = "x";
  script::TwinWriter w;
  w.helper("h", "const __h = 1;");
  w.require("crypto", "const crypto = require('crypto');");
  w.declare("bus", "const bus = new EventEmitter();");
  w.require("net", "const net = require('net');");
  w.require("events", "const { EventEmitter } = require('events');");
  w.require("fs", "const fs = require('fs');");
  w.declare("L", "const L = {};");
  w.require("crypto", "const crypto = require('crypto');");
  w.declare("bus", "const bus = new EventEmitter();");
  w.helper("h", "const __h = 1;");
  w.line("console.log(\"body\");");
  const std::string twin = w.finish(s);
  const std::size_t fs = pos_of(twin, "const fs = require('fs');\n");
  const std::size_t events = pos_of(twin, "const { EventEmitter } = require('events');\n");
  const std::size_t crypto = pos_of(twin, "const crypto = require('crypto');\n");
  const std::size_t net = pos_of(twin, "const net = require('net');\n");
  const std::size_t warning = pos_of(
      twin, "process.on('warning', w => console.log('warning: ' + w.name + ': ' + w.message));\n");
  const std::size_t bus = pos_of(twin, "const bus = new EventEmitter();\n");
  const std::size_t table = pos_of(twin, "const L = {};\n");
  const std::size_t helper = pos_of(twin, "const __h = 1;");
  const std::size_t body = pos_of(twin, "console.log(\"body\");");
  CHECK(fs < events);
  CHECK(events < crypto);
  CHECK(crypto < net);
  CHECK(net < warning);
  CHECK(warning < bus);
  CHECK(bus < table);
  CHECK(table < helper);
  CHECK(helper < body);
  for (const char* once : {"require('crypto')", "new EventEmitter()", "const __h"}) {
    const std::size_t first = twin.find(once);
    CHECK(twin.find(once, first + 1) == std::string::npos);
  }
}

TEST_CASE("twin.shared_ops_require_fs_before_crypto") {
  const std::string twin = twin_of(R"(lab: event-loop
main:
  - threadpool: { ms: 1 }
  - readFile: {}
  - log: body
)");
  CHECK(pos_of(twin, "const fs = require('fs');\n") <
        pos_of(twin, "const crypto = require('crypto');\n"));
  CHECK(pos_of(twin, "const __threadpool = ") < pos_of(twin, "console.log(\"body\");"));
}

TEST_CASE("twin.minimal_head_has_only_the_warning_handler") {
  const std::string twin = twin_of("lab: event-loop\nmain:\n  - log: hi\n");
  // No fs without readFile; no emitters, so no listener table.
  CHECK_FALSE(contains(twin, "require("));
  CHECK_FALSE(contains(twin, "const L = "));
  CHECK(contains(twin,
                 "process.on('warning', w => console.log('warning: ' + w.name + ': ' + "
                 "w.message));\n"));
  CHECK(contains(twin, "\nconsole.log(\"hi\");\n"));
}

TEST_CASE("twin.error_placeholder_becomes_e_message") {
  const std::string twin = twin_of(R"(lab: event-loop
main:
  - try:
      do: [ { throw: x } ]
      catch:
        - log: "caught {error}!"
        - log: "{error}"
        - throw: "re-{error}"
)");
  CHECK(contains(twin, "try {\n  throw new Error(\"x\");\n} catch (e) {\n"));
  CHECK(contains(twin, "  console.log(\"caught \" + e.message + \"!\");\n"));
  CHECK(contains(twin, "  console.log(e.message);\n"));
  CHECK(contains(twin, "  throw new Error(\"re-\" + e.message);\n"));
}

TEST_CASE("twin.ms_is_printed_as_a_javascript_number") {
  const std::string twin = twin_of(R"(lab: event-loop
main:
  - setTimeout: { ms: 1.5 }
  - setTimeout: {}
  - setTimeout: { ms: 2147483648 }
  - setTimeout: { ms: 1e21 }
  - setTimeout: { ms: -5 }
  - setTimeout: { ms: .inf }
  - setTimeout: { ms: .nan }
  - setTimeout: { ms: 10, then: [ { log: t } ] }
)");
  // String(ms): what the JavaScript source would say; an empty body stays on one line.
  CHECK(contains(twin, "setTimeout(() => {}, 1.5);\n"));
  CHECK(contains(twin, "setTimeout(() => {}, 0);\n"));
  CHECK(contains(twin, "setTimeout(() => {}, 2147483648);\n"));
  CHECK(contains(twin, "setTimeout(() => {}, 1e+21);\n"));
  CHECK(contains(twin, "setTimeout(() => {}, -5);\n"));
  CHECK(contains(twin, "setTimeout(() => {}, Infinity);\n"));
  CHECK(contains(twin, "setTimeout(() => {}, NaN);\n"));
  CHECK(contains(twin, "setTimeout(() => {\n  console.log(\"t\");\n}, 10);\n"));
}

TEST_CASE("twin.await_is_await_undefined_inside_an_async_arrow") {
  const std::string twin = twin_of(R"(lab: event-loop
main:
  - async:
      do:
        - log: a
        - repeat: { times: 2, do: [ { await: {} } ] }
        - await: {}
)");
  CHECK(contains(twin,
                 "(async () => {\n  console.log(\"a\");\n  for (let i = 0; i < 2; i++) {\n"
                 "    await undefined;\n  }\n  await undefined;\n})();\n"));
}

TEST_CASE("twin.control_and_timer_shapes") {
  const std::string twin = twin_of(R"(lab: event-loop
main:
  - setInterval: { ms: 5, times: 3, then: [ { log: iv } ] }
  - recurse: { via: setImmediate, times: 4, then: [ { log: done } ] }
  - block: { ms: 2 }
  - queueMicrotask: { then: [ { log: qm } ] }
)");
  // docs/scenario-format.md, "Exact twins and rules".
  CHECK(contains(twin,
                 "{ let runs = 0;\n  const iv = setInterval(() => {\n    console.log(\"iv\");"
                 "\n    if (++runs === 3) clearInterval(iv);\n  }, 5);\n}\n"));
  CHECK(contains(twin,
                 "{ let runs = 0;\n  const step = () => {\n    if (++runs < 4) "
                 "setImmediate(step); else {\n      console.log(\"done\");\n    }\n  };\n"
                 "  setImmediate(step);\n}\n"));
  CHECK(
      contains(twin, "{ const end = performance.now() + 2; while (performance.now() < end); }\n"));
  CHECK(contains(twin, "queueMicrotask(() => {\n  console.log(\"qm\");\n});\n"));
}

TEST_CASE("twin.log_text_is_a_json_escaped_string") {
  const std::string twin =
      twin_of("lab: event-loop\nmain:\n  - log: \"quote \\\" back \\\\ nl \\n tab \\t\"\n");
  CHECK(contains(twin, R"(console.log("quote \" back \\ nl \n tab \t");)"));
}

// ---- parity with real node ----

TEST_CASE("twin.node_prints_what_the_lab_logs") {
  if (!node_available()) {
    MESSAGE("node is not on PATH: parity checks skipped");
    return;
  }
  SUBCASE("classic async puzzle") {
    check_parity(R"(lab: event-loop
main:
  - log: script start
  - setTimeout: { then: [ { log: setTimeout } ] }
  - async: { do: [ { log: async1 start }, { await: {} }, { log: async1 end } ] }
  - promise: { then: [ { log: promise1 }, { promise: { then: [ { log: promise2 } ] } } ] }
  - log: script end
)");
  }
  SUBCASE("ticks and microtasks nested (docs/node-semantics.md §2.3)") {
    check_parity(R"(lab: event-loop
main:
  - promise:
      then:
        - log: p1
        - nextTick: { then: [ { log: tick-from-p1 } ] }
        - promise: { then: [ { log: p1.inner } ] }
  - promise: { then: [ { log: p2 } ] }
  - nextTick:
      then:
        - log: t1
        - promise: { then: [ { log: p-from-t1 } ] }
        - nextTick: { then: [ { log: t1.inner } ] }
  - nextTick: { then: [ { log: t2 } ] }
  - queueMicrotask: { then: [ { log: qm } ] }
)");
  }
  SUBCASE("await hops") {
    check_parity(R"(lab: event-loop
main:
  - async: { do: [ { log: a1 }, { await: {} }, { log: a2 }, { await: {} }, { log: a3 } ] }
  - promise: { then: [ { log: p1 }, { promise: { then: [ { log: p2 } ] } } ] }
  - nextTick: { then: [ { log: tick } ] }
  - async:
      do:
        - repeat: { times: 2, do: [ { await: {} }, { log: b } ] }
        - try:
            do: [ { await: {} }, { throw: late } ]
            catch: [ { log: "caught {error}" } ]
)");
  }
  SUBCASE("try/catch closures") {
    check_parity(R"(lab: event-loop
main:
  - try:
      do: [ { throw: first } ]
      catch:
        - log: "caught {error}"
        - setTimeout: { ms: 5, then: [ { log: "later {error}" } ] }
        - try:
            do: [ { throw: second } ]
            catch:
              - log: "inner {error}"
              - nextTick: { then: [ { log: "inner tick {error}" } ] }
        - log: "outer again {error}"
)");
  }
  SUBCASE("immediate snapshot and the 1 ms list quirk") {
    check_parity(R"(lab: event-loop
main:
  - setImmediate:
      then:
        - log: A
        - setImmediate: { then: [ { log: C } ] }
        - nextTick: { then: [ { log: tick after A } ] }
  - setImmediate: { then: [ { log: B } ] }
  - setTimeout: { ms: 1, then: [ { log: X } ] }
  - setTimeout: { ms: 20, then: [ { log: Z } ] }
  - block: { ms: 40 }
  - setTimeout: { ms: 1, then: [ { log: Y } ] }
  - setTimeout: { ms: 0, then: [ { log: zero } ] }
  - setTimeout: { ms: -5, then: [ { log: negative } ] }
  - block: { ms: 20 }
)");
  }
  SUBCASE("overflow warning and log formats") {
    check_parity(R"(lab: event-loop
main:
  - nextTick: { then: [ { log: tick1 } ] }
  - setTimeout: { ms: 2147483648, then: [ { log: big } ] }
  - setTimeout: { ms: .inf, then: [ { log: inf } ] }
  - log: on
  - log: 1.0
  - log: ""
  - log: "two\nlines"
  - log: "quote \" back \\ é ✓"
  - setInterval: { ms: 0, times: 3, then: [ { log: iv } ] }
  - recurse: { via: promise, times: 3, then: [ { log: recursed } ] }
)");
  }
  SUBCASE("unhandled rejection from an async function") {
    check_parity(R"(lab: event-loop
main:
  - setTimeout:
      then:
        - async: { do: [ { log: a }, { await: {} }, { throw: boom } ] }
        - promise: { then: [ { log: p1 }, { promise: { then: [ { log: p2 } ] } } ] }
        - nextTick: { then: [ { log: tick } ] }
  - setTimeout: { ms: 50, then: [ { log: never } ] }
)");
  }
  SUBCASE("uncaught exception in queueMicrotask") {
    check_parity(R"(lab: event-loop
main:
  - setImmediate:
      then:
        - queueMicrotask: { then: [ { log: qm }, { throw: qm boom } ] }
        - promise: { then: [ { log: p after } ] }
        - log: sync
  - setImmediate: { then: [ { log: second immediate } ] }
)");
  }
}
