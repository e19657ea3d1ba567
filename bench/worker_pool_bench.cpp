// Benchmarks of lab-worker-pool: the four strategies on the same CPU-bound burst, and the
// round trip of an empty task from the main loop to a pool worker and back.
//
//   build/bin/bench-worker-pool --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
//
// Counters (each measured in the run, from the lab's own metrics):
//   throughput        completed tasks per second of the workload's span
//   wait_p99_ms       p99 from a task's intended arrival to its start
//   loop_delay_p99_ms the main loop's monitorEventLoopDelay p99 while the tasks ran
//   roundtrip_p50_us  BM_WorkerPool_RoundTrip: median of the individual round trips

#include <benchmark/benchmark.h>
#include <fmt/format.h>
#include <uv.h>

#include <unistd.h>
#include <cstdio>
#include <fstream>
#include <string>

#include "metrics/histogram.hpp"
#include "metrics/metric_set.hpp"
#include "runtime/runtime.hpp"
#include "script/interpreter.hpp"
#include "script/scenario.hpp"
#include "worker-pool/pool.hpp"
#include "worker-pool/world.hpp"

namespace {

using namespace nodelab;

// A scenario file written once per benchmark, removed at exit.
class ScenarioFile {
 public:
  explicit ScenarioFile(const std::string& yaml) {
    char name[] = "/tmp/nodelab-bench-XXXXXX.yaml";
    const int fd = mkstemps(name, 5);
    if (fd >= 0) close(fd);
    path_ = name;
    std::ofstream(path_) << yaml;
  }
  ~ScenarioFile() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// `tasks` tasks of `task_us` each, in a burst, run by `strategy` (workers: the pool's size).
void BM_WorkerPool_Strategy(benchmark::State& state, const std::string& strategy, int workers,
                            int task_us) {
  // About 200 ms of CPU; a worker per task starts at most 200 threads.
  int tasks = std::max(16, 200'000 / std::max(task_us, 1));
  if (strategy == "worker-per-task") tasks = std::min(tasks, 200);
  const ScenarioFile file(fmt::format(
      "lab: worker-pool\nmain: []\nworkload:\n  strategy: {}\n  tasks: {}\n  task_ms: {}\n"
      "  worker_startup_ms: 1\n  pool: {{ threads: {} }}\n",
      strategy, tasks, task_us / 1000.0, std::max(workers, 1)));
  const auto registry = worker_pool::registry();
  const script::Scenario s = script::load_scenario(file.path(), registry, {}, {});
  double throughput = 0, wait_p99 = 0, delay_p99 = 0, utilization = 0;
  for (auto _ : state) {
    runtime::RuntimeOptions options;
    options.record_callbacks = false;
    options.eld_resolution = std::chrono::milliseconds(1);
    metrics::MetricSet m;
    {
      runtime::Runtime rt(options);
      {
        script::Interpreter interp(s, rt);
        interp.run();
        rt.collect_metrics(m);
        interp.extension<worker_pool::World>().collect(m);
      }
      rt.shutdown();
    }
    throughput = m.get("throughput.tasksPerSec").value_or(0);
    wait_p99 = m.get("waitTime.p99_ms").value_or(0);
    delay_p99 = m.get("eventLoopDelay.p99_ms").value_or(0);
    utilization = m.get("utilization.total").value_or(0);
  }
  state.counters["throughput"] = throughput;
  state.counters["wait_p99_ms"] = wait_p99;
  state.counters["loop_delay_p99_ms"] = delay_p99;
  state.counters["utilization"] = utilization;
}

// An empty task, main loop -> pool worker -> main loop, `n` times one after another.
void BM_WorkerPool_RoundTrip(benchmark::State& state) {
  const bool atomics = state.range(0) != 0;
  constexpr int kTrips = 20'000;
  metrics::Histogram trips;
  for (auto _ : state) {
    runtime::RuntimeOptions options;
    options.record_callbacks = false;
    runtime::Runtime rt(options);
    {
      worker_pool::PoolOptions o;
      o.min_threads = 1;
      o.max_threads = 1;
      o.atomics = atomics;
      o.idle_timeout_ms = INFINITY;
      std::deque<worker_pool::TaskRecord> records(kTrips);
      std::unique_ptr<worker_pool::Pool> pool;
      int next = 0;
      runtime::Nanos sent{0};
      std::function<void()> send = [&] {
        worker_pool::TaskRecord& t = records[static_cast<std::size_t>(next)];
        t.id = static_cast<std::uint32_t>(++next);
        t.steps = 0;
        sent = runtime::hrtime();
        pool->submit(t, [&](worker_pool::TaskRecord&) {
          trips.record(static_cast<std::uint64_t>((runtime::hrtime() - sent).count()));
          if (next < kTrips) send();
        });
      };
      rt.run([&] {
        pool = std::make_unique<worker_pool::Pool>(rt, 0, o);
        send();
      });
      pool.reset();
    }
    rt.shutdown();
  }
  state.counters["roundtrip_p50_us"] = static_cast<double>(trips.percentile(50)) / 1e3;
  state.counters["roundtrip_p99_us"] = static_cast<double>(trips.percentile(99)) / 1e3;
  state.counters["trips"] = static_cast<double>(trips.count());
}

void register_all() {
  benchmark::AddCustomContext("libuv", uv_version_string());
  benchmark::AddCustomContext("UV_THREADPOOL_SIZE", std::to_string(runtime::threadpool_size()));
  struct Config {
    const char* strategy;
    int workers;  // the pool's size; the threadpool's is UV_THREADPOOL_SIZE
  };
  const Config configs[] = {{"main-thread", 1},
                            {"libuv-threadpool", 4},
                            {"bounded-pool", 1},
                            {"bounded-pool", 2},
                            {"worker-per-task", 0}};
  for (const Config& c : configs) {
    for (const int task_us : {100, 1000}) {
      const std::string strategy = c.strategy;
      const int workers = c.workers;
      benchmark::RegisterBenchmark(
          fmt::format("BM_WorkerPool_Strategy/strategy:{}/workers:{}/task_us:{}", strategy, workers,
                      task_us)
              .c_str(),
          [strategy, workers, task_us](benchmark::State& st) {
            BM_WorkerPool_Strategy(st, strategy, workers, task_us);
          })
          ->Unit(benchmark::kMillisecond)
          ->UseRealTime()
          ->Iterations(3);
    }
  }
  benchmark::RegisterBenchmark("BM_WorkerPool_RoundTrip", BM_WorkerPool_RoundTrip)
      ->ArgName("atomics")
      ->Arg(1)
      ->Arg(0)
      ->Unit(benchmark::kMillisecond)
      ->UseRealTime()
      ->Iterations(1);
}

}  // namespace

int main(int argc, char** argv) {
  register_all();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
