#pragma once
// Ceilings and interrupts. A lab that demonstrates starvation, a leak or unbounded
// buffering must stop cleanly when the user presses Ctrl-C, when a time ceiling passes, or
// when a memory ceiling is crossed. The request is a process-wide atomic (signal handlers
// and watchdog threads set it); the loop is woken with uv_async_send, which is
// async-signal-safe, and busy loops poll stop_requested().

#include <uv.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string_view>
#include <thread>

namespace nodelab::runtime {

enum class StopReason : std::uint8_t {
  none,
  interrupted,
  terminated,
  time_ceiling,
  memory_ceiling,
  quit,  // `q` in --step
};

std::string_view stop_reason_text(StopReason r);
// Exit code for a run stopped for this reason: 130 SIGINT, 143 SIGTERM, 124 time ceiling,
// 125 memory ceiling, 0 quit from --step.
int stop_exit_code(StopReason r);

namespace detail {
extern std::atomic<std::uint8_t> g_stop_reason;
}

inline StopReason stop_requested() {
  return static_cast<StopReason>(detail::g_stop_reason.load(std::memory_order_relaxed));
}

// Records the first reason and wakes the registered loop, if any. Async-signal-safe.
void request_stop(StopReason r) noexcept;

// Clears a previous request (tests, and labs that run several variants in one process).
void clear_stop() noexcept;

// SIGINT -> interrupted, SIGTERM -> terminated.
void install_signal_handlers();

// The uv_async_t that request_stop() wakes. One at a time; the runtime owns the handle.
void register_stop_waker(uv_async_t* async) noexcept;
void unregister_stop_waker(uv_async_t* async) noexcept;

// A thread that requests StopReason::time_ceiling after `limit`, unless cancelled first.
class Watchdog {
 public:
  explicit Watchdog(std::chrono::milliseconds limit);
  ~Watchdog();
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  bool cancelled_ = false;
  std::thread thread_;
};

// A thread that requests StopReason::memory_ceiling once the process's resident set passes
// `limit_bytes` (sampled every 20 ms), unless destroyed first.
class MemoryWatchdog {
 public:
  explicit MemoryWatchdog(std::uint64_t limit_bytes);
  ~MemoryWatchdog();
  MemoryWatchdog(const MemoryWatchdog&) = delete;
  MemoryWatchdog& operator=(const MemoryWatchdog&) = delete;
  std::uint64_t peak() const { return peak_.load(); }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  bool cancelled_ = false;
  std::atomic<std::uint64_t> peak_{0};
  std::thread thread_;
};

}  // namespace nodelab::runtime
