// lab-async: asynchronous patterns in Node 20: error propagation, parallelism, cancellation
// and concurrency limits, on a real libuv loop.
//
// The mechanism: a promise settles once; its reactions run as V8 microtasks, drained after
// every callback (lib/internal/process/task_queues.js); a rejection nobody handles by the end
// of that drain is Node's business (lib/internal/process/promises.js), which in Node 20's
// default mode kills the process.
//
// The I/O scenarios (labs/async/io_world.hpp) call real services (the `downstream:` block)
// with node's http client on the same loop: Promise.all's fail-fast that leaves the others
// running, timeouts that race and leak or abort and cancel, limiters, retries, agent queues.

#include <fmt/format.h>

#include "async/io_world.hpp"
#include "async/ops.hpp"
#include "async/world.hpp"
#include "nodelab/lab_list.hpp"
#include "report/run_report.hpp"

nodelab::cli::LabSpec nodelab::labs::spec_async() {
  nodelab::cli::LabSpec spec;
  spec.id = "async";
  spec.summary = "promises, callbacks, cancellation and concurrency limits, against real services";
  spec.headline = "floating-promise-crash";
  spec.make_registry = [] { return nodelab::async::registry(); };
  spec.collect_metrics = [](nodelab::script::Interpreter& interp,
                            nodelab::metrics::MetricSet& out) {
    interp.extension<nodelab::async::World>().collect(out);
    nodelab::async::collect_process_metrics(interp, out);
    nodelab::async::collect_callback_metrics(interp, out);
    nodelab::async::collect_abort_metrics(interp, out);
    interp.extension<nodelab::async::IoWorld>().collect(out);
  };
  // An unbounded fan-out holds a socket, a request and its buffers per call: the ceiling
  // stops a flood before it takes the machine.
  spec.default_max_memory_mib = 512;
  // Each variant's services and sockets in a process of its own (fresh fd table, fresh RSS).
  spec.compare_in_children = true;
  spec.compare_columns = {{"calls", "ok", "calls.fulfilled"},
                          {"failed", "", "calls.rejected"},
                          {"p50", "ms", "latency.p50_ms"},
                          {"p99", "ms", "latency.p99_ms"},
                          {"client", "in flight", "requests.inFlightPeak"},
                          {"downstream", "in flight", "downstream.inFlightPeak"},
                          {"ds queue", "peak", "downstream.queuedPeak"},
                          {"ds reqs", "", "downstream.requests"},
                          {"wasted", "late", "wasted.lateResponses"},
                          {"cancelled", "", "downstream.cancelled"},
                          {"retries", "", "retries.count"},
                          {"calls total", "ms", "calls.total_ms"},
                          {"rss peak", "", "memory.rssPeak_bytes"},
                          // --compare of the --unhandled-rejections modes: how far each run
                          // got and how it ended
                          {"exit", "code", "process.exitCode"},
                          {"unhandled", "", "rejections.unhandled"},
                          {"events", "", "rejections.events"},
                          {"warnings", "", "rejections.warnings"},
                          {"timers ran", "", "callbacks.timers"},
                          {"lines", "logged", "logs.lines"},
                          // the loop's own (what the promise scenarios compare)
                          {"ELD p99", "ms", "eventLoopDelay.p99_ms"},
                          {"ELU", "", "eventLoopUtilization.utilization"},
                          {"loop total", "ms", "loop.total_ms"}};
  // The I/O verdicts (scenarios/async/README.md, "Verdicts"), all read from counts.
  spec.diagnose = [](const nodelab::metrics::MetricSet& m) {
    std::vector<nodelab::report::Finding> out;
    const double late = m.get("wasted.lateResponses").value_or(0);
    if (late > 0) {
      out.push_back({"wasted downstream work",
                     fmt::format("{} responses completed after their caller had given up ({} "
                                 "calls or requests were still running when it did)",
                                 late, m.get("wasted.heldAtGiveUp").value_or(0)),
                     "give the calls an AbortSignal and abort it when the caller stops waiting "
                     "(AbortSignal.timeout for a timeout, a controller aborted in Promise.all's "
                     "catch)"});
    }
    const double queued = m.get("downstream.queuedPeak").value_or(0);
    if (queued > 0) {
      out.push_back({"downstream flooded",
                     fmt::format("a service queued up to {} requests behind its capacity ({} in "
                                 "flight); the client had {} requests outstanding at its peak",
                                 queued, m.get("downstream.inFlightPeak").value_or(0),
                                 m.get("requests.inFlightPeak").value_or(0)),
                     "bound the fan-out at the service's capacity: a p-limit limiter, or an "
                     "agent's maxSockets"});
    }
    const double retries = m.get("retries.count").value_or(0);
    if (retries > 0 && m.get("retries.delay.max_ms").value_or(-1) == 0) {
      out.push_back({"retries without backoff",
                     fmt::format("{} retries, none delayed; the service received {} requests "
                                 "during its outage",
                                 retries, m.get("downstream.outageRequests").value_or(0)),
                     "capped exponential backoff with full jitter, and a retry budget"});
    }
    return out;
  };
  spec.tour = {{"floating-promise-crash", false,
                "one async function threw and nobody awaited it: the process died with exit 1 "
                "once the drain ended, and the timer never ran"},
               {"promise-combinator-ticks", false,
                "each combinator settles one microtask hop after the input that decides it, its "
                ".then one hop later: allSettled and race log after tick 1, all and any after "
                "tick 2"},
               {"race-timeout-leak", true,
                "Promise.race gave up on the calls but they ran on and the downstream finished "
                "them for nobody; AbortSignal.timeout destroyed them and the downstream stopped; "
                "Asio's || cancelled them and waited"}};
  return spec;
}
