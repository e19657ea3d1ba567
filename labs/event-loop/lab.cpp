// lab-event-loop: Node's event loop, phase by phase, on a real libuv loop.
//
// The mechanism: libuv's uv_run (src/unix/core.c) runs timers, pending, idle, prepare,
// poll, check and close callbacks in that order each iteration; Node (lib/internal/
// timers.js, lib/internal/process/task_queues.js, src/env.cc) adds its timer lists, the
// setImmediate queue on the check phase, and drains process.nextTick then the microtask
// queue after every callback. This lab runs the shared ops of the mini-Node runtime
// (common/runtime) and shows which phase and queue ran what, and when.

#include "event-loop/ops.hpp"
#include "nodelab/lab_list.hpp"

nodelab::cli::LabSpec nodelab::labs::spec_event_loop() {
  nodelab::cli::LabSpec spec;
  spec.id = "event-loop";
  spec.summary = "Node's event loop phases, queues and starvation, on a real libuv loop";
  spec.headline = "nexttick-starvation";
  spec.make_registry = [] { return nodelab::event_loop::registry(); };
  // The loop's figures, and a readFile's latency where a scenario reads (shown only then).
  spec.compare_columns = nodelab::cli::loop_columns();
  spec.compare_columns.push_back({"readFile", "ms", "readFile.max_ms"});
  spec.tour = {
      {"nexttick-starvation", false,
       "the timer due 50 ms after the chain started fires about a second late, and the finished "
       "read waits too: a nextTick chain never lets the loop move"},
      {"cpu-work-strategies", true,
       "the same 200 ms of CPU work four ways: only setImmediate chunks and the threadpool keep "
       "the timer on time; nextTick 'chunking' is no better than one block"}};
  return spec;
}
