// The event-loop lab's own op, destroySocket: its callback runs in the close phase, and its
// twin (a net.Socket destroyed before it connects) prints the same lines on real node.

#include <doctest/doctest.h>

#include <cstdlib>
#include <string>

#include "event-loop/ops.hpp"
#include "runtime/runtime.hpp"
#include "support/scenario_runner.hpp"

using namespace nodelab;

namespace {

const script::OpRegistry& lab_ops() {
  static const script::OpRegistry registry = event_loop::registry();
  return registry;
}

const std::string kInsideIo = R"(lab: event-loop
main:
  - readFile:
      then:
        - destroySocket: { then: [ { log: socket close } ] }
        - setTimeout: { then: [ { log: setTimeout 0 } ] }
        - setImmediate: { then: [ { log: setImmediate } ] }
        - nextTick: { then: [ { log: nextTick } ] }
        - promise: { then: [ { log: promise } ] }
)";

}  // namespace

TEST_CASE("event_loop.destroy_socket_closes_in_the_close_phase_after_check") {
  const auto run = testing::run_yaml(kInsideIo, lab_ops());
  CHECK(run.lines == std::vector<std::string>{"nextTick", "promise", "setImmediate", "socket close",
                                              "setTimeout 0"});
  for (const auto& l : run.logged) {
    if (l.text == "socket close") CHECK(l.phase == runtime::Phase::close);
  }
  CHECK(run.loop_closed_cleanly);
}

TEST_CASE("event_loop.destroy_socket_twin_requires_net_and_matches_node") {
  const std::string twin = testing::twin_of(kInsideIo, lab_ops());
  CHECK(twin.find("const net = require('net');\n") != std::string::npos);
  CHECK(twin.find("socket.destroy();") != std::string::npos);
  if (!testing::node_available()) {
    MESSAGE("node is not on PATH: parity check skipped");
    return;
  }
  const auto node = testing::run_node(twin);
  CHECK(node.lines == testing::run_yaml(kInsideIo, lab_ops()).lines);
  CHECK(node.exit_code == 0);
}

TEST_CASE("event_loop.destroy_socket_is_the_labs") {
  // The shared ops do not have it; the lab's registry does.
  CHECK(testing::load_error("lab: event-loop\nmain:\n  - destroySocket: {}\n")
            .find("unknown op 'destroySocket'") != std::string::npos);
  CHECK(testing::load_error("lab: event-loop\nmain:\n  - destroySocket: {}\n", lab_ops()) == "");
}
