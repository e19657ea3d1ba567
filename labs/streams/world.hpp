#pragma once
// The streams lab's state for one run: the scenario's streams by name (each created by its
// `readable`/`writable`/`transform` op, as the twin's `S.NAME = new Writable(...)`), the
// transports a `flow` block opened, and what they measured.

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "metrics/metric_set.hpp"
#include "script/interpreter.hpp"
#include "script/registry.hpp"
#include "streams/stream.hpp"

namespace nodelab::streams {

// What a `flow` block measured (flow.cpp).
struct FlowStats {
  bool ran = false;
  std::string transport;
  std::uint64_t source_bytes = 0;     // produced by the source
  std::uint64_t delivered_bytes = 0;  // reached the far end (the peer, or the memory sink)
  std::uint64_t objects = 0;          // objectMode: objects delivered
  std::uint64_t buffered_peak = 0;    // most bytes (objects) buffered in all stages at once
  std::uint64_t buffer_bound = 0;     // what backpressure holds them to: hwm + a chunk each
  std::uint64_t write_false = 0;      // source-side write() false returns
  std::uint64_t drains = 0;
  double paused_ms = 0;
  double elapsed_ms = 0;
  bool ceiling_hit = false;
  std::uint64_t ceiling_bytes = 0;
  std::uint64_t kernel_peer_bytes = 0;        // what the peer read from the kernel
  std::uint64_t leaked_handles = 0;           // handles/fds still open when the run ended
  std::map<std::string, StreamStats> stages;  // per stage, in order of `stage_order`
  std::vector<std::string> stage_order;
  std::map<std::string, std::uint64_t> stage_hwm;
};

// An AbortController a `pipeline` op's `signal` names; `abort` aborts it.
struct Controller {
  bool aborted = false;
  std::vector<std::function<void()>> listeners;  // 'abort' listeners, in order
};

// What `forAwait` loops and aborted signals measured (ops.cpp).
struct AsyncStats {
  std::uint64_t loop_chunks = 0;        // chunks the loop bodies got
  std::uint64_t body_length_max = 0;    // the largest readableLength a body saw
  std::uint64_t aborts = 0;             // abort() calls that aborted a signal
  std::uint64_t abort_sink_writes = 0;  // write() calls the last stage had at the abort
  bool looped = false, aborted = false;
};

class World {
 public:
  explicit World(script::Interpreter& interp) : interp_(interp) {}
  ~World();
  World(const World&) = delete;
  World& operator=(const World&) = delete;

  runtime::Runtime& rt() { return interp_.rt(); }
  script::Interpreter& interp() { return interp_; }

  void add(const std::string& name, StreamRef s);
  Stream& get(const std::string& name);
  StreamRef ref(const std::string& name);

  FlowStats flow;
  AsyncStats async;
  std::map<std::string, std::shared_ptr<Controller>> controllers;
  // Run when the world goes away (after the loop ended): close what a demo left open.
  std::vector<std::function<void()>> cleanups;

  // Figures still being measured (a run stopped by a ceiling) are brought up to date first.
  std::function<void()> refresh;
  void collect(metrics::MetricSet& out);
  static const std::vector<metrics::MetricInfo>& metric_table();

 private:
  script::Interpreter& interp_;
  std::vector<std::pair<std::string, StreamRef>> streams_;
};

// The lab's registry: the shared ops, the stream ops and the flow block.
script::OpRegistry registry();

}  // namespace nodelab::streams
