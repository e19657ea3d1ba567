#include "streams/world.hpp"

#include <fmt/format.h>

#include <stdexcept>

namespace nodelab::streams {

World::~World() {
  controllers.clear();
  for (auto& c : cleanups)
    c();
  for (auto& [name, s] : streams_)
    s->dispose();
}

void World::add(const std::string& name, StreamRef s) {
  streams_.emplace_back(name, std::move(s));
}

StreamRef World::ref(const std::string& name) {
  for (auto& [n, s] : streams_) {
    if (n == name) return s;
  }
  // The loader checks that an earlier op creates every stream an op uses; one in a callback
  // that has not run yet is undefined in the twin too: a TypeError there.
  throw runtime::JsThrow(runtime::JsError{
      "TypeError", "", fmt::format("Cannot read properties of undefined (stream '{}')", name)});
}

Stream& World::get(const std::string& name) {
  return *ref(name);
}

const std::vector<metrics::MetricInfo>& World::metric_table() {
  static const std::vector<metrics::MetricInfo> table = {
      {"writableLength.peak", "",
       "largest writableLength of any stream (bytes; objects in objectMode)"},
      {"readableLength.peak", "", "largest readableLength of any stream"},
      {"write.calls", "", "write() calls on every stream"},
      {"write.falseReturns", "", "write() calls that returned false"},
      {"drain.count", "", "'drain' events emitted"},
      {"writev.calls", "", "_writev calls that flushed more than one buffered chunk"},
      {"writev.chunks", "", "the chunks those _writev calls carried"},
      {"push.falseReturns", "", "push() calls that returned false"},
      {"read.calls", "", "_read() calls"},
      {"pause.count", "", "pause() calls that stopped a flowing stream"},
      {"paused.time_ms", "ms", "time streams spent paused (pause() to resume()/destroy)"},
      {"flow.sourceBytes", "bytes", "bytes the flow's source produced"},
      {"flow.deliveredBytes", "bytes", "bytes that reached the far end (peer or memory sink)"},
      {"flow.objects", "", "objectMode: objects that reached the sink"},
      {"flow.bufferedPeak", "", "most bytes (objects) buffered in all stages at once"},
      {"flow.bufferBound", "",
       "what backpressure holds the stages to: each buffer's highWaterMark plus one chunk"},
      {"flow.writeFalse", "",
       "write() false returns: the producer's (honor/ignore), every stage's (pipe/pipeline)"},
      {"flow.drains", "",
       "'drain' events: the producer's (honor/ignore), every stage's (pipe/pipeline)"},
      {"flow.paused_ms", "ms", "time the producer waited for 'drain', or the source spent paused"},
      {"flow.elapsed_ms", "ms", "from the first byte produced to the far end's last"},
      {"flow.throughput_MBps", "", "delivered bytes / elapsed, in MB/s (10^6 bytes)"},
      {"flow.ceilingHit", "", "1 if the memory ceiling stopped the producer"},
      {"flow.ceiling_bytes", "bytes", "the ceiling on buffered bytes"},
      {"flow.peerBytes", "bytes", "bytes the far end read from the kernel (pipe, tcp)"},
      {"flow.leakedHandles", "", "the fd and socket still open at the failure report"},
      {"source.readableLengthPeak", "", "the source's largest readableLength"},
      {"t1.writableLengthPeak", "", "first transform: largest writableLength"},
      {"t1.readableLengthPeak", "", "first transform: largest readableLength"},
      {"t2.writableLengthPeak", "", "second transform: largest writableLength"},
      {"t2.readableLengthPeak", "", "second transform: largest readableLength"},
      {"t3.writableLengthPeak", "", "third transform: largest writableLength"},
      {"t3.readableLengthPeak", "", "third transform: largest readableLength"},
      {"forAwait.chunks", "", "chunks the bodies of `forAwait` loops got"},
      {"forAwait.bodyReadableLengthMax", "",
       "the largest readableLength a `forAwait` body saw (bytes; objects in objectMode)"},
      {"abort.count", "", "abort() calls that aborted an AbortController's signal"},
      {"abort.sinkWrites", "", "write() calls the pipeline's last stage had got at the abort"},
      {"sink.writableLengthPeak", "",
       "the sink's largest writableLength (tcp: the socket's queue)"},
      {"sink.writeFalse", "", "write() false returns of the sink"},
      {"sink.drains", "", "'drain' events of the sink"},
      {"sink.writevCalls", "", "the sink's _writev calls (tcp, pipe: one writev(2) each)"},
      {"sink.writevChunks", "", "the chunks those _writev calls carried"},
  };
  return table;
}

void World::collect(metrics::MetricSet& out) {
  if (refresh) refresh();
  StreamStats all;
  double paused_ms = 0;
  auto add = [&](const StreamStats& s) {
    all.writable_length_peak = std::max(all.writable_length_peak, s.writable_length_peak);
    all.readable_length_peak = std::max(all.readable_length_peak, s.readable_length_peak);
    all.writes += s.writes;
    all.write_false += s.write_false;
    all.drains += s.drains;
    all.writevs += s.writevs;
    all.writev_chunks += s.writev_chunks;
    all.push_false += s.push_false;
    all.reads += s.reads;
    all.pauses += s.pauses;
    paused_ms += runtime::to_ms(s.paused_time);
  };
  for (const auto& [n, s] : streams_)
    add(s->stats);
  for (const auto& [n, s] : flow.stages)
    add(s);
  out.set("writableLength.peak", static_cast<double>(all.writable_length_peak));
  out.set("readableLength.peak", static_cast<double>(all.readable_length_peak));
  out.set("write.calls", static_cast<double>(all.writes));
  out.set("write.falseReturns", static_cast<double>(all.write_false));
  out.set("drain.count", static_cast<double>(all.drains));
  out.set("writev.calls", static_cast<double>(all.writevs));
  out.set("writev.chunks", static_cast<double>(all.writev_chunks));
  out.set("push.falseReturns", static_cast<double>(all.push_false));
  out.set("read.calls", static_cast<double>(all.reads));
  out.set("pause.count", static_cast<double>(all.pauses));
  out.set("paused.time_ms", paused_ms);
  if (async.looped) {
    out.set("forAwait.chunks", static_cast<double>(async.loop_chunks));
    out.set("forAwait.bodyReadableLengthMax", static_cast<double>(async.body_length_max));
  }
  if (async.aborted) {
    out.set("abort.count", static_cast<double>(async.aborts));
    out.set("abort.sinkWrites", static_cast<double>(async.abort_sink_writes));
  }
  if (!flow.ran) return;
  const auto d = [](std::uint64_t v) { return static_cast<double>(v); };
  out.set("flow.sourceBytes", d(flow.source_bytes));
  out.set("flow.deliveredBytes", d(flow.delivered_bytes));
  out.set("flow.objects", d(flow.objects));
  out.set("flow.bufferedPeak", d(flow.buffered_peak));
  out.set("flow.bufferBound", d(flow.buffer_bound));
  out.set("flow.writeFalse", d(flow.write_false));
  out.set("flow.drains", d(flow.drains));
  out.set("flow.paused_ms", flow.paused_ms);
  out.set("flow.elapsed_ms", flow.elapsed_ms);
  out.set("flow.throughput_MBps",
          flow.elapsed_ms > 0
              ? std::optional<double>(d(flow.delivered_bytes) / 1e6 / (flow.elapsed_ms / 1000.0))
              : std::nullopt);
  out.set("flow.ceilingHit", flow.ceiling_hit ? 1.0 : 0.0);
  out.set("flow.ceiling_bytes", d(flow.ceiling_bytes));
  out.set("flow.peerBytes", d(flow.kernel_peer_bytes));
  out.set("flow.leakedHandles", d(flow.leaked_handles));
  for (const auto& [name, s] : flow.stages) {
    if (name == "source") {
      out.set("source.readableLengthPeak", d(s.readable_length_peak));
    } else if (name == "sink") {
      out.set("sink.writableLengthPeak", d(s.writable_length_peak));
      out.set("sink.writeFalse", d(s.write_false));
      out.set("sink.drains", d(s.drains));
      out.set("sink.writevCalls", d(s.writevs));
      out.set("sink.writevChunks", d(s.writev_chunks));
    } else if (name == "t1" || name == "t2" || name == "t3") {
      out.set(name + ".writableLengthPeak", d(s.writable_length_peak));
      out.set(name + ".readableLengthPeak", d(s.readable_length_peak));
    }
  }
}

}  // namespace nodelab::streams
