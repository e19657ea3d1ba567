// lab-emitter: Node's EventEmitter, exactly; the listener leak, measured; its mitigations.
//
// The mechanism: lib/events.js keeps each event's listeners as one function or an array,
// calls a copy of it on emit, and warns (MaxListenersExceededWarning, via process.nextTick)
// when an array grows past the emitter's limit. A long-lived emitter that gains a listener per
// request and never loses it keeps every closure (and what it captured) alive: the leak.
// The model is common/events/event_emitter.hpp (labs/emitter/emitter.hpp gives it the lab's
// functions); the requests block is labs/emitter/requests.cpp.

#include "emitter/world.hpp"
#include "nodelab/lab_list.hpp"

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
  spec.tour = {
      {"leak-vs-mitigations", true,
       "a listener per request on a long-lived emitter: only the leak retains memory; once() "
       "cleans up but makes each emit walk the array"}};
  return spec;
}
