// The runtime's core: handles, invoking JS, the nextTick and microtask queues, immediates,
// running the loop and tearing it down. Timers live in timers.cpp, I/O in io.cpp.

#include "runtime/runtime.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <utility>

namespace nodelab::runtime {

unsigned threadpool_size() {
  // libuv 1.44 src/threadpool.c init_threads(): nthreads is unsigned, so a negative value
  // wraps and is then capped like any other large one.
  unsigned n = 4;
  if (const char* v = std::getenv("UV_THREADPOOL_SIZE")) n = static_cast<unsigned>(std::atoi(v));
  if (n == 0) n = 1;
  if (n > 1024) n = 1024;
  return n;
}

Runtime::Runtime(RuntimeOptions options)
    : options_(std::move(options)), recorder_(options_.recorder) {
  uv_loop_t* loop = loop_.get();
  // Node enables idle-time accounting for performance.eventLoopUtilization().
  uv::check(uv_loop_configure(loop, UV_METRICS_IDLE_TIME), "uv_loop_configure");
  loop->data = this;

  // src/env.cc Environment::InitializeLibuv(): the timer and check handles are unref'd;
  // the check handle is always started; the idle handle starts only on demand.
  timer_handle_ = uv::Handle<uv_timer_t>::make(loop);
  timer_handle_->data = this;
  timer_handle_.unref();
  immediate_check_handle_ = uv::Handle<uv_check_t>::make(loop);
  immediate_check_handle_->data = this;
  immediate_check_handle_.unref();
  uv::check(uv_check_start(immediate_check_handle_.get(), on_check), "uv_check_start");
  immediate_idle_handle_ = uv::Handle<uv_idle_t>::make(loop);
  immediate_idle_handle_->data = this;

  // Ours, not Node's: an unref'd prepare handle marks each iteration (it never changes the
  // poll timeout, unlike an idle handle), and an unref'd async wakes the loop to stop.
  prepare_handle_ = uv::Handle<uv_prepare_t>::make(loop);
  prepare_handle_->data = this;
  prepare_handle_.unref();
  uv::check(uv_prepare_start(prepare_handle_.get(), on_prepare), "uv_prepare_start");
  stop_async_ = uv::Handle<uv_async_t>::make(loop, on_stop_async);
  stop_async_->data = this;
  stop_async_.unref();
  register_stop_waker(stop_async_.get());

  eld_.init(loop, options_.eld_resolution);
  eld_.on_tick = [this] {
    size_t rss = 0;
    if (uv_resident_set_memory(&rss) == 0 && rss > rss_peak_) rss_peak_ = rss;
  };

  uv_update_time(loop);
  timer_base_ = uv_now(loop);
  next_expiry_ = std::numeric_limits<double>::infinity();
  pool_size_ = threadpool_size();
  run_start_ = hrtime();
}

Runtime::~Runtime() {
  shutdown();
}

int Runtime::shutdown() {
  if (closed_) return close_result_;
  closed_ = true;
  unregister_stop_waker(stop_async_.get());
  for (auto& hook : std::exchange(shutdown_hooks_, {}))
    hook();
  stopping_ = true;
  abandon_work_.store(true);

  eld_.close();
  timer_handle_.close();
  immediate_check_handle_.close();
  immediate_idle_handle_.close();
  prepare_handle_.close();
  stop_async_.close();

  // JS state goes; closures may own scenario state.
  timer_list_queue_.clear();
  timer_list_map_.clear();
  timeouts_.clear();
  immediate_queue_.clear();
  tick_queue_.clear();
  microtask_queue_.clear();

  // In-flight requests still call back; their callbacks see stopping_ and only free.
  // Pool tasks see abandon_work_ and return at once. The loop guard runs the loop until
  // nothing is left and checks uv_loop_close() (in every build type): a handle still open
  // here outlived the runtime, and is reported as a leak.
  close_result_ = loop_.close();
  return close_result_;
}

// ---------------------------------------------------------------------------------------
// Invoking JS

void Runtime::close_drain_episode() {
  if (drain_size_ > 0) {
    max_drain_size_ = std::max(max_drain_size_, drain_size_);
    max_drain_time_ = std::max(max_drain_time_, drain_end_ - drain_start_);
  }
  drain_size_ = 0;
  drain_timed_ = false;
}

template <class F>
void Runtime::timed_drain(F&& drain) {
  if (tick_queue_.empty() && microtask_queue_.empty() && !has_rejection_to_warn_) return;
  const Nanos t0 = hrtime();
  if (!drain_timed_) {
    drain_start_ = t0;
    drain_timed_ = true;
  }
  drain();
  drain_end_ = hrtime();
}

void Runtime::invoke(CallbackKind kind, Phase phase, Site site, CallbackId parent, Nanos scheduled,
                     const Task& fn, OnThrow on_throw, Nanos due, bool internal, Nanos start) {
  const bool record = options_.record_callbacks;
  if (record && start.count() < 0) start = hrtime();
  const bool queue_callback = phase == Phase::next_tick || phase == Phase::microtask;
  if (!queue_callback && !internal) close_drain_episode();

  CallbackId id = 0;
  if (record) {
    CallbackRecord rec;
    rec.parent = parent;
    rec.drained_by = queue_callback ? current_macrotask_ : kNoCallback;
    rec.site = site;
    rec.phase = phase;
    rec.kind = kind;
    rec.internal = internal;
    rec.scheduled = scheduled.count() >= 0 ? scheduled - run_start_ : Nanos(-1);
    rec.start = start - run_start_;
    rec.due = due.count() >= 0 ? due - run_start_ : Nanos(-1);
    id = recorder_.begin(rec);
  } else {
    id = recorder_.count();
  }
  if (!queue_callback) current_macrotask_ = id;
  ++counts_[static_cast<std::size_t>(kind)];

  const CallbackId prev = current_;
  const Phase prev_phase = current_phase_;
  current_ = id;
  current_phase_ = phase;
  try {
    fn();
  } catch (const JsThrow& t) {
    if (on_throw == OnThrow::reject) {
      // V8's PromiseRejectCallback -> lib/internal/process/promises.js unhandledRejection:
      // remembered, and checked after the drain (processPromiseRejections).
      pending_rejections_.push_back(Rejection{t.error(), id, new_promise_id()});
      has_rejection_to_warn_ = true;
    } else {
      die(Outcome::uncaught_exception, t.error(), id, phase);
    }
  } catch (const std::exception& e) {
    die(Outcome::uncaught_exception, JsError{"InternalError", "", e.what()}, id, phase);
  }
  if (record) recorder_.end(id, hrtime() - run_start_);
  if (queue_callback) ++drain_size_;
  current_ = prev;
  current_phase_ = prev_phase;
}

void Runtime::make_callback(CallbackKind kind, Phase phase, Site site, CallbackId parent,
                            Nanos scheduled, const Task& fn, bool internal) {
  invoke(kind, phase, site, parent, scheduled, fn, OnThrow::uncaught, Nanos(-1), internal);
  if (keep_going()) callback_scope_close();
}

void Runtime::enter_phase(Phase p) {
  loop_phase_ = p;
  recorder_.enter_phase(p);
  if (on_phase) on_phase(p, recorder_.iteration());
}

void Runtime::die(Outcome how, JsError error, CallbackId where, Phase phase) {
  if (dead_) return;
  dead_ = true;
  result_.outcome = how;
  result_.error = std::move(error);
  result_.where = where;
  result_.phase = phase;
  uv_stop(loop_.get());
}

bool Runtime::keep_going() {
  if (dead_ || stopping_) return false;
  if (const StopReason r = stop_requested(); r != StopReason::none) {
    stopping_ = true;
    result_.stop = r;
    result_.outcome = Outcome::stopped;
    uv_stop(loop_.get());
    return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------
// nextTick and microtasks (lib/internal/process/task_queues.js, src/api/callback.cc)

void Runtime::next_tick(Task cb, Site site) {
  if (dead_) return;  // process._exiting: nextTick is ignored
  if (tick_queue_.empty()) has_tick_scheduled_ = true;
  tick_queue_.push_back(QueuedTask{std::move(cb), site, current_, CallbackKind::next_tick});
}

void Runtime::emit_warning(std::string_view name, std::string_view message) {
  std::string line = "warning: ";
  line.append(name).append(": ").append(message);
  if (dead_) return;
  if (tick_queue_.empty()) has_tick_scheduled_ = true;
  tick_queue_.push_back(QueuedTask{[this, line = std::move(line)] { log(line); }, 0, current_,
                                   CallbackKind::warning});
}

void Runtime::enqueue_microtask(Task cb, Site site, CallbackKind kind) {
  if (dead_) return;
  microtask_queue_.push_back(QueuedTask{std::move(cb), site, current_, kind});
}

void Runtime::reject_promise(JsError error) {
  promise_rejected_without_handler(new_promise_id(), std::move(error));
}

void Runtime::promise_rejected_without_handler(PromiseId id, JsError reason) {
  if (dead_) return;
  pending_rejections_.push_back(Rejection{std::move(reason), current_, id});
  has_rejection_to_warn_ = true;
}

// handledRejection(): a rejection still pending is forgotten (maybeUnhandledPromises.delete).
void Runtime::promise_handler_added_after_reject(PromiseId id) {
  std::erase_if(pending_rejections_, [id](const Rejection& r) { return r.promise == id; });
}

// V8's PerformCheckpoint: run microtasks until the queue is empty, including the ones
// queued while running.
void Runtime::run_microtasks() {
  while (!microtask_queue_.empty()) {
    if (!keep_going()) return;
    QueuedTask t = std::move(microtask_queue_.front());
    microtask_queue_.pop_front();
    // A throw in a promise reaction rejects the derived promise; queueMicrotask's wrapper
    // (runMicrotask) calls triggerUncaughtException instead.
    const OnThrow on_throw =
        t.kind == CallbackKind::queue_microtask ? OnThrow::uncaught : OnThrow::reject;
    invoke(t.kind, Phase::microtask, t.site, t.parent, t.scheduled, t.callback, on_throw);
  }
}

// processTicksAndRejections: every tick (including ticks queued meanwhile), then every
// microtask, until both queues are empty; unhandled rejections are checked only once the
// tick queue is empty after a microtask checkpoint.
void Runtime::process_ticks_and_rejections() {
  do {
    while (!tick_queue_.empty()) {
      if (!keep_going()) return;
      QueuedTask t = std::move(tick_queue_.front());
      tick_queue_.pop_front();
      invoke(t.kind, Phase::next_tick, t.site, t.parent, t.scheduled, t.callback,
             OnThrow::uncaught);
    }
    run_microtasks();
    if (!keep_going()) return;
  } while (!tick_queue_.empty() || process_promise_rejections());
  has_tick_scheduled_ = false;
  has_rejection_to_warn_ = false;
}

// Node >= 15 default mode `throw`: no 'unhandledRejection' listener exists in a scenario,
// so the first pending rejection becomes an uncaught exception and the process dies.
bool Runtime::process_promise_rejections() {
  if (pending_rejections_.empty()) return false;
  Rejection r = std::move(pending_rejections_.front());
  pending_rejections_.pop_front();
  die(Outcome::unhandled_rejection, std::move(r.error), r.where, Phase::microtask);
  return false;
}

// runNextTicks: used between timers and between immediates.
void Runtime::run_next_ticks() {
  timed_drain([this] {
    if (!has_tick_scheduled_ && !has_rejection_to_warn_) run_microtasks();
    if (!keep_going()) return;
    if (!has_tick_scheduled_ && !has_rejection_to_warn_) return;
    process_ticks_and_rejections();
  });
}

// InternalCallbackScope::Close: after every native -> JS callback.
void Runtime::callback_scope_close() {
  timed_drain([this] {
    if (!has_tick_scheduled_) run_microtasks();
    if (!keep_going()) return;
    if (!has_tick_scheduled_ && !has_rejection_to_warn_) return;
    process_ticks_and_rejections();
  });
}

// ---------------------------------------------------------------------------------------
// setImmediate (lib/internal/timers.js processImmediate, src/env.cc CheckImmediate)

void Runtime::set_immediate(Task cb, Site site) {
  if (dead_) return;
  immediate_queue_.push_back(Immediate{std::move(cb), site, current_});
  ++immediate_count_;
  if (immediate_ref_count_++ == 0) toggle_immediate_ref(true);
}

void Runtime::toggle_immediate_ref(bool ref) {
  // "Idle handle is needed only to stop the event loop from blocking in poll."
  if (!immediate_idle_handle_) return;  // shut down
  if (ref) {
    uv::check(uv_idle_start(immediate_idle_handle_.get(), [](uv_idle_t*) {}), "uv_idle_start");
  } else {
    uv_idle_stop(immediate_idle_handle_.get());
  }
}

void Runtime::on_check(uv_check_t* h) {
  auto* self = static_cast<Runtime*>(h->data);
  self->enter_phase(Phase::check);
  if (self->immediate_count_ == 0 || !self->keep_going()) return;
  self->process_immediate();
  if (self->keep_going()) self->callback_scope_close();
  if (self->immediate_ref_count_ == 0) self->toggle_immediate_ref(false);
}

void Runtime::process_immediate() {
  // Snapshot: immediates queued from here on run in the next iteration.
  immediate_running_.swap(immediate_queue_);
  bool ran_one = false;
  for (Immediate& im : immediate_running_) {
    if (ran_one) run_next_ticks();
    ran_one = true;
    if (!keep_going()) break;
    --immediate_count_;
    --immediate_ref_count_;
    invoke(CallbackKind::immediate, Phase::check, im.site, im.parent, im.scheduled, im.callback,
           OnThrow::uncaught);
  }
  immediate_running_.clear();
}

void Runtime::on_prepare(uv_prepare_t* h) {
  static_cast<Runtime*>(h->data)->enter_phase(Phase::prepare);
}

// ---------------------------------------------------------------------------------------
// Running

void Runtime::log(std::string text) {
  if (options_.log_sink) options_.log_sink(text);
  recorder_.add_log(std::move(text), current_, hrtime() - run_start_);
}

void Runtime::busy_wait(Nanos d) {
  const Nanos end = hrtime() + d;
  while (hrtime() < end) {
    if (stop_requested() != StopReason::none) return;
  }
}

void Runtime::on_stop_async(uv_async_t* a) {
  auto* self = static_cast<Runtime*>(a->data);
  self->keep_going();  // notices the request, marks the run stopped and calls uv_stop
}

RunResult Runtime::run(const Task& main_script) {
  run_start_ = hrtime();
  // The CommonJS entry runs inside an InternalCallbackScope (src/node.cc StartExecution),
  // so its ticks and microtasks drain before the loop starts.
  invoke(CallbackKind::main, Phase::main, 0, kNoCallback, run_start_, main_script,
         OnThrow::uncaught);
  if (keep_going()) callback_scope_close();
  if (on_phase && keep_going()) on_phase(Phase::main, 0);  // --step: the state after main
  main_end_ = hrtime();
  loop_start_ = main_end_;
  if (keep_going()) {
    loop_started_ = true;
    uv_update_time(loop_.get());
    eld_.start();
    loop_start_ = hrtime();
    spin_event_loop();
  }
  loop_end_ = hrtime();
  eld_.stop();
  close_drain_episode();
  if (eld_.on_tick) eld_.on_tick();
  keep_going();  // a stop requested during the last callback still counts
  return result_;
}

void Runtime::spin_event_loop() {
  // libuv >= 1.45 runs due timers once more at the end of every iteration, before the
  // liveness check; 1.44 runs them at the top of the next iteration. Under UV_RUN_DEFAULT
  // that differs only at the end of the last iteration, which we replay here
  // (docs/node-semantics.md §1.5, "emulation tip").
  const bool emulate_146_final_timers = uv_version() < 0x012d00;
  for (;;) {
    uv_run(loop_.get(), UV_RUN_DEFAULT);
    if (!keep_going()) return;
    if (emulate_146_final_timers && uv_is_active(timer_handle_.handle())) {
      uv_update_time(loop_.get());
      if (uv_timer_get_due_in(timer_handle_.get()) == 0) {
        uv_timer_stop(timer_handle_.get());
        run_timers();
        if (!keep_going()) return;
      }
    }
    // Node emits 'beforeExit' here; scenarios install no listener for it.
    if (!uv_loop_alive(loop_.get())) return;
  }
}

}  // namespace nodelab::runtime
