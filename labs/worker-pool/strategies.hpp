#pragma once
// The strategies a workload can run its CPU tasks with, besides the bounded pool (pool.hpp):
//
//   main-thread       the task runs on the loop, synchronously, inside piscina-like run():
//                     the loop is blocked for the whole task
//   libuv-threadpool  uv_queue_work (what crypto.pbkdf2 and zlib use): UV_THREADPOOL_SIZE
//                     threads shared with fs, so a readFile waits behind CPU tasks
//   worker-per-task   a new worker_thread per task: its bootstrap on every task, then it exits
//
// Every one does the same CPU work (cpu.hpp) on a real thread.

#include <algorithm>
#include <memory>
#include <string_view>
#include <vector>

#include "metrics/histogram.hpp"
#include "runtime/port.hpp"
#include "worker-pool/task.hpp"
#include "worker-pool/worker_thread.hpp"

namespace nodelab::worker_pool {

class MainThread final : public Strategy {
 public:
  MainThread(runtime::Runtime& rt, runtime::Site site) : rt_(rt), site_(site) {}
  void submit(TaskRecord& t, Settle settle) override;
  std::uint32_t capacity() const override { return 1; }

 private:
  runtime::Runtime& rt_;
  runtime::Site site_;
};

class LibuvThreadpool final : public Strategy {
 public:
  // Its size: UV_THREADPOOL_SIZE as libuv reads it (runtime::threadpool_size()).
  LibuvThreadpool(runtime::Runtime& rt, runtime::Site site);
  void submit(TaskRecord& t, Settle settle) override;
  std::uint32_t capacity() const override { return size_; }

 private:
  runtime::Runtime& rt_;
  runtime::Site site_;
  std::uint32_t size_;
};

class WorkerPerTask final : public Strategy {
 public:
  WorkerPerTask(runtime::Runtime& rt, runtime::Site site, double startup_ms);
  ~WorkerPerTask() override;
  void submit(TaskRecord& t, Settle settle) override;
  std::uint32_t capacity() const override { return std::max<std::uint32_t>(1, peak_live_); }
  void collect(metrics::MetricSet& out) const override;

 private:
  struct Worker;
  void finished(Worker* w);
  void reap();  // joins workers whose thread has ended

  runtime::Runtime& rt_;
  runtime::Site site_;
  WorkerConfig config_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::uint32_t live_ = 0;
  std::uint32_t peak_live_ = 0;
  std::uint32_t started_ = 0;
  metrics::Histogram startup_ns_;
};

}  // namespace nodelab::worker_pool
