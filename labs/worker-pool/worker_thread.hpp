#pragma once
// One worker_thread: a thread of its own with its own uv loop (a Node Worker has its own
// isolate and loop), the inbox the pool posts tasks to (its MessagePort), and a bootstrap
// before it can take any (a Node Worker starts an isolate and runs Node's bootstrap: tens of
// milliseconds, which `startup_ms` charges as CPU work).
//
// Between tasks the thread waits as a Piscina worker does with atomics: 'sync' (the default,
// dist/worker.js atomicsWaitLoop): blocked in Atomics.wait on a request counter that the
// pool bumps and notifies after each postMessage. (Unlike V8's Atomics.wait, it spins for
// 50 us before it sleeps: a pool fed back-to-back then never pays a core's wake-up.) With atomics:
// 'disabled' it waits in its uv loop for the port's message event (uv_async) instead.

#include <uv.h>

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>

#include "runtime/clock.hpp"
#include "runtime/uv.hpp"

namespace nodelab::worker_pool {

struct WorkerConfig {
  std::uint64_t startup_steps = 0;  // the bootstrap's CPU work
  bool atomics = true;              // Piscina's atomics: 'sync' (true) or 'disabled'
};

struct TaskMessage {
  std::uint64_t task_id = 0;
  std::uint64_t steps = 0;  // the task's CPU work
};

struct TaskResult {
  std::uint64_t task_id = 0;
  runtime::Nanos started{0};  // on the worker's thread, on the shared monotonic clock
  runtime::Nanos finished{0};
  std::uint64_t checksum = 0;
};

class WorkerThread {
 public:
  // Both run on the worker's thread (they post to the main loop).
  using OnReady = std::function<void(runtime::Nanos ready_at)>;
  using OnResult = std::function<void(const TaskResult&)>;
  // The thread's last act (the 'exit' event; Node drains the worker's messages before it).
  using OnExit = std::function<void()>;

  // Starts the thread.
  WorkerThread(WorkerConfig config, OnReady on_ready, OnResult on_result, OnExit on_exit = {});
  ~WorkerThread();  // terminate(), join()
  WorkerThread(const WorkerThread&) = delete;
  WorkerThread& operator=(const WorkerThread&) = delete;

  // Any thread: port.postMessage(task) then Atomics.add + Atomics.notify on the counter.
  void post(TaskMessage m);
  // worker.terminate(): the running task stops at its next check, the thread leaves its
  // loop and exits. Returns at once.
  void terminate();
  void join();
  bool terminated() const { return terminate_.load(std::memory_order_relaxed); }
  // When the thread took task `id` from its inbox and, if it got that far, finished it; nullopt
  // if it never took it. After terminate() the answer is final: a terminated thread takes no
  // more tasks (for the lanes of --html: a task cut short by its worker's termination).
  struct Times {
    runtime::Nanos started{-1};
    runtime::Nanos finished{-1};
  };
  std::optional<Times> times_of(std::uint64_t id);

 private:
  void main();
  void drain();  // runs every message in the inbox, in order
  static void on_port(uv_async_t* a);

  WorkerConfig config_;
  OnReady on_ready_;
  OnResult on_result_;
  OnExit on_exit_;

  std::mutex mu_;
  std::deque<TaskMessage> inbox_;                   // guarded by mu_
  std::unordered_map<std::uint64_t, Times> taken_;  // guarded by mu_
  bool port_open_ = false;                          // guarded by mu_: port_async_ may be signalled
  uv::Loop loop_;                                   // the worker's own loop (its thread closes it)
  uv::Handle<uv_async_t> port_async_;               // guarded by mu_ while port_open_
  std::atomic<std::uint32_t> requests_{0};          // Piscina's kRequestCountField
  std::atomic<bool> terminate_{false};
  std::thread thread_;  // last: started once everything above exists
};

}  // namespace nodelab::worker_pool
