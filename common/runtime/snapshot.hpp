#pragma once
// What the runtime holds at one moment: the timer lists, the three JS queues, the
// threadpool's work and libuv's handles. `--step` shows one at every phase boundary.

#include <cstdint>
#include <string>
#include <vector>

#include "runtime/clock.hpp"
#include "runtime/phase.hpp"

namespace nodelab::runtime {

struct TimerListView {
  std::int64_t msecs = 0;            // the list's duration (whole ms)
  double due_ms = 0;                 // expiry, ms since the start of the run
  std::uint64_t id = 0;              // the list id that breaks ties
  std::size_t count = 0;             // timers in the list
  std::vector<std::uint32_t> sites;  // the first few timers' scenario ops
};

struct QueuedView {
  CallbackKind kind = CallbackKind::next_tick;
  std::uint32_t site = 0;
};

struct PoolJobView {
  std::string what;  // "threadpool task", "fs open", ...
  std::uint32_t site = 0;
  bool running = false;    // picked up by a pool thread
  bool completed = false;  // done; its callback runs in this poll phase
  double queued_ms = 0;    // since the start of the run
};

struct HandleView {
  std::string name;
  bool active = false;
  bool ref = false;
  bool closing = false;
};

struct StateSnapshot {
  Phase phase = Phase::main;           // the loop phase last entered (main before the loop)
  Phase callback_phase = Phase::main;  // the running callback's queue or phase, if any
  std::uint32_t iteration = 0;
  Nanos t{0};                              // since the start of the run
  std::vector<TimerListView> timer_lists;  // in the order they would run
  std::size_t immediate_count = 0;
  std::size_t next_tick_count = 0;
  std::size_t microtask_count = 0;
  std::vector<QueuedView> immediates;  // the first few of each queue
  std::vector<QueuedView> next_ticks;
  std::vector<QueuedView> microtasks;
  unsigned pool_size = 0;
  std::vector<PoolJobView> pool;
  std::vector<HandleView> handles;
  std::uint64_t callbacks_run = 0;
  std::vector<std::string> recent_logs;  // the last few lines logged
};

}  // namespace nodelab::runtime
