#pragma once
// The command line every lab shares (docs/scenario-format.md "Command line every lab accepts"):
//
//   lab-<id> SCENARIO.yaml|NAME [--logs-only | --json | --json-brief | --emit-node]
//            [--trace FILE.json] [--html FILE.html] [--variant NAME | --compare] [--step]
//            [--timeout SECONDS] [--max-memory MIB] [--resolution MS] [--no-color] [--list]
//
// A lab is one folder: labs/<id>/lab.cpp defines its LabSpec (nodelab::labs::spec_<ident>()),
// and the generic labs/main.cpp hands it to run_lab(). The `nodelab` driver, the fuzz target and
// the tests read the same specs through labs::all() (labs/all_labs.hpp).

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "metrics/metric_set.hpp"
#include "report/compare_column.hpp"
#include "report/diagnosis.hpp"
#include "script/registry.hpp"

namespace nodelab::script {
class Interpreter;
}

namespace nodelab::cli {

// One column of the --compare table.
using CompareColumn = report::CompareColumn;

// The event loop's figures: what every lab's table shows unless it picks its own.
inline std::vector<CompareColumn> loop_columns() {
  return {
      {"ELD p50", "ms", "eventLoopDelay.p50_ms"}, {"p99", "ms", "eventLoopDelay.p99_ms"},
      {"max", "ms", "eventLoopDelay.max_ms"},     {"ELU", "", "eventLoopUtilization.utilization"},
      {"drift max", "ms", "timerDrift.max_ms"},   {"total", "ms", "loop.total_ms"}};
}

// One screen of `nodelab tour`: a scenario of the lab, run plain (its log lines and verdict) or
// with --compare (the variants' table), and what to point at on it.
struct TourStop {
  std::string scenario;
  bool compare = false;
  std::string look_at;
};

struct LabSpec {
  std::string id;        // "event-loop": the binary is lab-<id>, scenarios/<id>/
  std::string summary;   // one line for --help
  std::string headline;  // the scenario the README's first command runs
  std::function<script::OpRegistry()> make_registry;
  // The lab's own figures after a run (its model lives in the interpreter's extensions).
  std::function<void(script::Interpreter&, metrics::MetricSet&)> collect_metrics;
  // The resident-set ceiling --max-memory defaults to (MiB; 0 = none). Labs that demonstrate
  // leaks or unbounded buffering set one.
  std::uint64_t default_max_memory_mib = 0;
  std::vector<CompareColumn> compare_columns = loop_columns();
  // --compare runs every variant in a child process of its own (the memory a variant leaves
  // in the allocator would otherwise show in the next variant's RSS).
  bool compare_in_children = false;
  // The lab's screens in `nodelab tour` (at least one: its headline's).
  std::vector<TourStop> tour;
  // Whether `nodelab drill` may ask this lab's scenarios (those with a fixed `expect.order` of
  // 2 to 12 lines and no lab blocks); a lab whose order depends on a peer or a server says no.
  bool drill = true;
  // The lab's own verdicts (a leak, unbounded buffering, an overloaded pool), printed before
  // the loop's; each documents its thresholds in the lab's README.
  report::LabDiagnosis diagnose;
  // The lab's traffic keeps the loop busy by design (the emitter's requests, back to back): its
  // runs get no CPU-bound verdict, which would speak of the driver, not of the lesson.
  bool driver_keeps_loop_busy = false;
  // Twins besides the default one, each `--emit-node=NAME` (worker-pool: "piscina", its pool
  // scenarios on the real library); the ops read the name from script::TwinWriter::flavour().
  std::vector<std::string> twin_flavours;
};

int run_lab(const LabSpec& spec, int argc, char** argv);

// Where scenarios/<lab>/ lives: $NODELAB_SCENARIOS, next to an installed binary
// (../share/nodelab/scenarios), the install prefix, then the source tree.
std::vector<std::string> scenario_dirs(const std::string& lab_id);
// A file path as given, or NAME resolved to <dir>/NAME.yaml; empty if not found.
std::string resolve_scenario(const std::string& lab_id, const std::string& arg);

}  // namespace nodelab::cli
