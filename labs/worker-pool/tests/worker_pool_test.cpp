// The worker-pool lab's model (labs/worker-pool): the arrival schedule, the CPU work, the
// worker thread, the MessagePort, and the bounded pool's scheduling run through the
// `workload:` block. Orderings and counts only; the expected lines of the pool were printed by
// the real piscina 5.3.2 on node v20 for the same burst (see each case).

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "runtime/port.hpp"
#include "runtime/runtime.hpp"
#include "runtime/stop.hpp"
#include "script/interpreter.hpp"
#include "script/scenario.hpp"
#include "support/scenario_runner.hpp"
#include "worker-pool/cpu.hpp"
#include "worker-pool/worker_thread.hpp"
#include "worker-pool/workload.hpp"
#include "worker-pool/world.hpp"

using namespace nodelab;
using namespace nodelab::worker_pool;
using namespace std::chrono_literals;
using Lines = std::vector<std::string>;

namespace {

struct WorkloadRun {
  runtime::RunResult result;
  Lines lines;
  metrics::MetricSet metrics;
  std::vector<TaskRecord> tasks;
  std::vector<runtime::WorkSpan> spans;  // the --html and --trace lanes' data
};

WorkloadRun run_workload(const std::string& body) {
  testing::TempFile file("lab: worker-pool\nmain: []\n" + body);
  const script::Scenario s = script::load_scenario(file.path(), registry(), {}, {});
  WorkloadRun out;
  {
    runtime::Runtime rt;
    {
      script::Interpreter interp(s, rt);
      {
        runtime::Watchdog wd(120s);
        out.result = interp.run();
      }
      World& world = interp.extension<World>();
      world.collect(out.metrics);
      out.tasks.assign(world.tasks.begin(), world.tasks.end());
      for (const auto& l : script::logged_lines(rt.recorder()))
        out.lines.push_back(l.text);
      out.spans = rt.recorder().work_spans();
    }
    CHECK(rt.shutdown() == 0);
  }
  runtime::clear_stop();
  return out;
}

double metric(const WorkloadRun& r, const std::string& path) {
  const auto v = r.metrics.get(path);
  REQUIRE_MESSAGE(v.has_value(), path << " was not measured");
  return *v;
}

}  // namespace

TEST_CASE("worker_pool.mulberry32_matches_javascript") {
  // node -e: mulberry32(1) gives 0.6270739405881613, 0.002735721180215478, 0.5274470399599522
  Mulberry32 r(1);
  CHECK(r.next() == doctest::Approx(0.6270739405881613).epsilon(1e-15));
  CHECK(r.next() == doctest::Approx(0.002735721180215478).epsilon(1e-15));
  CHECK(r.next() == doctest::Approx(0.5274470399599522).epsilon(1e-15));
  CHECK(Mulberry32(7).next() == doctest::Approx(0.011704753153026104).epsilon(1e-15));
}

TEST_CASE("worker_pool.arrivals") {
  WorkloadConfig c;
  c.tasks = 2000;
  const auto burst = arrival_offsets(c);
  CHECK(std::all_of(burst.begin(), burst.end(), [](std::int64_t o) { return o == 0; }));

  c.poisson = true;
  c.rate = 100;  // a mean gap of 10 ms
  c.seed = 42;
  const auto offsets = arrival_offsets(c);
  CHECK(std::is_sorted(offsets.begin(), offsets.end()));
  const double mean_gap = static_cast<double>(offsets.back()) / 2000.0;
  CHECK(mean_gap > 9.0);
  CHECK(mean_gap < 11.0);
  CHECK(arrival_offsets(c) == offsets);  // the seed decides the schedule
  c.seed = 43;
  CHECK(arrival_offsets(c) != offsets);
}

TEST_CASE("worker_pool.burn_is_deterministic_and_cancellable") {
  auto never = [] { return false; };
  CHECK(burn(10'000, never, 5) == burn(10'000, never, 5));
  CHECK(burn(10'000, never, 5) != burn(10'000, never, 6));
  // Cancelled: it stops at the first check instead of running 10^15 steps.
  int checks = 0;
  burn(1'000'000'000'000'000ULL, [&] { return ++checks >= 1; });
  CHECK(checks == 1);
  CHECK(steps_for_ms(0) == 0);
  CHECK(steps_for_ms(0.000001) >= 1);
  CHECK(steps_for_ms(10) > steps_for_ms(1));
}

TEST_CASE("worker_pool.worker_thread_runs_tasks_in_order_and_terminates_mid_task") {
  for (const bool atomics : {true, false}) {
    CAPTURE(atomics);
    std::atomic<int> ready{0};
    std::vector<std::uint64_t> got;
    std::mutex mu;
    {
      WorkerThread w(
          {0, atomics}, [&](runtime::Nanos) { ready.fetch_add(1); },
          [&](const TaskResult& r) {
            std::lock_guard lock(mu);
            got.push_back(r.task_id);
          });
      for (std::uint64_t id = 1; id <= 5; ++id)
        w.post({id, 1000});
      for (int i = 0; i < 20000; ++i) {
        {
          std::lock_guard lock(mu);
          if (got.size() == 5) break;
        }
        std::this_thread::sleep_for(1ms);
      }
      // A task of 10^15 steps: terminate() must stop it at its next check.
      w.post({6, 1'000'000'000'000'000ULL});
      w.terminate();
      w.join();
    }
    CHECK(ready.load() == 1);
    CHECK(got == std::vector<std::uint64_t>{1, 2, 3, 4, 5});
  }
}

TEST_CASE("worker_pool.port_delivers_in_poll_and_drops_after_close") {
  runtime::Runtime rt;
  Lines lines;
  std::thread poster;
  rt.run([&] {
    auto port = std::make_shared<runtime::Port>(rt, 0);
    const runtime::Port::Sender sender = port->sender();
    poster = std::thread([sender, &rt, port] {
      sender.post([&rt, port] {
        rt.log(std::string("message in ") + std::string(runtime::phase_name(rt.current_phase())));
        port->close();
      });
    });
  });
  poster.join();
  for (const auto& l : rt.recorder().logs())
    lines.push_back(l.text);
  CHECK(lines == Lines{"message in poll"});
  CHECK(rt.shutdown() == 0);
}

TEST_CASE("worker_pool.overload_rejects_as_piscina_does") {
  // piscina 5.3.2, minThreads = maxThreads = 2, maxQueue 'auto', 12 runs at once: tasks 7..12
  // rejected with 'Task queue is at limit', 6 completed.
  const auto r = run_workload(
      "workload: { strategy: bounded-pool, tasks: 12, task_ms: 5, pool: { threads: 2, max_queue: "
      "auto } }\n");
  CHECK(r.result.outcome == runtime::Outcome::completed);
  Lines want{
      "workload: 12 tasks x 5 ms, a burst, strategy bounded-pool (minThreads 2, "
      "maxThreads 2, maxQueue auto = 4, concurrentTasksPerWorker 1)"};
  for (int t = 7; t <= 12; ++t)
    want.push_back("task " + std::to_string(t) + " rejected: Task queue is at limit");
  want.push_back("done: 6 completed, 6 rejected, 0 aborted");
  CHECK(r.lines == want);
  CHECK(metric(r, "pool.queueSize.peak") == 4);
  CHECK(metric(r, "tasks.completed") == 6);
}

TEST_CASE("worker_pool.max_queue_zero_rejects_but_the_first_queued_task_still_runs") {
  // piscina 5.3.2, 2 threads, maxQueue 0, 5 runs: tasks 3, 4, 5 rejected with 'No task queue
  // available and all Workers are busy', yet pool.completed is 3: task 3 was rejected and left
  // in the queue, and ran.
  const auto r = run_workload(
      "workload: { strategy: bounded-pool, tasks: 5, task_ms: 5, pool: { threads: 2, max_queue: 0 "
      "} }\n");
  CHECK(r.lines.at(1) == "task 3 rejected: No task queue available and all Workers are busy");
  CHECK(r.lines.at(3) == "task 5 rejected: No task queue available and all Workers are busy");
  CHECK(r.lines.back() == "done: 2 completed, 3 rejected, 0 aborted");
  // Task 3 still ran on a worker.
  CHECK(r.tasks.at(2).started.count() >= 0);
  CHECK(r.tasks.at(3).started.count() < 0);
}

TEST_CASE("worker_pool.abort_queued_and_running") {
  // piscina 5.3.2: aborting task 1 (running) and task 5 (queued) of 6 on 2 threads rejects both
  // with AbortError; the others complete; 3 workers were created in all.
  const auto r = run_workload(
      "workload:\n  strategy: bounded-pool\n  tasks: 6\n  task_ms: 100\n  pool: { threads: 2 }\n"
      "  abort: [ { task: 1, after_ms: 5 }, { task: 5, after_ms: 5 } ]\n");
  CHECK(r.lines.size() == 5);
  CHECK(r.lines.at(1) ==
        "worker 1 terminated: it was running task 1, which cannot be stopped in place");
  CHECK(r.lines.at(2) == "task 1 aborted: AbortError: The task has been aborted");
  CHECK(r.lines.at(3) == "task 5 aborted: AbortError: The task has been aborted");
  CHECK(r.lines.at(4) == "done: 4 completed, 0 rejected, 2 aborted");
  CHECK(metric(r, "pool.workersStarted") == 3);
  CHECK(metric(r, "pool.workersTerminated") == 1);
  CHECK(r.tasks.at(4).started.count() < 0);  // the queued one never ran
}

TEST_CASE("worker_pool.terminated_worker_has_its_task_on_its_lane") {
  // bounded-pool's --html page once showed worker #1's lane empty while the log said it was
  // running task 1: the task's span was recorded from its result only, and a terminated worker
  // sends none (here it is aborted 5 ms in, while worker 1 is still in its 25 ms start-up). Its
  // lane now shows the task from its submission to the termination.
  const auto r = run_workload(
      "workload:\n  strategy: bounded-pool\n  tasks: 3\n  task_ms: 100\n  pool: { threads: 2 }\n"
      "  abort: [ { task: 1, after_ms: 5 } ]\n");
  CHECK(r.lines.at(1) ==
        "worker 1 terminated: it was running task 1, which cannot be stopped in place");
  std::vector<std::uint32_t> per_worker(4, 0);
  for (const auto& s : r.spans) {
    CHECK(s.worker);
    REQUIRE(s.thread >= 1);
    REQUIRE(s.thread <= 3);
    ++per_worker[s.thread];
    CHECK(s.queued <= s.started);
    CHECK(s.started <= s.finished);
  }
  CHECK(per_worker[1] == 1);                  // task 1, cut short
  CHECK(per_worker[2] + per_worker[3] == 2);  // tasks 2 and 3, completed
  const auto cut = std::find_if(r.spans.begin(), r.spans.end(),
                                [](const runtime::WorkSpan& s) { return s.thread == 1; });
  // Cut at the abort: before task 2 (100 ms of CPU, on worker 2 from the start) completed.
  const auto task2 = std::find_if(r.spans.begin(), r.spans.end(),
                                  [](const runtime::WorkSpan& s) { return s.thread == 2; });
  REQUIRE(task2 != r.spans.end());
  CHECK(cut->finished < task2->finished);
}

TEST_CASE("worker_pool.queue_size_leaves_out_what_starting_workers_will_take") {
  // piscina 5.3.2, minThreads 1, maxThreads 2, 4 runs at once: pool.queueSize reads 0, 0, 1, 2
  // after each run() (worker 2, still starting, will take one of the three queued), then 1.
  const auto r = run_workload(
      "workload: { tasks: 4, task_ms: 20, pool: { min_threads: 1, max_threads: 2 } }\n");
  CHECK(r.lines.back() == "done: 4 completed, 0 rejected, 0 aborted");
  CHECK(metric(r, "pool.queueSize.peak") == 2);
}

TEST_CASE("worker_pool.piscina_default_threads_from_available_parallelism") {
  // kDefaultOptions: minThreads max(floor(p / 2), 1), maxThreads p * 1.5 (taskset -c 0: 1, 1.5).
  CHECK(piscina_thread_defaults(1).min_threads == 1);
  CHECK(piscina_thread_defaults(1).max_threads == 1.5);
  CHECK(piscina_thread_defaults(2).min_threads == 1);
  CHECK(piscina_thread_defaults(2).max_threads == 3);
  CHECK(piscina_thread_defaults(3).min_threads == 1);
  CHECK(piscina_thread_defaults(3).max_threads == 4.5);
  CHECK(piscina_thread_defaults(8).min_threads == 4);
  CHECK(piscina_thread_defaults(8).max_threads == 12);
}

TEST_CASE("worker_pool.concurrent_tasks_per_worker") {
  const auto r = run_workload(
      "workload: { tasks: 4, task_ms: 5, pool: { threads: 1, concurrent_tasks_per_worker: 4 } }\n");
  CHECK(r.lines.back() == "done: 4 completed, 0 rejected, 0 aborted");
  CHECK(metric(r, "pool.workersStarted") == 1);
  CHECK(metric(r, "pool.queueSize.peak") == 0);  // all four were posted to the one worker
}

TEST_CASE("worker_pool.strategies_run_every_task") {
  for (const std::string strategy :
       {"main-thread", "libuv-threadpool", "bounded-pool", "worker-per-task"}) {
    CAPTURE(strategy);
    const auto r = run_workload("workload: { strategy: " + strategy +
                                ", tasks: 6, task_ms: 2, worker_startup_ms: 1, "
                                "pool: { threads: 2 } }\n");
    CHECK(r.result.outcome == runtime::Outcome::completed);
    CHECK(r.lines.back() == "done: 6 completed, 0 rejected, 0 aborted");
    CHECK(metric(r, "tasks.completed") == 6);
    std::set<std::int32_t> threads;
    for (const auto& t : r.tasks) {
      CHECK(t.started >= t.intended);
      CHECK(t.finished >= t.started);
      CHECK(t.settled >= t.finished);
      threads.insert(t.thread);
    }
    if (strategy == "main-thread") CHECK(threads.size() == 1);
    if (strategy == "libuv-threadpool") CHECK(threads.size() <= 4);
    if (strategy == "bounded-pool") CHECK(threads.size() <= 2);
    if (strategy == "worker-per-task") {
      CHECK(threads.size() == 6);
      CHECK(metric(r, "workers.started") == 6);
    }
    // No thread is busier than the whole span.
    CHECK(metric(r, "utilization.perWorker.max") <= 1.0001);
  }
}

TEST_CASE("worker_pool.poisson_waits_count_from_the_intended_arrival") {
  // On the main thread, tasks of 20 ms arriving every ~1 ms queue behind each other: waitTime
  // grows, although each task is "submitted" late (coordinated omission would hide it).
  const auto r = run_workload(
      "workload: { strategy: main-thread, tasks: 10, task_ms: 20, arrival: poisson, rate: 1000, "
      "seed: 1 }\n");
  CHECK(r.lines.back() == "done: 10 tasks settled");
  CHECK(metric(r, "waitTime.max_ms") >= 100);  // the last waits for most of the others
}

TEST_CASE("worker_pool.messaging") {
  {
    const auto r = run_workload("messaging: { mode: transfer, bytes: 1048576, rounds: 3 }\n");
    CHECK(r.lines == Lines{"transfer: 3 messages of 1048576 bytes; after postMessage the sender's "
                           "buffer has 0 bytes (detached: the worker owns it now)"});
    CHECK(metric(r, "messaging.copiesPerMessage") == 0);
  }
  {
    const auto r = run_workload("messaging: { mode: clone, bytes: 4096, rounds: 2 }\n");
    CHECK(r.lines == Lines{"clone: 2 messages of 4096 bytes; after postMessage the sender's "
                           "buffer has 4096 bytes (the worker got a copy)"});
    CHECK(metric(r, "messaging.senderBytesAfter") == 4096);
  }
  {
    const auto r = run_workload("messaging: { mode: shared, increments: 100000 }\n");
    CHECK(r.lines.at(0) ==
          "Atomics.add from 2 threads x 100000: counter = 200000 (expected "
          "200000)");
    CHECK(metric(r, "atomics.addTotal") == 200000);
    CHECK(metric(r, "atomics.loadStoreTotal") <= 200000);
    CHECK(metric(r, "atomics.lostUpdates") == 200000 - metric(r, "atomics.loadStoreTotal"));
  }
}
