#include "runtime/stop.hpp"

#include <csignal>

namespace nodelab::runtime {

namespace detail {
std::atomic<std::uint8_t> g_stop_reason{0};
}

namespace {
std::atomic<uv_async_t*> g_waker{nullptr};

extern "C" void on_stop_signal(int sig) {
  request_stop(sig == SIGINT ? StopReason::interrupted : StopReason::terminated);
}
}  // namespace

std::string_view stop_reason_text(StopReason r) {
  switch (r) {
    case StopReason::none:
      return "not stopped";
    case StopReason::interrupted:
      return "interrupted (SIGINT)";
    case StopReason::terminated:
      return "terminated (SIGTERM)";
    case StopReason::time_ceiling:
      return "time ceiling reached (--timeout)";
    case StopReason::memory_ceiling:
      return "memory ceiling reached (--max-memory)";
    case StopReason::quit:
      return "quit from --step";
  }
  return "?";
}

int stop_exit_code(StopReason r) {
  switch (r) {
    case StopReason::none:
      return 0;
    case StopReason::interrupted:
      return 130;
    case StopReason::terminated:
      return 143;
    case StopReason::time_ceiling:
      return 124;
    case StopReason::memory_ceiling:
      return 125;
    case StopReason::quit:
      return 0;
  }
  return 1;
}

void request_stop(StopReason r) noexcept {
  std::uint8_t expected = 0;
  detail::g_stop_reason.compare_exchange_strong(expected, static_cast<std::uint8_t>(r));
  if (uv_async_t* a = g_waker.load()) uv_async_send(a);
}

void clear_stop() noexcept {
  detail::g_stop_reason.store(0);
}

void install_signal_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

void register_stop_waker(uv_async_t* async) noexcept {
  g_waker.store(async);
}

void unregister_stop_waker(uv_async_t* async) noexcept {
  uv_async_t* expected = async;
  g_waker.compare_exchange_strong(expected, nullptr);
}

Watchdog::Watchdog(std::chrono::milliseconds limit)
    : thread_([this, limit] {
        std::unique_lock lock(mutex_);
        if (!cv_.wait_for(lock, limit, [this] { return cancelled_; })) {
          request_stop(StopReason::time_ceiling);
        }
      }) {}

Watchdog::~Watchdog() {
  {
    std::lock_guard lock(mutex_);
    cancelled_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

MemoryWatchdog::MemoryWatchdog(std::uint64_t limit_bytes)
    : thread_([this, limit_bytes] {
        std::unique_lock lock(mutex_);
        for (;;) {
          std::size_t rss = 0;
          if (uv_resident_set_memory(&rss) == 0) {
            if (rss > peak_.load()) peak_.store(rss);
            if (rss > limit_bytes) {
              request_stop(StopReason::memory_ceiling);
              return;
            }
          }
          if (cv_.wait_for(lock, std::chrono::milliseconds(20), [this] { return cancelled_; })) {
            return;
          }
        }
      }) {}

MemoryWatchdog::~MemoryWatchdog() {
  {
    std::lock_guard lock(mutex_);
    cancelled_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

}  // namespace nodelab::runtime
