#include "worker-pool/strategies.hpp"

#include "worker-pool/cpu.hpp"

namespace nodelab::worker_pool {

// ---------------------------------------------------------------------------------------
// main-thread

void MainThread::submit(TaskRecord& t, Settle settle) {
  t.thread = 0;
  t.started = runtime::hrtime();
  volatile std::uint64_t sink = burn(
      t.steps, [this] { return rt_.work_abandoned(); }, t.id);
  (void)sink;
  t.finished = runtime::hrtime();
  t.state = TaskState::completed;
  // An async function that did its work synchronously: the caller's await resumes later.
  settle_later(rt_, site_, settle, t);
}

// ---------------------------------------------------------------------------------------
// libuv-threadpool

LibuvThreadpool::LibuvThreadpool(runtime::Runtime& rt, runtime::Site site)
    : rt_(rt), site_(site), size_(runtime::threadpool_size()) {}

void LibuvThreadpool::submit(TaskRecord& t, Settle settle) {
  TaskRecord* rec = &t;
  runtime::Runtime* rt = &rt_;
  // The work writes the record's times on the pool thread; libuv's completion (wq_mutex,
  // then uv_async) orders those writes before the callback reads them on the loop.
  rt_.queue_work(
      [rec, rt] {
        rec->thread = static_cast<std::int32_t>(runtime::Runtime::pool_thread_number() - 1);
        rec->started = runtime::hrtime();
        volatile std::uint64_t sink = burn(
            rec->steps, [rt] { return rt->work_abandoned(); }, rec->id);
        (void)sink;
        rec->finished = runtime::hrtime();
      },
      [this, rec, settle] {
        // The pbkdf2 callback resolves the task's promise; its reaction is a microtask.
        rec->state = TaskState::completed;
        settle_later(rt_, site_, settle, *rec);
      },
      site_, "CPU task");
}

// ---------------------------------------------------------------------------------------
// worker-per-task

struct WorkerPerTask::Worker {
  TaskRecord* rec = nullptr;
  Settle settle;
  runtime::Nanos created{0};
  std::unique_ptr<runtime::Port> port;
  std::unique_ptr<WorkerThread> thread;
  bool done = false;
};

WorkerPerTask::WorkerPerTask(runtime::Runtime& rt, runtime::Site site, double startup_ms)
    : rt_(rt), site_(site) {
  config_.startup_steps = steps_for_ms(startup_ms);
  config_.atomics = false;  // a plain worker: parentPort.on('message')
}

WorkerPerTask::~WorkerPerTask() {
  for (auto& w : workers_)
    if (w->thread) w->thread->terminate();
  for (auto& w : workers_) {
    if (w->thread) w->thread->join();
    if (w->port) w->port->close();
  }
}

void WorkerPerTask::reap() {
  std::erase_if(workers_, [](const std::unique_ptr<Worker>& w) {
    if (!w->done) return false;
    w->thread->join();  // terminated after its result: it is leaving its loop
    return true;
  });
}

void WorkerPerTask::submit(TaskRecord& t, Settle settle) {
  reap();
  auto owned = std::make_unique<Worker>();
  Worker* w = owned.get();
  w->rec = &t;
  w->settle = std::move(settle);
  w->created = runtime::hrtime();
  w->port = std::make_unique<runtime::Port>(rt_, site_);
  const runtime::Port::Sender port = w->port->sender();
  const TaskMessage message{t.id, t.steps};
  w->thread = std::make_unique<WorkerThread>(
      config_,
      [this, port, w](runtime::Nanos at) {
        port.post([this, w, at] {
          startup_ns_.record(
              static_cast<std::uint64_t>(std::max<std::int64_t>(0, (at - w->created).count())));
        });
      },
      [this, port, w](const TaskResult& r) {
        port.post([this, w, r] {
          w->rec->started = r.started;
          w->rec->finished = r.finished;
          rt_.record_worker_span(static_cast<std::uint32_t>(w->rec->thread + 1), site_,
                                 w->rec->submitted, r.started, r.finished);
          finished(w);
        });
      });
  // new Worker(file, {workerData: task}): the task travels with the worker.
  w->thread->post(message);
  t.thread = static_cast<std::int32_t>(started_++);
  ++live_;
  peak_live_ = std::max(peak_live_, live_);
  workers_.push_back(std::move(owned));
}

void WorkerPerTask::finished(Worker* w) {
  // The worker posts its result and exits: 'exit' follows, and the port closes.
  w->thread->terminate();
  w->port->close();
  w->done = true;
  --live_;
  w->rec->state = TaskState::completed;
  settle_later(rt_, site_, w->settle, *w->rec);
}

void WorkerPerTask::collect(metrics::MetricSet& out) const {
  out.set("workers.started", started_);
  out.set("workers.peakLive", peak_live_);
  out.set("workerStartup.p50_ms", ms_percentile(startup_ns_, 50));
  out.set("workerStartup.max_ms", ms_max(startup_ns_));
}

}  // namespace nodelab::worker_pool
