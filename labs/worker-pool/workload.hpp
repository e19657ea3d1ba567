#pragma once
// The `workload:` block's configuration (scenarios/worker-pool/README.md) and the arrival
// schedule it implies.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "worker-pool/pool.hpp"

namespace nodelab::worker_pool {

enum class StrategyKind : std::uint8_t {
  main_thread,
  libuv_threadpool,
  bounded_pool,
  worker_per_task
};
inline constexpr std::string_view kStrategyNames[] = {"main-thread", "libuv-threadpool",
                                                      "bounded-pool", "worker-per-task"};

struct AbortAt {
  std::uint32_t task = 0;  // 1-based
  double after_ms = 0;     // after the workload starts
};

struct WorkloadConfig {
  StrategyKind strategy = StrategyKind::bounded_pool;
  std::uint32_t tasks = 1;
  double task_ms = 10;
  bool poisson = false;
  double rate = 0;  // tasks per second (poisson)
  std::uint32_t seed = 1;
  PoolOptions pool;
  bool min_threads_given = false;  // else Piscina's default (availableParallelism)
  bool max_threads_given = false;
  bool max_queue_auto = false;
  double worker_startup_ms = 25;
  std::vector<AbortAt> aborts;
  bool fs_probe = false;
};

// Piscina's default minThreads and maxThreads (src/index.ts kDefaultOptions) where
// os.availableParallelism() is `parallelism` (libuv's uv_available_parallelism: the CPUs this
// process may run on, its affinity mask, not the machine's cores): max(floor(p / 2), 1) and
// p * 1.5, which need not be whole (taskset -c 0: 1 and 1.5).
struct ThreadDefaults {
  std::uint32_t min_threads = 1;
  double max_threads = 1.5;
};
ThreadDefaults piscina_thread_defaults(unsigned parallelism);

// mulberry32, as the twin's JavaScript computes it: uniform in [0, 1).
class Mulberry32 {
 public:
  explicit Mulberry32(std::uint32_t seed) : a_(seed) {}
  double next();

 private:
  std::uint32_t a_;
};

// Each task's arrival in whole ms after the start: all 0 for a burst; for Poisson arrivals at
// `rate` per second, the running sum of exponential gaps -ln(1 - u) / rate, rounded.
std::vector<std::int64_t> arrival_offsets(const WorkloadConfig& c);

}  // namespace nodelab::worker_pool
