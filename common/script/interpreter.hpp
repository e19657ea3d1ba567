#pragma once
// Runs a scenario's op tree on the runtime. Each JS function (the main script, a
// callback, an async function) runs on a small machine with an explicit frame stack:
// `repeat` and `try` push frames, a `throw` unwinds them to the nearest `try`, and an
// `await` saves the machine and resumes it from a microtask, one hop later, exactly as
// `await undefined` does in V8.

#include <memory>
#include <typeindex>
#include <unordered_map>

#include "runtime/runtime.hpp"
#include "script/op.hpp"
#include "script/scenario.hpp"

namespace nodelab::script {

class Interpreter {
 public:
  Interpreter(const Scenario& scenario, runtime::Runtime& rt);
  Interpreter(const Interpreter&) = delete;
  Interpreter& operator=(const Interpreter&) = delete;

  // Runs the scenario's main script, then the event loop, to the end.
  runtime::RunResult run();

  const Scenario& scenario() const { return scenario_; }
  runtime::Runtime& rt() { return rt_; }

  // A JS function with `body`, closing over `error`.
  runtime::Task callback(const Body& body, ErrorEnv error);
  // Calls a synchronous function body now (a callback, a listener); a throw propagates.
  void run_body(const Body& body, const ErrorEnv& error);
  // Calls an async function: runs to its first `await`; a throw rejects its promise.
  void start_async(const Body& body, const ErrorEnv& error);

  // Per-run state a lab keeps for its own ops (emitters, streams...), made on first use.
  template <class T>
  T& extension() {
    auto& slot = extensions_[std::type_index(typeid(T))];
    if (!slot) slot = std::make_shared<T>(*this);
    return *static_cast<T*>(slot.get());
  }

 private:
  enum class FrameKind : std::uint8_t { plain, repeat, try_body, catch_body };
  struct Frame {
    const Body* body = nullptr;
    std::size_t pc = 0;
    FrameKind kind = FrameKind::plain;
    std::int64_t remaining = 0;     // repeat: runs left, this one included
    const Body* handler = nullptr;  // try_body: the catch body
    ErrorEnv error;
  };
  struct Machine {
    std::vector<Frame> frames;
    runtime::Site suspended_at = 0;
  };

  // Runs until the machine finishes (true) or suspends at an await (false).
  bool execute(Machine& m);
  void resume(const std::shared_ptr<Machine>& m);

  const Scenario& scenario_;
  runtime::Runtime& rt_;
  std::unordered_map<std::type_index, std::shared_ptr<void>> extensions_;
};

// Starts a lab block's run (`requests:`, `workload:`): a Run with `cfg`, `world` and `site`
// members and a start(), kept alive by the callbacks it schedules.
template <class Run, class World, class Config>
void start_block_run(const Exec& ex, const Config& cfg, runtime::Site site) {
  auto run = std::make_shared<Run>();
  run->cfg = cfg;
  run->world = &ex.interp.extension<World>();
  run->site = site;
  run->start();
}

}  // namespace nodelab::script
