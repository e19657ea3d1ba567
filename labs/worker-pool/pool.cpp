#include "worker-pool/pool.hpp"

#include <algorithm>

#include "worker-pool/cpu.hpp"

namespace nodelab::worker_pool {

struct Pool::TaskInfo {
  TaskRecord* rec = nullptr;
  Settle settle;
  bool abortable = false;
  bool listening = false;  // its abort listener is on the signal (until TaskInfo.done or it fires)
  bool aborted = false;
  bool settled = false;  // the promise: a second settlement is a no-op
  WorkerInfo* worker = nullptr;
};

// An idle worker's unref'd timer; freed by its close callback.
struct Pool::IdleTimer {
  uv_timer_t timer{};
  Pool* pool = nullptr;
  WorkerInfo* worker = nullptr;
};

struct Pool::WorkerInfo {
  std::uint32_t number = 0;  // 1-based, in order of creation
  runtime::Nanos created{0};
  bool ready = false;
  bool terminating = false;
  bool destroyed = false;
  std::vector<TaskInfo*> tasks;  // taskInfos, in posting order
  uv_timer_t* idle_timer = nullptr;
  std::unique_ptr<runtime::Port> port;         // the pool's MessageChannel: tasks and results
  std::unique_ptr<runtime::Port> public_port;  // worker.on('message'), 'exit': ready, then exit
  std::unique_ptr<WorkerThread> thread;        // last: its callbacks use the port's sender
};

Pool::Pool(runtime::Runtime& rt, runtime::Site site, PoolOptions options)
    : rt_(rt), site_(site), options_(options) {
  worker_config_.startup_steps = steps_for_ms(options_.startup_ms);
  worker_config_.atomics = options_.atomics;
  starting_up_ = true;
  ensure_minimum_workers();
  starting_up_ = false;
}

Pool::~Pool() {
  for (auto& w : workers_)
    if (w->thread) w->thread->terminate();
  for (auto& w : workers_) {
    if (w->thread) w->thread->join();
    clear_idle_timeout(w.get());
    if (w->port) w->port->close();
    if (w->public_port) w->public_port->close();
  }
}

// ---------------------------------------------------------------------------------------
// Workers

void Pool::ensure_minimum_workers() {
  while (size() < options_.min_threads)
    add_new_worker();
}

void Pool::add_new_worker() {
  auto owned = std::make_unique<WorkerInfo>();
  WorkerInfo* w = owned.get();
  w->number = ++workers_started_;
  w->created = runtime::hrtime();
  // The port is ref'd from the start (its 'message' listener) until the worker is ready
  // and idle; the Worker itself is unref'd at once (workerInfo.init(...).workerUnref()).
  w->port = std::make_unique<runtime::Port>(rt_, site_);
  w->public_port = std::make_unique<runtime::Port>(rt_, site_);
  w->public_port->unref();
  const runtime::Port::Sender port = w->port->sender();
  const runtime::Port::Sender pub = w->public_port->sender();
  w->thread = std::make_unique<WorkerThread>(
      worker_config_,
      [pub, this, w](runtime::Nanos at) { pub.post([this, w, at] { on_ready_message(w, at); }); },
      [port, this, w](const TaskResult& r) { port.post([this, w, r] { on_response(w, r); }); },
      [pub, this, w] { pub.post([this, w] { on_exit(w); }); });
  workers_.push_back(std::move(owned));

  if (starting_up_) {
    // "There is no point in waiting for the initial set of Workers to indicate that they
    // are ready, we just mark them as such from the start", and they take queued work in a
    // microtask.
    w->ready = true;
    rt_.enqueue_microtask([this, w] { on_worker_available(w); }, site_,
                          runtime::CallbackKind::queue_microtask);
    ready_.push_back(w);
  } else {
    pending_.push_back(w);
  }
  peak_workers_ = std::max<std::uint32_t>(peak_workers_, static_cast<std::uint32_t>(size()));
}

// onWorkerReady. A worker terminated after it sent the message gets here too: Piscina checks
// nothing, so the worker is marked ready and the pool runs its onWorkerAvailable (which hands
// queued tasks to the live workers and starts another below maxThreads).
void Pool::on_ready_message(WorkerInfo* w, runtime::Nanos at) {
  startup_ns_.record(
      static_cast<std::uint64_t>(std::max<std::int64_t>(0, (at - w->created).count())));
  if (usage(w) == 0) w->port->unref();
  if (!w->ready) mark_ready(w);
  note_queue();
}

// onWorkerExit (every worker exits once terminated): _onError with no task left. A worker that
// was ready has the pool topped up to minThreads; one that never was stops that for good.
void Pool::on_exit(WorkerInfo* w) {
  w->public_port->close();
  remove_worker(w);
  if (w->ready && !worker_fails_during_bootstrap_) {
    ensure_minimum_workers();
  } else {
    worker_fails_during_bootstrap_ = true;
  }
  note_queue();
}

void Pool::mark_ready(WorkerInfo* w) {
  w->ready = true;
  // The pool's onReady listener was registered before the resource pool's: the worker takes
  // queued work while it is still listed as pending, then moves to the ready set.
  on_worker_available(w);
  auto it = std::find(pending_.begin(), pending_.end(), w);
  if (it != pending_.end()) {
    pending_.erase(it);
    ready_.push_back(w);
  }
}

std::vector<Pool::WorkerInfo*> Pool::all_workers() const {
  std::vector<WorkerInfo*> all(pending_);
  all.insert(all.end(), ready_.begin(), ready_.end());
  return all;
}

bool Pool::running_abortable(const WorkerInfo* w) {
  return w->tasks.size() == 1 && w->tasks.front()->abortable;
}

double Pool::usage(const WorkerInfo* w) {
  return running_abortable(w) ? INFINITY : static_cast<double>(w->tasks.size());
}

double Pool::pending_capacity() const {
  return static_cast<double>(pending_.size()) * options_.concurrent_tasks_per_worker;
}

void Pool::post_task(WorkerInfo* w, TaskInfo* t) {
  w->thread->post({t->rec->id, t->rec->steps});
  clear_idle_timeout(w);
  t->worker = w;
  w->tasks.push_back(t);
  w->port->ref();
}

void Pool::on_response(WorkerInfo* w, const TaskResult& r) {
  if (w->destroyed) return;
  // onMessage: popTask, taskDone (the worker takes queued work), then done().
  auto it = std::find_if(w->tasks.begin(), w->tasks.end(),
                         [&](const TaskInfo* t) { return t->rec->id == r.task_id; });
  TaskInfo* t = nullptr;
  if (it != w->tasks.end()) {
    t = *it;
    w->tasks.erase(it);
  }
  if (t != nullptr) {
    t->rec->started = r.started;
    t->rec->finished = r.finished;
    t->rec->thread = static_cast<std::int32_t>(w->number - 1);
    rt_.record_worker_span(w->number, site_, t->rec->submitted, r.started, r.finished);
  }
  on_worker_available(w);
  if (t != nullptr) done(t, "");
  if (w->tasks.empty() && !w->destroyed) w->port->unref();
}

void Pool::destroy(WorkerInfo* w) {
  if (w->terminating || w->destroyed) return;
  w->terminating = true;
  clear_idle_timeout(w);
  w->thread->terminate();
  const runtime::Nanos now = runtime::hrtime();
  w->port->close();
  // port.on('close') -> worker.ref(): a terminated worker keeps the process alive until it exits.
  w->public_port->ref();
  std::vector<TaskInfo*> tasks;
  tasks.swap(w->tasks);
  for (TaskInfo* t : tasks) {
    // The worker's lane shows the task until the termination: from when its thread took it,
    // or, if the thread never did (still starting up, or busy with another), a wait until then.
    const auto times = w->thread->times_of(t->rec->id);
    const runtime::Nanos started = times ? times->started : now;
    const runtime::Nanos finished = times && times->finished.count() >= 0 ? times->finished : now;
    rt_.record_worker_span(w->number, site_, t->rec->submitted, started, finished);
    done(t, std::string(kThreadTermination));
  }
  w->terminating = false;
  w->destroyed = true;
}

void Pool::remove_worker(WorkerInfo* w) {
  destroy(w);
  std::erase(pending_, w);
  std::erase(ready_, w);
}

void Pool::set_idle_timeout(WorkerInfo* w) {
  // setTimeout(handler, idleTimeout).unref(): an idle worker never keeps the process alive.
  clear_idle_timeout(w);
  auto* idle = new IdleTimer;
  idle->pool = this;
  idle->worker = w;
  idle->timer.data = idle;
  uv_timer_init(rt_.loop(), &idle->timer);
  w->idle_timer = &idle->timer;
  const auto ms = static_cast<std::uint64_t>(std::max(1.0, options_.idle_timeout_ms));
  uv_timer_start(
      &idle->timer,
      [](uv_timer_t* h) {
        auto* fired = static_cast<IdleTimer*>(h->data);
        Pool* pool = fired->pool;
        WorkerInfo* worker = fired->worker;
        pool->clear_idle_timeout(worker);  // frees `fired`
        if (usage(worker) != 0 || pool->size() <= pool->options_.min_threads) return;
        ++pool->workers_retired_;
        pool->remove_worker(worker);
        pool->note_queue();
        if (pool->on_event) pool->on_event({Event::Kind::worker_retired, worker->number, 0});
      },
      ms, 0);
  uv_unref(reinterpret_cast<uv_handle_t*>(&idle->timer));
}

void Pool::clear_idle_timeout(WorkerInfo* w) {
  if (w->idle_timer == nullptr) return;
  uv_timer_stop(w->idle_timer);
  uv_close(reinterpret_cast<uv_handle_t*>(w->idle_timer),
           [](uv_handle_t* h) { delete static_cast<IdleTimer*>(h->data); });
  w->idle_timer = nullptr;
}

// ---------------------------------------------------------------------------------------
// Tasks

// Piscina's queueSize, sampled after every event that can change it.
void Pool::note_queue() {
  const double queued = static_cast<double>(task_queue_.size() + skip_queue_.size());
  const double size = std::max(0.0, queued - pending_capacity());
  queue_peak_ = std::max(queue_peak_, static_cast<std::size_t>(size));
}

void Pool::done(TaskInfo* t, std::string error) {
  t->listening = false;  // _abortCleaner
  settle_promise(t, std::move(error));
}

void Pool::settle_promise(TaskInfo* t, std::string error) {
  if (t->settled) return;
  t->settled = true;
  if (!error.empty()) {
    t->rec->state = t->aborted ? TaskState::aborted : TaskState::rejected;
    t->rec->error = std::move(error);
  } else {
    t->rec->state = TaskState::completed;
  }
  settle_later(rt_, site_, t->settle, *t->rec);
}

bool Pool::distribute(TaskInfo* t, const std::vector<WorkerInfo*>& workers) {
  if (t->aborted) return true;
  // LeastBusyBalancer({maximumUsage: concurrentTasksPerWorker})
  WorkerInfo* candidate = nullptr;
  double checkpoint = options_.concurrent_tasks_per_worker;
  for (WorkerInfo* w : workers) {
    const double u = usage(w);
    if (u == 0) {
      candidate = w;
      break;
    }
    if (running_abortable(w)) continue;
    if (!t->abortable && u < checkpoint) {
      candidate = w;
      checkpoint = u;
    }
  }
  if (candidate != nullptr) {
    post_task(candidate, t);
    return true;
  }
  return_undistributed(t, !options_.stricter_fifo);
  return false;
}

void Pool::return_undistributed(TaskInfo* t, bool to_tail) {
  auto& q = t->abortable ? skip_queue_ : task_queue_;
  if (to_tail) {
    q.push_back(t);
  } else {
    q.push_front(t);
  }
}

void Pool::on_worker_available(WorkerInfo* w) {
  std::optional<std::vector<WorkerInfo*>> workers;
  while (!task_queue_.empty() || !skip_queue_.empty()) {
    std::deque<TaskInfo*>& q = skip_queue_.empty() ? task_queue_ : skip_queue_;
    TaskInfo* t = q.front();
    q.pop_front();
    if (!workers) workers = all_workers();
    if (distribute(t, *workers)) continue;
    if (below_max_threads()) {
      add_new_worker();
      continue;
    }
    break;
  }
  note_queue();
  if (std::isinf(options_.idle_timeout_ms)) return;
  if (!w->destroyed && usage(w) == 0 && size() > options_.min_threads) set_idle_timeout(w);
}

void Pool::remove_from_queue(TaskInfo* t) {
  std::erase(task_queue_, t);
  std::erase(skip_queue_, t);
}

void Pool::submit(TaskRecord& rec, Settle settle) {
  auto owned = std::make_unique<TaskInfo>();
  TaskInfo* t = owned.get();
  tasks_.push_back(std::move(owned));
  t->rec = &rec;
  t->settle = std::move(settle);
  t->abortable = rec.abortable;
  t->listening = rec.abortable;  // taskInfo.setAbortListener(signal)

  // A rejection here is the promise's reject(), not TaskInfo.done: the abort listener stays.
  if (!task_queue_.empty()) {
    const double total = options_.max_queue + pending_capacity();
    if (static_cast<double>(task_queue_.size()) >= total) {
      settle_promise(
          t, std::string(options_.max_queue == 0 ? kNoTaskQueueAvailable : kTaskQueueAtLimit));
    } else {
      task_queue_.push_back(t);
      // "Eagerly spawn additional workers up to maxThreads while there is queued work."
      if (below_max_threads()) add_new_worker();
    }
    note_queue();
    return;
  }
  if (!distribute(t, ready_)) {
    if (below_max_threads()) add_new_worker();
    // Piscina 5 rejects here but leaves the task queued: it still runs later.
    if (options_.max_queue <= 0 && pending_capacity() == 0) {
      settle_promise(t, std::string(kNoTaskQueueAvailable));
    }
  }
  note_queue();
}

void Pool::abort(TaskRecord& rec) {
  auto it =
      std::find_if(tasks_.begin(), tasks_.end(), [&](const auto& t) { return t->rec == &rec; });
  if (it == tasks_.end()) return;
  TaskInfo* t = it->get();
  // The listener is removed once the task is done (TaskInfo.done: _abortCleaner), not when
  // run() rejected it, and fires once.
  if (!t->listening) return;
  t->listening = false;
  t->aborted = true;
  // reject(new AbortError()): a no-op when run() already rejected it.
  settle_promise(t, std::string(kAborted));
  if (t->worker != nullptr) {
    // Already running: the worker it runs on is terminated.
    WorkerInfo* w = t->worker;
    ++workers_terminated_;
    remove_worker(w);
    if (on_event) on_event({Event::Kind::worker_terminated, w->number, rec.id});
    ensure_minimum_workers();
  } else {
    remove_from_queue(t);
  }
  note_queue();
}

void Pool::collect(metrics::MetricSet& out) const {
  out.set("pool.workersStarted", workers_started_);
  out.set("pool.workersPeak", peak_workers_);
  out.set("pool.workersTerminated", workers_terminated_);
  out.set("pool.workersRetired", workers_retired_);
  out.set("pool.queueSize.peak", static_cast<double>(queue_peak_));
  out.set("pool.maxQueue", options_.max_queue);
  out.set("workerStartup.p50_ms", ms_percentile(startup_ns_, 50));
  out.set("workerStartup.max_ms", ms_max(startup_ns_));
}

}  // namespace nodelab::worker_pool
