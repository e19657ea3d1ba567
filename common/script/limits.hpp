#pragma once
// The documented limits of a scenario file (scenarios/README.md). All are checked while
// loading, before anything runs; a file beyond one is bad input (exit 2).

#include <cstddef>
#include <cstdint>

namespace nodelab::script {

struct Limits {
  std::size_t max_file_bytes = 1024 * 1024;  // 1 MiB
  int max_op_depth = 32;                     // nested op bodies (then/do/catch)
  std::size_t max_ops = 10'000;              // ops in the file, each alias use counted again
  std::int64_t max_times = 1'000'000;        // repeat/recurse/setInterval `times`
  double max_expanded_ops = 20'000'000;      // ops executed, multiplying by enclosing `times`
  double max_block_ms = 60'000;              // one `block`, one `threadpool` task
  std::int64_t max_work_us = 1'000'000;      // recurse `work_us`
  double max_busy_ms = 600'000;              // block + recurse work, multiplied out: 10 minutes
  std::size_t max_text_bytes = 4096;         // one log/throw text, one name
  std::size_t max_yaml_nodes = 1'000'000;    // YAML nodes visited, each alias use counted again
};

}  // namespace nodelab::script
