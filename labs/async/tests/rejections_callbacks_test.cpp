// The async lab's process events (processOn), its error-first callbacks (callbackApi) and the
// `process:` key: each run against its twin on real node, with the flag the twin names.

#include <doctest/doctest.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "async/ops.hpp"
#include "runtime/runtime.hpp"
#include "script/interpreter.hpp"
#include "support/scenario_runner.hpp"

using namespace nodelab;

namespace {

const script::OpRegistry& lab_ops() {
  static const script::OpRegistry registry = async::registry();
  return registry;
}

testing::RunOutput run(const std::string& yaml, const std::string& variant = {}) {
  testing::RunOptions o;
  o.variant = variant;
  o.inspect = [](script::Interpreter& interp, runtime::Runtime&, testing::RunOutput& out) {
    async::collect_process_metrics(interp, out.metrics);
    async::collect_callback_metrics(interp, out.metrics);
  };
  return testing::run_yaml(yaml, lab_ops(), o);
}

// The flags the twin's first line names, as the parity test reads them.
std::vector<std::string> node_flags(const std::string& twin) {
  const std::string prefix = "// run: node ";
  if (twin.rfind(prefix, 0) != 0) return {};
  const std::string rest = twin.substr(prefix.size(), twin.find('\n') - prefix.size());
  return {rest.substr(0, rest.find(' '))};
}

// The lab's lines and exit against node's, for the params as written or one variant.
void check_parity(const std::string& yaml, const std::string& variant = {}) {
  CAPTURE(variant);
  const auto lab = run(yaml, variant);
  const std::string twin = testing::twin_of(yaml, lab_ops(), variant);
  const auto node = testing::run_node(twin, node_flags(twin));
  CHECK(lab.lines == node.lines);
  const int lab_exit = lab.result.outcome == runtime::Outcome::completed ? lab.result.exit_code : 1;
  CHECK(lab_exit == node.exit_code);
  CHECK(lab.loop_closed_cleanly);
}

const std::string kModes = R"(lab: async
process: { unhandledRejections: $mode }
params: { mode: throw }
variants:
  strict: { params: { mode: strict } }
  warn: { params: { mode: warn } }
  code: { params: { mode: warn-with-error-code } }
  none: { params: { mode: none } }
  quiet: { process: { unhandledRejections: none } }
main:
  - processOn: { event: unhandledRejection, then: [ { log: "unhandledRejection: {error}" } ] }
  - setTimeout: { ms: 0, then: [ { log: timer } ] }
  - async: { do: [ { log: start }, { await: {} }, { throw: lost write } ] }
  - log: main
)";

}  // namespace

TEST_CASE("async.process_key_reaches_the_runtime_the_json_and_the_twin") {
  const std::string twin = testing::twin_of(kModes, lab_ops(), "warn");
  CHECK(twin.rfind("// run: node --unhandled-rejections=warn FILE.js\n", 0) == 0);
  CHECK(twin.find("w.message.replace(") != std::string::npos);
  // The params as written name `throw` explicitly: the flag is there too.
  CHECK(testing::twin_of(kModes, lab_ops()).rfind("// run: node --unhandled-rejections=throw", 0) ==
        0);
  // A variant's own `process:` wins over the file's (here over `$mode`, still `throw`).
  CHECK(testing::twin_of(kModes, lab_ops(), "quiet")
            .rfind("// run: node --unhandled-rejections=none", 0) == 0);
  // Without the key: no run line, Node's default.
  CHECK(testing::twin_of("lab: async\nmain: [ { log: hi } ]\n", lab_ops()).rfind("// Node.js", 0) ==
        0);
}

TEST_CASE("async.a_listener_in_each_mode_matches_node") {
  if (std::system("node --version > /dev/null 2>&1") != 0) return;  // parity needs node
  for (const std::string v : {"", "strict", "warn", "code", "none", "quiet"})
    check_parity(kModes, v);
}

TEST_CASE("async.a_listener_keeps_throw_mode_alive_and_strict_mode_does_not") {
  const auto thrown = run(kModes);
  CHECK(thrown.result.outcome == runtime::Outcome::completed);
  CHECK(thrown.lines ==
        std::vector<std::string>{"start", "main", "unhandledRejection: lost write", "timer"});
  CHECK(thrown.metrics.get("rejections.events") == 1);
  CHECK(thrown.metrics.get("process.exitCode") == 0);
  const auto strict = run(kModes, "strict");
  CHECK(strict.result.outcome == runtime::Outcome::unhandled_rejection);
  CHECK(strict.lines == std::vector<std::string>{"start", "main"});
  CHECK(strict.metrics.get("rejections.events") == 0);
  CHECK(strict.metrics.get("process.exitCode") == 1);
  // warn-with-error-code with a listener: handled, so no warning and no exit code.
  const auto code = run(kModes, "code");
  CHECK(code.result.exit_code == 0);
  CHECK(code.metrics.get("rejections.warnings") == 0);
}

const std::string kCallbacks = R"(lab: async
params: { bug: none }
variants:
  twice: { params: { bug: missing-return } }
  lost: { params: { bug: ignored-error } }
main:
  - callbackApi:
      file: missing
      bug: $bug
      label: config
      then: [ { nextTick: { then: [ { log: next } ] } } ]
  - callbackApi: { file: self, bug: $bug, label: self }
  - log: main
)";

TEST_CASE("async.callback_api_each_bug_matches_node") {
  if (std::system("node --version > /dev/null 2>&1") != 0) return;
  for (const std::string v : {"", "twice", "lost"})
    check_parity(kCallbacks, v);
}

TEST_CASE("async.callback_api_counts_calls_errors_and_lost_errors") {
  const auto right = run(kCallbacks);
  CHECK(right.lines == std::vector<std::string>{"main", "config: err=ENOENT", "next",
                                                "self: err=null data=Buffer"});
  CHECK(right.metrics.get("errback.requests") == 2);
  CHECK(right.metrics.get("errback.calls") == 2);
  CHECK(right.metrics.get("errback.failedRequests") == 1);
  CHECK(right.metrics.get("errback.maxCallsPerRequest") == 1);
  CHECK(right.metrics.get("errback.lostErrors") == 0);
  for (const auto& l : right.logged) {
    if (l.text.rfind("config", 0) == 0 || l.text.rfind("self", 0) == 0) {
      CHECK(l.phase == runtime::Phase::poll);
    }
  }
  const auto twice = run(kCallbacks, "twice");
  CHECK(twice.lines == std::vector<std::string>{"main", "config: err=ENOENT",
                                                "config: err=null data=undefined", "next", "next",
                                                "self: err=null data=Buffer"});
  CHECK(twice.metrics.get("errback.calls") == 3);
  CHECK(twice.metrics.get("errback.maxCallsPerRequest") == 2);
  CHECK(twice.metrics.get("errback.undefinedData") == 1);
  const auto lost = run(kCallbacks, "lost");
  CHECK(lost.lines == std::vector<std::string>{"main", "config: err=null data=undefined", "next",
                                               "self: err=null data=Buffer"});
  CHECK(lost.metrics.get("errback.errors") == 0);
  CHECK(lost.metrics.get("errback.lostErrors") == 1);
}

TEST_CASE("async.a_throw_in_the_caller_callback_is_an_uncaught_exception_in_poll") {
  const auto r = run(R"(lab: async
main:
  - callbackApi:
      file: missing
      bug: missing-return
      label: cb
      then: [ { throw: data is undefined } ]
)");
  // The first call throws: the second never happens, nothing else runs.
  CHECK(r.result.outcome == runtime::Outcome::uncaught_exception);
  CHECK(r.result.phase == runtime::Phase::poll);
  CHECK(r.lines == std::vector<std::string>{"cb: err=ENOENT"});
  CHECK(r.metrics.get("errback.calls") == 1);
}
