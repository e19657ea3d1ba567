#pragma once
// The verdict after a run, with Clinic.js Doctor's published thresholds
// (node-clinic-doctor analysis/analyse-delay.js: event-loop delay median >= 10 ms or
// max >= 100 ms means the loop is blocked) and the ones this project's issues set: loop
// utilization >= 0.95 means CPU-bound on the loop; a task waiting for a threadpool thread
// means the pool is saturated: a job was queued while every pool thread already had one
// (threadpool.saturated.tasks), not merely a long wait (threads still starting, a loop busy
// elsewhere). Each finding names the mitigation.
//
// Clinic's delay is the lateness of its sampling timer beyond the interval; Node's
// eventLoopDelay samples include the interval, so the resolution is subtracted first. The
// exact lateness of the scenario's own timers (timerDrift) counts too: a short run can block
// the loop before the sampler ever ticks.

#include <functional>
#include <string>
#include <vector>

#include "metrics/metric_set.hpp"

namespace nodelab::report {

// What a report says when a run got no verdict ("nothing to report"), in every view.
inline constexpr const char* kNoVerdict =
    "no blocking, no saturated pool, nothing this lab watches for";

struct Finding {
  std::string verdict;     // "event loop blocked"
  std::string evidence;    // the figures that triggered it
  std::string mitigation;  // what to do about it
  bool timing = false;     // read from elapsed time (a --step run's pauses would fake it)
};

// A lab's own verdicts from its own figures (LabSpec::diagnose: a listener leak, unbounded
// buffering, an overloaded pool), each with the thresholds its lab documents.
using LabDiagnosis = std::function<std::vector<Finding>(const metrics::MetricSet&)>;

// The lab's verdicts first (they speak of the lesson), then the loop's: blocked, CPU-bound,
// threadpool saturated. Without `timing` (a --step run: its pauses are not the program's time)
// no verdict read from elapsed time is given.
// `driver_busy`: the lab's traffic keeps the loop busy by design (requests back to back, as
// fast as the loop turns), so a loop utilization near 1 says nothing of the code under test: no
// CPU-bound verdict.
std::vector<Finding> diagnose(const metrics::MetricSet& m, const LabDiagnosis& lab = {},
                              bool timing = true, bool driver_busy = false);

}  // namespace nodelab::report
