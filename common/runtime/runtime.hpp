#pragma once
// The mini-Node runtime: Node 20's JS-visible scheduling rules on a real uv_loop_t.
//
//   main script ─ drain ─┐
//                        ▼
//   ┌─► timers ─► pending ─► idle ─► prepare ─► poll ─► check ─► close ─┐
//   └────────────────────────────────────────────────────────────────────┘
//        each JS callback above is followed by a drain: every nextTick,
//        then every microtask, repeated until both queues are empty
//
// What it reproduces, and where Node does it:
// - Timers (lib/internal/timers.js, src/env.cc RunTimers): one uv_timer_t for all JS
//   timers; FIFO lists keyed by the whole-ms duration; a priority queue of lists ordered by
//   (expiry, list id); delays outside [1, 2^31-1] become 1 (TimeoutOverflowWarning above);
//   nextTicks and microtasks drained between timers and between lists.
// - setImmediate (lib/internal/timers.js processImmediate, src/env.cc CheckImmediate): a
//   uv_check handle, plus a uv_idle handle started while ref'd immediates are pending so
//   poll does not block; the queue is snapshotted, so immediates queued by immediates run
//   in the next iteration.
// - process.nextTick and the microtask queue (lib/internal/process/task_queues.js
//   processTicksAndRejections / runNextTicks, src/api/callback.cc
//   InternalCallbackScope::Close): all ticks, then all microtasks, until both are empty;
//   after the main script and after every macrotask callback (Node >= 11).
// - Unhandled rejections in Node 15+'s default `throw` mode (lib/internal/process/
//   promises.js processPromiseRejections): checked after a full drain; the process dies.
// - fs.readFile (lib/internal/fs/read_file_context.js): open, fstat, read, close as four
//   uv_fs requests on the libuv threadpool, each completing in its own poll phase.
// - Threadpool tasks via uv_queue_work; close callbacks via uv_close.
// - The loop is driven with UV_RUN_DEFAULT, as Node does (src/api/embed_helpers.cc
//   SpinEventLoop). Debian links libuv 1.44, whose UV_RUN_ONCE/NOWAIT order timers
//   differently from Node 20's libuv 1.46; under UV_RUN_DEFAULT the two agree except for
//   the timers 1.46 runs at the very end of the last iteration, which spin_event_loop()
//   emulates (docs/node-semantics.md §1.5).
//
// Every JS callback is recorded (Recorder): iteration, phase, start/end, who scheduled it.

#include <uv.h>

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "metrics/event_loop_delay.hpp"
#include "metrics/histogram.hpp"
#include "metrics/metric_set.hpp"
#include "runtime/clock.hpp"
#include "runtime/js_error.hpp"
#include "runtime/phase.hpp"
#include "runtime/recorder.hpp"
#include "runtime/snapshot.hpp"
#include "runtime/stop.hpp"
#include "runtime/uv.hpp"

namespace nodelab::runtime {

// A JavaScript function: scenario code compiled to a closure. It may throw JsThrow.
using Task = std::function<void()>;
// Work for another thread (a threadpool task): not JS, it must not touch the runtime.
using WorkFn = std::function<void()>;

// Who is scheduling: the scenario op (its site id, 0 for none) so narration and traces can
// name the line of the scenario file.
using Site = std::uint32_t;

using TimerId = std::uint64_t;

// A JavaScript promise's identity, for the unhandled-rejection bookkeeping (V8 hands Node the
// promise object itself; lib/internal/process/promises.js keys its maps by it).
using PromiseId = std::uint64_t;

struct RuntimeOptions {
  std::chrono::milliseconds eld_resolution{10};  // monitorEventLoopDelay({resolution})
  RecorderLimits recorder{};
  // Keep a record of every callback (narration, --json, --trace, `phases` expectations).
  // Off, the runtime only counts callbacks and reads no clock per queued callback: what
  // --logs-only needs when nothing asks for phases. Logged lines are kept either way.
  bool record_callbacks = true;
  // Called with every logged line as it is logged (for --logs-only streaming).
  std::function<void(std::string_view)> log_sink;
};

enum class Outcome : std::uint8_t { completed, uncaught_exception, unhandled_rejection, stopped };

struct RunResult {
  Outcome outcome = Outcome::completed;
  JsError error;                   // what killed the process, for the two death outcomes
  CallbackId where = kNoCallback;  // the callback that threw
  Phase phase = Phase::main;       // where that callback ran
  StopReason stop = StopReason::none;
};

// libuv's pool size rule (src/threadpool.c init_threads): UV_THREADPOOL_SIZE read with
// atoi, 0 -> 1, capped at 1024, default 4.
unsigned threadpool_size();

class Runtime {
 public:
  explicit Runtime(RuntimeOptions options = {});
  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;
  Runtime(Runtime&&) = delete;
  Runtime& operator=(Runtime&&) = delete;

  uv_loop_t* loop() { return loop_.get(); }

  // ---- the JS API; call from the main script or from a callback ----
  TimerId set_timeout(double ms, Task cb, Site site);
  TimerId set_interval(double ms, Task cb, Site site);
  void clear_timer(TimerId id);  // clearTimeout / clearInterval
  void set_immediate(Task cb, Site site);
  void next_tick(Task cb, Site site);
  // A promise reaction (Promise.prototype.then, an await continuation) or a
  // queueMicrotask callback. A throw in the first two rejects a promise (unhandled
  // rejection); a throw in queueMicrotask is an uncaught exception.
  void enqueue_microtask(Task cb, Site site, CallbackKind kind);
  // A promise rejected with no handler (an async function that threw); checked after the
  // current drain, as V8's PromiseRejectCallback hands it to lib/internal/process/promises.js.
  void reject_promise(JsError error);
  // V8's PromiseRejectCallback events (src/api/callback.cc -> lib/internal/process/
  // promises.js promiseRejectHandler): a promise `id` rejected while it had no handler
  // (kPromiseRejectWithNoHandler), and a handler attached to such a promise later
  // (kPromiseHandlerAddedAfterReject). reject_promise() is the first with a fresh id.
  PromiseId new_promise_id() { return ++last_promise_id_; }
  void promise_rejected_without_handler(PromiseId id, JsError reason);
  void promise_handler_added_after_reject(PromiseId id);
  void read_file(std::string path, Task cb, Site site);
  // A task that occupies one threadpool thread for `work` (spinning on the clock).
  void queue_threadpool(Nanos work, Task cb, Site site);
  // uv_queue_work, as Node's crypto and zlib use it: `work` runs on a libuv pool thread (it
  // should return soon once work_abandoned() turns true); `cb` then runs in the poll phase.
  void queue_work(WorkFn work, Task cb, Site site, const char* what = "threadpool task");
  // True once pool work should give up: the run is stopping or the runtime shutting down.
  // Safe from any thread.
  bool work_abandoned() const;
  // The calling pool thread's number (1-based, in order of first use; the trace's lanes).
  static std::uint32_t pool_thread_number();
  // A task a worker_thread ran (`worker`: 1-based), for the trace's and the page's worker
  // lanes. Times on the shared monotonic clock; loop thread.
  void record_worker_span(std::uint32_t worker, Site site, Nanos queued, Nanos started,
                          Nanos finished);
  // A handle closed with uv_close (a socket's destroy()): `cb` runs in the close phase.
  void close_handle(Task cb, Site site);
  // A completion of a library's own libuv handle (a socket's read or connect, a handle's close
  // callback, a socket's idle timer), delivered as Node delivers one: `fn` is recorded as a
  // callback of `kind` in `phase` (poll, close or timers), then nextTicks and microtasks drain
  // (MakeCallback, InternalCallbackScope::Close). Call it on the loop thread from inside that
  // libuv callback, never from JS. Runs nothing, and returns false, once the process died or a
  // stop was requested. Used by common/net.
  bool io_callback(Phase phase, CallbackKind kind, Site site, const Task& fn,
                   Nanos scheduled = Nanos(-1));
  // `hook` runs first in shutdown(), before the loop is closed: a library that owns libuv
  // handles (common/net's sockets and servers) closes the ones still open there.
  void on_shutdown(std::function<void()> hook) { shutdown_hooks_.push_back(std::move(hook)); }
  // process.emitWarning: the 'warning' event is delivered on process.nextTick
  // (lib/internal/process/warning.js) and logged as "warning: NAME: MESSAGE".
  void emit_warning(std::string_view name, std::string_view message);
  void log(std::string text);
  // A sample of a lab's quantity at this moment (shown as a graph by --trace).
  void sample(std::string name, double value) {
    recorder_.add_counter(std::move(name), hrtime() - run_start_, value);
  }
  // The same, stamped at an earlier moment `t` (an hrtime()): a series reduced afterwards.
  void sample_at(std::string name, Nanos t, double value) {
    recorder_.add_counter(std::move(name), t - run_start_, value);
  }
  // Busy-waits on the calling thread (a `block` op); returns early if a stop is requested.
  void busy_wait(Nanos d);

  // ---- running ----
  // Runs `main_script` as Node runs a CommonJS entry point, then the event loop until it
  // has nothing left (or the process dies, or a stop is requested).
  RunResult run(const Task& main_script);
  bool dead() const { return dead_; }
  // Closes every handle, waits for in-flight requests (pool tasks are abandoned) and closes
  // the loop; returns uv_loop_close()'s result, 0 when nothing leaked. Idempotent; the
  // destructor calls it.
  int shutdown();

  // ---- observation ----
  const Recorder& recorder() const { return recorder_; }
  CallbackId current_callback() const { return current_; }
  Phase current_phase() const { return current_phase_; }
  Nanos since_start(Nanos t) const { return t - run_start_; }
  // The runtime's metrics (eventLoopDelay, eventLoopUtilization, timerDrift, ...).
  void collect_metrics(metrics::MetricSet& out) const;
  static const std::vector<metrics::MetricInfo>& metric_table();

  // The state at this moment (queues show their first `max_items` entries).
  StateSnapshot snapshot(std::size_t max_items = 6) const;

  // A hook for each phase boundary the runtime observes: main (once, after the main script's
  // drain), prepare and check every iteration, timers/poll/close when they run a callback
  // (poll and close once per callback). Used by --step and tests.
  std::function<void(Phase, std::uint32_t iteration)> on_phase;

 private:
  friend class Port;
  // A message from another thread (Port), delivered in the poll phase through MakeCallback.
  void deliver_message(Site site, CallbackKind kind, Nanos posted, const Task& fn);

  // ---- timers (lib/internal/timers.js) ----
  struct TimersList;
  struct Timeout {
    TimerId id = 0;
    CallbackKind kind = CallbackKind::timeout;
    double idle_timeout = 1;  // -1 once cleared
    std::optional<double> repeat;
    std::int64_t idle_start = 0;  // ms on the loop clock, relative to timer_base_
    bool destroyed = false;
    Task callback;
    Site site = 0;
    CallbackId parent = kNoCallback;
    Nanos scheduled{0};
    TimersList* list = nullptr;
    Timeout* prev = nullptr;
    Timeout* next = nullptr;
  };
  struct TimersList {
    std::int64_t msecs = 0;
    std::int64_t expiry = 0;
    std::uint64_t id = 0;
    Timeout* head = nullptr;
    Timeout* tail = nullptr;
    bool in_queue = false;
  };
  struct ListOrder {
    bool operator()(const TimersList* a, const TimersList* b) const {
      return a->expiry != b->expiry ? a->expiry < b->expiry : a->id < b->id;
    }
  };

  std::int64_t get_libuv_now();
  double coerce_after(double after);
  void insert(Timeout* t, double msecs, std::int64_t start);
  void unlink(Timeout* t);
  void unenroll(Timeout* t);
  void remove_list(TimersList* list);
  void inc_ref_count();
  void dec_ref_count();
  void schedule_timer(std::int64_t ms);
  static void on_run_timers(uv_timer_t* h);
  void run_timers();
  std::int64_t process_timers(std::int64_t now);
  void list_on_timeout(std::shared_ptr<TimersList> list, std::int64_t now);

  // ---- immediates ----
  // Queued callbacks do not read the clock when queued (it would double the cost of a
  // hop): their records say who scheduled them (parent), not when.
  struct Immediate {
    Task callback;
    Site site = 0;
    CallbackId parent = kNoCallback;
    Nanos scheduled{-1};
  };
  static void on_check(uv_check_t* h);
  static void on_prepare(uv_prepare_t* h);
  void process_immediate();
  void toggle_immediate_ref(bool ref);

  // ---- nextTick / microtasks ----
  struct QueuedTask {
    Task callback;
    Site site = 0;
    CallbackId parent = kNoCallback;
    CallbackKind kind = CallbackKind::next_tick;
    Nanos scheduled{-1};
  };
  void run_microtasks();
  void process_ticks_and_rejections();
  bool process_promise_rejections();
  void run_next_ticks();
  void callback_scope_close();

  // ---- invoking JS ----
  enum class OnThrow : std::uint8_t { uncaught, reject };
  void invoke(CallbackKind kind, Phase phase, Site site, CallbackId parent, Nanos scheduled,
              const Task& fn, OnThrow on_throw, Nanos due = Nanos(-1), bool internal = false,
              Nanos start = Nanos(-1));
  // invoke() then InternalCallbackScope::Close: how Node runs an I/O or close callback.
  void make_callback(CallbackKind kind, Phase phase, Site site, CallbackId parent, Nanos scheduled,
                     const Task& fn, bool internal = false);
  void enter_phase(Phase p);
  // Runs a nextTick/microtask drain, timing it when it has work (drain.max_ms).
  template <class F>
  void timed_drain(F&& drain);
  void die(Outcome how, JsError error, CallbackId where, Phase phase);
  // False once the process died or a stop was requested (then it starts stopping).
  bool keep_going();
  void close_drain_episode();

  // ---- I/O ----
  // A request on the threadpool, as --step shows it.
  struct PoolJob {
    std::atomic<bool> running{false};  // set by the pool thread that picks it up
    bool completed = false;            // its completion reached the loop (poll)
    const char* what = "threadpool task";
    Site site = 0;
    Nanos queued{0};
    bool behind_busy = false;  // queued while every pool thread already had a job
  };
  std::set<const PoolJob*> pool_jobs_;
  // Jobs handed to libuv's pool whose work has not returned yet (running or queued). A job
  // queued when this is already the pool's size waits because every thread is busy: that, not a
  // long wait alone (threads starting up, a loop busy elsewhere), is a saturated pool.
  std::atomic<unsigned> pool_busy_{0};
  void pool_job_queued(PoolJob& job);
  void pool_job_done() { pool_busy_.fetch_sub(1, std::memory_order_acq_rel); }
  void record_pool_job(const PoolJob& job, CallbackId parent, Site site, std::uint32_t thread,
                       Nanos queued, Nanos started, Nanos finished);
  struct WorkReq;
  struct ReadFileReq;
  struct CloseReq;
  using WorkRequest = uv::Req<uv_work_t, WorkReq>;
  using FsStepRequest = uv::Req<uv_work_t, std::unique_ptr<ReadFileReq>>;  // one per step
  void fail_uv(int rc, const char* syscall);
  static void on_work(uv_work_t* req);
  static void on_after_work(WorkReq& w, int status);
  void submit_fs_step(std::unique_ptr<ReadFileReq> r);
  static void on_fs_work(uv_work_t* work);
  static void on_fs_done(std::unique_ptr<ReadFileReq>& r, int status);
  static void on_handle_closed(uv_tcp_t* h);
  void finish_read_file(std::unique_ptr<ReadFileReq> r);

  // ---- the loop ----
  void spin_event_loop();
  static void on_stop_async(uv_async_t* a);

  RuntimeOptions options_;
  uv::Loop loop_;
  uv::Handle<uv_timer_t> timer_handle_;
  uv::Handle<uv_check_t> immediate_check_handle_;
  uv::Handle<uv_idle_t> immediate_idle_handle_;
  uv::Handle<uv_prepare_t> prepare_handle_;
  uv::Handle<uv_async_t> stop_async_;
  metrics::EventLoopDelayMonitor eld_;
  bool closed_ = false;
  int close_result_ = 0;
  std::vector<std::function<void()>> shutdown_hooks_;

  // timers
  std::unordered_map<TimerId, std::unique_ptr<Timeout>> timeouts_;
  std::unordered_map<std::int64_t, std::shared_ptr<TimersList>> timer_list_map_;
  std::set<TimersList*, ListOrder> timer_list_queue_;
  std::uint64_t timer_list_id_ = 1;
  TimerId next_timer_id_ = 1;
  double next_expiry_ = 0;  // Infinity when no list is scheduled
  int timer_ref_count_ = 0;
  std::uint64_t timer_base_ = 0;
  Timeout* running_timer_ = nullptr;

  // immediates: the queue and the snapshot processImmediate is running
  std::vector<Immediate> immediate_queue_;
  std::vector<Immediate> immediate_running_;
  std::uint64_t immediate_count_ = 0;
  std::uint64_t immediate_ref_count_ = 0;

  // ticks and microtasks
  std::deque<QueuedTask> tick_queue_;
  std::deque<QueuedTask> microtask_queue_;
  bool has_tick_scheduled_ = false;
  bool has_rejection_to_warn_ = false;
  struct Rejection {
    JsError error;
    CallbackId where = kNoCallback;
    PromiseId promise = 0;
  };
  PromiseId last_promise_id_ = 0;
  std::deque<Rejection> pending_rejections_;

  // in-flight requests (threadpool work, fs chains, closing handles)
  std::uint64_t in_flight_ = 0;
  std::atomic<bool> abandon_work_{false};
  unsigned pool_size_ = 4;

  // state
  bool dead_ = false;
  bool stopping_ = false;
  RunResult result_;
  Recorder recorder_;
  CallbackId current_ = kMainCallback;
  CallbackId current_macrotask_ = kMainCallback;
  Phase current_phase_ = Phase::main;  // the running callback's queue or phase
  Phase loop_phase_ = Phase::main;     // the loop phase last entered
  Nanos run_start_{0};
  Nanos loop_start_{0};
  Nanos loop_end_{0};
  Nanos main_end_{0};
  bool loop_started_ = false;

  // measurements
  metrics::Histogram timer_drift_;
  metrics::Histogram pool_queue_wait_;
  metrics::Histogram pool_saturated_wait_;  // the waits of jobs queued behind a busy pool
  metrics::Histogram pool_run_time_;
  metrics::Histogram read_file_latency_;
  std::uint64_t counts_[kCallbackKindNames.size()] = {};
  std::uint64_t drain_size_ = 0;  // callbacks drained after the current macrotask
  bool drain_timed_ = false;      // drain_start_ is set for the current macrotask's drains
  Nanos drain_start_{0};
  Nanos drain_end_{0};
  std::uint64_t max_drain_size_ = 0;
  Nanos max_drain_time_{0};
  std::uint64_t rss_peak_ = 0;
};

}  // namespace nodelab::runtime
