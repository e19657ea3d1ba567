// lab-worker-pool: CPU work on the loop vs the libuv threadpool vs a bounded pool vs a worker
// per task, on real threads; and what crossing to a worker costs (clone, transfer, shared).
//
// The strategies are labs/worker-pool/strategies.hpp and pool.hpp (Piscina 5's scheduling);
// the workload block is workload.cpp, the messaging block messaging.cpp.

#include "nodelab/lab_list.hpp"
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
  // --emit-node=piscina: the bounded pool's twin on the real piscina package (the default twin
  // runs twin/pool.js, the lab's own scheduling in JavaScript).
  spec.twin_flavours = {"piscina"};
  spec.tour = {
      {"strategies-side-by-side", true,
       "the same CPU tasks four ways: on the loop the loop's delay is the task time; the pool "
       "keeps the loop free, and a worker per task pays a start-up on every task"}};
  return spec;
}
