#include "worker-pool/cpu.hpp"

#include <time.h>

#include <algorithm>
#include <cmath>
#include <mutex>

namespace nodelab::worker_pool {

namespace {

double thread_cpu_ms() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

double measure() {
  // Grow one run until it takes at least 4 ms of CPU, then keep the best of five such runs:
  // about 20 ms in all.
  std::uint64_t steps = 1 << 16;
  double best = 0;
  volatile std::uint64_t sink = 0;
  for (int run = 0; run < 5;) {
    const double t0 = thread_cpu_ms();
    sink = sink + burn(
                      steps, [] { return false; }, steps);
    const double dt = thread_cpu_ms() - t0;
    if (dt < 4) {
      steps *= 2;
      continue;
    }
    best = std::max(best, static_cast<double>(steps) / dt);
    ++run;
  }
  return best;
}

}  // namespace

double steps_per_ms() {
  static std::once_flag once;
  static double rate = 0;
  std::call_once(once, [] { rate = measure(); });
  return rate;
}

std::uint64_t steps_for_ms(double ms) {
  if (ms <= 0) return 0;
  return std::max<std::uint64_t>(1, static_cast<std::uint64_t>(std::llround(ms * steps_per_ms())));
}

}  // namespace nodelab::worker_pool
