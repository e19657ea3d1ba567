#pragma once
// Test support: load and run a scenario given as YAML text, the way a lab does, under a
// watchdog that turns a hang into a failed (stopped) run. Without a registry, the shared
// runtime's ops (common/script/shared_ops.hpp) for `lab: event-loop`; a lab's own tests pass
// its registry.

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "metrics/metric_set.hpp"
#include "runtime/runtime.hpp"
#include "script/expect.hpp"
#include "script/registry.hpp"

namespace nodelab::script {
class Interpreter;
}

namespace nodelab::testing {

// A file under the system temp directory, removed when this goes out of scope.
class TempFile {
 public:
  explicit TempFile(const std::string& content, const std::string& suffix = ".yaml");
  ~TempFile();
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

struct RunOutput {
  runtime::RunResult result;
  std::vector<std::string> lines;          // stdout lines, as --logs-only prints them
  std::vector<script::LoggedLine> logged;  // the same, with the phase that logged each
  metrics::MetricSet metrics;
  std::vector<script::ExpectResult> expectations;
  std::vector<runtime::CallbackRecord> callbacks;
  bool loop_closed_cleanly = false;  // uv_loop_close() == 0 after the run
};

// The shared runtime's ops, as the registry of a lab with the id "event-loop".
const script::OpRegistry& shared_ops();

struct RunOptions {
  std::string variant;  // "" = the params as written
  std::chrono::milliseconds watchdog = std::chrono::seconds(30);
  // Called after the run, before the loop closes: a lab's own figures (its interpreter
  // extension's metrics, the recorder's counters).
  std::function<void(script::Interpreter&, runtime::Runtime&, RunOutput&)> inspect;
};

// Runs `yaml` (a whole scenario file) with `registry`'s ops.
RunOutput run_yaml(const std::string& yaml, const script::OpRegistry& registry,
                   const RunOptions& options = {});
inline RunOutput run_yaml(const std::string& yaml,
                          std::chrono::milliseconds watchdog = std::chrono::seconds(30)) {
  RunOptions o;
  o.watchdog = watchdog;
  return run_yaml(yaml, shared_ops(), o);
}
// Loads `yaml`; returns the error exactly as the lab prints it with the file name replaced
// by "FILE", or "" if it loaded.
std::string load_error(const std::string& yaml, const script::OpRegistry& registry = shared_ops(),
                       const std::string& variant = {});
// The Node twin of `yaml` (of its `variant`, if one is named).
std::string twin_of(const std::string& yaml, const script::OpRegistry& registry = shared_ops(),
                    const std::string& variant = {});

// `node FILE.js` on `js` (as a file: a program piped to node's stdin runs from inside a poll
// callback, which changes the order of a main-module timer and immediate), stderr dropped.
struct NodeRun {
  std::vector<std::string> lines;  // stdout, split into lines
  int exit_code = -1;              // -1 when node did not start or was killed
};
// `flags` go before the file (`--unhandled-rejections=warn`).
NodeRun run_node(const std::string& js, const std::vector<std::string>& flags = {});
// Whether `node` is on PATH (parity checks report themselves skipped without it).
bool node_available();

}  // namespace nodelab::testing
