// lab-streams: Node's stream backpressure, exactly, over memory, a real OS pipe and TCP.
//
// The mechanism: lib/internal/streams/{writable,readable,transform,pipeline}.js count what
// each stream buffers (`length`) against its highWaterMark. write() returns false once the
// buffer reaches it and 'drain' fires when it empties; push() returns false at the mark and
// only one _read is outstanding. A producer that honours those signals holds memory to a
// highWaterMark per stage; one that ignores them buffers everything it produces.
// The model is labs/streams/stream.hpp; the `flow` block with its transports is
// labs/streams/flow.cpp.

#include <fmt/format.h>

#include "nodelab/lab_list.hpp"
#include "report/run_report.hpp"
#include "streams/world.hpp"

nodelab::cli::LabSpec nodelab::labs::spec_streams() {
  nodelab::cli::LabSpec spec;
  spec.id = "streams";
  spec.summary = "Node's stream backpressure, exactly, over memory, a real pipe and TCP";
  spec.headline = "honor-backpressure";
  spec.make_registry = [] { return nodelab::streams::registry(); };
  spec.collect_metrics = [](nodelab::script::Interpreter& interp,
                            nodelab::metrics::MetricSet& out) {
    interp.extension<nodelab::streams::World>().collect(out);
  };
  spec.default_max_memory_mib = 512;
  spec.compare_in_children = true;
  spec.compare_columns = {{"peak buffered", "bytes", "flow.bufferedPeak"},
                          {"sink peak wl", "bytes", "sink.writableLengthPeak"},
                          {"false", "", "flow.writeFalse"},
                          {"paused", "ms", "flow.paused_ms"},
                          {"MB/s", "", "flow.throughput_MBps"},
                          {"rss peak", "", "memory.rssPeak_bytes"},
                          {"total", "ms", "loop.total_ms"}};
  // Unbounded buffering (scenarios/streams/README.md, "Verdicts"): the stages held more than four
  // times what backpressure allows them (flow.bufferBound: each buffer's highWaterMark plus a
  // chunk), or the lab's memory ceiling stopped the producer.
  spec.diagnose = [](const nodelab::metrics::MetricSet& m) {
    std::vector<nodelab::report::Finding> out;
    const double peak = m.get("flow.bufferedPeak").value_or(0);
    const double bound = m.get("flow.bufferBound").value_or(0);
    const bool ceiling = m.get("flow.ceilingHit").value_or(0) > 0;
    if (ceiling || (bound > 0 && peak > 4 * bound)) {
      const bool objects = m.get("flow.objects").value_or(0) > 0;
      auto amount = [&](double v) {
        return objects ? fmt::format("{} objects",
                                     nodelab::report::thousands(static_cast<std::uint64_t>(v)))
                       : nodelab::report::format_bytes(v);
      };
      out.push_back(
          {"unbounded buffering",
           fmt::format("the stages held up to {}, {:.0f}x the {} that backpressure allows{}",
                       amount(peak), bound > 0 ? peak / bound : 0.0, amount(bound),
                       ceiling ? "; the memory ceiling stopped the producer" : ""),
           "honour write()'s false and wait for 'drain', or connect the stages with "
           "pipeline()"});
    }
    return out;
  };
  spec.tour = {
      {"ignore-backpressure", false,
       "a producer that ignores write()'s false over a real TCP socket: the bytes pile up in the "
       "Writable's buffer far past its 16 KiB highWaterMark, until a ceiling stops it"},
      {"honor-backpressure", true,
       "the same producer waiting for 'drain': every stage stays at its highWaterMark, over TCP, "
       "a pipe or memory, and the peer's read rate sets the pace"}};
  return spec;
}
