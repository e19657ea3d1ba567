// Benchmarks of the EventEmitter (common/events/event_emitter.hpp, as lab-emitter uses it):
// the cost of an emit as the listener array grows, and the leak against its mitigations after
// N requests. bench/emitter-node/run.sh runs BM_Emitter_Emit side by side with node's.
//
//   build/bin/bench-emitter --benchmark_repetitions=5 --benchmark_report_aggregates_only=true

#include <benchmark/benchmark.h>
#include <uv.h>

#include <string>

#include "emitter/emitter.hpp"
#include "emitter/world.hpp"
#include "metrics/metric_set.hpp"
#include "runtime/runtime.hpp"
#include "script/interpreter.hpp"
#include "script/scenario.hpp"

namespace {

using namespace nodelab;

// emit() to N no-op listeners: N calls (plus the arrayClone from 2 listeners on).
void BM_Emitter_Emit(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  emitter::EventEmitter e([](std::string_view, const std::string&) {});
  e.set_max_listeners(0);
  for (std::size_t i = 0; i < n; ++i) {
    e.on("data", std::make_shared<emitter::Function>(emitter::Function{"l", [] {}, {}}));
  }
  for (auto _ : state)
    benchmark::DoNotOptimize(e.emit("data"));
  state.counters["per_emit"] = benchmark::Counter(
      1, benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
  state.counters["per_listener"] =
      benchmark::Counter(static_cast<double>(n), benchmark::Counter::kIsIterationInvariantRate |
                                                     benchmark::Counter::kInvert);
}

const std::string kLeak =
    std::string(NODELAB_SOURCE_SCENARIO_DIR) + "/emitter/leak-vs-mitigations.yaml";

// The leak-vs-mitigations scenario (10 000 requests x 4 KiB) under one strategy.
void BM_Emitter_Leak(benchmark::State& state, const std::string& variant) {
  const auto registry = emitter::registry();
  const script::Scenario s = script::load_scenario(kLeak, registry, {}, variant);
  double retained = 0, listeners = 0, per_listener = 0;
  for (auto _ : state) {
    runtime::RuntimeOptions options;
    options.record_callbacks = false;
    runtime::Runtime rt(options);
    script::Interpreter interp(s, rt);
    interp.run();
    metrics::MetricSet m;
    interp.extension<emitter::World>().collect(m);
    retained = m.get("retainedBytes.final").value_or(0);
    listeners = m.get("listeners.final").value_or(0);
    per_listener = m.get("emit.perListener_ns").value_or(0);
  }
  state.counters["retained_bytes"] = retained;
  state.counters["listener_count"] = listeners;
  state.counters["emit_ns_per_listener"] = per_listener;
  state.counters["requests"] = 10000;
}

void register_all() {
  benchmark::AddCustomContext("libuv", uv_version_string());
  benchmark::RegisterBenchmark("BM_Emitter_Emit", BM_Emitter_Emit)
      ->ArgName("listeners")
      ->Arg(1)
      ->Arg(10)
      ->Arg(100)
      ->Arg(1000);
  const std::pair<const char*, const char*> strategies[] = {
      {"leak", "leak"}, {"off", "off"}, {"once", "once"}, {"abort", "abort"}};
  for (const auto& [name, variant] : strategies) {
    benchmark::RegisterBenchmark(
        (std::string("BM_Emitter_Leak/strategy:") + name).c_str(),
        [variant = std::string(variant)](benchmark::State& st) { BM_Emitter_Leak(st, variant); })
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime()
        ->Iterations(3);
  }
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
