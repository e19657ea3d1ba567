#pragma once
// One column of the --compare table: what a lab's LabSpec lists (cli/lab_main.hpp) and what
// report/compare.hpp prints.

#include <string>

namespace nodelab::report {

struct CompareColumn {
  std::string header;
  std::string unit;
  std::string path;  // the metric
};

}  // namespace nodelab::report
