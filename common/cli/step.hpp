#pragma once
// --step: a workshop step-through. The run pauses at each phase boundary the runtime's own
// hooks see (the state after the main script; timers, poll, check and close when they have
// callbacks to run; prepare, just before poll, every iteration), shows the state there, and
// waits for a key: Enter (or space, n) goes on, b steps back through the states already seen,
// q quits with the metrics so far.
//
// The pause happens inside the hook, on the loop thread, while uv_run is running in
// UV_RUN_DEFAULT: the order of phases and callbacks is the one an unpaused run has (stepping
// with UV_RUN_ONCE would not be: libuv 1.44 runs timers twice per call there). Wall-clock
// figures (lateness, eventLoopDelay) include the time spent paused.

#include <termios.h>

#include <cstdio>
#include <string>
#include <vector>

#include "report/style.hpp"
#include "runtime/runtime.hpp"
#include "script/scenario.hpp"

namespace nodelab::cli {

class Stepper {
 public:
  Stepper(runtime::Runtime& rt, const script::Scenario& s, const report::Style& st);
  ~Stepper();
  Stepper(const Stepper&) = delete;
  Stepper& operator=(const Stepper&) = delete;

  // Whether this terminal can step (stdin and stdout are terminals); says why not.
  static bool usable(std::string* why);
  std::size_t steps() const { return history_.size(); }

 private:
  void pause(runtime::Phase p, std::uint32_t iteration);
  void show(std::size_t index) const;
  std::string site_label(std::uint32_t site) const;
  int read_key();  // -1 when a stop was requested meanwhile

  runtime::Runtime& rt_;
  const script::Scenario& scenario_;
  report::Style st_;
  termios saved_{};
  bool raw_ = false;
  std::vector<runtime::StateSnapshot> history_;
  runtime::Phase last_phase_ = runtime::Phase::main;
  std::uint32_t last_iteration_ = 0xffffffffu;
};

}  // namespace nodelab::cli
