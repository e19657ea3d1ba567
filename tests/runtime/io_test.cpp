// I/O on the runtime: fs.readFile as four chained threadpool requests, uv_queue_work tasks,
// close callbacks, and stop requests (Ctrl-C, time ceilings).

#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "metrics/metric_set.hpp"
#include "runtime/runtime.hpp"
#include "support/runtime_helpers.hpp"
#include "support/scenario_runner.hpp"

using namespace nodelab;
using runtime::CallbackKind;
using runtime::CallbackRecord;
using runtime::Outcome;
using runtime::Phase;
using runtime::Runtime;
using namespace std::chrono_literals;
using namespace nodelab::testing;

namespace {

std::vector<const CallbackRecord*> records_of(const Runtime& rt, CallbackKind kind) {
  std::vector<const CallbackRecord*> out;
  for (const auto& c : rt.recorder().callbacks()) {
    if (c.kind == kind) out.push_back(&c);
  }
  return out;
}

double metric(const Runtime& rt, const std::string& path) {
  metrics::MetricSet m;
  rt.collect_metrics(m);
  const auto v = m.get(path);
  REQUIRE_MESSAGE(v.has_value(), path << " was not measured");
  return *v;
}

}  // namespace

TEST_CASE("io.threadpool_size_follows_libuv_rules") {
  // libuv 1.44 init_threads(): atoi(UV_THREADPOOL_SIZE) into an unsigned, 0 -> 1, capped at
  // 1024, default 4. libuv itself reads the variable once, at the first pool use of the
  // process; threadpool_size() reads it on each call, so it is safe to vary here as long as
  // it is restored before any pool work.
  const char* saved = std::getenv("UV_THREADPOOL_SIZE");
  const std::optional<std::string> original =
      saved ? std::optional<std::string>(saved) : std::nullopt;
  auto with = [](const char* v) {
    setenv("UV_THREADPOOL_SIZE", v, 1);
    return runtime::threadpool_size();
  };
  CHECK(with("8") == 8);
  CHECK(with("0") == 1);
  CHECK(with("abc") == 1);  // atoi gives 0
  CHECK(with("2000") == 1024);
  CHECK(with("-1") == 1024);  // wraps to a huge unsigned, then capped
  unsetenv("UV_THREADPOOL_SIZE");
  CHECK(runtime::threadpool_size() == 4);
  if (original) setenv("UV_THREADPOOL_SIZE", original->c_str(), 1);
}

TEST_CASE("io.read_file_callback_is_in_poll_at_least_four_iterations_in") {
  runtime::Watchdog wd(20s);
  testing::TempFile file(std::string(1000, 'x'), ".txt");
  Runtime rt;
  rt.run([&] { rt.read_file(file.path(), logger(rt, "read"), 0); });
  const CallbackRecord* read = logged_by(rt, "read");
  REQUIRE(read != nullptr);
  CHECK(read->kind == CallbackKind::read_file);
  CHECK(read->phase == Phase::poll);
  // open, fstat, read, close: four uv_fs requests, each completing in a poll phase of its
  // own, so the callback comes in the fourth iteration at the earliest (docs/scenario-format.md,
  // `readFile`; lib/internal/fs/read_file_context.js).
  CHECK(read->iteration >= 4);
  // The four steps are recorded (as internal callbacks), each in a later iteration than the
  // one before, and the user callback comes after the last of them.
  const auto steps = records_of(rt, CallbackKind::fs_step);
  REQUIRE(steps.size() == 4);
  for (std::size_t i = 0; i < steps.size(); ++i) {
    CHECK(steps[i]->internal);
    CHECK(steps[i]->phase == Phase::poll);
    if (i > 0) CHECK(steps[i]->iteration > steps[i - 1]->iteration);
  }
  CHECK(read->iteration == steps.back()->iteration);
  CHECK(metric(rt, "readFile.count") == 1.0);
  // fs_step callbacks are bookkeeping, not JS callbacks: main + the read callback.
  CHECK(metric(rt, "callbacks.total") == 2.0);
  CHECK(metric(rt, "callbacks.io") == 1.0);
  CHECK(rt.shutdown() == 0);
}

TEST_CASE("io.read_file_of_a_missing_file_still_calls_back") {
  runtime::Watchdog wd(20s);
  Runtime rt;
  rt.run([&] { rt.read_file("/nonexistent/nodelab/file", logger(rt, "called back"), 0); });
  // fs.readFile calls back with an error after the failed open: one request, one poll phase.
  CHECK(log_texts(rt) == std::vector<std::string>{"called back"});
  CHECK(records_of(rt, CallbackKind::fs_step).size() == 1);
  CHECK(rt.shutdown() == 0);
}

// node (docs/node-semantics.md §3): inside an fs callback, setImmediate beats
// setTimeout(0) 200/200.
TEST_CASE("io.set_immediate_beats_set_timeout_zero_inside_read_file") {
  runtime::Watchdog wd(20s);
  testing::TempFile file("some content\n", ".txt");
  Runtime rt;
  rt.run([&] {
    rt.read_file(
        file.path(),
        [&] {
          rt.set_timeout(0, logger(rt, "timeout"), 0);
          rt.set_immediate(logger(rt, "immediate"), 0);
        },
        0);
  });
  // Poll -> check comes before the next timers phase, and the 1 ms timer started in poll.
  CHECK(log_texts(rt) == std::vector<std::string>{"immediate", "timeout"});
  const CallbackRecord* read = records_of(rt, CallbackKind::read_file).at(0);
  const CallbackRecord* immediate = logged_by(rt, "immediate");
  const CallbackRecord* timeout = logged_by(rt, "timeout");
  REQUIRE(immediate != nullptr);
  REQUIRE(timeout != nullptr);
  CHECK(immediate->phase == Phase::check);
  CHECK(immediate->iteration == read->iteration);
  CHECK(timeout->phase == Phase::timers);
  CHECK(timeout->iteration > read->iteration);
  CHECK(rt.shutdown() == 0);
}

TEST_CASE("io.threadpool_task_runs_off_the_loop_thread") {
  runtime::Watchdog wd(20s);
  Runtime rt;
  rt.run([&] {
    rt.queue_threadpool(200ms, logger(rt, "pool"), 0);
    rt.set_timeout(50, logger(rt, "timer"), 0);
  });
  // The task occupies a pool thread, not the loop: the 50 ms timer fires meanwhile.
  CHECK(log_texts(rt) == std::vector<std::string>{"timer", "pool"});
  const CallbackRecord* pool = logged_by(rt, "pool");
  const CallbackRecord* timer = logged_by(rt, "timer");
  REQUIRE(pool != nullptr);
  REQUIRE(timer != nullptr);
  // Completion comes through libuv's wq_async in the poll phase (docs/node-semantics.md §4).
  CHECK(pool->kind == CallbackKind::threadpool);
  CHECK(pool->phase == Phase::poll);
  REQUIRE(rt.recorder().work_spans().size() == 1);
  const runtime::WorkSpan& span = rt.recorder().work_spans()[0];
  CHECK(span.thread >= 1);
  CHECK(span.finished - span.started >= 200ms);
  // The timer callback ran while the task was still running on its thread.
  CHECK(timer->start < span.finished);
  CHECK(pool->start >= span.finished);
  // The loop thread was idle (waiting in poll) for most of it.
  CHECK(metric(rt, "eventLoopUtilization.idle_ms") > 100.0);
  CHECK(metric(rt, "threadpool.tasks") == 1.0);
  CHECK(rt.shutdown() == 0);
}

TEST_CASE("io.saturated_pool_delays_read_file") {
  runtime::Watchdog wd(20s);
  testing::TempFile file("abc", ".txt");
  const unsigned pool = runtime::threadpool_size();
  if (pool > 16) {
    MESSAGE("UV_THREADPOOL_SIZE=" << pool << ": too many threads to saturate in a unit test");
    return;
  }
  Runtime rt;
  rt.run([&] {
    // `pool` tasks of 200 ms occupy every thread (4 by default) ...
    for (unsigned i = 0; i < pool; ++i)
      rt.queue_threadpool(200ms, logger(rt, "task"), 0);
    // ... so the read's open request waits in libuv's FIFO queue, and so does one more task.
    rt.read_file(file.path(), logger(rt, "read"), 0);
    rt.queue_threadpool(10ms, logger(rt, "late task"), 0);
  });
  const CallbackRecord* read = logged_by(rt, "read");
  REQUIRE(read != nullptr);
  // The read could not start before a task finished (docs/node-semantics.md §4, "deterministic
  // saturation demo": fs.stat done at 302 ms with pool 4).
  runtime::Nanos first_free = runtime::Nanos::max();
  for (const auto& w : rt.recorder().work_spans()) {
    if (w.finished - w.started >= 200ms) first_free = std::min(first_free, w.finished);
  }
  CHECK(read->start > first_free);
  CHECK(metric(rt, "readFile.max_ms") > 150.0);
  // The extra task waited for a free thread about as long.
  CHECK(metric(rt, "threadpool.queueWait.max_ms") > 100.0);
  // Every pool work item counts: the tasks, and the read's four fs requests (open, fstat,
  // read, close).
  CHECK(metric(rt, "threadpool.tasks") == pool + 1.0 + 4.0);
  CHECK(metric(rt, "threadpool.size") == static_cast<double>(pool));
  CHECK(rt.shutdown() == 0);
}

// node (docs/node-semantics.md §5 demo, inside a poll callback):
//   c.destroy(); setTimeout(..,0); setImmediate(..); process.nextTick(..);
//   Promise.resolve().then(..)
//   -> nextTick > promise > setImmediate > socket close > setTimeout 0
TEST_CASE("io.close_callback_runs_in_the_close_phase_after_the_immediate") {
  runtime::Watchdog wd(20s);
  testing::TempFile file("x", ".txt");
  Runtime rt;
  rt.run([&] {
    rt.read_file(
        file.path(),
        [&] {
          rt.close_handle(logger(rt, "close"), 0);
          rt.set_timeout(0, logger(rt, "timeout"), 0);
          rt.set_immediate(logger(rt, "immediate"), 0);
          rt.next_tick(logger(rt, "tick"), 0);
          rt.enqueue_microtask(logger(rt, "promise"), 0, CallbackKind::promise);
        },
        0);
  });
  CHECK(log_texts(rt) ==
        std::vector<std::string>{"tick", "promise", "immediate", "close", "timeout"});
  const CallbackRecord* immediate = logged_by(rt, "immediate");
  const CallbackRecord* close = logged_by(rt, "close");
  REQUIRE(immediate != nullptr);
  REQUIRE(close != nullptr);
  CHECK(close->phase == Phase::close);
  CHECK(close->kind == CallbackKind::close);
  // uv_close() before the check phase: its callback runs in the same iteration's close phase.
  CHECK(close->iteration == immediate->iteration);
  CHECK(metric(rt, "callbacks.close") == 1.0);
  CHECK(rt.shutdown() == 0);
}

TEST_CASE("io.ticks_drain_after_each_poll_callback") {
  runtime::Watchdog wd(20s);
  Runtime rt;
  rt.run([&] {
    // Two tasks that finish together usually complete in one uv__work_done batch; each
    // callback is its own MakeCallback, so its ticks run before the next task's callback.
    for (const char* name : {"a", "b"}) {
      rt.queue_threadpool(
          20ms,
          [&rt, n = std::string(name)] {
            rt.log(n);
            rt.next_tick(logger(rt, "tick " + n), 0);
          },
          0);
    }
  });
  const auto logs = log_texts(rt);
  REQUIRE(logs.size() == 4);
  // Whichever finishes first, its tick follows it directly.
  CHECK(logs[1] == "tick " + logs[0]);
  CHECK(logs[3] == "tick " + logs[2]);
  CHECK(rt.shutdown() == 0);
}

TEST_CASE("io.stop_request_ends_a_long_busy_wait") {
  Runtime rt;
  const auto t0 = runtime::hrtime();
  runtime::RunResult result;
  {
    runtime::Watchdog wd(300ms);  // requests StopReason::time_ceiling
    result = rt.run([&] {
      rt.set_timeout(
          1,
          [&] {
            rt.log("blocking");
            rt.busy_wait(60s);
            rt.log("after the block");
          },
          0);
      rt.set_timeout(2, logger(rt, "next timer"), 0);
    });
  }
  const auto elapsed = runtime::hrtime() - t0;
  runtime::clear_stop();
  CHECK(result.outcome == Outcome::stopped);
  CHECK(result.stop == runtime::StopReason::time_ceiling);
  // busy_wait polls the stop flag: the 60 s block ends soon after the 300 ms ceiling.
  CHECK(elapsed < 20s);
  // The callback itself returns normally (it is JS that was interrupted, not a throw), but
  // the run stops there: no later timer runs.
  const auto logs = log_texts(rt);
  REQUIRE_FALSE(logs.empty());
  CHECK(logs[0] == "blocking");
  CHECK(std::find(logs.begin(), logs.end(), "next timer") == logs.end());
  CHECK(rt.shutdown() == 0);
}

TEST_CASE("io.stop_request_wakes_an_idle_loop") {
  Runtime rt;
  const auto t0 = runtime::hrtime();
  std::thread interrupter([] {
    std::this_thread::sleep_for(200ms);
    runtime::request_stop(runtime::StopReason::interrupted);  // what the SIGINT handler does
  });
  const auto result = rt.run([&] {
    // The loop sleeps in poll, waiting for this timer and for a long pool task.
    rt.set_timeout(60'000, logger(rt, "never"), 0);
    rt.queue_threadpool(60s, logger(rt, "never either"), 0);
  });
  interrupter.join();
  const auto elapsed = runtime::hrtime() - t0;
  runtime::clear_stop();
  CHECK(result.outcome == Outcome::stopped);
  CHECK(result.stop == runtime::StopReason::interrupted);
  CHECK(runtime::stop_exit_code(result.stop) == 130);
  // uv_async_send wakes poll at once; the pool task notices the flag and returns.
  CHECK(elapsed < 20s);
  CHECK(rt.recorder().logs().empty());
  CHECK(rt.shutdown() == 0);
}

// Regression: a stop requested while the main script runs (a `block` in main, interrupted by
// Ctrl-C or the time ceiling) used to leave loop->stop_flag set (keep_going() calls
// uv_stop() outside uv_run), so shutdown() could not run the close callbacks and
// uv_loop_close() returned UV_EBUSY (-16).
TEST_CASE("io.stop_during_main_still_closes_the_loop") {
  Runtime rt;
  const auto t0 = runtime::hrtime();
  runtime::RunResult result;
  {
    runtime::Watchdog wd(200ms);
    result = rt.run([&] {
      rt.set_timeout(0, logger(rt, "never"), 0);
      rt.next_tick(logger(rt, "never either"), 0);
      rt.busy_wait(60s);
    });
  }
  runtime::clear_stop();
  CHECK(result.outcome == Outcome::stopped);
  CHECK(result.stop == runtime::StopReason::time_ceiling);
  CHECK(runtime::hrtime() - t0 < 20s);
  // The loop never starts, and main's drain does not run either.
  CHECK(rt.recorder().logs().empty());
  CHECK(rt.shutdown() == 0);
}

TEST_CASE("io.shutdown_abandons_an_in_flight_pool_task") {
  Runtime rt;
  const auto t0 = runtime::hrtime();
  {
    runtime::Watchdog wd(200ms);
    rt.run([&] { rt.queue_threadpool(60s, logger(rt, "never"), 0); });
  }
  runtime::clear_stop();
  // The run stopped with the task still on its thread; shutdown waits for it (it returns
  // early once abandoned) and closes the loop without a leak.
  CHECK(rt.shutdown() == 0);
  CHECK(runtime::hrtime() - t0 < 20s);
  // shutdown() is idempotent.
  CHECK(rt.shutdown() == 0);
}
