#pragma once
// `nodelab drill`: "what does this print?" interview practice. It shows a scenario's Node.js
// twin (the code a candidate would be handed), reads the predicted lines, runs the scenario,
// and scores the answer with a diff of what was predicted and what ran, and where each line
// came from (which phase or queue, which kind of callback).

#include <cstdint>
#include <istream>
#include <optional>
#include <string>
#include <vector>

#include "report/style.hpp"

namespace nodelab::driver {

struct DrillOptions {
  std::vector<std::string> labs;       // empty: every lab
  std::optional<std::uint32_t> seed;   // default: from the clock (printed, to repeat a session)
  int count = 3;                       // questions in the session
  std::vector<std::string> scenarios;  // forced picks (NAME or LAB/NAME), in order
  bool plan = false;                   // print the picks and exit
};

int drill(const DrillOptions& o, std::istream& in, const report::Style& st);

}  // namespace nodelab::driver
