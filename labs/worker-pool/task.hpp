#pragma once
// One task of a workload, as the main loop sees it, and what every strategy implements.
//
// Times are on the shared monotonic clock (runtime::hrtime), read on whichever thread saw
// the moment: `intended` is when the task was due to arrive (the open-loop schedule), so a
// loop that was too busy to submit it on time shows as waiting, not as a late arrival
// (coordinated omission).

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "metrics/histogram.hpp"
#include "metrics/metric_set.hpp"
#include "runtime/runtime.hpp"

namespace nodelab::worker_pool {

enum class TaskState : std::uint8_t { pending, completed, rejected, aborted };

struct TaskRecord {
  std::uint32_t id = 0;          // 1-based, in arrival order
  runtime::Nanos intended{0};    // due to arrive
  runtime::Nanos submitted{-1};  // the loop handed it to the strategy
  runtime::Nanos started{-1};    // its CPU work began
  runtime::Nanos finished{-1};   // its CPU work ended
  runtime::Nanos settled{-1};    // its promise settled on the loop
  std::int32_t thread = -1;      // the thread that ran it (0-based, per strategy)
  TaskState state = TaskState::pending;
  std::string error;        // why it was rejected or aborted ("Task queue is at limit")
  bool abortable = false;   // it was given an AbortSignal
  std::uint64_t steps = 0;  // its CPU work
};

// How a strategy runs tasks. Everything is called on the loop thread, from JS callbacks.
class Strategy {
 public:
  // Settles a task's promise: called on the loop once the task completed or failed (the
  // record says which). Strategies call it where Node would resolve the promise.
  using Settle = std::function<void(TaskRecord&)>;

  virtual ~Strategy() = default;
  virtual void submit(TaskRecord& t, Settle settle) = 0;
  // AbortController.abort() on the task's signal (only strategies with signals: the pool).
  virtual void abort(TaskRecord& t) { (void)t; }
  // The threads that can run tasks at once (for utilization): the pool's maximum, the
  // threadpool's size, 1 for the main thread, the peak of live workers for worker-per-task.
  virtual std::uint32_t capacity() const = 0;
  // Facts the strategy measured (worker start-ups, peak queue...), as metrics.
  virtual void collect(metrics::MetricSet& out) const { (void)out; }
};

// The task's promise settles: `settle` runs as its reaction, a microtask.
void settle_later(runtime::Runtime& rt, runtime::Site site, const Strategy::Settle& settle,
                  TaskRecord& t);

// A histogram of nanoseconds, in ms: a percentile, the maximum; nullopt when it is empty.
std::optional<double> ms_percentile(const metrics::Histogram& h, double p);
std::optional<double> ms_max(const metrics::Histogram& h);

}  // namespace nodelab::worker_pool
