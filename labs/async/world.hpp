#pragma once
// The async lab's state for one run: what its promise ops measured (the promise engine
// itself is the interpreter's: script::Interpreter::promises()).

#include <array>
#include <cstdint>
#include <vector>

#include "metrics/metric_set.hpp"
#include "runtime/promise.hpp"
#include "script/interpreter.hpp"

namespace nodelab::async {

class World {
 public:
  explicit World(script::Interpreter& interp) : interp_(interp) {}

  // The first promise each combinator op returned (all, allSettled, race, any).
  std::array<runtime::PromiseRef, 4> first_combinator;
  std::uint64_t ticks = 0;  // `ticks` lines logged

  void collect(metrics::MetricSet& out) const;
  static const std::vector<metrics::MetricInfo>& metric_table();

 private:
  script::Interpreter& interp_;
};

}  // namespace nodelab::async
