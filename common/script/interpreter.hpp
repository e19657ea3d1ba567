#pragma once
// Runs a scenario's op tree on the runtime. Each JS function (the main script, a
// callback, an async function) runs on a small machine with an explicit frame stack:
// `repeat` and `try` push frames, a `throw` unwinds them to the nearest `try`, and an
// `await` saves the machine and resumes it from the await continuation the promise engine
// (runtime/promise.hpp) queues: one hop after the awaited promise settles (`await undefined`:
// one hop), with a rejection thrown into the function at the await. An async function's
// promise fulfills with its return value or rejects with what escaped it, through the
// engine (an unhandled rejection is the engine's report to the runtime).

#include <functional>
#include <memory>
#include <string>
#include <typeindex>
#include <unordered_map>

#include "runtime/promise.hpp"
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

  // A JS function with `body`, closing over `error` (and over the running function's `v`).
  runtime::Task callback(const Body& body, ErrorEnv error);
  // Calls a synchronous function body now (a callback, a listener); a throw propagates.
  void run_body(const Body& body, const ErrorEnv& error);
  // Calls a function whose own `v` is `value` (a promise reaction): `{value}` shows it.
  void run_function(const Body& body, const ErrorEnv& error, const runtime::JsValue& value);
  // Calls an async function: runs to its first `await`; returns its promise, which fulfills
  // with `result()` (evaluated when the body ends; undefined when empty) or rejects with
  // what a throw carried out of it.
  runtime::PromiseRef start_async(const Body& body, const ErrorEnv& error,
                                  std::function<runtime::JsValue()> result = {});
  // Called by an op returning Flow::await_: the value it awaits (undefined if never called)
  // and whether the function's `v` takes the result (`v = await x`; `await undefined` not).
  void set_await_value(runtime::JsValue v, bool assigns_v = true) {
    await_value_ = std::move(v);
    await_assigns_ = assigns_v;
  }

  // The run's promises, and its table of named ones (`P.NAME`; undefined until given).
  runtime::PromiseEngine& promises() { return promises_; }
  runtime::JsValue named(const std::string& name) const;
  void give_name(const std::string& name, runtime::JsValue v) { names_[name] = std::move(v); }
  // `v` of the function running now (null outside async functions and reactions).
  const ValueEnv& current_value() const { return current_value_; }

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
    ValueEnv value;               // the function's `v` (null: none)
    runtime::PromiseRef promise;  // an async function's promise
    std::function<runtime::JsValue()> result;
  };

  // Runs until the machine finishes (true) or suspends at an await (false).
  bool execute(Machine& m);
  // Unwinds `m` to its nearest try body and enters its catch; false if there is none.
  static bool catch_in(Machine& m, const runtime::JsThrow& t);
  // Runs an async function's machine to its next await, or settles its promise.
  void resume(const std::shared_ptr<Machine>& m);

  const Scenario& scenario_;
  runtime::Runtime& rt_;
  runtime::PromiseEngine promises_;
  std::unordered_map<std::string, runtime::JsValue> names_;
  ValueEnv current_value_;
  runtime::JsValue await_value_;
  bool await_assigns_ = false;
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
