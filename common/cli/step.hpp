#pragma once
// --step: a workshop step-through. The run stops at each phase boundary the runtime's own
// hooks see (the state after the main script; timers, poll, check and close when they have
// callbacks to run; prepare, just before poll, every iteration), shows the state there and
// what ran since the last screen, and waits for a key: Enter (or space, n) goes on, b steps
// back through the screens already seen, q quits with the metrics so far.
//
// Look-alike stops fold: after a stop where no JS callback ran since the one before, further
// such stops are not shown; the next screen says how many it folded, over how many loop
// iterations (fs.readFile's open, fstat, read and close steps take four quiet iterations).
// Callbacks are counted as the user sees them: the runtime's internal fs request steps are
// not (callbacks.total, in the metrics, counts the same way).
//
// The pause happens inside the hook, on the loop thread, while uv_run is running in
// UV_RUN_DEFAULT: the order of phases and callbacks is the one an unpaused run has (stepping
// with UV_RUN_ONCE would not be: libuv 1.44 runs timers twice per call there). Wall-clock
// figures (lateness, eventLoopDelay, utilization, pool waits) include the time spent paused,
// so a stepped run draws no timing verdicts (RunReport::stepped).

#include <termios.h>

#include <cstdio>
#include <string>
#include <vector>

#include "report/style.hpp"
#include "runtime/runtime.hpp"
#include "script/scenario.hpp"

namespace nodelab::runtime {
class Recorder;
}

namespace nodelab::cli {

// What ran between two stops, as the user counts callbacks.
struct StepDigest {
  std::uint64_t callbacks = 0;  // JS callbacks (the main script, timers, ticks, I/O, ...)
  std::uint64_t internal = 0;   // the runtime's internal fs request steps
  // "fs.readFile callback · readFile (line 22), 2 × process.nextTick callback · ...": look-alike
  // callbacks (same kind, same scenario line) counted together, in the order they first ran.
  std::string ran;
};

// Reads the recorder's new records at each stop (the loop thread, between callbacks).
class StepTracker {
 public:
  explicit StepTracker(const script::Scenario& s) : scenario_(s) {}
  // What ran since the previous call.
  StepDigest advance(const runtime::Recorder& rec);
  std::uint64_t callbacks_so_far() const { return callbacks_; }

 private:
  const script::Scenario& scenario_;
  std::size_t records_seen_ = 0;  // recorder.callbacks() read so far
  std::uint64_t unstored_ = 0;    // callbacks past the recorder's limit, counted so far
  std::uint64_t callbacks_ = 0;
};

class Stepper {
 public:
  Stepper(runtime::Runtime& rt, const script::Scenario& s, const report::Style& st);
  ~Stepper();
  Stepper(const Stepper&) = delete;
  Stepper& operator=(const Stepper&) = delete;

  // Whether this terminal can step (stdin and stdout are terminals); says why not.
  static bool usable(std::string* why);
  std::size_t steps() const { return history_.size(); }  // screens shown
  std::size_t folded() const { return folded_total_; }   // quiet stops not shown

 private:
  struct Screen {
    runtime::StateSnapshot state;
    StepDigest since;  // what ran since the previous screen
    std::uint64_t callbacks_so_far = 0;
    std::size_t folded_stops = 0;  // quiet stops folded just before this screen
    std::size_t folded_iterations = 0;
    std::uint64_t folded_internal = 0;  // internal fs steps during them
  };

  void pause(runtime::Phase p, std::uint32_t iteration);
  void show(std::size_t index) const;
  std::string site_label(std::uint32_t site) const;
  int read_key();  // -1 when a stop was requested meanwhile

  runtime::Runtime& rt_;
  const script::Scenario& scenario_;
  report::Style st_;
  termios saved_{};
  bool raw_ = false;
  StepTracker tracker_;
  std::vector<Screen> history_;
  bool last_stop_quiet_ = false;  // no JS callback ran before the last stop
  std::size_t folded_stops_ = 0;  // since the last screen
  std::uint32_t folded_last_iteration_ = 0xffffffffu;
  std::size_t folded_iterations_ = 0;
  std::uint64_t folded_internal_ = 0;
  std::size_t folded_total_ = 0;
  runtime::Phase last_phase_ = runtime::Phase::main;
  std::uint32_t last_iteration_ = 0xffffffffu;
};

}  // namespace nodelab::cli
