// The emitter lab's `requests:` block (labs/emitter/requests.cpp, scenarios/emitter/README.md):
// one request per loop iteration adds a listener that retains a payload to a long-lived
// emitter, then cleans up per strategy (leak, off, once, abort-signal). Small counts; every
// logged line was printed by node v20.20.2 for the block's twin, and is checked against node
// again when it is on PATH.

#include <doctest/doctest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "emitter/world.hpp"
#include "nodelab/lab_list.hpp"
#include "runtime/runtime.hpp"
#include "script/expect.hpp"
#include "script/interpreter.hpp"
#include "script/scenario.hpp"
#include "script/twin.hpp"
#include "support/scenario_runner.hpp"

using namespace nodelab;
using Lines = std::vector<std::string>;
using namespace std::chrono_literals;

namespace {

using testing::node_available;

const std::string kWarning =
    "warning: MaxListenersExceededWarning: Possible EventEmitter memory leak detected. 11 change "
    "listeners added to [EventEmitter]. MaxListeners is 10. Use emitter.setMaxListeners() to "
    "increase limit";

struct RequestsRun {
  runtime::RunResult result;
  Lines lines;
  metrics::MetricSet metrics;
  std::vector<double> listener_counts;  // the `listenerCount` samples, in order
  std::vector<double> retained_bytes;   // the `retainedBytes` samples, in order
};

RequestsRun run_requests(const std::string& yaml, const std::string& variant = {}) {
  static const script::OpRegistry registry = emitter::registry();
  RequestsRun out;
  testing::RunOptions o;
  o.variant = variant;
  o.watchdog = 60s;
  o.inspect = [&out](script::Interpreter& interp, runtime::Runtime& rt, testing::RunOutput&) {
    interp.extension<emitter::World>().collect(out.metrics);
    for (const auto& c : rt.recorder().counters()) {
      if (c.name == "listenerCount") out.listener_counts.push_back(c.value);
      if (c.name == "retainedBytes") out.retained_bytes.push_back(c.value);
    }
  };
  const testing::RunOutput run = testing::run_yaml(yaml, registry, o);
  CHECK(run.loop_closed_cleanly);
  out.result = run.result;
  out.lines = run.lines;
  return out;
}

std::string twin_of(const std::string& yaml, const std::string& variant = {}) {
  static const script::OpRegistry registry = emitter::registry();
  return testing::twin_of(yaml, registry, variant);
}

// `node` on `js` (stderr, where node prints its own copy of the warning, dropped): the stdout
// lines, or nothing when node is not on PATH.
std::optional<Lines> node_lines(const std::string& js) {
  if (!node_available()) return std::nullopt;
  const testing::NodeRun node = testing::run_node(js);
  CHECK(node.exit_code == 0);
  return node.lines;
}

void check_node_agrees(const std::string& yaml, const std::string& variant, const Lines& lab) {
  const auto node = node_lines(twin_of(yaml, variant));
  if (!node) {
    MESSAGE("node is not on PATH: parity check skipped");
    return;
  }
  CHECK(*node == lab);
}

// A scenario whose only work is the requests block.
std::string requests_yaml(const std::string& strategy, int count, int emit_every, int sample_every,
                          const std::string& extra = "") {
  return "lab: emitter\nmain:\n  - log: server started\nrequests:\n  count: " +
         std::to_string(count) + "\n  payload_bytes: 1024\n  strategy: " + strategy +
         "\n  emit_every: " + std::to_string(emit_every) +
         "\n  sample_every: " + std::to_string(sample_every) + "\n" + extra;
}

// The four strategies as variants of one file, like leak-vs-mitigations.yaml: 50 requests of
// 1 KiB, an emit every 20 requests, a sample every 25.
const std::string kVariants = R"(lab: emitter
params:
  strategy: leak
variants:
  leak: { params: { strategy: leak } }
  off: { params: { strategy: off } }
  once: { params: { strategy: once } }
  abort: { params: { strategy: abort-signal } }
main:
  - log: server started
requests:
  count: 50
  payload_bytes: 1024
  strategy: $strategy
  emit_every: 20
  sample_every: 25
)";

double metric(const RequestsRun& r, const char* path) {
  const auto v = r.metrics.get(path);
  REQUIRE_MESSAGE(v.has_value(), path);
  return *v;
}

}  // namespace

TEST_CASE("requests.leak_keeps_every_listener_and_its_payload") {
  const RequestsRun r = run_requests(kVariants, "leak");
  CHECK(r.result.outcome == runtime::Outcome::completed);
  // server.on() per request, never removed: all 50 stay, each retaining its 1 KiB.
  CHECK(metric(r, "requests.count") == 50);
  CHECK(metric(r, "requests.stoppedAt") == 0);
  CHECK(metric(r, "listeners.final") == 50);
  CHECK(metric(r, "listeners.peak") == 50);
  CHECK(metric(r, "retainedBytes.final") == 50 * 1024);
  CHECK(metric(r, "retainedBytes.peak") == 50 * 1024);
  CHECK(metric(r, "retainedBytes.per1kRequests") == doctest::Approx(1024 * 1000));
  // The 11th listener's array passes defaultMaxListeners (10): request 11 warned, once.
  CHECK(metric(r, "warning.firstAtRequest") == 11);
  // Emits after requests 20 and 40.
  CHECK(metric(r, "emit.count") == 2);
  CHECK(r.metrics.get("emit.perListener_ns").has_value());
  CHECK(r.metrics.get("emit.max_ms").has_value());
  // node printed these lines for the twin; the warning, queued on nextTick by request 11,
  // comes out right after that request (no sample is due before 25).
  CHECK(r.lines == Lines{"server started", kWarning, "after 25 requests: 25 listeners",
                         "after 50 requests: 50 listeners",
                         "requests done: 50 requests, 50 listeners still attached"});
}

TEST_CASE("requests.off_removes_each_listener_when_its_request_ends") {
  const RequestsRun r = run_requests(kVariants, "off");
  CHECK(r.result.outcome == runtime::Outcome::completed);
  CHECK(metric(r, "requests.count") == 50);
  // on, then off in the same request: never more than one attached, none at the end.
  CHECK(metric(r, "listeners.final") == 0);
  CHECK(metric(r, "listeners.peak") == 1);
  CHECK(metric(r, "retainedBytes.final") == 0);
  CHECK(metric(r, "retainedBytes.peak") == 1024);
  // The array never exists (one listener is stored bare): no warning.
  CHECK_FALSE(r.metrics.get("warning.firstAtRequest").has_value());
  // The emits still happen, with nobody to call.
  CHECK(metric(r, "emit.count") == 2);
  CHECK_FALSE(r.metrics.get("emit.perListener_ns").has_value());
  CHECK(r.lines == Lines{"server started", "after 25 requests: 0 listeners",
                         "after 50 requests: 0 listeners",
                         "requests done: 50 requests, 0 listeners still attached"});
}

TEST_CASE("requests.once_is_bounded_by_the_emit_rate") {
  SUBCASE("an emit every 20 requests: 20 pile up, and each new array warns again") {
    const RequestsRun r = run_requests(kVariants, "once");
    CHECK(r.result.outcome == runtime::Outcome::completed);
    CHECK(metric(r, "requests.count") == 50);
    // Requests 41..50 wait for an emit that never comes.
    CHECK(metric(r, "listeners.final") == 10);
    CHECK(metric(r, "listeners.peak") == 20);
    CHECK(metric(r, "retainedBytes.final") == 10 * 1024);
    CHECK(metric(r, "retainedBytes.peak") == 20 * 1024);
    CHECK(metric(r, "warning.firstAtRequest") == 11);
    // The emit at 20 empties the array (each once-wrapper removes itself; the last removal
    // deletes the key), so request 31 builds a fresh array and warns again: two warnings,
    // as node printed.
    CHECK(r.lines == Lines{"server started", kWarning, "after 25 requests: 5 listeners", kWarning,
                           "after 50 requests: 10 listeners",
                           "requests done: 50 requests, 10 listeners still attached"});
  }
  SUBCASE("an emit every 10 requests: never past the limit") {
    const std::string yaml = requests_yaml("once", 50, 10, 25);
    const RequestsRun r = run_requests(yaml);
    // Request 10 adds the 10th listener and emits: the array never reaches 11.
    CHECK(metric(r, "listeners.peak") == 10);
    CHECK(metric(r, "listeners.final") == 0);
    CHECK(metric(r, "retainedBytes.final") == 0);
    CHECK_FALSE(r.metrics.get("warning.firstAtRequest").has_value());
    CHECK(metric(r, "emit.count") == 5);
    CHECK(r.lines == Lines{"server started", "after 25 requests: 5 listeners",
                           "after 50 requests: 0 listeners",
                           "requests done: 50 requests, 0 listeners still attached"});
    check_node_agrees(yaml, "", r.lines);
  }
}

TEST_CASE("requests.abort_signal_removes_each_listener_on_abort") {
  const RequestsRun r = run_requests(kVariants, "abort");
  CHECK(r.result.outcome == runtime::Outcome::completed);
  CHECK(metric(r, "requests.count") == 50);
  // ac.abort() at the end of the request runs the addAbortListener callback synchronously,
  // which calls server.off: the same footprint as `off`.
  CHECK(metric(r, "listeners.final") == 0);
  CHECK(metric(r, "listeners.peak") == 1);
  CHECK(metric(r, "retainedBytes.final") == 0);
  CHECK_FALSE(r.metrics.get("warning.firstAtRequest").has_value());
  CHECK(r.lines == Lines{"server started", "after 25 requests: 0 listeners",
                         "after 50 requests: 0 listeners",
                         "requests done: 50 requests, 0 listeners still attached"});
}

TEST_CASE("requests.node_prints_the_lab_lines_for_each_variant") {
  for (const char* variant : {"leak", "off", "once", "abort"}) {
    CAPTURE(variant);
    const RequestsRun r = run_requests(kVariants, variant);
    const std::string twin = twin_of(kVariants, variant);
    // The twin builds the same setImmediate chain with Buffer.alloc payloads.
    CHECK(twin.find("const payload = Buffer.alloc(payloadBytes, 1);") != std::string::npos);
    if (std::string(variant) == "abort") {
      CHECK(twin.find("require('events').addAbortListener(ac.signal,") != std::string::npos);
    }
    check_node_agrees(kVariants, variant, r.lines);
  }
}

TEST_CASE("requests.max_retained_bytes_stops_at_the_exact_request") {
  SUBCASE("10 KiB fits ten 1 KiB payloads exactly: request 11 would pass it") {
    const std::string yaml = requests_yaml("leak", 50, 10, 5, "  max_retained_bytes: 10240\n");
    const RequestsRun r = run_requests(yaml);
    CHECK(r.result.outcome == runtime::Outcome::completed);
    // (live + 1) * payload > max: 11 * 1024 = 11264 > 10240, while 10 * 1024 = 10240 is not.
    CHECK(metric(r, "requests.stoppedAt") == 11);
    CHECK(metric(r, "requests.count") == 10);
    CHECK(metric(r, "listeners.final") == 10);
    CHECK(metric(r, "retainedBytes.final") == 10240);
    // The 11th listener was never added: no MaxListenersExceededWarning.
    CHECK_FALSE(r.metrics.get("warning.firstAtRequest").has_value());
    // No "requests done" line: the ceiling line ends the block.
    CHECK(r.lines == Lines{"server started", "after 5 requests: 5 listeners",
                           "after 10 requests: 10 listeners",
                           "ceiling: 10 requests retain 10240 bytes; request 11 would pass "
                           "max_retained_bytes (10240): no more requests"});
    check_node_agrees(yaml, "", r.lines);
  }
  SUBCASE("one byte less: request 10 would pass it") {
    const std::string yaml = requests_yaml("leak", 50, 0, 5, "  max_retained_bytes: 10239\n");
    const RequestsRun r = run_requests(yaml);
    CHECK(metric(r, "requests.stoppedAt") == 10);
    CHECK(metric(r, "requests.count") == 9);
    CHECK(metric(r, "retainedBytes.final") == 9 * 1024);
    CHECK(r.lines == Lines{"server started", "after 5 requests: 5 listeners",
                           "ceiling: 9 requests retain 9216 bytes; request 10 would pass "
                           "max_retained_bytes (10239): no more requests"});
    check_node_agrees(yaml, "", r.lines);
  }
  SUBCASE("a ceiling below one payload stops the first request, whatever the strategy") {
    const std::string yaml = requests_yaml("off", 50, 0, 5, "  max_retained_bytes: 1000\n");
    const RequestsRun r = run_requests(yaml);
    CHECK(metric(r, "requests.stoppedAt") == 1);
    CHECK(metric(r, "requests.count") == 0);
    CHECK(metric(r, "listeners.peak") == 0);
    CHECK(r.lines == Lines{"server started",
                           "ceiling: 0 requests retain 0 bytes; request 1 "
                           "would pass max_retained_bytes (1000): no more "
                           "requests"});
    check_node_agrees(yaml, "", r.lines);
  }
}

TEST_CASE("requests.emit_every_zero_never_emits") {
  const std::string yaml = requests_yaml("once", 30, 0, 15);
  const RequestsRun r = run_requests(yaml);
  CHECK(r.result.outcome == runtime::Outcome::completed);
  // emit_every 0: `if (emitEvery > 0 && ...)`, never; so once() listeners never leave.
  CHECK(metric(r, "emit.count") == 0);
  CHECK_FALSE(r.metrics.get("emit.max_ms").has_value());
  CHECK_FALSE(r.metrics.get("emit.perListener_ns").has_value());
  CHECK(metric(r, "listeners.final") == 30);
  CHECK(metric(r, "retainedBytes.final") == 30 * 1024);
  CHECK(metric(r, "warning.firstAtRequest") == 11);
  CHECK(r.lines == Lines{"server started", kWarning, "after 15 requests: 15 listeners",
                         "after 30 requests: 30 listeners",
                         "requests done: 30 requests, 30 listeners still attached"});
  check_node_agrees(yaml, "", r.lines);
}

TEST_CASE("requests.samples_grow_in_leak_and_stay_at_zero_in_off") {
  SUBCASE("leak") {
    const RequestsRun r = run_requests(kVariants, "leak");
    // One sample of each per request.
    REQUIRE(r.listener_counts.size() == 50);
    REQUIRE(r.retained_bytes.size() == 50);
    for (std::size_t i = 0; i < 50; ++i) {
      CAPTURE(i);
      // After request i+1, i+1 listeners; an emit does not remove on() listeners.
      CHECK(r.listener_counts[i] == static_cast<double>(i + 1));
      CHECK(r.retained_bytes[i] == static_cast<double>((i + 1) * 1024));
    }
  }
  SUBCASE("off") {
    const RequestsRun r = run_requests(kVariants, "off");
    REQUIRE(r.listener_counts.size() == 50);
    REQUIRE(r.retained_bytes.size() == 50);
    // The sample is taken when the request has ended, after its off(): the one listener it
    // had (listeners.peak 1) is already gone.
    for (std::size_t i = 0; i < 50; ++i) {
      CAPTURE(i);
      CHECK(r.listener_counts[i] == 0);
      CHECK(r.retained_bytes[i] == 0);
    }
  }
  SUBCASE("once") {
    const RequestsRun r = run_requests(kVariants, "once");
    REQUIRE(r.listener_counts.size() == 50);
    // The emit after requests 20 and 40 drops the count to 0, sampled right after it.
    CHECK(r.listener_counts[18] == 19);
    CHECK(r.listener_counts[19] == 0);
    CHECK(r.listener_counts[20] == 1);
    CHECK(r.listener_counts[39] == 0);
    CHECK(r.listener_counts[49] == 10);
  }
}

TEST_CASE("requests.a_warning_counts_the_scenario_listeners_too") {
  // A listener the main script attached to the same emitter and event: it shares the array,
  // so request 10 makes it 11 long, and it runs on each emit.
  const std::string yaml = R"(lab: emitter
main:
  - on: { emitter: server, event: change, id: watcher, then: [ { log: watcher saw change } ] }
requests:
  count: 12
  payload_bytes: 100
  strategy: leak
  emit_every: 6
  sample_every: 4
)";
  const RequestsRun r = run_requests(yaml);
  CHECK(metric(r, "warning.firstAtRequest") == 10);
  // listeners.* count the requests' listeners only; the samples log listenerCount, which
  // includes the watcher.
  CHECK(metric(r, "listeners.final") == 12);
  CHECK(metric(r, "retainedBytes.final") == 1200);
  CHECK(r.lines == Lines{"after 4 requests: 5 listeners", "watcher saw change",
                         "after 8 requests: 9 listeners", kWarning, "watcher saw change",
                         "after 12 requests: 13 listeners",
                         "requests done: 12 requests, 12 listeners still attached"});
  check_node_agrees(yaml, "", r.lines);
}

// The lab's verdict (LabSpec::diagnose, labs/emitter/README.md "Verdicts"): the leak is named
// a listener leak, with its figures; the mitigations leave nothing to name.
TEST_CASE("requests.the_leak_gets_a_listener_leak_verdict_and_off_none") {
  const auto spec = labs::spec_emitter();
  REQUIRE(spec.diagnose);
  const RequestsRun leak = run_requests(kVariants, "leak");
  const auto findings = spec.diagnose(leak.metrics);
  REQUIRE(findings.size() == 1);
  CHECK(findings[0].verdict == "listener leak");
  CHECK(findings[0].evidence.find("50 request listeners still attached") == 0);
  CHECK_FALSE(findings[0].timing);  // a count, not a time: it holds in a stepped run too
  for (const char* v : {"off", "once", "abort"})
    CHECK(spec.diagnose(run_requests(kVariants, v).metrics).empty());
}
