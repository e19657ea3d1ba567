// lab-event-loop: Node's event loop, phase by phase, on a real libuv loop.
//
// The mechanism: libuv's uv_run (src/unix/core.c) runs timers, pending, idle, prepare,
// poll, check and close callbacks in that order each iteration; Node (lib/internal/
// timers.js, lib/internal/process/task_queues.js, src/env.cc) adds its timer lists, the
// setImmediate queue on the check phase, and drains process.nextTick then the microtask
// queue after every callback. This lab runs the shared ops of the mini-Node runtime
// (common/runtime) and shows which phase and queue ran what, and when.

#include "cli/lab_main.hpp"
#include "script/shared_ops.hpp"

int main(int argc, char** argv) {
  nodelab::cli::LabSpec spec;
  spec.id = "event-loop";
  spec.summary = "Node's event loop phases, queues and starvation, on a real libuv loop";
  spec.headline = "nexttick-starvation";
  spec.make_registry = [] { return nodelab::script::shared_registry("event-loop"); };
  return nodelab::cli::run_lab(spec, argc, argv);
}
