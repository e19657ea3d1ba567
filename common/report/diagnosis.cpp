#include "report/diagnosis.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace nodelab::report {

namespace {
constexpr double kDelayMedianMs = 10;    // Clinic Doctor: median delay >= 10 ms
constexpr double kDelayMaxMs = 100;      // Clinic Doctor: max delay >= 100 ms
constexpr double kCpuBoundElu = 0.95;    // loop utilization
constexpr double kMinLoopMsForElu = 50;  // ELU over a shorter loop says little
constexpr double kPoolWaitMs = 10;       // ... and one of them waited this long for a thread
}  // namespace

std::vector<Finding> diagnose(const metrics::MetricSet& m, const LabDiagnosis& lab, bool timing,
                              bool driver_busy) {
  std::vector<Finding> out;
  if (lab) {
    for (auto& f : lab(m)) {
      if (timing || !f.timing) out.push_back(std::move(f));
    }
  }
  if (!timing) return out;
  auto get = [&](std::string_view p) { return m.get(p); };

  const double res = get("eventLoopDelay.resolution_ms").value_or(10);
  const auto p50 = get("eventLoopDelay.p50_ms");
  const auto max = get("eventLoopDelay.max_ms");
  const double late_p50 = p50 ? std::max(0.0, *p50 - res) : 0;
  const double late_max = max ? std::max(0.0, *max - res) : 0;
  const double drift = get("timerDrift.max_ms").value_or(0);
  const double drain = get("drain.max_ms").value_or(0);
  if (late_p50 >= kDelayMedianMs || late_max >= kDelayMaxMs || drift >= kDelayMaxMs) {
    std::string evidence;
    if (p50 || max) {
      evidence = fmt::format(
          "eventLoopDelay beyond its {:.0f} ms interval: median {:.1f} ms, "
          "max {:.1f} ms",
          res, late_p50, late_max);
    }
    if (drift > 0) {
      evidence += fmt::format("{}timers up to {:.1f} ms late", evidence.empty() ? "" : "; ", drift);
    }
    if (drain >= kDelayMaxMs) {
      out.push_back({"event loop blocked: starved by a nextTick/microtask chain",
                     evidence + fmt::format("; one drain ran {:.1f} ms", drain),
                     "re-schedule long chains with setImmediate (one step per iteration) or move "
                     "the work off the loop",
                     true});
    } else {
      out.push_back({"event loop blocked", evidence,
                     "split the work into chunks with setImmediate, or move it off the loop "
                     "(worker_threads, a worker pool); answer overload with 503s",
                     true});
    }
  }

  const double elu = get("eventLoopUtilization.utilization").value_or(0);
  const double loop_ms = get("eventLoopUtilization.active_ms").value_or(0) +
                         get("eventLoopUtilization.idle_ms").value_or(0);
  if (!driver_busy && elu >= kCpuBoundElu && loop_ms >= kMinLoopMsForElu) {
    out.push_back({"CPU-bound on the loop",
                   fmt::format("eventLoopUtilization {:.3f} over {:.0f} ms", elu, loop_ms),
                   "offload CPU work to worker_threads (or the threadpool); keep the loop for "
                   "I/O and coordination",
                   true});
  }

  // Saturated: jobs queued while every thread already had one, and waited long enough to
  // matter. An idle thread that was still starting, or a callback that ran late because the
  // loop was busy, is not saturation.
  const double behind = get("threadpool.saturated.tasks").value_or(0);
  const auto wait = get("threadpool.saturated.wait_max_ms");
  if (behind > 0 && wait && *wait >= kPoolWaitMs) {
    out.push_back({"threadpool saturated",
                   fmt::format("{:.0f} pool job(s) queued while all {:.0f} threads were busy; the "
                               "longest waited {:.1f} ms",
                               behind, get("threadpool.size").value_or(4), *wait),
                   "bound the concurrency of pool users (fs, crypto, zlib, dns.lookup), raise "
                   "UV_THREADPOOL_SIZE before the first pool use, or move CPU work to "
                   "worker_threads",
                   true});
  }
  return out;
}

}  // namespace nodelab::report
