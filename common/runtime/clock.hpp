#pragma once
// Typed time for the runtime. Every timestamp is uv_hrtime() (CLOCK_MONOTONIC, the clock
// libuv's loop time and Node's performance.now() are derived from), held as nanoseconds.

#include <uv.h>

#include <chrono>
#include <cstdint>

namespace nodelab::runtime {

using Nanos = std::chrono::nanoseconds;
using Millis = std::chrono::duration<double, std::milli>;

inline Nanos hrtime() {
  return Nanos(static_cast<std::int64_t>(uv_hrtime()));
}

constexpr double to_ms(Nanos d) {
  return std::chrono::duration_cast<Millis>(d).count();
}

constexpr Nanos from_ms(double ms) {
  return std::chrono::duration_cast<Nanos>(Millis(ms));
}

}  // namespace nodelab::runtime
