// Runtime::snapshot() and Runtime::on_phase: what `--step` shows at each phase boundary.
// The timer lists in the order lib/internal/timers.js would run them, the three JS queues,
// the threadpool's work items, and libuv's handles named for what they are in Node.

#include <doctest/doctest.h>

#include <uv.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "metrics/metric_set.hpp"
#include "runtime/runtime.hpp"
#include "runtime/snapshot.hpp"
#include "support/runtime_helpers.hpp"
#include "support/scenario_runner.hpp"

using namespace nodelab;
using runtime::CallbackKind;
using runtime::Phase;
using runtime::Runtime;
using runtime::StateSnapshot;
using namespace std::chrono_literals;
using namespace nodelab::testing;

namespace {

constexpr const char* kJsTimers = "uv_timer: Node's JS timers";
constexpr const char* kCheck = "uv_check: setImmediate queue";
constexpr const char* kIdle = "uv_idle: keeps poll from blocking while immediates wait";
constexpr const char* kSampler = "uv_timer: monitorEventLoopDelay sampler";

// The handle called `name` in `s`, or null.
const runtime::HandleView* handle(const StateSnapshot& s, const std::string& name) {
  for (const auto& h : s.handles) {
    if (h.name == name) return &h;
  }
  return nullptr;
}

std::vector<std::uint32_t> sites_of(const std::vector<runtime::QueuedView>& q) {
  std::vector<std::uint32_t> out;
  for (const auto& v : q)
    out.push_back(v.site);
  return out;
}

std::vector<CallbackKind> kinds_of(const std::vector<runtime::QueuedView>& q) {
  std::vector<CallbackKind> out;
  for (const auto& v : q)
    out.push_back(v.kind);
  return out;
}

std::size_t count_if_job(const StateSnapshot& s, bool (*pred)(const runtime::PoolJobView&)) {
  return static_cast<std::size_t>(std::count_if(s.pool.begin(), s.pool.end(), pred));
}

bool is_running(const runtime::PoolJobView& j) {
  return j.running && !j.completed;
}
bool is_completed(const runtime::PoolJobView& j) {
  return j.completed;
}
bool is_waiting(const runtime::PoolJobView& j) {
  return !j.running && !j.completed;
}

double metric(const Runtime& rt, const std::string& path) {
  metrics::MetricSet m;
  rt.collect_metrics(m);
  const auto v = m.get(path);
  REQUIRE_MESSAGE(v.has_value(), path << " was not measured");
  return *v;
}

// The loop's clock (uv_now), refreshed: whole ms, as the JS timers read it.
std::uint64_t loop_now(Runtime& rt) {
  uv_update_time(rt.loop());
  return uv_now(rt.loop());
}

// Spins until the loop's millisecond changes: the next call starts early in a fresh ms.
void next_loop_ms(Runtime& rt) {
  const std::uint64_t t0 = loop_now(rt);
  while (loop_now(rt) == t0) {
  }
}

}  // namespace

TEST_CASE("snapshot.timer_lists_in_queue_order_with_counts_and_sites") {
  runtime::Watchdog wd(20s);
  Runtime rt;
  StateSnapshot s;
  rt.run([&] {
    rt.set_timeout(50, logger(rt, "A 50"), 1);
    rt.set_timeout(5, logger(rt, "B 5"), 2);
    rt.set_timeout(5.7, logger(rt, "C 5.7"), 3);
    rt.set_timeout(50, logger(rt, "D 50"), 4);
    rt.set_timeout(0, logger(rt, "E 0"), 5);
    s = rt.snapshot();
  });
  // One list per whole-ms duration (5.7 truncates to the 5 ms list, 0 becomes 1), ordered
  // by expiry: the 1 ms list was created last (highest id) but is due first. (Only a stall
  // of ~45 ms between two set_timeout calls could reorder them.)
  REQUIRE(s.timer_lists.size() == 3);
  CHECK(s.timer_lists[0].msecs == 1);
  CHECK(s.timer_lists[1].msecs == 5);
  CHECK(s.timer_lists[2].msecs == 50);
  CHECK(s.timer_lists[0].id > s.timer_lists[2].id);
  // Each list is a FIFO of its timers, in insertion order.
  CHECK(s.timer_lists[0].count == 1);
  CHECK(s.timer_lists[1].count == 2);
  CHECK(s.timer_lists[2].count == 2);
  CHECK(s.timer_lists[0].sites == std::vector<std::uint32_t>{5});
  CHECK(s.timer_lists[1].sites == std::vector<std::uint32_t>{2, 3});
  CHECK(s.timer_lists[2].sites == std::vector<std::uint32_t>{1, 4});
  // Due times follow the queue order. Each is the list's creation time (whole ms of loop
  // time, so up to 1 ms before the run clock) plus its duration.
  CHECK(s.timer_lists[0].due_ms < s.timer_lists[1].due_ms);
  CHECK(s.timer_lists[1].due_ms < s.timer_lists[2].due_ms);
  CHECK(s.timer_lists[0].due_ms > -1.0);
  CHECK(s.timer_lists[2].due_ms > 49.0);
  CHECK(s.phase == Phase::main);
  CHECK(s.iteration == 0u);
  CHECK(log_texts(rt) == std::vector<std::string>{"E 0", "B 5", "C 5.7", "A 50", "D 50"});
  CHECK(rt.shutdown() == 0);
}

TEST_CASE("snapshot.timer_lists_with_the_same_expiry_run_in_id_order") {
  runtime::Watchdog wd(20s);
  Runtime rt;
  bool tied = false;
  StateSnapshot s;
  rt.run([&] {
    // A 3 ms list created at loop time T and a 2 ms list created at T+1 both expire at T+3.
    // Each set_timeout happens just after a millisecond tick; a preemption in between can
    // break the tie, so try again (clearing both timers removes their lists).
    for (int attempt = 0; attempt < 50 && !tied; ++attempt) {
      next_loop_ms(rt);
      const runtime::TimerId a = rt.set_timeout(3, logger(rt, "3 ms list"), 1);
      next_loop_ms(rt);
      const runtime::TimerId b = rt.set_timeout(2, logger(rt, "2 ms list"), 2);
      s = rt.snapshot();
      tied = s.timer_lists.size() == 2 && s.timer_lists[0].due_ms == s.timer_lists[1].due_ms;
      if (!tied) {
        rt.clear_timer(a);
        rt.clear_timer(b);
      }
    }
  });
  REQUIRE_MESSAGE(tied, "never managed to create two lists with the same expiry");
  // Same expiry: the lower list id (the list created first) is first in timerListQueue, and
  // it runs first.
  CHECK(s.timer_lists[0].msecs == 3);
  CHECK(s.timer_lists[1].msecs == 2);
  CHECK(s.timer_lists[0].id < s.timer_lists[1].id);
  CHECK(log_texts(rt) == std::vector<std::string>{"3 ms list", "2 ms list"});
  CHECK(rt.shutdown() == 0);
}

TEST_CASE("snapshot.a_running_timer_has_left_its_list") {
  runtime::Watchdog wd(20s);
  Runtime rt;
  StateSnapshot in_a;
  rt.run([&] {
    rt.set_timeout(
        5,
        [&] {
          rt.log("A");
          in_a = rt.snapshot();
        },
        1);
    rt.set_timeout(5, logger(rt, "B"), 2);
    rt.set_timeout(50, logger(rt, "C"), 3);
  });
  // listOnTimeout unlinks a timer before calling it: the 5 ms list, still in the queue while
  // it drains, holds only B.
  REQUIRE(in_a.timer_lists.size() == 2);
  CHECK(in_a.timer_lists[0].msecs == 5);
  CHECK(in_a.timer_lists[0].count == 1);
  CHECK(in_a.timer_lists[0].sites == std::vector<std::uint32_t>{2});
  CHECK(in_a.timer_lists[1].msecs == 50);
  CHECK(in_a.phase == Phase::timers);
  CHECK(in_a.iteration >= 1u);
  // It ran at or after its due time.
  CHECK(runtime::to_ms(in_a.t) >= in_a.timer_lists[0].due_ms - 1.0);
  CHECK(rt.shutdown() == 0);
}

TEST_CASE("snapshot.queues_with_counts_kinds_and_sites") {
  runtime::Watchdog wd(20s);
  Runtime rt;
  StateSnapshot end_of_main;
  StateSnapshot in_tick;
  StateSnapshot in_microtask;
  StateSnapshot in_immediate;
  StateSnapshot after_main;
  rt.on_phase = [&](Phase p, std::uint32_t) {
    if (p == Phase::main) after_main = rt.snapshot();
  };
  rt.run([&] {
    rt.next_tick(
        [&] {
          rt.log("tick 1");
          in_tick = rt.snapshot();
        },
        11);
    rt.next_tick(logger(rt, "tick 2"), 12);
    rt.next_tick(logger(rt, "tick 3"), 13);
    rt.enqueue_microtask(
        [&] {
          rt.log("promise 1");
          in_microtask = rt.snapshot();
        },
        21, CallbackKind::promise);
    rt.enqueue_microtask(logger(rt, "qm"), 22, CallbackKind::queue_microtask);
    rt.enqueue_microtask(logger(rt, "await"), 23, CallbackKind::await_resume);
    rt.set_immediate(
        [&] {
          rt.log("immediate 1");
          in_immediate = rt.snapshot();
        },
        31);
    for (std::uint32_t site = 32; site <= 38; ++site)
      rt.set_immediate(logger(rt, "immediate"), site);
    end_of_main = rt.snapshot();
  });

  // In main nothing has run yet: every queue as filled, each showing its first 6 entries
  // (the default max_items) and the full count.
  CHECK(end_of_main.next_tick_count == 3);
  CHECK(sites_of(end_of_main.next_ticks) == std::vector<std::uint32_t>{11, 12, 13});
  CHECK(kinds_of(end_of_main.next_ticks) == std::vector<CallbackKind>(3, CallbackKind::next_tick));
  CHECK(end_of_main.microtask_count == 3);
  CHECK(sites_of(end_of_main.microtasks) == std::vector<std::uint32_t>{21, 22, 23});
  CHECK(kinds_of(end_of_main.microtasks) == std::vector<CallbackKind>{CallbackKind::promise,
                                                                      CallbackKind::queue_microtask,
                                                                      CallbackKind::await_resume});
  CHECK(end_of_main.immediate_count == 8);
  CHECK(sites_of(end_of_main.immediates) == std::vector<std::uint32_t>{31, 32, 33, 34, 35, 36});
  CHECK(end_of_main.phase == Phase::main);

  // The first tick has been taken off the queue before it runs.
  CHECK(in_tick.callback_phase == Phase::next_tick);
  CHECK(in_tick.next_tick_count == 2);
  CHECK(sites_of(in_tick.next_ticks) == std::vector<std::uint32_t>{12, 13});
  CHECK(in_tick.microtask_count == 3);
  // All ticks ran before the first microtask (processTicksAndRejections).
  CHECK(in_microtask.callback_phase == Phase::microtask);
  CHECK(in_microtask.next_tick_count == 0);
  CHECK(in_microtask.microtask_count == 2);
  CHECK(sites_of(in_microtask.microtasks) == std::vector<std::uint32_t>{22, 23});
  CHECK(in_microtask.recent_logs ==
        std::vector<std::string>{"tick 2", "tick 3", "promise 1"});  // the last three lines

  // After main and its drain (on_phase main): the JS queues are empty, the immediates wait
  // for the loop.
  CHECK(after_main.next_tick_count == 0);
  CHECK(after_main.microtask_count == 0);
  CHECK(after_main.immediate_count == 8);
  CHECK(after_main.iteration == 0u);

  // The check phase took the whole queue as its batch (processImmediate's snapshot): the
  // immediates still to run in this phase are no longer in the queue.
  CHECK(in_immediate.phase == Phase::check);
  CHECK(in_immediate.immediate_count == 0);
  CHECK(in_immediate.iteration >= 1u);
  CHECK(in_immediate.callbacks_run > end_of_main.callbacks_run);
  CHECK(rt.shutdown() == 0);
}

TEST_CASE("snapshot.max_items_bounds_the_lists_not_the_counts") {
  runtime::Watchdog wd(20s);
  Runtime rt;
  StateSnapshot s;
  rt.run([&] {
    for (std::uint32_t i = 1; i <= 5; ++i) {
      rt.next_tick([] {}, i);
      promise(rt, [] {});
      rt.set_immediate([] {}, 10 + i);
      rt.set_timeout(
          7, [] {}, 20 + i);
    }
    s = rt.snapshot(2);
  });
  CHECK(s.next_tick_count == 5);
  CHECK(sites_of(s.next_ticks) == std::vector<std::uint32_t>{1, 2});
  CHECK(s.microtask_count == 5);
  CHECK(s.microtasks.size() == 2);
  CHECK(s.immediate_count == 5);
  CHECK(sites_of(s.immediates) == std::vector<std::uint32_t>{11, 12});
  REQUIRE(s.timer_lists.size() == 1);
  CHECK(s.timer_lists[0].count == 5);
  CHECK(s.timer_lists[0].sites == std::vector<std::uint32_t>{21, 22});
  CHECK(rt.shutdown() == 0);
}

TEST_CASE("snapshot.a_warning_is_a_queued_tick_without_a_site") {
  runtime::Watchdog wd(20s);
  Runtime rt;
  StateSnapshot s;
  rt.run([&] {
    rt.next_tick(logger(rt, "tick"), 7);
    rt.set_timeout(
        4294967296.0, [] {}, 8);  // TimeoutOverflowWarning, on process.nextTick
    s = rt.snapshot();
  });
  REQUIRE(s.next_tick_count == 2);
  CHECK(kinds_of(s.next_ticks) ==
        std::vector<CallbackKind>{CallbackKind::next_tick, CallbackKind::warning});
  CHECK(sites_of(s.next_ticks) == std::vector<std::uint32_t>{7, 0});
  CHECK(rt.shutdown() == 0);
}

TEST_CASE("snapshot.threadpool_jobs_queued_running_then_completed_in_poll") {
  runtime::Watchdog wd(20s);
  const unsigned pool = runtime::threadpool_size();
  if (pool > 16) {
    MESSAGE("UV_THREADPOOL_SIZE=" << pool << ": too many threads to fill in a unit test");
    return;
  }
  Runtime rt;
  StateSnapshot full;
  bool filled = false;
  std::vector<StateSnapshot> at_poll;
  rt.on_phase = [&](Phase p, std::uint32_t) {
    if (p == Phase::poll) at_poll.push_back(rt.snapshot());
  };
  rt.run([&] {
    // One 300 ms task per pool thread, then one more: it must wait for a free thread.
    for (unsigned i = 0; i < pool; ++i)
      rt.queue_threadpool(300ms, logger(rt, "task"), 100 + i);
    rt.queue_threadpool(10ms, logger(rt, "extra"), 200);
    // The pool threads pick the tasks up asynchronously: wait (bounded) until they have.
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (!filled && std::chrono::steady_clock::now() < deadline) {
      full = rt.snapshot();
      filled = count_if_job(full, is_running) == pool;
    }
  });
  REQUIRE_MESSAGE(filled, "the pool threads never picked up the tasks");
  CHECK(full.pool_size == pool);
  REQUIRE(full.pool.size() == pool + 1);
  // Listed in queue order; the last one queued is the one left waiting (libuv's FIFO).
  for (std::size_t i = 1; i < full.pool.size(); ++i)
    CHECK(full.pool[i - 1].queued_ms <= full.pool[i].queued_ms);
  CHECK(count_if_job(full, is_waiting) == 1);
  CHECK(full.pool.back().site == 200);
  CHECK_FALSE(full.pool.back().running);
  CHECK(count_if_job(full, is_completed) == 0);
  for (const auto& j : full.pool)
    CHECK(j.what == "threadpool task");

  // Each completion reaches the loop in poll: at its boundary that job, and only it, shows
  // as completed (the others are either gone or not yet delivered).
  REQUIRE(at_poll.size() == pool + 1);
  for (const auto& s : at_poll)
    CHECK(count_if_job(s, is_completed) == 1);
  // At the last completion only that job is left.
  CHECK(at_poll.back().pool.size() == 1);
  CHECK(rt.shutdown() == 0);
}

TEST_CASE("snapshot.read_file_is_four_pool_requests_each_completed_in_poll") {
  runtime::Watchdog wd(20s);
  TempFile file("some bytes", ".txt");
  Runtime rt;
  StateSnapshot queued;
  std::vector<std::string> completed;  // at each poll boundary, the completed job's name
  rt.on_phase = [&](Phase p, std::uint32_t) {
    if (p != Phase::poll) return;
    for (const auto& j : rt.snapshot().pool) {
      if (j.completed) completed.push_back(j.what);
    }
  };
  rt.run([&] {
    rt.read_file(file.path(), logger(rt, "read"), 9);
    queued = rt.snapshot();
  });
  // lib/internal/fs/read_file_context.js: open, fstat, read, close, one request at a time.
  REQUIRE(queued.pool.size() == 1);
  CHECK(queued.pool[0].what == "fs open");
  CHECK(queued.pool[0].site == 9);
  CHECK(completed == std::vector<std::string>{"fs open", "fs fstat", "fs read", "fs close"});
  CHECK(log_texts(rt) == std::vector<std::string>{"read"});
  CHECK(rt.shutdown() == 0);
}

TEST_CASE("snapshot.handles_are_named_for_what_they_are_in_node") {
  runtime::Watchdog wd(20s);
  Runtime rt;
  StateSnapshot with_timer;
  StateSnapshot idle_loop;
  rt.on_phase = [&](Phase p, std::uint32_t) {
    if (p == Phase::main) with_timer = rt.snapshot();
  };
  rt.run([&] {
    rt.set_timeout(
        30, [&] { idle_loop = rt.snapshot(); }, 1);
  });
  const runtime::HandleView* timers = handle(with_timer, kJsTimers);
  const runtime::HandleView* check = handle(with_timer, kCheck);
  const runtime::HandleView* idle = handle(with_timer, kIdle);
  REQUIRE(timers != nullptr);
  REQUIRE(check != nullptr);
  REQUIRE(idle != nullptr);
  // src/env.cc InitializeLibuv: one uv_timer for every JS timer, ref'd while a ref'd timer
  // exists (ToggleTimerRef) and started for the earliest list.
  CHECK(timers->active);
  CHECK(timers->ref);
  // The check handle is always started and always unref'd: it never keeps the loop alive.
  CHECK(check->active);
  CHECK_FALSE(check->ref);
  // No immediates: the idle handle is stopped.
  CHECK_FALSE(idle->active);
  // The delay sampler is ours, unref'd; it starts with the loop, after main.
  const runtime::HandleView* sampler = handle(with_timer, kSampler);
  REQUIRE(sampler != nullptr);
  CHECK_FALSE(sampler->ref);
  CHECK_FALSE(sampler->active);
  CHECK(handle(with_timer, "uv_prepare: nodelab's iteration marker") != nullptr);
  CHECK(handle(with_timer, "uv_async: nodelab's stop signal") != nullptr);
  for (const auto& h : with_timer.handles)
    CHECK_FALSE(h.closing);

  // Inside the timer's callback the loop runs, and so does the sampler. The 30 ms list stays
  // in the queue, empty, until listOnTimeout has drained it.
  REQUIRE(handle(idle_loop, kSampler) != nullptr);
  CHECK(handle(idle_loop, kSampler)->active);
  REQUIRE(idle_loop.timer_lists.size() == 1);
  CHECK(idle_loop.timer_lists[0].count == 0);
  CHECK(rt.shutdown() == 0);
}

TEST_CASE("snapshot.idle_handle_is_active_exactly_while_immediates_are_pending") {
  runtime::Watchdog wd(20s);
  Runtime rt;
  // (phase, immediates pending, idle handle active) at every boundary.
  struct Seen {
    Phase phase;
    std::size_t immediates;
    bool idle_active;
  };
  std::vector<Seen> seen;
  rt.on_phase = [&](Phase p, std::uint32_t) {
    const StateSnapshot s = rt.snapshot();
    const runtime::HandleView* idle = handle(s, kIdle);
    REQUIRE(idle != nullptr);
    seen.push_back({p, s.immediate_count, idle->active});
  };
  rt.run([&] {
    // A chain of three immediates, then a timer that queues one more after an idle wait.
    rt.set_immediate(
        [&] { rt.set_immediate([&] { rt.set_immediate(logger(rt, "immediate 3"), 3); }, 2); }, 1);
    rt.set_timeout(
        30, [&] { rt.set_immediate(logger(rt, "immediate from timer"), 5); }, 4);
  });
  CHECK(log_texts(rt) == std::vector<std::string>{"immediate 3", "immediate from timer"});
  // src/env.cc ToggleImmediateRef: the idle handle keeps poll from blocking while a ref'd
  // immediate waits, and only then.
  bool saw_active = false;
  bool saw_inactive = false;
  for (const auto& x : seen) {
    CAPTURE(runtime::phase_name(x.phase));
    CAPTURE(x.immediates);
    CHECK(x.idle_active == (x.immediates > 0));
    saw_active = saw_active || x.idle_active;
    saw_inactive = saw_inactive || !x.idle_active;
  }
  CHECK(saw_active);
  // While the loop waited for the 30 ms timer nothing was pending.
  CHECK(saw_inactive);
  CHECK(rt.shutdown() == 0);
}

TEST_CASE("snapshot.on_phase_sees_main_once_then_prepare_every_iteration") {
  runtime::Watchdog wd(20s);
  TempFile file("x", ".txt");
  Runtime rt;
  std::vector<std::pair<Phase, std::uint32_t>> calls;
  StateSnapshot at_main;
  rt.on_phase = [&](Phase p, std::uint32_t iteration) {
    calls.emplace_back(p, iteration);
    if (p == Phase::main) at_main = rt.snapshot();
  };
  rt.run([&] {
    rt.next_tick(logger(rt, "tick from main"), 1);
    rt.set_timeout(5, logger(rt, "timer"), 2);
    rt.set_immediate(logger(rt, "immediate"), 3);
    rt.read_file(file.path(), logger(rt, "read"), 4);
    rt.set_timeout(40, logger(rt, "late timer"), 5);
  });
  REQUIRE_FALSE(calls.empty());
  // First, once: main, at iteration 0, after the main script's drain (the tick has run)
  // and before the loop (nothing else has been seen yet).
  CHECK(calls.front() == std::make_pair(Phase::main, 0u));
  CHECK(std::count_if(calls.begin(), calls.end(),
                      [](const auto& c) { return c.first == Phase::main; }) == 1);
  CHECK(at_main.next_tick_count == 0);
  CHECK(at_main.recent_logs == std::vector<std::string>{"tick from main"});
  CHECK(at_main.iteration == 0u);

  // prepare runs in every iteration of uv_run, once: iterations 1, 2, ... N with N the
  // loop.iterations metric.
  std::vector<std::uint32_t> prepares;
  for (const auto& c : calls) {
    if (c.first == Phase::prepare) prepares.push_back(c.second);
  }
  const auto iterations = static_cast<std::uint32_t>(metric(rt, "loop.iterations"));
  // A 5 ms timer, a four-request read and a 40 ms timer take several iterations.
  CHECK(iterations >= 5u);
  std::vector<std::uint32_t> expected;
  for (std::uint32_t i = 1; i <= iterations; ++i)
    expected.push_back(i);
  CHECK(prepares == expected);
  // Every other boundary is a loop phase, with non-decreasing iteration numbers.
  for (std::size_t i = 1; i < calls.size(); ++i) {
    CHECK(runtime::is_loop_phase(calls[i].first));
    CHECK(calls[i].second >= calls[i - 1].second);
  }
  CHECK(rt.shutdown() == 0);
}

TEST_CASE("snapshot.on_phase_is_not_called_for_main_when_main_dies") {
  runtime::Watchdog wd(20s);
  Runtime rt;
  int calls = 0;
  rt.on_phase = [&](Phase, std::uint32_t) { ++calls; };
  const auto result = rt.run([&] {
    rt.set_timeout(1, logger(rt, "never"), 0);
    js_throw("boom");
  });
  // An uncaught exception in the main script ends the process before the loop: there is no
  // state after main to show.
  CHECK(result.outcome == runtime::Outcome::uncaught_exception);
  CHECK(calls == 0);
  CHECK(rt.shutdown() == 0);
}

TEST_CASE("snapshot.time_and_callbacks_advance") {
  runtime::Watchdog wd(20s);
  Runtime rt;
  std::vector<StateSnapshot> snaps;
  rt.run([&] {
    snaps.push_back(rt.snapshot());
    rt.set_timeout(
        10,
        [&] {
          rt.log("timer");
          snaps.push_back(rt.snapshot());
          rt.set_immediate(
              [&] {
                rt.log("immediate");
                snaps.push_back(rt.snapshot());
              },
              2);
        },
        1);
  });
  REQUIRE(snaps.size() == 3);
  for (std::size_t i = 1; i < snaps.size(); ++i) {
    CHECK(snaps[i].t >= snaps[i - 1].t);
    CHECK(snaps[i].callbacks_run > snaps[i - 1].callbacks_run);
    CHECK(snaps[i].iteration >= snaps[i - 1].iteration);
  }
  // The 10 ms timer ran no earlier than ~10 ms into the run (loop time is whole ms).
  CHECK(runtime::to_ms(snaps[1].t) >= 9.0);
  CHECK(snaps[0].phase == Phase::main);
  CHECK(snaps[1].phase == Phase::timers);
  CHECK(snaps[2].phase == Phase::check);
  CHECK(snaps[2].recent_logs == std::vector<std::string>{"timer", "immediate"});
  CHECK(rt.shutdown() == 0);
}

TEST_CASE("snapshot.a_destroyed_socket_is_a_closing_tcp_handle") {
  runtime::Watchdog wd(20s);
  Runtime rt;
  StateSnapshot s;
  rt.run([&] {
    rt.close_handle(logger(rt, "close"), 1);
    s = rt.snapshot();
  });
  // socket.destroy() closes the handle at once (uv_close): until the close phase runs its
  // callback, libuv lists it as closing.
  const runtime::HandleView* tcp = handle(s, "uv_tcp: a socket being destroyed");
  REQUIRE(tcp != nullptr);
  CHECK(tcp->closing);
  CHECK(log_texts(rt) == std::vector<std::string>{"close"});
  CHECK(rt.shutdown() == 0);
}
