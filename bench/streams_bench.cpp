// Benchmarks of lab-streams: the `flow` block (labs/streams/flow.cpp) run through the same
// loader, interpreter and runtime as the lab, so every figure is the lab's own code moving
// real bytes.
//
//   BM_Streams_Pipeline/transport:{memory,pipe,tcp}/hwm:{1K,16K,64K,1M}
//       pipeline(/dev/zero ReadStream, Transform, sink) of 64 MiB, chunk = highWaterMark;
//       the far end (pipe, tcp) is the Asio peer reading as fast as it can.
//   BM_Streams_Backpressure/mode:{ignore,honor}
//       64 MiB written into a Transform -> TCP socket whose peer reads 256 MB/s: the peak of
//       bytes buffered in user space, against the bound highWaterMark + one chunk per buffer.
//   BM_Streams_Pipeline1GiB/source:{file,memory}/transport:tcp/hwm:{16K,64K}
//       1 GiB through pipeline(source, Transform, socket) over loopback TCP, the source
//       fs.createReadStream('/dev/zero') or a Readable pushing Buffer.alloc(chunk): the figures
//       bench/streams-node/compare.sh sets against Node 20's stream.pipeline. loop_sys_share
//       is the share of the loop thread's CPU time spent in the kernel (getrusage).
//
//   build/bin/bench-streams --benchmark_repetitions=3 --benchmark_report_aggregates_only=true

#include <benchmark/benchmark.h>
#include <sys/resource.h>
#include <uv.h>

#include <fmt/format.h>

#include <string>

#include "metrics/metric_set.hpp"
#include "runtime/runtime.hpp"
#include "script/interpreter.hpp"
#include "script/scenario.hpp"
#include "streams/world.hpp"

namespace {

using namespace nodelab;

struct FlowResult {
  metrics::MetricSet m;
  double loop_user_ms = 0, loop_sys_ms = 0;  // the calling (loop) thread's CPU time
  double get(std::string_view path) const { return m.get(path).value_or(0); }
};

// Loads a scenario holding only a `flow` block and runs it once.
FlowResult run_flow(const script::OpRegistry& registry, const std::string& flow_yaml) {
  const std::string text = "lab: streams\nmain: []\nflow:\n" + flow_yaml;
  const script::Scenario s = script::parse_scenario(text, "bench.yaml", registry);
  runtime::RuntimeOptions options;
  options.record_callbacks = false;
  runtime::Runtime rt(options);
  FlowResult r;
  rusage before{}, after{};
  getrusage(RUSAGE_THREAD, &before);
  {
    script::Interpreter interp(s, rt);
    interp.run();
    rt.collect_metrics(r.m);
    interp.extension<streams::World>().collect(r.m);
  }
  rt.shutdown();
  getrusage(RUSAGE_THREAD, &after);
  auto ms = [](const timeval& a, const timeval& b) {
    return static_cast<double>(b.tv_sec - a.tv_sec) * 1e3 +
           static_cast<double>(b.tv_usec - a.tv_usec) / 1e3;
  };
  r.loop_user_ms = ms(before.ru_utime, after.ru_utime);
  r.loop_sys_ms = ms(before.ru_stime, after.ru_stime);
  return r;
}

std::string hwm_name(std::int64_t hwm) {
  return hwm >= (1 << 20) ? fmt::format("{}M", hwm >> 20) : fmt::format("{}K", hwm >> 10);
}

void report(benchmark::State& state, const FlowResult& r, std::uint64_t bytes) {
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes));
  state.counters["peak_buffered_bytes"] = r.get("flow.bufferedPeak");
  state.counters["sink_writable_peak"] = r.get("sink.writableLengthPeak");
  state.counters["flow_MBps"] = r.get("flow.throughput_MBps");
  state.counters["write_false"] = r.get("flow.writeFalse");
  state.counters["rss_peak_MiB"] = r.get("memory.rssPeak_bytes") / (1 << 20);
  const double cpu = r.loop_user_ms + r.loop_sys_ms;
  state.counters["loop_sys_share"] = cpu > 0 ? r.loop_sys_ms / cpu : 0;
  state.counters["loop_user_ms"] = r.loop_user_ms;
  state.counters["loop_sys_ms"] = r.loop_sys_ms;
}

void BM_Streams_Pipeline(benchmark::State& state, const std::string& transport, std::int64_t hwm,
                         std::uint64_t bytes, const std::string& source = "file") {
  const auto registry = streams::registry();
  const std::string flow = fmt::format(
      "  transport: {}\n  mode: pipeline\n  source: {}\n  bytes: {}\n  chunk: {}\n"
      "  highWaterMark: {}\n  transforms: [ {{}} ]\n",
      transport, source, bytes, hwm, hwm);
  FlowResult r;
  for (auto _ : state) {
    r = run_flow(registry, flow);
    if (r.get("flow.deliveredBytes") != static_cast<double>(bytes)) {
      state.SkipWithError("the far end did not receive every byte");
      break;
    }
  }
  report(state, r, bytes);
  // Three buffers (the Transform's two sides and the sink) plus the source's, each bounded by
  // highWaterMark + one chunk.
  state.counters["bound_bytes"] = static_cast<double>(4 * (hwm + hwm));
}

void BM_Streams_Backpressure(benchmark::State& state, const std::string& mode) {
  const auto registry = streams::registry();
  constexpr std::uint64_t kBytes = 64ull << 20;
  constexpr std::int64_t kChunk = 16384, kHwm = 16384;
  const std::string flow = fmt::format(
      "  transport: tcp\n  mode: {}\n  bytes: {}\n  chunk: {}\n  highWaterMark: {}\n"
      "  transforms: [ {{}} ]\n  peer_rate: 268435456\n",
      mode, kBytes, kChunk, kHwm);
  FlowResult r;
  for (auto _ : state) {
    r = run_flow(registry, flow);
    if (r.get("flow.deliveredBytes") != static_cast<double>(kBytes)) {
      state.SkipWithError("the far end did not receive every byte");
      break;
    }
  }
  report(state, r, kBytes);
  // Honor's bound: the Transform's writable and readable sides and the socket's writableLength,
  // each at most highWaterMark + one chunk.
  const double bound = 3.0 * (kHwm + kChunk);
  state.counters["bound_bytes"] = bound;
  state.counters["within_bound"] = r.get("flow.bufferedPeak") <= bound ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::AddCustomContext("libuv", uv_version_string());
  for (const char* transport : {"memory", "pipe", "tcp"}) {
    for (const std::int64_t hwm : {1 << 10, 16 << 10, 64 << 10, 1 << 20}) {
      // 1 KiB chunks cost ~100x more callbacks per byte: 16 MiB keeps an iteration short.
      const std::uint64_t bytes = hwm == (1 << 10) ? (16ull << 20) : (64ull << 20);
      benchmark::RegisterBenchmark(
          fmt::format("BM_Streams_Pipeline/transport:{}/hwm:{}", transport, hwm_name(hwm)).c_str(),
          [transport = std::string(transport), hwm, bytes](benchmark::State& st) {
            BM_Streams_Pipeline(st, transport, hwm, bytes);
          })
          ->Unit(benchmark::kMillisecond)
          ->UseRealTime();
    }
  }
  // honor first: RSS is the process's, and ignore leaves its peak behind in the allocator.
  for (const char* mode : {"honor", "ignore"}) {
    benchmark::RegisterBenchmark(
        fmt::format("BM_Streams_Backpressure/mode:{}", mode).c_str(),
        [mode = std::string(mode)](benchmark::State& st) { BM_Streams_Backpressure(st, mode); })
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
  }
  for (const char* source : {"file", "memory"}) {
    for (const std::int64_t hwm : {16 << 10, 64 << 10}) {
      benchmark::RegisterBenchmark(
          fmt::format("BM_Streams_Pipeline1GiB/source:{}/transport:tcp/hwm:{}", source,
                      hwm_name(hwm))
              .c_str(),
          [source = std::string(source), hwm](benchmark::State& st) {
            BM_Streams_Pipeline(st, "tcp", hwm, 1ull << 30, source);
          })
          ->Unit(benchmark::kMillisecond)
          ->UseRealTime()
          ->Iterations(1);
    }
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
