#pragma once
// --compare's outputs: the table in the terminal and the JSON document (--compare --json),
// from the runs of a scenario's variants (cli/lab_main.cpp runs them).
//
//   lab-<id> · <scenario> · --compare (N variants)
//     variant         ELD p50     p99 ...  expect  verdict
//                          ms      ms
//     sync             ...                 ✓       event loop blocked
//
// The JSON: lab, scenario {name, title, file}, columns ["ELD p50 (ms)", ...], variants
// [{name, cells, title, child_process, metrics, expect, diagnosis, outcome, exit_code}],
// answer {key: text}, exit_code.

#include <cstdio>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "report/compare_column.hpp"
#include "report/run_report.hpp"
#include "report/style.hpp"
#include "script/scenario.hpp"

namespace nodelab::report {

// One variant's run.
struct CompareVariant {
  std::string name;
  std::string title;
  bool in_child = false;              // ran in a child process of its own
  const RunReport* report = nullptr;  // metrics, expectations, diagnosis, exit code
  std::string outcome_summary;
};

struct Comparison {
  std::string lab_id;
  const script::Scenario* scenario = nullptr;  // the base scenario (its variants, answer)
  std::vector<CompareColumn> columns;          // the lab's; only the measured ones are shown
  std::vector<CompareVariant> variants;
  bool all_in_children = false;  // the lab runs every variant in a child process
  int exit_code = 0;
};

// The columns any variant measured (a lab's table covers all its scenarios).
std::vector<CompareColumn> measured_columns(const Comparison& c);
// A {variant.metric.path} placeholder reads that variant's row; a plain one has no single
// value ("n/a").
std::string compare_value(const Comparison& c, const std::string& placeholder);

// A variant's cell: its figure, or "–" when it measured none (no emit, no warning).
std::string compare_cell(const RunReport& r, const std::string& path);
// An answer part's --compare text (its `compare:` text, or its one text), decided and filled
// on the variants' rows.
std::string compare_answer_text(const Comparison& c, const script::AnswerPart& part);

nlohmann::json compare_json(const Comparison& c);
void print_compare(std::FILE* out, const Comparison& c, const Style& st);

}  // namespace nodelab::report
