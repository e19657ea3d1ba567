#pragma once
// eventLoopDelay measured the way perf_hooks.monitorEventLoopDelay() measures it
// (src/node_perf.cc CreateELDHistogram, src/histogram-inl.h RecordDelta): a separate,
// unref'd, repeating uv timer at `resolution` ms; each tick records the time since the
// previous tick in ns. A sample therefore includes the interval itself (an idle loop
// reports ~resolution, not 0), and one long block yields one long sample (libuv re-arms
// a repeating timer from the late fire; there is no catch-up).

#include <uv.h>

#include <chrono>
#include <cstdint>
#include <functional>

#include "metrics/histogram.hpp"
#include "runtime/uv.hpp"

namespace nodelab::metrics {

class EventLoopDelayMonitor {
 public:
  EventLoopDelayMonitor() = default;
  EventLoopDelayMonitor(const EventLoopDelayMonitor&) = delete;
  EventLoopDelayMonitor& operator=(const EventLoopDelayMonitor&) = delete;

  // Initialises the timer handle on `loop` (unref'd, so it never keeps the loop alive).
  void init(uv_loop_t* loop, std::chrono::milliseconds resolution);
  void start();
  void stop();
  // uv_close()s the handle (the loop frees it).
  void close();

  const Histogram& histogram() const { return histogram_; }
  // Called on the loop thread after each sample (the runtime samples RSS here).
  std::function<void()> on_tick;
  std::chrono::milliseconds resolution() const { return resolution_; }

 private:
  static void on_timer(uv_timer_t* t);

  uv::Handle<uv_timer_t> timer_;
  std::chrono::milliseconds resolution_{10};
  std::uint64_t prev_ns_ = 0;
  Histogram histogram_;
};

}  // namespace nodelab::metrics
