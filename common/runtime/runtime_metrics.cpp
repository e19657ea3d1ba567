// The runtime's metrics, named after the Node APIs a candidate would cite.

#include "runtime/runtime.hpp"

namespace nodelab::runtime {

namespace {
constexpr double kNsPerMs = 1e6;

std::optional<double> ms_or_null(const metrics::Histogram& h, double ns) {
  if (h.empty()) return std::nullopt;
  return ns / kNsPerMs;
}

// count, min/mean/stddev/p50/p90/p99/max (ms) of a histogram of nanoseconds.
void put_histogram(metrics::MetricSet& out, std::string_view prefix, const metrics::Histogram& h,
                   bool full) {
  const std::string p(prefix);
  out.set(p + ".count", static_cast<double>(h.count()));
  if (full) out.set(p + ".min_ms", ms_or_null(h, static_cast<double>(h.min())));
  out.set(p + ".mean_ms", ms_or_null(h, h.mean()));
  if (full) out.set(p + ".stddev_ms", ms_or_null(h, h.stddev()));
  out.set(p + ".p50_ms", ms_or_null(h, static_cast<double>(h.percentile(50))));
  if (full) out.set(p + ".p90_ms", ms_or_null(h, static_cast<double>(h.percentile(90))));
  out.set(p + ".p99_ms", ms_or_null(h, static_cast<double>(h.percentile(99))));
  out.set(p + ".max_ms", ms_or_null(h, static_cast<double>(h.max())));
}
}  // namespace

const std::vector<metrics::MetricInfo>& Runtime::metric_table() {
  static const std::vector<metrics::MetricInfo> table = {
      {"eventLoopDelay.resolution_ms", "ms", "monitorEventLoopDelay({ resolution })"},
      {"eventLoopDelay.count", "", "samples (one per resolution tick)"},
      {"eventLoopDelay.min_ms", "ms", "smallest gap between ticks (includes the interval)"},
      {"eventLoopDelay.mean_ms", "ms", "mean gap between ticks"},
      {"eventLoopDelay.stddev_ms", "ms", "standard deviation of the gaps"},
      {"eventLoopDelay.p50_ms", "ms", "median gap"},
      {"eventLoopDelay.p90_ms", "ms", "90th percentile gap"},
      {"eventLoopDelay.p99_ms", "ms", "99th percentile gap"},
      {"eventLoopDelay.max_ms", "ms", "largest gap: the longest the loop was away"},
      {"eventLoopUtilization.idle_ms", "ms", "time the loop spent waiting in poll"},
      {"eventLoopUtilization.active_ms", "ms", "time since loop start not spent idle"},
      {"eventLoopUtilization.utilization", "ratio", "active / (idle + active), 0..1"},
      {"timerDrift.count", "", "timer callbacks run"},
      {"timerDrift.min_ms", "ms", "least lateness of a timer callback"},
      {"timerDrift.mean_ms", "ms", "mean lateness"},
      {"timerDrift.stddev_ms", "ms", "standard deviation of lateness"},
      {"timerDrift.p50_ms", "ms", "median lateness"},
      {"timerDrift.p90_ms", "ms", "90th percentile lateness"},
      {"timerDrift.p99_ms", "ms", "99th percentile lateness"},
      {"timerDrift.max_ms", "ms", "worst lateness: start minus due time"},
      {"loop.iterations", "", "event-loop iterations"},
      {"loop.main_ms", "ms", "main script plus its drain"},
      {"loop.total_ms", "ms", "whole run, main script to loop exit"},
      {"callbacks.total", "", "JS callbacks run (main script included)"},
      {"callbacks.timers", "", "setTimeout/setInterval callbacks"},
      {"callbacks.immediates", "", "setImmediate callbacks"},
      {"callbacks.nextTicks", "", "process.nextTick callbacks (warnings included)"},
      {"callbacks.microtasks", "", "promise reactions, await continuations, queueMicrotask"},
      {"callbacks.io", "", "I/O completions (readFile, threadpool tasks)"},
      {"callbacks.close", "", "close callbacks"},
      {"drain.maxCallbacks", "", "most nextTicks+microtasks drained after one callback"},
      {"drain.max_ms", "ms", "longest nextTick+microtask drain: the loop could not move"},
      {"threadpool.size", "", "UV_THREADPOOL_SIZE as libuv reads it"},
      {"threadpool.tasks", "", "work items run on the pool (threadpool tasks, fs requests)"},
      {"threadpool.queueWait.p50_ms", "ms", "median wait of a pool work item for a free thread"},
      {"threadpool.queueWait.p99_ms", "ms", "99th percentile wait for a pool thread"},
      {"threadpool.queueWait.max_ms", "ms", "longest wait for a pool thread"},
      {"threadpool.saturated.tasks", "",
       "pool jobs queued while every pool thread already had a job (they had to wait)"},
      {"threadpool.saturated.wait_max_ms", "ms",
       "longest wait of such a job for a thread (no value: the pool never saturated)"},
      {"threadpool.runTime.p50_ms", "ms", "median time on a pool thread"},
      {"threadpool.runTime.max_ms", "ms", "longest time on a pool thread"},
      {"readFile.count", "", "fs.readFile calls completed"},
      {"readFile.p50_ms", "ms", "median readFile latency (call to callback)"},
      {"readFile.max_ms", "ms", "longest readFile latency"},
      {"memory.rss_bytes", "bytes", "resident set size at the end of the run"},
      {"memory.rssPeak_bytes", "bytes", "largest RSS sampled during the run"},
      {"logs.lines", "", "lines logged"},
  };
  return table;
}

void Runtime::collect_metrics(metrics::MetricSet& out) const {
  const auto& eld = eld_.histogram();
  out.set("eventLoopDelay.resolution_ms", static_cast<double>(eld_.resolution().count()));
  put_histogram(out, "eventLoopDelay", eld, true);

  // performance.eventLoopUtilization(): idle = uv_metrics_idle_time; active = wall time
  // since the loop started minus idle. Before the loop starts, all three are 0.
  const double idle =
      loop_started_
          ? static_cast<double>(uv_metrics_idle_time(const_cast<uv_loop_t*>(loop_.get()))) /
                kNsPerMs
          : 0.0;
  const double wall = loop_started_ ? to_ms(loop_end_ - loop_start_) : 0.0;
  const double active = std::max(0.0, wall - idle);
  out.set("eventLoopUtilization.idle_ms", idle);
  out.set("eventLoopUtilization.active_ms", active);
  out.set("eventLoopUtilization.utilization", idle + active > 0 ? active / (idle + active) : 0.0);

  put_histogram(out, "timerDrift", timer_drift_, true);

  auto count = [this](CallbackKind k) {
    return static_cast<double>(counts_[static_cast<std::size_t>(k)]);
  };
  out.set("loop.iterations", static_cast<double>(recorder_.iteration()));
  out.set("loop.main_ms", to_ms(main_end_ - run_start_));
  out.set("loop.total_ms", to_ms(loop_end_ - run_start_));
  out.set("callbacks.total",
          static_cast<double>(recorder_.callback_count()) - count(CallbackKind::fs_step));
  out.set("callbacks.timers", count(CallbackKind::timeout) + count(CallbackKind::interval));
  out.set("callbacks.immediates", count(CallbackKind::immediate));
  out.set("callbacks.nextTicks", count(CallbackKind::next_tick) + count(CallbackKind::warning));
  out.set("callbacks.microtasks", count(CallbackKind::promise) +
                                      count(CallbackKind::queue_microtask) +
                                      count(CallbackKind::await_resume));
  out.set("callbacks.io", count(CallbackKind::read_file) + count(CallbackKind::threadpool) +
                              count(CallbackKind::io) + count(CallbackKind::message));
  out.set("callbacks.close", count(CallbackKind::close));
  out.set("drain.maxCallbacks", static_cast<double>(max_drain_size_));
  out.set("drain.max_ms", to_ms(max_drain_time_));

  out.set("threadpool.size", static_cast<double>(pool_size_));
  out.set("threadpool.tasks", static_cast<double>(pool_run_time_.count()));
  auto pct = [](const metrics::Histogram& h, double p) {
    return ms_or_null(h, static_cast<double>(h.percentile(p)));
  };
  out.set("threadpool.queueWait.p50_ms", pct(pool_queue_wait_, 50));
  out.set("threadpool.queueWait.p99_ms", pct(pool_queue_wait_, 99));
  out.set("threadpool.queueWait.max_ms",
          ms_or_null(pool_queue_wait_, static_cast<double>(pool_queue_wait_.max())));
  out.set("threadpool.saturated.tasks", static_cast<double>(pool_saturated_wait_.count()));
  out.set("threadpool.saturated.wait_max_ms",
          ms_or_null(pool_saturated_wait_, static_cast<double>(pool_saturated_wait_.max())));
  out.set("threadpool.runTime.p50_ms", pct(pool_run_time_, 50));
  out.set("threadpool.runTime.max_ms",
          ms_or_null(pool_run_time_, static_cast<double>(pool_run_time_.max())));
  out.set("readFile.count", static_cast<double>(read_file_latency_.count()));
  out.set("readFile.p50_ms", pct(read_file_latency_, 50));
  out.set("readFile.max_ms",
          ms_or_null(read_file_latency_, static_cast<double>(read_file_latency_.max())));

  size_t rss = 0;
  uv_resident_set_memory(&rss);
  out.set("memory.rss_bytes", static_cast<double>(rss));
  out.set("memory.rssPeak_bytes", static_cast<double>(std::max<std::uint64_t>(rss, rss_peak_)));
  out.set("logs.lines", static_cast<double>(recorder_.log_count()));
}

}  // namespace nodelab::runtime
