#include "worker-pool/worker_thread.hpp"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "runtime/stop.hpp"
#include "worker-pool/cpu.hpp"

namespace nodelab::worker_pool {

namespace {

// Atomics.wait / Atomics.notify on one 32-bit word, as the kernel offers them: a futex. (V8
// parks the thread on a condition variable of its own; the effect is the same: the thread
// sleeps until the word changes and a notify arrives.) std::atomic<uint32_t>::wait is not used:
// libstdc++ 12 routes it through a shared waiter table with spinning and back-off sleeps, which
// measured a 30 us median wake and 4 ms p99 here.
void futex_wait(std::atomic<std::uint32_t>& word, std::uint32_t expected) {
  syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAIT_PRIVATE, expected, nullptr,
          nullptr, 0);
}

void futex_wake_one(std::atomic<std::uint32_t>& word) {
  syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAKE_PRIVATE, 1, nullptr,
          nullptr, 0);
}

// How long a worker that just finished its tasks spins on the request counter before it sleeps.
constexpr runtime::Nanos kSpinBeforeWait{50'000};

static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t));
static_assert(std::atomic<std::uint32_t>::is_always_lock_free);

}  // namespace

WorkerThread::WorkerThread(WorkerConfig config, OnReady on_ready, OnResult on_result,
                           OnExit on_exit)
    : config_(config),
      on_ready_(std::move(on_ready)),
      on_result_(std::move(on_result)),
      on_exit_(std::move(on_exit)) {
  // The loop and its port exist before the thread does, so post() never races their set-up.
  port_async_ = uv::Handle<uv_async_t>::make(loop_.get(), on_port);
  port_async_->data = this;
  port_open_ = true;
  thread_ = std::thread([this] { main(); });
}

WorkerThread::~WorkerThread() {
  terminate();
  join();
}

void WorkerThread::post(TaskMessage m) {
  {
    std::lock_guard lock(mu_);
    if (!port_open_) return;  // a message to a terminated worker goes nowhere
    inbox_.push_back(m);
    // The port's message event wakes a worker waiting in its loop (atomics: 'disabled').
    if (!config_.atomics) uv_async_send(port_async_.get());
  }
  if (config_.atomics) {
    // Atomics.add(requestCount, 1); Atomics.notify(requestCount, 1)
    requests_.fetch_add(1, std::memory_order_seq_cst);
    futex_wake_one(requests_);
  }
}

void WorkerThread::terminate() {
  if (terminate_.exchange(true)) return;
  {
    std::lock_guard lock(mu_);
    if (port_open_) uv_async_send(port_async_.get());
  }
  requests_.fetch_add(1, std::memory_order_seq_cst);
  futex_wake_one(requests_);
}

std::optional<WorkerThread::Times> WorkerThread::times_of(std::uint64_t id) {
  std::lock_guard lock(mu_);
  auto it = taken_.find(id);
  if (it == taken_.end()) return std::nullopt;
  return it->second;
}

void WorkerThread::join() {
  if (thread_.joinable()) thread_.join();
}

void WorkerThread::on_port(uv_async_t* a) {
  auto* w = static_cast<WorkerThread*>(a->data);
  if (w->terminated()) {
    uv_stop(w->loop_.get());
    return;
  }
  w->drain();
}

void WorkerThread::drain() {
  auto cancelled = [this] {
    return terminated() || runtime::stop_requested() != runtime::StopReason::none;
  };
  for (;;) {
    TaskMessage m;
    TaskResult r;
    {
      // Taken under the lock terminate() takes too: once terminate() has returned, times_of()
      // knows every task this thread will ever take.
      std::lock_guard lock(mu_);
      if (inbox_.empty() || terminated()) return;
      m = inbox_.front();
      inbox_.pop_front();
      r.task_id = m.task_id;
      r.started = runtime::hrtime();
      taken_[m.task_id].started = r.started;
    }
    r.checksum = burn(m.steps, cancelled, m.task_id);
    r.finished = runtime::hrtime();
    {
      std::lock_guard lock(mu_);
      if (terminated()) return;  // a terminated worker's result is never posted
      taken_[m.task_id].finished = r.finished;
    }
    on_result_(r);
  }
}

void WorkerThread::main() {
  auto cancelled = [this] {
    return terminated() || runtime::stop_requested() != runtime::StopReason::none;
  };
  volatile std::uint64_t sink = burn(config_.startup_steps, cancelled);
  (void)sink;
  if (!terminated()) {
    on_ready_(runtime::hrtime());
    if (config_.atomics) {
      // atomicsWaitLoop: wait for the counter to move past what was seen, then read every
      // message from the port synchronously (receiveMessageOnPort).
      std::uint32_t seen = 0;
      while (!terminated()) {
        // A short spin first: a pool fed back-to-back finds its next task without sleeping
        // (waking a sleeping core costs ~10 us on this VM), then the futex. Returns at once if
        // the counter already moved past `seen` (a post in between).
        const runtime::Nanos spin_until = runtime::hrtime() + kSpinBeforeWait;
        while (requests_.load(std::memory_order_acquire) == seen && !terminated() &&
               runtime::hrtime() < spin_until) {
#if defined(__x86_64__) || defined(__i386__)
          __builtin_ia32_pause();
#endif
        }
        futex_wait(requests_, seen);
        seen = requests_.load(std::memory_order_seq_cst);
        drain();
      }
    } else {
      uv_run(loop_.get(), UV_RUN_DEFAULT);  // until terminate() stops it
    }
  }
  {
    std::lock_guard lock(mu_);
    port_open_ = false;
    inbox_.clear();
  }
  port_async_.close();
  loop_.close();  // runs the close callback; checks that nothing else was left open
  if (on_exit_) on_exit_();
}

}  // namespace nodelab::worker_pool
