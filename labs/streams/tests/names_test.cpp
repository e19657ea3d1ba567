// Stream names are any identifier the format allows (issue 13 §7): the twin keeps streams as
// property names of `S` (an object without a prototype), never as variables, so the names the
// twin uses itself (`S`, `Readable`, `Writable`, `Transform`, `pipeline`), JavaScript reserved
// words and `__proto__` load, run, and print on node what the lab prints.

#include <doctest/doctest.h>

#include <string>

#include "streams/world.hpp"
#include "support/scenario_runner.hpp"

using namespace nodelab;

namespace {

const script::OpRegistry& lab_ops() {
  static const script::OpRegistry registry = streams::registry();
  return registry;
}

}  // namespace

TEST_CASE("streams.names_the_twin_uses_itself_are_names_like_any") {
  const std::string yaml = R"(lab: streams
main:
  - readable: { name: S, chunk: 4, chunks: 3, push: sync }
  - transform: { name: pipeline, highWaterMark: 8, complete: nextTick }
  - transform: { name: __proto__, highWaterMark: 8, complete: immediate }
  - writable: { name: Readable, highWaterMark: 8, complete: immediate }
  - on: { stream: Readable, event: finish, log: "Readable finish" }
  - pipeline:
      streams: [S, pipeline, __proto__, Readable]
      then: [ { log: pipeline done } ]
  - writable: { name: class, highWaterMark: 4, complete: immediate }
  - on: { stream: class, event: drain, log: "class drain" }
  - write: { stream: class, bytes: 4 }
  - writable: { name: Writable, highWaterMark: 4, complete: sync }
  - write: { stream: Writable, bytes: 2 }
  - inspect: { stream: Writable }
)";
  CHECK(testing::load_error(yaml, lab_ops()) == "");
  const testing::RunOutput lab = testing::run_yaml(yaml, lab_ops());
  CHECK(lab.result.outcome == runtime::Outcome::completed);
  CHECK(lab.loop_closed_cleanly);
  CHECK(lab.lines.size() >= 4);
  if (!testing::node_available()) {
    MESSAGE("node is not on PATH: parity check skipped");
    return;
  }
  const testing::NodeRun node = testing::run_node(testing::twin_of(yaml, lab_ops()));
  CHECK(node.lines == lab.lines);
  CHECK(node.exit_code == 0);
}
