#pragma once
// For the async lab's unit tests: runs a `main` (the lines under `main:`) in the lab and its
// twin on node; both must print `expected`. `collect` adds the lab's own metrics to the run's.

#include <doctest/doctest.h>

#include <functional>
#include <string>
#include <vector>

#include "async/ops.hpp"
#include "script/interpreter.hpp"
#include "support/scenario_runner.hpp"

namespace nodelab::async::test {

inline const script::OpRegistry& ops() {
  static const script::OpRegistry r = async::registry();
  return r;
}

inline testing::RunOutput lab_and_node(
    const std::string& main, const std::vector<std::string>& expected,
    const std::function<void(script::Interpreter&, metrics::MetricSet&)>& collect) {
  const std::string yaml = "lab: async\nmain:\n" + main;
  testing::RunOptions o;
  o.inspect = [&collect](script::Interpreter& interp, runtime::Runtime&, testing::RunOutput& out) {
    collect(interp, out.metrics);
  };
  testing::RunOutput out = testing::run_yaml(yaml, ops(), o);
  CHECK(out.lines == expected);
  const testing::NodeRun node = testing::run_node(testing::twin_of(yaml, ops()));
  CHECK(node.lines == expected);
  return out;
}

}  // namespace nodelab::async::test
