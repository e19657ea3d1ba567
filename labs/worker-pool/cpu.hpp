#pragma once
// The CPU work every strategy runs: a chain of multiply-xorshift steps, each depending on the
// last, so the compiler can neither fold nor vectorise it. A task is a fixed number of steps,
// calibrated once per process so that one task costs `task_ms` of CPU time on one core. On a
// busy machine it takes longer in wall time, as crypto.pbkdf2 with fixed iterations does in
// Node: two tasks on one core take twice as long, which is what a pool larger than the
// machine shows.

#include <cstdint>

namespace nodelab::worker_pool {

inline std::uint64_t mix(std::uint64_t x) {
  x ^= x >> 31;
  x *= 0x9E3779B97F4A7C15ULL;
  x ^= x >> 29;
  return x;
}

// How many steps run between two looks at `cancelled` (about 20 us of work): how soon a
// terminated worker stops, as V8 checks for TerminateExecution at loop back-edges.
inline constexpr std::uint64_t kCancelCheckEvery = 1 << 12;

// Runs `iterations` steps and returns their result (a checksum the caller keeps, so the work
// cannot be optimised away). Returns early when `cancelled()` turns true.
template <class Cancelled>
std::uint64_t burn(std::uint64_t iterations, Cancelled&& cancelled, std::uint64_t seed = 1) {
  std::uint64_t x = seed | 1;
  std::uint64_t done = 0;
  while (done < iterations) {
    const std::uint64_t n =
        iterations - done < kCancelCheckEvery ? iterations - done : kCancelCheckEvery;
    for (std::uint64_t i = 0; i < n; ++i)
      x = mix(x + i);
    done += n;
    if (cancelled()) break;
  }
  return x;
}

// Steps per millisecond of this thread's CPU time (CLOCK_THREAD_CPUTIME_ID, so time the
// thread spends preempted does not count): the best of a few short runs. Measured on the
// first call, then cached for the process.
double steps_per_ms();

// The steps of `ms` milliseconds of CPU time (at least 1 when ms > 0).
std::uint64_t steps_for_ms(double ms);

}  // namespace nodelab::worker_pool
