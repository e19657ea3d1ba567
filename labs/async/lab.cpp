// lab-async: asynchronous patterns in Node 20: error propagation, parallelism, cancellation
// and concurrency limits, on a real libuv loop.
//
// The mechanism: a promise settles once; its reactions run as V8 microtasks, drained after
// every callback (lib/internal/process/task_queues.js); a rejection nobody handles by the end
// of that drain is Node's business (lib/internal/process/promises.js), which in Node 20's
// default mode kills the process.

#include "async/ops.hpp"
#include "async/world.hpp"
#include "nodelab/lab_list.hpp"

nodelab::cli::LabSpec nodelab::labs::spec_async() {
  nodelab::cli::LabSpec spec;
  spec.id = "async";
  spec.summary = "promises, callbacks, cancellation and concurrency limits, against real services";
  spec.headline = "floating-promise-crash";
  spec.make_registry = [] { return nodelab::async::registry(); };
  spec.collect_metrics = [](nodelab::script::Interpreter& interp,
                            nodelab::metrics::MetricSet& out) {
    interp.extension<nodelab::async::World>().collect(out);
    nodelab::async::collect_process_metrics(interp, out);
    nodelab::async::collect_callback_metrics(interp, out);
  };
  // --compare of the --unhandled-rejections modes: how far each run got and how it ended.
  spec.compare_columns = {
      {"exit", "code", "process.exitCode"},   {"unhandled", "", "rejections.unhandled"},
      {"events", "", "rejections.events"},    {"warnings", "", "rejections.warnings"},
      {"timers ran", "", "callbacks.timers"}, {"lines", "logged", "logs.lines"}};
  spec.tour = {{"floating-promise-crash", false,
                "one async function threw and nobody awaited it: the process died with exit 1 "
                "once the drain ended, and the timer never ran"}};
  return spec;
}
