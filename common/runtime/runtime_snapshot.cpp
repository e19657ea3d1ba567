// Runtime::snapshot(): the runtime's state for --step, read on the loop thread.

#include <algorithm>

#include "runtime/runtime.hpp"

namespace nodelab::runtime {

StateSnapshot Runtime::snapshot(std::size_t max_items) const {
  StateSnapshot s;
  s.phase = loop_phase_;
  s.callback_phase = current_phase_;
  s.iteration = recorder_.iteration();
  s.t = hrtime() - run_start_;

  // Timer lists in queue order (expiry, then id), with their first timers.
  const auto base_ns = static_cast<double>(timer_base_) * 1e6;
  for (const TimersList* list : timer_list_queue_) {
    TimerListView v;
    v.msecs = list->msecs;
    v.id = list->id;
    v.due_ms = (base_ns + static_cast<double>(list->expiry) * 1e6 -
                static_cast<double>(run_start_.count())) /
               1e6;
    for (const Timeout* t = list->head; t != nullptr; t = t->next) {
      if (v.sites.size() < max_items) v.sites.push_back(t->site);
      ++v.count;
    }
    s.timer_lists.push_back(std::move(v));
  }

  s.immediate_count = immediate_queue_.size();
  for (std::size_t i = 0; i < immediate_queue_.size() && i < max_items; ++i) {
    s.immediates.push_back({CallbackKind::immediate, immediate_queue_[i].site});
  }
  s.next_tick_count = tick_queue_.size();
  for (std::size_t i = 0; i < tick_queue_.size() && i < max_items; ++i) {
    s.next_ticks.push_back({tick_queue_[i].kind, tick_queue_[i].site});
  }
  s.microtask_count = microtask_queue_.size();
  for (std::size_t i = 0; i < microtask_queue_.size() && i < max_items; ++i) {
    s.microtasks.push_back({microtask_queue_[i].kind, microtask_queue_[i].site});
  }

  s.pool_size = pool_size_;
  for (const PoolJob* job : pool_jobs_) {
    s.pool.push_back({job->what, job->site, job->running.load(std::memory_order_relaxed),
                      job->completed, to_ms(job->queued)});
  }
  std::sort(s.pool.begin(), s.pool.end(),
            [](const PoolJobView& a, const PoolJobView& b) { return a.queued_ms < b.queued_ms; });

  // Handles, named for what they are in Node (uv_walk skips libuv's internal ones).
  struct Walk {
    const Runtime* rt;
    StateSnapshot* s;
  } walk{this, &s};
  uv_walk(
      const_cast<uv_loop_t*>(loop_.get()),
      [](uv_handle_t* h, void* arg) {
        auto* w = static_cast<Walk*>(arg);
        const Runtime* rt = w->rt;
        std::string name = uv_handle_type_name(h->type);
        const void* p = h;
        if (p == rt->timer_handle_.get()) {
          name = "uv_timer: Node's JS timers";
        } else if (p == rt->immediate_check_handle_.get()) {
          name = "uv_check: setImmediate queue";
        } else if (p == rt->immediate_idle_handle_.get()) {
          name = "uv_idle: keeps poll from blocking while immediates wait";
        } else if (p == rt->prepare_handle_.get()) {
          name = "uv_prepare: nodelab's iteration marker";
        } else if (p == rt->stop_async_.get()) {
          name = "uv_async: nodelab's stop signal";
        } else if (h->type == UV_TIMER) {
          name = "uv_timer: monitorEventLoopDelay sampler";
        } else if (h->type == UV_TCP) {
          name = "uv_tcp: a socket being destroyed";
        }
        w->s->handles.push_back(
            {std::move(name), uv_is_active(h) != 0, uv_has_ref(h) != 0, uv_is_closing(h) != 0});
      },
      &walk);

  s.callbacks_run = recorder_.callback_count();
  const auto& logs = recorder_.logs();
  for (std::size_t i = logs.size() > 3 ? logs.size() - 3 : 0; i < logs.size(); ++i) {
    s.recent_logs.push_back(logs[i].text);
  }
  return s;
}

}  // namespace nodelab::runtime
