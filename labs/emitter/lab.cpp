// lab-emitter: Node's EventEmitter, exactly; the listener leak, measured; its mitigations.
//
// The mechanism: lib/events.js keeps each event's listeners as one function or an array,
// calls a copy of it on emit, and warns (MaxListenersExceededWarning, via process.nextTick)
// when an array grows past the emitter's limit. A long-lived emitter that gains a listener per
// request and never loses it keeps every closure (and what it captured) alive: the leak.
// The model is common/events/event_emitter.hpp (labs/emitter/emitter.hpp gives it the lab's
// functions); the requests block is labs/emitter/requests.cpp.

#include <fmt/format.h>

#include "emitter/world.hpp"
#include "nodelab/lab_list.hpp"
#include "report/run_report.hpp"

nodelab::cli::LabSpec nodelab::labs::spec_emitter() {
  nodelab::cli::LabSpec spec;
  spec.id = "emitter";
  spec.summary = "Node's EventEmitter, exactly; the listener leak, measured; its mitigations";
  spec.headline = "leak-vs-mitigations";
  spec.make_registry = [] { return nodelab::emitter::registry(); };
  spec.collect_metrics = [](nodelab::script::Interpreter& interp,
                            nodelab::metrics::MetricSet& out) {
    interp.extension<nodelab::emitter::World>().collect(out);
  };
  spec.default_max_memory_mib = 256;
  spec.compare_in_children = true;
  spec.compare_columns = {{"listeners", "final", "listeners.final"},
                          {"peak", "", "listeners.peak"},
                          {"retained", "final", "retainedBytes.final"},
                          {"per 1k req", "", "retainedBytes.per1kRequests"},
                          {"warned at", "request", "warning.firstAtRequest"},
                          {"emit/listener", "ns", "emit.perListener_ns"},
                          {"rss peak", "", "memory.rssPeak_bytes"},
                          {"total", "ms", "loop.total_ms"}};
  // A listener leak (scenarios/emitter/README.md, "Verdicts"): more request listeners still
  // attached at the end than Node's default limit (10, the count it warns past), each keeping
  // its closure alive. The memory is the lesson, so this verdict comes before the loop's.
  spec.diagnose = [](const nodelab::metrics::MetricSet& m) {
    std::vector<nodelab::report::Finding> out;
    const double listeners = m.get("listeners.final").value_or(0);
    if (listeners > 10) {
      std::string evidence = fmt::format(
          "{} request listeners still attached at the end, retaining {} ({} more per 1000 "
          "requests)",
          nodelab::report::thousands(static_cast<std::uint64_t>(listeners)),
          nodelab::report::format_bytes(m.get("retainedBytes.final").value_or(0)),
          nodelab::report::format_bytes(m.get("retainedBytes.per1kRequests").value_or(0)));
      if (m.get("requests.stoppedAt").value_or(0) > 0) {
        evidence += fmt::format("; the ceiling stopped the requests before request {}",
                                nodelab::report::thousands(static_cast<std::uint64_t>(
                                    m.get("requests.stoppedAt").value_or(0))));
      }
      out.push_back({"listener leak", evidence,
                     "remove each listener when its request ends (off), or tie it to the "
                     "request with an AbortSignal"});
    }
    return out;
  };
  // The requests block runs its requests back to back (a setImmediate chain): the loop is busy
  // by design, whichever strategy runs.
  spec.driver_keeps_loop_busy = true;
  spec.tour = {
      {"leak-vs-mitigations", true,
       "a listener per request on a long-lived emitter: only the leak retains memory; once() "
       "cleans up but makes each emit walk the array"}};
  return spec;
}
