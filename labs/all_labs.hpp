#pragma once
// Every lab this build has (NODELAB_LABS, in order), for the programs that work across labs:
// the `nodelab` driver, the fuzz target and the tests.

#include <string_view>
#include <vector>

#include "cli/lab_main.hpp"

namespace nodelab::labs {

// Each lab's LabSpec, built once, in the order of NODELAB_LABS.
const std::vector<cli::LabSpec>& all();
// The lab with this id, or nullptr.
const cli::LabSpec* find(std::string_view id);

}  // namespace nodelab::labs
