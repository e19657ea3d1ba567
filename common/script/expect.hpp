#pragma once
// Checking a run against the scenario's `expect` block.

#include <string>
#include <vector>

#include "metrics/metric_set.hpp"
#include "runtime/phase.hpp"
#include "runtime/recorder.hpp"
#include "script/scenario.hpp"

namespace nodelab::script {

// One stdout line and the queue/phase of the callback that logged it. A logged text with
// newlines is several lines, as console.log prints it.
struct LoggedLine {
  std::string text;
  runtime::Phase phase = runtime::Phase::main;
};
std::vector<LoggedLine> logged_lines(const runtime::Recorder& rec);

struct ExpectResult {
  std::string what;  // "order", "phase of 'x'", "eventLoopDelay.p99_ms >= 40"
  bool ok = false;
  std::string detail;  // what was measured / how it differed
};

// An upper bound on a duration (`lt`/`lte` on a metric ending in `_ms`) is multiplied by this
// (default 1; the labs set it from NODELAB_TIME_SCALE): a sanitizer slows the lab, not the
// clock. Lower bounds and ratios are never scaled.
void set_time_scale(double scale);
double time_scale();

std::vector<ExpectResult> check_expectations(const Expect& e, const runtime::Recorder& rec,
                                             const metrics::MetricSet& metrics);

}  // namespace nodelab::script
