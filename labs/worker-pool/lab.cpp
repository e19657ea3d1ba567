// lab-worker-pool: CPU work on the loop vs the libuv threadpool vs a bounded pool vs a worker
// per task, on real threads; and what crossing to a worker costs (clone, transfer, shared).
//
// The strategies are labs/worker-pool/strategies.hpp and pool.hpp (Piscina 5's scheduling);
// the workload block is workload.cpp, the messaging block messaging.cpp.

#include <cmath>
#include <string>

#include <fmt/format.h>

#include "nodelab/lab_list.hpp"
#include "report/run_report.hpp"
#include "worker-pool/world.hpp"

nodelab::cli::LabSpec nodelab::labs::spec_worker_pool() {
  nodelab::cli::LabSpec spec;
  spec.id = "worker-pool";
  spec.summary = "CPU work on the loop, the libuv threadpool, a bounded pool or a worker per task";
  spec.headline = "strategies-side-by-side";
  spec.make_registry = [] { return nodelab::worker_pool::registry(); };
  spec.collect_metrics = [](nodelab::script::Interpreter& interp,
                            nodelab::metrics::MetricSet& out) {
    interp.extension<nodelab::worker_pool::World>().collect(out);
  };
  spec.compare_columns = {{"wait p99", "ms", "waitTime.p99_ms"},
                          {"latency p99", "ms", "latency.p99_ms"},
                          {"tasks/s", "", "throughput.tasksPerSec"},
                          {"util", "", "utilization.total"},
                          {"loop delay p99", "ms", "eventLoopDelay.p99_ms"},
                          {"ELU", "", "eventLoopUtilization.utilization"},
                          {"startup max", "ms", "workerStartup.max_ms"},
                          {"fs read", "ms", "fsProbe.wait_ms"},
                          {"µs/MiB", "", "messaging.perMiB_us"},
                          {"copies", "", "messaging.copiesPerMessage"},
                          {"sender after", "", "messaging.senderBytesAfter"},
                          {"lost updates", "", "atomics.lostUpdates"},
                          {"total", "ms", "loop.total_ms"}};
  spec.compare_in_children = true;  // each variant's threads, pool and memory its own
  // Overload (scenarios/worker-pool/README.md, "Verdicts"): tasks refused because the queue was at
  // maxQueue; or tasks that waited longer than they ran (p99 against p99, with a queue): the
  // arrivals outpace the threads, and the wait grows with the queue.
  spec.diagnose = [](const nodelab::metrics::MetricSet& m) {
    std::vector<nodelab::report::Finding> out;
    const double rejected =
        m.get("tasks.rejected").value_or(0) - m.get("tasks.aborted").value_or(0);
    const double max_queue = m.get("pool.maxQueue").value_or(0);
    if (rejected > 0) {
      out.push_back({"pool overloaded: tasks rejected",
                     fmt::format("{:.0f} of {:.0f} tasks rejected, not aborted (maxQueue {})",
                                 rejected, m.get("tasks.submitted").value_or(0),
                                 std::isfinite(max_queue) ? fmt::format("{:g}", max_queue)
                                                          : std::string("Infinity")),
                     "answer the refusal upstream (503, retry later), or add threads up to the "
                     "cores; a longer queue only turns refusals into latency"});
    }
    const auto wait = m.get("waitTime.p99_ms");
    const auto run = m.get("runTime.p99_ms");
    if (wait && run && *wait > *run && m.get("queueSize.peak").value_or(0) > 0) {
      out.push_back({"tasks queued longer than they ran",
                     fmt::format("waitTime p99 {:.1f} ms against runTime p99 {:.1f} ms, with up "
                                 "to {:.0f} tasks queued",
                                 *wait, *run, m.get("queueSize.peak").value_or(0)),
                     "bound the queue (maxQueue) and shed the excess, or add threads up to the "
                     "cores",
                     true});
    }
    return out;
  };
  // --emit-node=piscina: the bounded pool's twin on the real piscina package (the default twin
  // runs twin/pool.js, the lab's own scheduling in JavaScript).
  spec.twin_flavours = {"piscina"};
  spec.tour = {
      {"strategies-side-by-side", true,
       "the same CPU tasks four ways: on the loop the loop's delay is the task time; the pool "
       "keeps the loop free, and a worker per task pays a start-up on every task"}};
  return spec;
}
