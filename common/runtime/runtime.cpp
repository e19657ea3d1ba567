// The runtime's core: handles, invoking JS, the nextTick and microtask queues, immediates,
// running the loop and tearing it down. Timers live in timers.cpp, I/O in io.cpp.

#include "runtime/runtime.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <utility>

#include <fmt/format.h>

namespace nodelab::runtime {

std::optional<UnhandledRejections> parse_unhandled_rejections(std::string_view s) {
  for (std::size_t i = 0; i < std::size(kUnhandledRejectionsModes); ++i) {
    if (kUnhandledRejectionsModes[i] == s) return static_cast<UnhandledRejections>(i);
  }
  return std::nullopt;
}

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
      promise_rejected_without_handler(new_promise_id(), t.error());
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

// unhandledRejection(): remembered with the next uid ("rejection id"); checked after the drain.
void Runtime::promise_rejected_without_handler(PromiseId id, JsError reason) {
  if (dead_) return;
  ++rejection_stats_.raised;
  pending_rejections_.push_back(Rejection{std::move(reason), current_, id, ++last_rejection_uid_});
  has_rejection_to_warn_ = true;
}

// handledRejection(): a rejection not checked yet is forgotten without a word
// (pendingUnhandledRejections.delete); one already reported as unhandled is handled
// asynchronously: 'rejectionHandled' (or PromiseRejectionHandledWarning) at the next check.
void Runtime::promise_handler_added_after_reject(PromiseId id) {
  if (dead_) return;
  const auto pending = std::find_if(pending_rejections_.begin(), pending_rejections_.end(),
                                    [id](const Rejection& r) { return r.promise == id; });
  if (pending != pending_rejections_.end()) {
    pending_rejections_.erase(pending);
    ++rejection_stats_.handled_in_drain;
    return;
  }
  const auto it = maybe_unhandled_.find(id);
  if (it == maybe_unhandled_.end()) return;
  Rejection r = std::move(it->second);
  maybe_unhandled_.erase(it);
  r.where = current_;
  ++rejection_stats_.handled_late;
  async_handled_.push_back(std::move(r));
  has_rejection_to_warn_ = true;
}

void Runtime::on_unhandled_rejection(RejectionListener fn, Site site) {
  unhandled_rejection_listeners_.push_back({std::move(fn), site});
}

void Runtime::on_rejection_handled(HandledListener fn, Site site) {
  rejection_handled_listeners_.push_back({std::move(fn), site});
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

namespace {

// noSideEffectsToString(reason): String(reason) without calling user code. A non-Error reason
// is kept as its util.inspect() text, which quotes a string: String() does not.
std::string no_side_effects_to_string(const JsError& reason) {
  if (reason.is_error) return reason.name + ": " + reason.message;
  const std::string& m = reason.message;
  if (m.size() < 2 || m.front() != '\'' || m.back() != '\'') return m;
  std::string out;
  for (std::size_t i = 1; i + 1 < m.size(); ++i) {
    if (m[i] == '\\' && i + 2 < m.size()) {
      const char c = m[++i];
      out += c == 'n' ? '\n' : c == 't' ? '\t' : c;
    } else {
      out += m[i];
    }
  }
  return out;
}

// What triggerUncaughtException(err, true) raises: the reason if it is an Error, else
// UnhandledPromiseRejection (code ERR_UNHANDLED_REJECTION) naming it.
JsError uncaught_from_promise(const JsError& reason) {
  if (reason.is_error) return reason;
  return JsError{"UnhandledPromiseRejection", "ERR_UNHANDLED_REJECTION",
                 "This error originated either by throwing inside of an async function without a "
                 "catch block, or by rejecting a promise which was not handled with .catch(). The "
                 "promise rejected with the reason \"" +
                     no_side_effects_to_string(reason) + "\".",
                 true};
}

}  // namespace

// process.emit(): each listener in order, on a copy of the list (EventEmitter.emit).
bool Runtime::emit_unhandled_rejection(const JsError& reason, PromiseId promise, CallbackId where) {
  if (unhandled_rejection_listeners_.empty()) return false;
  ++rejection_stats_.events;
  const auto listeners = unhandled_rejection_listeners_;
  for (const auto& l : listeners) {
    invoke(
        CallbackKind::process_event, Phase::next_tick, l.site, where, Nanos(-1),
        [&] { l.fn(reason, promise); }, OnThrow::uncaught);
    if (!keep_going()) break;
  }
  return true;
}

bool Runtime::emit_rejection_handled(PromiseId promise, CallbackId where) {
  if (rejection_handled_listeners_.empty()) return false;
  ++rejection_stats_.rejection_handled_events;
  const auto listeners = rejection_handled_listeners_;
  for (const auto& l : listeners) {
    invoke(
        CallbackKind::process_event, Phase::next_tick, l.site, where, Nanos(-1),
        [&] { l.fn(promise); }, OnThrow::uncaught);
    if (!keep_going()) break;
  }
  return true;
}

// emitUnhandledRejectionWarning(): the reason first (an Error's stack, whose first line is
// "Name: message"; the frames that follow name files, and are left out on both sides), then
// the UnhandledPromiseRejectionWarning itself with the rejection id.
void Runtime::emit_unhandled_rejection_warning(const JsError& reason, std::uint64_t uid) {
  emit_warning("UnhandledPromiseRejectionWarning",
               reason.is_error ? reason.headline() : no_side_effects_to_string(reason));
  emit_warning("UnhandledPromiseRejectionWarning",
               fmt::format("Unhandled promise rejection. This error originated either by throwing "
                           "inside of an async function without a catch block, or by rejecting a "
                           "promise which was not handled with .catch(). To terminate the node "
                           "process on unhandled promise rejection, use the CLI flag "
                           "`--unhandled-rejections=strict` (see "
                           "https://nodejs.org/api/cli.html#cli_unhandled_rejections_mode). "
                           "(rejection id: {})",
                           uid));
  rejection_stats_.warnings += 2;
}

// processPromiseRejections(): first the late handlers ('rejectionHandled', else a
// PromiseRejectionHandledWarning), then every rejection still pending, as the mode says.
// True when it ran JS or queued a warning, so the drain goes round again.
bool Runtime::process_promise_rejections() {
  bool maybe_scheduled = !async_handled_.empty();
  while (!async_handled_.empty()) {
    const Rejection r = std::move(async_handled_.front());
    async_handled_.pop_front();
    if (!emit_rejection_handled(r.promise, r.where)) {
      emit_warning(
          "PromiseRejectionHandledWarning",
          fmt::format("Promise rejection was handled asynchronously (rejection id: {})", r.uid));
      ++rejection_stats_.warnings;
    }
    if (!keep_going()) return false;
  }
  std::deque<Rejection> pending;
  pending.swap(pending_rejections_);
  for (const Rejection& r : pending) {
    maybe_unhandled_[r.promise] = r;  // promiseInfo.warned = true
    ++rejection_stats_.unhandled;
    switch (options_.unhandled_rejections) {
      case UnhandledRejections::strict:
        // triggerUncaughtException(err, true) first: with no 'uncaughtException' listener the
        // process dies before 'unhandledRejection' is emitted.
        die(Outcome::unhandled_rejection, uncaught_from_promise(r.error), r.where,
            Phase::microtask);
        return false;
      case UnhandledRejections::none:
        emit_unhandled_rejection(r.error, r.promise, r.where);
        break;
      case UnhandledRejections::warn:
        emit_unhandled_rejection(r.error, r.promise, r.where);
        if (keep_going()) emit_unhandled_rejection_warning(r.error, r.uid);
        break;
      case UnhandledRejections::throw_:
        if (!emit_unhandled_rejection(r.error, r.promise, r.where)) {
          die(Outcome::unhandled_rejection, uncaught_from_promise(r.error), r.where,
              Phase::microtask);
          return false;
        }
        break;
      case UnhandledRejections::warn_with_error_code:
        if (!emit_unhandled_rejection(r.error, r.promise, r.where)) {
          emit_unhandled_rejection_warning(r.error, r.uid);
          result_.exit_code = 1;  // process.exitCode = kGenericUserError
        }
        break;
    }
    if (!keep_going()) return false;  // a listener threw
    maybe_scheduled = true;
  }
  return maybe_scheduled || !pending_rejections_.empty();
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
