#pragma once
// The emitter lab's state for one run: the scenario's emitters by name (each created on first
// use, as the twin declares `const NAME = new EventEmitter()`), the newest function of each
// listener id (the twin's L.<id>), and what the requests block measured.

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "emitter/emitter.hpp"
#include "metrics/histogram.hpp"
#include "metrics/metric_set.hpp"
#include "script/interpreter.hpp"
#include "script/registry.hpp"
#include "script/twin.hpp"

namespace nodelab::emitter {

struct RequestStats {
  bool ran = false;
  std::uint64_t requests = 0;  // completed
  std::uint64_t planned = 0;
  std::uint64_t stopped_at = 0;  // the ceiling stopped the requests here (0: it did not)
  std::uint64_t live = 0;        // request listeners still attached
  std::uint64_t peak_live = 0;
  std::uint64_t payload_bytes = 0;
  std::optional<std::uint64_t> first_warning_at;  // request number
  metrics::Histogram emit_ns_per_listener;        // emit cost / listeners, per emit
  std::uint64_t emits = 0;
  double max_emit_ms = 0;
};

class World {
 public:
  explicit World(script::Interpreter& interp) : interp_(interp) {}

  EventEmitter& get(const std::string& name);
  FunctionRef& latest(const std::string& emitter, const std::string& id) {
    return latest_[{emitter, id}];
  }
  runtime::Runtime& rt() { return interp_.rt(); }
  script::Interpreter& interp() { return interp_; }

  RequestStats stats;
  std::uint64_t current_request = 0;  // 0 outside a request

  // The lab's metrics (emitter.* and requests.*).
  void collect(metrics::MetricSet& out) const;
  static const std::vector<metrics::MetricInfo>& metric_table();

 private:
  script::Interpreter& interp_;
  std::vector<std::pair<std::string, std::unique_ptr<EventEmitter>>> emitters_;
  std::map<std::pair<std::string, std::string>, FunctionRef> latest_;
};

// The lab's registry: the shared ops, the emitter ops and the requests block.
script::OpRegistry registry();

// In the Node twin: `name` is an EventEmitter (declared once, with the `L` table the twin keeps
// its listener functions in). A scenario's names are only ever property names of the twin's
// tables (`E.<emitter>`, `L.<id>`, objects without a prototype), never JavaScript variables,
// so any identifier the format allows works, whatever names the twin uses itself.
void use_emitter(script::TwinWriter& w, const std::string& name);
// The twin's expression for emitter `name`: `E.name`.
std::string emitter_js(const std::string& name);

}  // namespace nodelab::emitter
