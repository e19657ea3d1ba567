#pragma once
// The bounded pool: Piscina 5's ThreadPool (dist/index.js, worker_pool/*.js), on real
// threads. What it reproduces:
//
// - minThreads workers start with the pool and count as ready at once (Piscina marks the
//   initial workers ready without waiting for their 'ready' message); more, up to maxThreads,
//   start while tasks are queued, and count only once their bootstrap is done.
// - run(): with an empty queue the task goes to the least busy ready worker (LeastBusyBalancer:
//   the first idle one, else the one with fewest tasks below concurrentTasksPerWorker; a task
//   with an AbortSignal only to an idle worker); otherwise it is queued. With a non-empty queue
//   it is rejected ('Task queue is at limit') once the queue holds maxQueue plus the capacity of
//   the workers still starting. maxQueue 'auto' is maxThreads squared.
// - A worker that finishes a task takes queued tasks in order; a task no worker can take goes
//   back to the TAIL of the queue (stricterFIFO: false, the default), which reorders a queue
//   under contention.
// - A task's AbortSignal: a queued task is removed and rejected with AbortError; a running one
//   cannot be stopped in place, so its worker is terminated (every task on it fails) and a
//   replacement starts if the pool is below minThreads. The listener stays on the signal until
//   the task is done (its result, or its worker's termination): a task run() rejected with
//   maxQueue 0 is still queued, runs later, and aborting it then still terminates its worker.
// - A worker's ready message comes on its own channel (worker.on('message')), which its
//   termination does not close: a ready message sent before the worker was terminated is still
//   delivered (Node drains it before 'exit'), and the pool then takes it as a worker that became
//   available: it hands queued tasks out and, below maxThreads, starts another worker.
// - A worker idle for idleTimeout retires while the pool is above minThreads.
// - Results come back on the worker's MessagePort (uv_async on the main loop, poll phase); the
//   port keeps the process alive only while the worker has tasks; a terminated worker keeps it
//   alive until its thread has exited.
// - queueSize (pool.queueSize.peak) is Piscina's: the queued tasks (taskQueue + skipQueue) less
//   the capacity of the workers still starting, which will take them.
//
// Not reproduced: the synchronous pick-up of other workers' responses after each one
// (processPendingMessages), the 'drain'/'needsDrain' events and the task histogram; waitTime
// and runTime are measured from the task's intended arrival and on the worker instead.

#include <uv.h>

#include <cmath>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "metrics/histogram.hpp"
#include "runtime/port.hpp"
#include "worker-pool/task.hpp"
#include "worker-pool/worker_thread.hpp"

namespace nodelab::worker_pool {

struct PoolOptions {
  std::uint32_t min_threads = 1;
  double max_threads = 1;       // Piscina's default is fractional: availableParallelism * 1.5
  double max_queue = INFINITY;  // a count, or Infinity
  std::uint32_t concurrent_tasks_per_worker = 1;
  double idle_timeout_ms = 0;  // Infinity: workers never retire
  bool atomics = true;
  bool stricter_fifo = false;
  double startup_ms = 0;  // each worker's bootstrap, as CPU work
};

// Piscina's error messages (dist/errors.js, dist/abort.js).
inline constexpr std::string_view kTaskQueueAtLimit = "Task queue is at limit";
inline constexpr std::string_view kNoTaskQueueAvailable =
    "No task queue available and all Workers are busy";
inline constexpr std::string_view kThreadTermination = "Terminating worker thread";
inline constexpr std::string_view kAborted = "AbortError: The task has been aborted";

class Pool final : public Strategy {
 public:
  Pool(runtime::Runtime& rt, runtime::Site site, PoolOptions options);
  // The process exiting: every worker is terminated and joined.
  ~Pool() override;

  void submit(TaskRecord& t, Settle settle) override;  // piscina.run(task, {signal})
  void abort(TaskRecord& t) override;
  std::uint32_t capacity() const override {
    return static_cast<std::uint32_t>(std::ceil(options_.max_threads));
  }
  void collect(metrics::MetricSet& out) const override;

  // Events a workload narrates (each deterministic for a given schedule).
  struct Event {
    enum class Kind : std::uint8_t { worker_terminated, worker_retired } kind;
    std::uint32_t worker = 0;
    std::uint32_t task = 0;  // the aborted task, for worker_terminated
  };
  std::function<void(const Event&)> on_event;

  const PoolOptions& options() const { return options_; }

 private:
  struct TaskInfo;
  struct WorkerInfo;
  struct IdleTimer;

  // ThreadPool
  void add_new_worker();
  void ensure_minimum_workers();
  bool distribute(TaskInfo* t, const std::vector<WorkerInfo*>& workers);
  void return_undistributed(TaskInfo* t, bool to_tail);
  void on_worker_available(WorkerInfo* w);
  void remove_worker(WorkerInfo* w);
  void remove_from_queue(TaskInfo* t);
  double pending_capacity() const;
  std::size_t size() const { return pending_.size() + ready_.size(); }
  bool below_max_threads() const { return static_cast<double>(size()) < options_.max_threads; }
  std::vector<WorkerInfo*> all_workers() const;         // pending, then ready (Piscina's iterator)
  void settle_promise(TaskInfo* t, std::string error);  // the promise: resolve() or reject(), once
  void done(TaskInfo* t, std::string error);  // TaskInfo.done: settle, drop the abort listener
  void note_queue();

  // WorkerInfo
  void post_task(WorkerInfo* w, TaskInfo* t);
  void mark_ready(WorkerInfo* w);
  void on_ready_message(WorkerInfo* w, runtime::Nanos at);
  void on_response(WorkerInfo* w, const TaskResult& r);
  void on_exit(WorkerInfo* w);
  void destroy(WorkerInfo* w);
  void set_idle_timeout(WorkerInfo* w);
  void clear_idle_timeout(WorkerInfo* w);
  static double usage(const WorkerInfo* w);
  static bool running_abortable(const WorkerInfo* w);

  runtime::Runtime& rt_;
  runtime::Site site_;
  PoolOptions options_;
  WorkerConfig worker_config_;
  bool starting_up_ = false;
  bool worker_fails_during_bootstrap_ = false;

  std::vector<std::unique_ptr<WorkerInfo>> workers_;  // every worker ever started
  std::vector<WorkerInfo*> pending_;                  // insertion order, as a JS Set
  std::vector<WorkerInfo*> ready_;
  std::deque<TaskInfo*> task_queue_;
  std::deque<TaskInfo*> skip_queue_;
  std::vector<std::unique_ptr<TaskInfo>> tasks_;

  // measured
  std::size_t queue_peak_ = 0;
  std::uint32_t workers_started_ = 0;
  std::uint32_t workers_terminated_ = 0;
  std::uint32_t workers_retired_ = 0;
  std::uint32_t peak_workers_ = 0;
  metrics::Histogram startup_ns_;  // new Worker -> its 'ready' message handled
};

}  // namespace nodelab::worker_pool
