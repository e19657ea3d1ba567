#include "worker-pool/world.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "metrics/histogram.hpp"
#include "script/shared_ops.hpp"

namespace nodelab::worker_pool {

World::~World() {
  // The strategy's threads stop and join before the tasks they point into go.
  strategy.reset();
}

const std::vector<metrics::MetricInfo>& World::metric_table() {
  static const std::vector<metrics::MetricInfo> table = {
      {"tasks.submitted", "", "tasks handed to the strategy"},
      {"tasks.completed", "", "tasks whose work finished and whose promise resolved"},
      {"tasks.rejected", "", "tasks rejected (queue at limit, worker terminated)"},
      {"tasks.aborted", "", "tasks rejected with AbortError"},
      {"waitTime.p50_ms", "ms", "median time from a task's intended arrival to its start"},
      {"waitTime.p99_ms", "ms", "99th percentile of waitTime"},
      {"waitTime.max_ms", "ms", "the longest waitTime"},
      {"runTime.p50_ms", "ms", "median time a task's work took on its thread"},
      {"runTime.p99_ms", "ms", "99th percentile of runTime"},
      {"runTime.max_ms", "ms", "the longest runTime"},
      {"latency.p99_ms", "ms", "99th percentile from intended arrival to the promise settling"},
      {"latency.max_ms", "ms", "the longest time from intended arrival to settling"},
      {"utilization.total", "", "busy time of all threads / (threads x the workload's span)"},
      {"utilization.perWorker.min", "", "the least busy thread's share of the span"},
      {"utilization.perWorker.max", "", "the busiest thread's share of the span"},
      {"queueSize.peak", "", "most tasks submitted but not yet started at once"},
      {"throughput.tasksPerSec", "", "completed tasks / the workload's span"},
      {"workload.span_ms", "ms", "from the first intended arrival to the last settlement"},
      {"workload.threads", "", "threads that can run tasks at once under the strategy"},
      {"fsProbe.wait_ms", "ms", "the probe readFile's time from call to callback"},
      {"fsProbe.afterCpuTask", "", "1 if a CPU task had finished before the readFile did"},
      {"pool.workersStarted", "", "workers the bounded pool started (replacements included)"},
      {"pool.workersPeak", "", "most workers alive at once in the pool"},
      {"pool.workersTerminated", "", "workers terminated to abort a running task"},
      {"pool.workersRetired", "", "workers retired after idleTimeout"},
      {"pool.queueSize.peak", "",
       "Piscina's queueSize at its largest: queued, less what starting workers will take"},
      {"pool.maxQueue", "", "the pool's maxQueue (Infinity when unbounded)"},
      {"workers.started", "", "worker-per-task: workers started"},
      {"workers.peakLive", "", "worker-per-task: most workers alive at once"},
      {"workerStartup.p50_ms", "ms", "median time from new Worker to its ready message, handled"},
      {"workerStartup.max_ms", "ms", "the slowest worker start-up"},
      {"messaging.perMiB_us", "", "µs to pass 1 MiB one way (median of the rounds)"},
      {"messaging.copiesPerMessage", "", "copies of the payload each message makes"},
      {"messaging.senderBytesAfter", "bytes", "the sender's byteLength after posting"},
      {"atomics.addTotal", "", "the counter after both threads' Atomics.add"},
      {"atomics.expected", "", "what the counter should read: 2 x increments"},
      {"atomics.loadStoreTotal", "", "the counter after separate load + store increments"},
      {"atomics.lostUpdates", "", "increments the load + store version lost"},
      {"atomics.roundsToLose", "", "rounds of load + store run until one lost an update"},
      {"atomics.wake_us", "", "µs from Atomics.notify to the waiting thread running"},
  };
  return table;
}

namespace {

std::uint64_t ns(runtime::Nanos d) {
  return static_cast<std::uint64_t>(std::max<std::int64_t>(0, d.count()));
}

}  // namespace

void World::collect(metrics::MetricSet& out) const {
  if (workload.ran) {
    metrics::Histogram wait, run, latency;
    std::uint32_t completed = 0, rejected = 0, aborted = 0, submitted = 0;
    std::map<std::int32_t, std::int64_t> busy;  // thread -> ns
    std::vector<std::pair<runtime::Nanos, int>> queue_events;
    for (const TaskRecord& t : tasks) {
      if (t.submitted.count() >= 0) ++submitted;
      if (t.state == TaskState::completed) ++completed;
      if (t.state == TaskState::rejected) ++rejected;
      if (t.state == TaskState::aborted) ++aborted;
      if (t.submitted.count() >= 0 && t.state != TaskState::rejected &&
          t.state != TaskState::aborted) {
        queue_events.emplace_back(t.submitted, +1);
        if (t.started.count() >= 0) queue_events.emplace_back(t.started, -1);
      }
      if (t.state != TaskState::completed) continue;
      wait.record(ns(t.started - t.intended));
      run.record(ns(t.finished - t.started));
      latency.record(ns(t.settled - t.intended));
      busy[t.thread] += (t.finished - t.started).count();
    }
    // Ties: a start before a submission, so a task taken at once never counts as queued.
    std::sort(queue_events.begin(), queue_events.end(), [](const auto& a, const auto& b) {
      return a.first != b.first ? a.first < b.first : a.second < b.second;
    });
    int depth = 0, peak = 0;
    for (const auto& e : queue_events) {
      depth += e.second;
      peak = std::max(peak, depth);
    }
    const double span_ms = runtime::to_ms(workload.last_settled - workload.start);
    // The threads that could run tasks, as the run ended (worker-per-task: its peak).
    const std::uint32_t capacity = strategy ? strategy->capacity() : 0;
    out.set("tasks.submitted", submitted);
    out.set("tasks.completed", completed);
    out.set("tasks.rejected", rejected);
    out.set("tasks.aborted", aborted);
    out.set("waitTime.p50_ms", ms_percentile(wait, 50));
    out.set("waitTime.p99_ms", ms_percentile(wait, 99));
    out.set("waitTime.max_ms", ms_max(wait));
    out.set("runTime.p50_ms", ms_percentile(run, 50));
    out.set("runTime.p99_ms", ms_percentile(run, 99));
    out.set("runTime.max_ms", ms_max(run));
    out.set("latency.p99_ms", ms_percentile(latency, 99));
    out.set("latency.max_ms", ms_max(latency));
    out.set("queueSize.peak", peak);
    out.set("workload.span_ms", span_ms);
    out.set("workload.threads", capacity);
    if (span_ms > 0 && capacity > 0) {
      double total = 0, lo = 1e300, hi = 0;
      for (const auto& [thread, b] : busy) {
        const double share = static_cast<double>(b) / 1e6 / span_ms;
        total += share;
        lo = std::min(lo, share);
        hi = std::max(hi, share);
        out.set(fmt::format("utilization.worker.{}", thread + 1), share);
      }
      // Threads that never ran a task were idle all along.
      if (busy.size() < capacity) lo = 0;
      out.set("utilization.total", total / capacity);
      out.set("utilization.perWorker.min", busy.empty() ? 0.0 : lo);
      out.set("utilization.perWorker.max", hi);
      out.set("throughput.tasksPerSec", completed / (span_ms / 1000.0));
    }
    if (workload.probe_wait_ms) {
      out.set("fsProbe.wait_ms", *workload.probe_wait_ms);
      out.set("fsProbe.afterCpuTask", workload.probe_after_cpu ? 1.0 : 0.0);
    }
    if (strategy) strategy->collect(out);
  }
  if (messaging.ran) {
    if (messaging.mode == "shared") {
      out.set("atomics.addTotal", static_cast<double>(messaging.add_total));
      out.set("atomics.expected", static_cast<double>(2 * messaging.increments));
      out.set("atomics.loadStoreTotal", static_cast<double>(messaging.load_store_total));
      out.set("atomics.lostUpdates", static_cast<double>(messaging.lost_updates));
      out.set("atomics.roundsToLose", messaging.lost_rounds);
      out.set("atomics.wake_us", messaging.wake_us);
    } else {
      out.set("messaging.perMiB_us", messaging.per_mb_us);
      out.set("messaging.copiesPerMessage", static_cast<double>(messaging.copies));
      out.set("messaging.senderBytesAfter", messaging.sender_bytes_after);
    }
  }
}

script::OpRegistry registry() {
  script::OpRegistry r = script::shared_registry("worker-pool");
  r.add_metrics(World::metric_table());
  add_workload_block(r);
  add_messaging_block(r);
  return r;
}

}  // namespace nodelab::worker_pool
