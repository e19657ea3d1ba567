#pragma once
// The runtime's flight recorder: every JS callback it ran (where, when, who scheduled it,
// whose drain ran it) and every line it logged. Narration, --json, --trace, expectations
// and the metrics all read from here, after the run, so recording never prints on the
// loop thread while it is being measured.
//
// Memory is bounded: past `max_callbacks` records (and `max_logs` lines) the recorder
// keeps counting but stops storing, and says so.

#include <cstdint>
#include <string>
#include <vector>

#include "runtime/clock.hpp"
#include "runtime/phase.hpp"

namespace nodelab::runtime {

using CallbackId = std::uint32_t;
inline constexpr CallbackId kMainCallback = 0;
inline constexpr CallbackId kNoCallback = 0xffffffffu;

struct CallbackRecord {
  CallbackId id = 0;
  CallbackId parent = kNoCallback;      // the callback that scheduled this one
  CallbackId drained_by = kNoCallback;  // nextTick/microtask: the macrotask whose drain ran it
  std::uint32_t iteration = 0;          // loop iteration; 0 = before the loop started
  std::uint32_t site = 0;               // the scenario op that scheduled it (0 = none)
  Phase phase = Phase::main;
  CallbackKind kind = CallbackKind::main;
  bool internal = false;  // runtime bookkeeping (fs request steps): shown in traces only
  Nanos scheduled{-1};    // timers and I/O: when scheduled; queued callbacks: -1 (not read)
                          // all times relative to the start of the run
  Nanos start{0};
  Nanos end{0};
  Nanos due{-1};  // timers: when the timer was due by Node's own arithmetic; else -1
};

struct LogRecord {
  std::string text;
  CallbackId callback = kMainCallback;
  Nanos t{0};
};

// A task's life on a thread off the loop: queued, picked up by thread `thread`, done. A libuv
// pool thread's (uv_queue_work, fs), or a worker_thread's (`worker`: a lab's worker pool).
struct WorkSpan {
  CallbackId parent = kNoCallback;
  std::uint32_t site = 0;
  std::uint32_t thread = 0;  // 1-based pool thread (or worker) number, in order of first use
  Nanos queued{0};
  Nanos started{0};
  Nanos finished{0};
  bool worker = false;
};

// A value sampled over time (a lab's listenerCount, retained bytes): a graph in --trace.
struct CounterSample {
  std::string name;
  Nanos t{0};
  double value = 0;
};

struct RecorderLimits {
  std::size_t max_callbacks = 2'000'000;
  std::size_t max_logs = 1'000'000;
};

class Recorder {
 public:
  // Reserves room for the limits up front: the address space only (pages are touched as
  // records arrive), so the hot path never reallocates and copies a growing vector.
  explicit Recorder(RecorderLimits limits = {}) : limits_(limits) {
    callbacks_.reserve(limits_.max_callbacks);
    logs_.reserve(limits_.max_logs);
  }

  // Phase tracking. The iteration number advances when the loop moves back to an earlier
  // phase (close -> timers, check -> prepare, ...); pending callbacks that libuv runs right
  // after poll (uv_run's "up to 8 more rounds") stay in the iteration of that poll.
  void enter_phase(Phase p);
  std::uint32_t iteration() const { return iteration_; }

  CallbackId next_id() const { return next_id_; }
  // Stores (or counts, past the limit) a record stamped with the current iteration;
  // returns its id.
  CallbackId begin(CallbackRecord rec);
  // Counts a callback without keeping a record of it; returns its id.
  CallbackId count() { return next_id_++; }
  void end(CallbackId id, Nanos end);
  void add_log(std::string text, CallbackId cb, Nanos t);
  void add_work_span(const WorkSpan& span);
  void add_counter(std::string name, Nanos t, double value);

  const std::vector<CallbackRecord>& callbacks() const { return callbacks_; }
  const std::vector<LogRecord>& logs() const { return logs_; }
  const std::vector<WorkSpan>& work_spans() const { return work_spans_; }
  const std::vector<CounterSample>& counters() const { return counters_; }
  const CallbackRecord* find(CallbackId id) const {
    return id < callbacks_.size() ? &callbacks_[id] : nullptr;
  }
  std::uint64_t callback_count() const { return next_id_; }
  std::uint64_t log_count() const { return log_count_; }
  bool callbacks_truncated() const { return next_id_ > callbacks_.size(); }
  bool logs_truncated() const { return log_count_ > logs_.size(); }
  const RecorderLimits& limits() const { return limits_; }

 private:
  RecorderLimits limits_;
  std::vector<CallbackRecord> callbacks_;
  std::vector<LogRecord> logs_;
  std::vector<WorkSpan> work_spans_;
  std::vector<CounterSample> counters_;
  CallbackId next_id_ = 0;
  std::uint64_t log_count_ = 0;
  std::uint32_t iteration_ = 0;
  Phase last_phase_ = Phase::main;
};

}  // namespace nodelab::runtime
