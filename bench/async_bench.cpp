// Benchmarks of the async lab's I/O (labs/async/calls.cpp on common/net, against
// common/peers' Downstream):
//   BM_Async_FanOut/limit:{1,16,unbounded}  256 calls to a service answering at once
//                                           (fixed:0, capacity 32), through p-limit(K) or not
//   BM_Async_KeepAlive/client:lab           500 sequential keep-alive GETs by the lab's client
//   BM_Async_KeepAlive/client:node          the same 500 by node's http client (a node process,
//                                           timed by itself), against the same Downstream
//
//   build/bin/bench-async --benchmark_repetitions=3 --benchmark_report_aggregates_only=true

#include <benchmark/benchmark.h>
#include <uv.h>

#include <cstdio>
#include <string>

#include "async/io_world.hpp"
#include "async/ops.hpp"
#include "metrics/metric_set.hpp"
#include "peers/downstream.hpp"
#include "runtime/runtime.hpp"
#include "script/interpreter.hpp"
#include "script/scenario.hpp"

namespace {

using namespace nodelab;

std::string fan_out_yaml(std::int64_t limit) {
  return "lab: async\n"
         "downstream:\n  api: { latency: \"fixed:0\", capacity: 32 }\n"
         "main:\n  - calls: { service: api, count: 256, form: all, limit: " +
         std::to_string(limit) + " }\n";
}

// One run of a scenario text; its io metrics.
metrics::MetricSet run_text(const std::string& yaml, const script::OpRegistry& registry) {
  const script::Scenario s = script::parse_scenario(yaml, "bench.yaml", registry);
  runtime::RuntimeOptions options;
  options.record_callbacks = false;
  runtime::Runtime rt(options);
  metrics::MetricSet m;
  {
    script::Interpreter interp(s, rt);
    interp.run();
    interp.extension<async::IoWorld>().collect(m);
  }
  rt.shutdown();
  return m;
}

void BM_Async_FanOut(benchmark::State& state) {
  const auto registry = async::registry();
  const std::string yaml = fan_out_yaml(state.range(0));
  double ds_in_flight = 0, client_in_flight = 0, p99 = 0;
  for (auto _ : state) {
    const auto m = run_text(yaml, registry);
    ds_in_flight = m.get("downstream.inFlightPeak").value_or(0);
    client_in_flight = m.get("requests.inFlightPeak").value_or(0);
    p99 = m.get("latency.p99_ms").value_or(0);
  }
  state.SetItemsProcessed(state.iterations() * 256);
  state.counters["downstream_in_flight_peak"] = ds_in_flight;
  state.counters["client_in_flight_peak"] = client_in_flight;
  state.counters["p99_ms"] = p99;
}

constexpr int kKeepAliveCalls = 500;

void BM_Async_KeepAlive_Lab(benchmark::State& state) {
  const auto registry = async::registry();
  const std::string yaml =
      "lab: async\ndownstream:\n  api: { latency: \"fixed:0\" }\n"
      "main:\n  - calls: { service: api, count: " +
      std::to_string(kKeepAliveCalls) + ", form: sequential }\n";
  double sockets = 0;
  for (auto _ : state) {
    const auto m = run_text(yaml, registry);
    sockets = m.get("agent.socketsCreated").value_or(0);
  }
  state.SetItemsProcessed(state.iterations() * kKeepAliveCalls);
  state.counters["sockets"] = sockets;
}

// node's http.globalAgent (keepAlive) doing the same sequential GETs against a Downstream in
// this process; node times itself (process start excluded) and prints the milliseconds.
void BM_Async_KeepAlive_Node(benchmark::State& state) {
  peers::DownstreamOptions o;
  o.latency = peers::Latency::fixed(0);
  peers::Downstream ds(o);
  ds.start();
  const std::string script =
      "const http=require('http');const port=+process.argv[1],n=+process.argv[2];"
      "const get=()=>new Promise((ok,ko)=>http.get({host:'127.0.0.1',port,path:'/'},r=>{"
      "r.resume();r.on('end',ok)}).on('error',ko));"
      "(async()=>{const t=process.hrtime.bigint();for(let i=0;i<n;i++)await get();"
      "console.log(Number(process.hrtime.bigint()-t)/1e6)})()";
  const std::string cmd = "node -e \"" + script + "\" " + std::to_string(ds.port()) + " " +
                          std::to_string(kKeepAliveCalls) + " 2>/dev/null";
  for (auto _ : state) {
    FILE* p = ::popen(cmd.c_str(), "r");
    double ms = -1;
    if (p == nullptr || std::fscanf(p, "%lf", &ms) != 1) ms = -1;
    if (p != nullptr) ::pclose(p);
    if (ms < 0) {
      state.SkipWithError("node did not run");
      break;
    }
    state.SetIterationTime(ms / 1000.0);
  }
  state.SetItemsProcessed(state.iterations() * kKeepAliveCalls);
  ds.stop();
}

void register_all() {
  benchmark::AddCustomContext("libuv", uv_version_string());
  const std::pair<const char*, std::int64_t> limits[] = {{"1", 1}, {"16", 16}, {"unbounded", 0}};
  for (const auto& [name, limit] : limits) {
    benchmark::RegisterBenchmark((std::string("BM_Async_FanOut/limit:") + name).c_str(),
                                 BM_Async_FanOut)
        ->Arg(limit)
        ->UseRealTime()
        ->Unit(benchmark::kMillisecond);
  }
  benchmark::RegisterBenchmark("BM_Async_KeepAlive/client:lab", BM_Async_KeepAlive_Lab)
      ->UseRealTime()
      ->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("BM_Async_KeepAlive/client:node", BM_Async_KeepAlive_Node)
      ->UseManualTime()
      ->Unit(benchmark::kMillisecond);
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
