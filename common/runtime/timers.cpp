// Node's JS timers (lib/internal/timers.js, lib/timers.js) over one uv_timer_t
// (src/env.cc ScheduleTimer / RunTimers / ToggleTimerRef).
//
//   timerListMap:   msecs (whole ms) -> TimersList, a FIFO of Timeouts with that duration
//   timerListQueue: the lists ordered by (expiry, id); a lower id (created or re-keyed
//                   earlier) wins a tie
//
// In the timers phase every list whose expiry <= now is drained completely, in queue
// order, with ticks and microtasks drained between timers and between lists. So a 1 ms
// timer set late can run before a 20 ms timer that expired earlier (docs/node-semantics.md §2.1).

#include <cmath>
#include <cstdlib>

#include "runtime/js_number.hpp"
#include "runtime/runtime.hpp"

namespace nodelab::runtime {

namespace {
constexpr double kTimeoutMax = 2147483647.0;  // 2^31 - 1
}

std::int64_t Runtime::get_libuv_now() {
  // Environment::GetNow(): refreshes the loop's cached time as a side effect.
  uv_update_time(loop_.get());
  return static_cast<std::int64_t>(uv_now(loop_.get()) - timer_base_);
}

double Runtime::coerce_after(double after) {
  // Timeout constructor: `after *= 1; if (!(after >= 1 && after <= TIMEOUT_MAX)) ...`
  if (!(after >= 1 && after <= kTimeoutMax)) {
    if (after > kTimeoutMax) {
      emit_warning("TimeoutOverflowWarning", js_number_to_string(after) +
                                                 " does not fit into a 32-bit signed integer.\n"
                                                 "Timeout duration was set to 1.");
    }
    after = 1;
  }
  return after;
}

TimerId Runtime::set_timeout(double ms, Task cb, Site site) {
  auto t = std::make_unique<Timeout>();
  t->id = next_timer_id_++;
  t->idle_timeout = coerce_after(ms);
  t->callback = std::move(cb);
  t->site = site;
  t->parent = current_;
  t->scheduled = hrtime();
  inc_ref_count();
  Timeout* raw = t.get();
  timeouts_.emplace(raw->id, std::move(t));
  insert(raw, raw->idle_timeout, get_libuv_now());
  return raw->id;
}

TimerId Runtime::set_interval(double ms, Task cb, Site site) {
  const TimerId id = set_timeout(ms, std::move(cb), site);
  Timeout* t = timeouts_.at(id).get();
  t->kind = CallbackKind::interval;
  t->repeat = t->idle_timeout;
  return id;
}

void Runtime::clear_timer(TimerId id) {
  auto it = timeouts_.find(id);
  if (it == timeouts_.end()) return;  // already fired or cleared
  Timeout* t = it->second.get();
  unenroll(t);
  if (t != running_timer_) timeouts_.erase(it);
}

// Timeout.prototype.unref (lib/internal/timers.js): refCount-- once, if still counted.
void Runtime::unref_timer(TimerId id) {
  auto it = timeouts_.find(id);
  if (it == timeouts_.end()) return;
  Timeout* t = it->second.get();
  if (!t->refed) return;
  t->refed = false;
  if (!t->destroyed) dec_ref_count();
}

void Runtime::insert(Timeout* t, double msecs_d, std::int64_t start) {
  // "Truncate so that accuracy of sub-millisecond timers is not assumed."
  const auto msecs = static_cast<std::int64_t>(std::trunc(msecs_d));
  t->idle_start = start;
  auto& slot = timer_list_map_[msecs];
  if (!slot) {
    const std::int64_t expiry = start + msecs;
    slot = std::make_shared<TimersList>();
    slot->msecs = msecs;
    slot->expiry = expiry;
    slot->id = timer_list_id_++;
    timer_list_queue_.insert(slot.get());
    slot->in_queue = true;
    if (next_expiry_ > static_cast<double>(expiry)) {
      schedule_timer(msecs);
      next_expiry_ = static_cast<double>(expiry);
    }
  }
  TimersList* list = slot.get();
  t->list = list;
  t->prev = list->tail;
  t->next = nullptr;
  if (list->tail) {
    list->tail->next = t;
  } else {
    list->head = t;
  }
  list->tail = t;
}

// L.remove
void Runtime::unlink(Timeout* t) {
  TimersList* list = t->list;
  if (!list) return;
  if (t->prev) {
    t->prev->next = t->next;
  } else {
    list->head = t->next;
  }
  if (t->next) {
    t->next->prev = t->prev;
  } else {
    list->tail = t->prev;
  }
  t->prev = t->next = nullptr;
  t->list = nullptr;
}

void Runtime::remove_list(TimersList* list) {
  if (list->in_queue) {
    timer_list_queue_.erase(list);
    list->in_queue = false;
  }
}

// lib/timers.js unenroll(): clearTimeout / clearInterval.
void Runtime::unenroll(Timeout* t) {
  if (t->destroyed) return;
  t->destroyed = true;
  unlink(t);
  // Node finds the list by `timerListMap[item._idleTimeout]`, untruncated: a timer with a
  // fractional duration never finds its (truncated) list, which then stays until it
  // expires empty.
  if (t->idle_timeout == std::trunc(t->idle_timeout)) {
    auto it = timer_list_map_.find(static_cast<std::int64_t>(t->idle_timeout));
    if (it != timer_list_map_.end() && it->second->head == nullptr) {
      remove_list(it->second.get());
      timer_list_map_.erase(it);
    }
  }
  if (t->refed) dec_ref_count();
  t->idle_timeout = -1;
}

void Runtime::inc_ref_count() {
  if (timer_ref_count_++ == 0) timer_handle_.ref();
}

void Runtime::dec_ref_count() {
  if (--timer_ref_count_ == 0) timer_handle_.unref();
}

void Runtime::schedule_timer(std::int64_t ms) {
  if (closed_) return;
  uv::check(uv_timer_start(timer_handle_.get(), on_run_timers, static_cast<std::uint64_t>(ms), 0),
            "uv_timer_start");
}

void Runtime::on_run_timers(uv_timer_t* h) {
  static_cast<Runtime*>(h->data)->run_timers();
}

void Runtime::run_timers() {
  enter_phase(Phase::timers);
  if (!keep_going()) return;
  const std::int64_t ret = process_timers(get_libuv_now());
  if (!keep_going()) return;
  // The JS return value: 0 = no timers left; > 0 = next expiry, some timer ref'd;
  // < 0 = next expiry, only unref'd timers. The handle is re-armed before the
  // InternalCallbackScope around RunTimers closes (and drains).
  if (ret != 0) {
    const std::int64_t duration =
        std::llabs(ret) - static_cast<std::int64_t>(uv_now(loop_.get()) - timer_base_);
    schedule_timer(duration > 0 ? duration : 1);
    if (ret > 0) {
      timer_handle_.ref();
    } else {
      timer_handle_.unref();
    }
  } else {
    timer_handle_.unref();
  }
  callback_scope_close();
}

std::int64_t Runtime::process_timers(std::int64_t now) {
  next_expiry_ = std::numeric_limits<double>::infinity();
  bool ran_one = false;
  while (!timer_list_queue_.empty()) {
    TimersList* top = *timer_list_queue_.begin();
    if (top->expiry > now) {
      next_expiry_ = static_cast<double>(top->expiry);
      return timer_ref_count_ > 0 ? top->expiry : -top->expiry;
    }
    if (ran_one) run_next_ticks();
    ran_one = true;
    if (!keep_going()) return 0;
    list_on_timeout(timer_list_map_.at(top->msecs), now);
    if (!keep_going()) return 0;
  }
  return 0;
}

void Runtime::list_on_timeout(std::shared_ptr<TimersList> list, std::int64_t now) {
  const std::int64_t msecs = list->msecs;
  bool ran_one = false;
  while (Timeout* timer = list->head) {
    const std::int64_t diff = now - timer->idle_start;
    // Too early for this timer: the rest of the list is later still. Re-key the list.
    if (diff < msecs) {
      remove_list(list.get());
      list->expiry = std::max(timer->idle_start + msecs, now + 1);
      list->id = timer_list_id_++;
      timer_list_queue_.insert(list.get());
      list->in_queue = true;
      return;
    }
    if (ran_one) run_next_ticks();
    ran_one = true;
    if (!keep_going()) return;

    unlink(timer);
    std::int64_t start = 0;
    if (timer->repeat) start = get_libuv_now();  // intervals re-arm from the callback's start

    const Nanos due(static_cast<std::int64_t>(
                        timer_base_ + static_cast<std::uint64_t>(timer->idle_start + msecs)) *
                    1'000'000);
    const Nanos fire = hrtime();
    timer_drift_.record(
        static_cast<std::uint64_t>(std::max<std::int64_t>(0, (fire - due).count())));
    running_timer_ = timer;
    invoke(timer->kind, Phase::timers, timer->site, timer->parent, timer->scheduled,
           timer->callback, OnThrow::uncaught, due, false, fire);
    running_timer_ = nullptr;

    if (timer->repeat && timer->idle_timeout != -1) {
      timer->idle_timeout = *timer->repeat;
      insert(timer, timer->idle_timeout, start);
    } else {
      if (!timer->destroyed) {
        timer->destroyed = true;
        // `if (timer[kRefed]) refCount--`: the handle is unref'd by RunTimers' return value
        if (timer->refed) --timer_ref_count_;
      }
      timeouts_.erase(timer->id);
    }
    if (!keep_going()) return;
  }
  // The list may have been removed (and even recreated) by a callback.
  auto it = timer_list_map_.find(msecs);
  if (it != timer_list_map_.end() && it->second == list) {
    remove_list(list.get());
    timer_list_map_.erase(it);
  }
}

}  // namespace nodelab::runtime
