// The `flow` block over its three transports (labs/streams/flow.cpp), run as the lab runs a
// scenario: real bytes through the kernel to the Asio peer, every handle closed afterwards
// (rt.shutdown() == 0 is uv_loop_close() == 0). No timing assertions: counts and bounds only.

#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <string>

#include "metrics/metric_set.hpp"
#include "nodelab/lab_list.hpp"
#include "runtime/runtime.hpp"
#include "script/interpreter.hpp"
#include "script/scenario.hpp"
#include "streams/world.hpp"
#include "support/runtime_helpers.hpp"

using namespace nodelab;
using namespace std::chrono_literals;

namespace {

struct FlowRun {
  std::vector<std::string> logs;
  metrics::MetricSet m;
  runtime::Outcome outcome = runtime::Outcome::completed;
  int loop_close = -1;
  std::size_t pool_tasks = 0;    // threadpool work spans
  std::uint32_t iterations = 0;  // loop iterations that ran a callback
  double get(std::string_view p) const { return m.get(p).value_or(-1); }
  std::map<std::string, double> series_max;  // the timeline's rows (Runtime::sample_at)
  std::map<std::string, std::size_t> series_points;
};

FlowRun run_flow(const std::string& flow_yaml) {
  static const auto registry = streams::registry();
  const script::Scenario s = script::parse_scenario("lab: streams\nmain: []\nflow:\n" + flow_yaml,
                                                    "flow_test.yaml", registry);
  FlowRun r;
  runtime::Runtime rt;
  {
    script::Interpreter interp(s, rt);
    r.outcome = interp.run().outcome;
    interp.extension<streams::World>().collect(r.m);
  }
  r.logs = testing::log_texts(rt);
  r.pool_tasks = rt.recorder().work_spans().size();
  for (const auto& c : rt.recorder().counters()) {
    r.series_max[c.name] = std::max(r.series_max[c.name], c.value);
    ++r.series_points[c.name];
  }
  for (const auto& c : rt.recorder().callbacks())
    r.iterations = std::max(r.iterations, c.iteration);
  r.loop_close = rt.shutdown();
  return r;
}

}  // namespace

TEST_CASE("streams.flow_tcp_moves_every_byte_through_the_kernel") {
  runtime::Watchdog wd(60s);
  const FlowRun r = run_flow(
      "  transport: tcp\n  mode: pipeline\n  bytes: 4194304\n  chunk: 16384\n"
      "  transforms: [ {} ]\n");
  CHECK(r.outcome == runtime::Outcome::completed);
  REQUIRE(r.logs.size() == 2);
  CHECK(r.logs[1] == "done: peer received 4194304 bytes");
  // The peer counted what it read from its socket: the bytes crossed the kernel.
  CHECK(r.get("flow.peerBytes") == 4194304);
  CHECK(r.get("flow.leakedHandles") == 0);
  CHECK(r.loop_close == 0);
}

TEST_CASE("streams.flow_pipe_honor_stays_within_the_bound") {
  runtime::Watchdog wd(60s);
  const FlowRun r = run_flow(
      "  transport: pipe\n  mode: honor\n  bytes: 2097152\n  chunk: 16384\n"
      "  transforms: [ {} ]\n  peer_rate: 8388608\n");
  CHECK(r.get("flow.peerBytes") == 2097152);
  // t1's two sides and the sink: each at most highWaterMark (16384) + one chunk (16384).
  CHECK(r.get("flow.bufferedPeak") <= 3 * (16384 + 16384));
  // A slow reader behind a 64 KiB pipe buffer: the producer must have been told to wait.
  CHECK(r.get("flow.writeFalse") >= 1);
  CHECK(r.loop_close == 0);
}

TEST_CASE("streams.flow_ignore_is_stopped_by_the_ceiling") {
  runtime::Watchdog wd(60s);
  const FlowRun r = run_flow(
      "  transport: memory\n  mode: ignore\n  bytes: 1073741824\n  chunk: 65536\n"
      "  peer_rate: 1048576\n  max_buffered: 8388608\n");
  REQUIRE(r.logs.size() == 2);
  CHECK(r.logs[1] ==
        "ceiling: more than 8388608 bytes buffered: the producer stops and destroys the sink");
  CHECK(r.get("flow.ceilingHit") == 1);
  CHECK(r.get("flow.bufferedPeak") > 8388608);
  // It stopped long before producing the whole gigabyte.
  CHECK(r.get("flow.sourceBytes") < 1073741824);
  CHECK(r.loop_close == 0);
}

TEST_CASE("streams.flow_pipe_mode_error_leaks_the_source_fd_and_the_socket") {
  runtime::Watchdog wd(60s);
  const FlowRun r = run_flow(
      "  transport: tcp\n  mode: pipe\n  bytes: 8388608\n  chunk: 65536\n"
      "  transforms: [ {} ]\n  fail: { stage: t1, at: 5 }\n");
  REQUIRE(r.logs.size() == 4);
  CHECK(r.logs[1] == "t1 error: t1 failed");
  CHECK(r.logs[2] ==
        "after 50 ms: source destroyed=false (fd open), t1 destroyed=true, sink destroyed=false "
        "(socket open)");
  CHECK(r.get("flow.leakedHandles") == 2);
  // The lab's cleanup closed them: nothing outlives the run.
  CHECK(r.loop_close == 0);
}

TEST_CASE("streams.flow_memory_source_pushes_synchronously_and_holds_no_fd") {
  runtime::Watchdog wd(60s);
  // 4 MiB in 16 KiB chunks: the file source takes a threadpool round trip (and at least one
  // loop iteration) per chunk; the memory source pushes inside _read, so the socket, which
  // takes every write at once while the peer keeps up, is the only thing that can yield.
  const std::string flow =
      "  transport: tcp\n  mode: pipe\n  bytes: 4194304\n  chunk: 16384\n"
      "  highWaterMark: 16384\n  transforms: [ {} ]\n";
  const FlowRun file = run_flow(flow);
  const FlowRun memory = run_flow(flow + "  source: memory\n");
  REQUIRE(memory.logs.size() == 2);
  CHECK(memory.logs[0] ==
        "flow: 4194304 bytes in 16384-byte chunks, mode pipe from a memory source, 1 "
        "transform(s), tcp sink, highWaterMark 16384");
  CHECK(memory.logs[1] == "done: peer received 4194304 bytes");
  CHECK(memory.get("flow.sourceBytes") == 4194304);
  CHECK(memory.get("flow.peerBytes") == 4194304);
  CHECK(memory.pool_tasks == 0);
  CHECK(file.pool_tasks >= 256);
  CHECK(file.iterations >= 256);
  CHECK(memory.iterations < file.iterations);
  CHECK(memory.loop_close == 0);

  // A failure report names no fd for a source that has none.
  const FlowRun failed = run_flow(flow + "  source: memory\n  fail: { stage: t1, at: 5 }\n");
  REQUIRE(failed.logs.size() == 4);
  CHECK(failed.logs[2] ==
        "after 50 ms: source destroyed=false, t1 destroyed=true, sink destroyed=false (socket "
        "open)");
  CHECK(failed.get("flow.leakedHandles") == 1);
  CHECK(failed.loop_close == 0);
}

TEST_CASE("streams.flow_tcp_socket_flushes_what_waits_behind_a_write_with_writev") {
  runtime::Watchdog wd(60s);
  // A peer slower than the producer: the kernel's buffers fill, a write goes to libuv's queue,
  // and the 4 KiB chunks written meanwhile (up to the 16 KiB mark) wait in the socket's
  // Writable. When the write completes, net.Socket's _writev takes them all in one writev(2).
  // The peer reads 16 MiB/s, slower than the producer even under ASan or TSan (at 64 MiB/s an
  // ASan build never filled the kernel's buffers: no write ever waited).
  const FlowRun r = run_flow(
      "  transport: tcp\n  mode: honor\n  bytes: 16777216\n  chunk: 4096\n"
      "  highWaterMark: 16384\n  transforms: [ {} ]\n  peer_rate: 16777216\n");
  CHECK(r.outcome == runtime::Outcome::completed);
  CHECK(r.get("flow.peerBytes") == 16777216);
  CHECK(r.get("sink.writevCalls") >= 1);
  CHECK(r.get("sink.writevChunks") >= 2 * r.get("sink.writevCalls"));
  // Nothing waits longer than the mark allows: at most hwm / chunk chunks per batch.
  CHECK(r.get("sink.writevChunks") <= 4 * r.get("sink.writevCalls"));
  CHECK(r.loop_close == 0);
}

TEST_CASE("streams.flow_pipeline_error_destroys_everything") {
  runtime::Watchdog wd(60s);
  const FlowRun r = run_flow(
      "  transport: tcp\n  mode: pipeline\n  bytes: 8388608\n  chunk: 65536\n"
      "  transforms: [ {} ]\n  fail: { stage: t1, at: 5 }\n");
  REQUIRE(r.logs.size() == 4);
  CHECK(r.logs[2] == "pipeline callback: error=t1 failed");
  CHECK(r.logs[3] ==
        "after 50 ms: source destroyed=true (fd closed), t1 destroyed=true, sink destroyed=true "
        "(socket closed)");
  CHECK(r.get("flow.leakedHandles") == 0);
  CHECK(r.loop_close == 0);
}

TEST_CASE("streams.flow_timeline_rows_show_the_peaks_the_metrics_report") {
  runtime::Watchdog wd(60s);
  // The peer reads 8 MiB/s: the kernel's buffers fill and the socket's writableLength is a
  // chunk while each write waits for the kernel, 0 whenever the producer writes. The rows
  // record the largest value of each millisecond, so their peaks are the metrics' (rows
  // sampled at the producer's writes drew sink.writableLength flat at 0 under a 16 KiB peak).
  const FlowRun r = run_flow(
      "  transport: tcp\n  mode: honor\n  bytes: 2097152\n  chunk: 16384\n"
      "  transforms: [ {} ]\n  peer_rate: 8388608\n");
  CHECK(r.get("flow.peerBytes") == 2097152);
  REQUIRE(r.series_points.count("sink.writableLength") == 1);
  REQUIRE(r.series_points.count("bufferedBytes") == 1);
  CHECK(r.get("sink.writableLengthPeak") >= 16384);
  CHECK(r.series_max.at("sink.writableLength") == r.get("sink.writableLengthPeak"));
  CHECK(r.series_max.at("bufferedBytes") == r.get("flow.bufferedPeak"));
  CHECK(r.loop_close == 0);
}

// The lab's verdict (LabSpec::diagnose, labs/streams/README.md "Verdicts"): ignoring
// backpressure is unbounded buffering; honouring it, over the same pipe, is not.
TEST_CASE("streams.ignoring_backpressure_gets_an_unbounded_buffering_verdict") {
  runtime::Watchdog wd(60s);
  const auto spec = labs::spec_streams();
  REQUIRE(spec.diagnose);
  const FlowRun ignore = run_flow(
      "  transport: memory\n  mode: ignore\n  bytes: 1073741824\n  chunk: 65536\n"
      "  peer_rate: 1048576\n  max_buffered: 8388608\n");
  const auto findings = spec.diagnose(ignore.m);
  REQUIRE(findings.size() == 1);
  CHECK(findings[0].verdict == "unbounded buffering");
  CHECK(findings[0].evidence.find("the memory ceiling stopped the producer") != std::string::npos);
  const FlowRun honor = run_flow(
      "  transport: pipe\n  mode: honor\n  bytes: 2097152\n  chunk: 16384\n"
      "  transforms: [ {} ]\n  peer_rate: 8388608\n");
  CHECK(honor.get("flow.bufferBound") == 3 * (16384 + 16384));
  CHECK(spec.diagnose(honor.m).empty());
}
