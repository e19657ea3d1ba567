#pragma once
// The worker-pool lab's state for one run: the workload's tasks and the strategy running
// them, what the messaging block measured, and the lab's metrics.

#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "metrics/metric_set.hpp"
#include "script/interpreter.hpp"
#include "script/registry.hpp"
#include "worker-pool/task.hpp"

namespace nodelab::worker_pool {

struct WorkloadStats {
  bool ran = false;
  std::string strategy;
  runtime::Nanos start{0};  // the schedule's origin (task offsets count from here)
  runtime::Nanos last_settled{0};
  std::uint32_t settled = 0;
  std::optional<double> probe_wait_ms;  // the fs probe's readFile, call to callback
  bool probe_after_cpu = false;
};

struct MessagingStats {
  bool ran = false;
  std::string mode;  // clone | transfer | shared
  std::uint64_t bytes = 0;
  std::uint32_t rounds = 0;
  double per_mb_us = 0;  // one way, per MiB, median of the rounds
  double sender_bytes_after = 0;
  std::uint64_t copies = 0;  // bytes copied per message / bytes
  // shared: two threads, `increments` each
  std::uint64_t increments = 0;
  std::uint64_t add_total = 0;
  std::uint64_t load_store_total = 0;
  std::uint64_t lost_updates = 0;
  std::uint32_t lost_rounds = 0;  // rounds run until an update was lost
  double wake_us = 0;             // Atomics.notify -> the waiter running
};

class World {
 public:
  explicit World(script::Interpreter& interp) : interp_(interp) {}
  ~World();
  World(const World&) = delete;
  World& operator=(const World&) = delete;

  runtime::Runtime& rt() { return interp_.rt(); }
  script::Interpreter& interp() { return interp_; }

  std::deque<TaskRecord> tasks;  // stable addresses; index = id - 1
  std::unique_ptr<Strategy> strategy;
  WorkloadStats workload;
  MessagingStats messaging;

  void collect(metrics::MetricSet& out) const;
  static const std::vector<metrics::MetricInfo>& metric_table();

 private:
  script::Interpreter& interp_;
};

// The lab's registry: the shared ops, the workload block and the messaging block.
script::OpRegistry registry();
void add_workload_block(script::OpRegistry& r);
void add_messaging_block(script::OpRegistry& r);

}  // namespace nodelab::worker_pool
