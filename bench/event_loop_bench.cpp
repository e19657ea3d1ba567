// Benchmarks of lab-event-loop: the mitigations of cpu-work-strategies side by side, and the
// runtime's own per-callback cost next to a raw libuv loop.
//
//   build/bin/bench-event-loop --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
//
// Counters carry the figures a candidate cites (delay percentiles, utilization, lateness);
// dispatch benchmarks report the time per callback. Results and how they were taken:
// bench/README.md.

#include <benchmark/benchmark.h>
#include <uv.h>

#include <string>

#include "event-loop/ops.hpp"
#include "metrics/metric_set.hpp"
#include "runtime/runtime.hpp"
#include "script/interpreter.hpp"
#include "script/scenario.hpp"
#include "script/shared_ops.hpp"

namespace {

using namespace nodelab;

const std::string kStrategies =
    std::string(NODELAB_SOURCE_SCENARIO_DIR) + "/event-loop/cpu-work-strategies.yaml";

// ---- mitigations side by side ----

void BM_EventLoop_Starvation(benchmark::State& state, const std::string& strategy) {
  const auto registry = event_loop::registry();
  const script::Scenario s = script::load_scenario(kStrategies, registry, {}, strategy);
  int runs = 0;
  double p50 = 0, p99 = 0, max = 0, elu = 0, drift = 0, total = 0;
  for (auto _ : state) {
    runtime::RuntimeOptions options;
    options.record_callbacks = false;
    runtime::Runtime rt(options);
    script::Interpreter interp(s, rt);
    interp.run();
    metrics::MetricSet m;
    rt.collect_metrics(m);
    p50 += m.get("eventLoopDelay.p50_ms").value_or(0);
    p99 += m.get("eventLoopDelay.p99_ms").value_or(0);
    max += m.get("eventLoopDelay.max_ms").value_or(0);
    elu += m.get("eventLoopUtilization.utilization").value_or(0);
    drift += m.get("timerDrift.max_ms").value_or(0);
    total += m.get("loop.total_ms").value_or(0);
    ++runs;
  }
  const double n = runs > 0 ? runs : 1;
  state.counters["p50_delay_ms"] = p50 / n;
  state.counters["p99_delay_ms"] = p99 / n;
  state.counters["max_delay_ms"] = max / n;
  state.counters["elu"] = elu / n;
  state.counters["timer_drift_ms"] = drift / n;
  state.counters["total_ms"] = total / n;
}

// ---- dispatch: the runtime's cost per callback ----

constexpr int kCallbacks = 100'000;

enum class Op { set_immediate, next_tick, set_timeout, promise };

// A callback that re-schedules itself `kCallbacks` times through one queue (setTimeout:
// kCallbacks timers due at once, all run in one timers phase).
void BM_EventLoop_Dispatch(benchmark::State& state, Op op) {
  const bool record = state.range(0) != 0;
  for (auto _ : state) {
    runtime::RuntimeOptions options;
    options.record_callbacks = record;
    options.recorder.max_callbacks = kCallbacks + 16;
    runtime::Runtime rt(options);
    int left = kCallbacks;
    std::function<void()> step;
    step = [&] {
      if (--left <= 0) return;
      switch (op) {
        case Op::set_immediate:
          rt.set_immediate(step, 0);
          break;
        case Op::next_tick:
          rt.next_tick(step, 0);
          break;
        case Op::promise:
          rt.enqueue_microtask(step, 0, runtime::CallbackKind::promise);
          break;
        case Op::set_timeout:
          break;
      }
    };
    rt.run([&] {
      if (op == Op::set_timeout) {
        for (int i = 0; i < kCallbacks; ++i)
          rt.set_timeout(
              0, [] {}, 0);
      } else {
        step();
      }
    });
  }
  state.SetItemsProcessed(state.iterations() * kCallbacks);
  // Seconds per callback (printed with an SI prefix: 250n = 250 ns).
  state.counters["per_callback"] = benchmark::Counter(
      kCallbacks, benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

// The floor: libuv itself, one uv_check callback per loop iteration with an active idle handle
// (so poll does not block), loop configured with UV_METRICS_IDLE_TIME as Node's is.
void BM_EventLoop_RawUvCheck(benchmark::State& state) {
  for (auto _ : state) {
    uv_loop_t loop;
    uv_loop_init(&loop);
    uv_loop_configure(&loop, UV_METRICS_IDLE_TIME);
    struct Ctx {
      int left = kCallbacks;
      uv_idle_t idle;
    } ctx;
    uv_check_t check;
    uv_check_init(&loop, &check);
    uv_idle_init(&loop, &ctx.idle);
    check.data = &ctx;
    uv_idle_start(&ctx.idle, [](uv_idle_t*) {});
    uv_check_start(&check, [](uv_check_t* h) {
      auto* c = static_cast<Ctx*>(h->data);
      if (--c->left <= 0) {
        uv_check_stop(h);
        uv_idle_stop(&c->idle);
      }
    });
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_close(reinterpret_cast<uv_handle_t*>(&check), nullptr);
    uv_close(reinterpret_cast<uv_handle_t*>(&ctx.idle), nullptr);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
  }
  state.SetItemsProcessed(state.iterations() * kCallbacks);
  state.counters["per_callback"] = benchmark::Counter(
      kCallbacks, benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

void register_all() {
  benchmark::AddCustomContext("libuv", uv_version_string());
  for (const char* strategy : {"sync", "chunked", "threadpool", "nexttick"}) {
    benchmark::RegisterBenchmark(
        (std::string("BM_EventLoop_Starvation/strategy:") + strategy).c_str(),
        [strategy](benchmark::State& st) { BM_EventLoop_Starvation(st, strategy); })
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime()
        ->Iterations(3);
  }
  const std::pair<const char*, Op> ops[] = {{"setImmediate", Op::set_immediate},
                                            {"nextTick", Op::next_tick},
                                            {"setTimeout", Op::set_timeout},
                                            {"promise", Op::promise}};
  for (const auto& [name, op] : ops) {
    benchmark::RegisterBenchmark((std::string("BM_EventLoop_Dispatch/op:") + name).c_str(),
                                 [op = op](benchmark::State& st) { BM_EventLoop_Dispatch(st, op); })
        ->ArgName("record")
        ->Arg(0)
        ->Arg(1)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
  }
  benchmark::RegisterBenchmark("BM_EventLoop_RawUvCheck", BM_EventLoop_RawUvCheck)
      ->Unit(benchmark::kMillisecond)
      ->UseRealTime();
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
