#include "script/interpreter.hpp"

#include <utility>

namespace nodelab::script {

Interpreter::Interpreter(const Scenario& scenario, runtime::Runtime& rt)
    : scenario_(scenario), rt_(rt), promises_(rt) {}

runtime::JsValue Interpreter::named(const std::string& name) const {
  const auto it = names_.find(name);
  return it == names_.end() ? runtime::JsValue() : it->second;
}

runtime::RunResult Interpreter::run() {
  return rt_.run([this] { run_body(scenario_.main, nullptr); });
}

runtime::Task Interpreter::callback(const Body& body, ErrorEnv error) {
  if (body.empty()) return [] {};
  // Without an error or value binding the closure is two pointers, which std::function
  // stores inline (no allocation per scheduled callback).
  if (!error && !current_value_) return [this, &body] { run_body(body, nullptr); };
  return [this, &body, error = std::move(error), value = current_value_] {
    Machine m;
    m.frames.push_back(Frame{&body, 0, FrameKind::plain, 0, nullptr, error});
    m.value = value;  // the closure sees the enclosing function's `v`
    execute(m);
  };
}

void Interpreter::run_body(const Body& body, const ErrorEnv& error) {
  if (body.empty()) return;
  Machine m;
  m.frames.reserve(4);
  m.frames.push_back(Frame{&body, 0, FrameKind::plain, 0, nullptr, error});
  m.value = current_value_;
  execute(m);  // a callback body holds no `await` (checked when loading)
}

void Interpreter::run_function(const Body& body, const ErrorEnv& error,
                               const runtime::JsValue& value) {
  if (body.empty()) return;
  Machine m;
  m.frames.push_back(Frame{&body, 0, FrameKind::plain, 0, nullptr, error});
  m.value = std::make_shared<ValueCell>(ValueCell{runtime::show(value)});
  execute(m);
}

runtime::PromiseRef Interpreter::start_async(const Body& body, const ErrorEnv& error,
                                             std::function<runtime::JsValue()> result) {
  auto m = std::make_shared<Machine>();
  m->frames.push_back(Frame{&body, 0, FrameKind::plain, 0, nullptr, error});
  m->value = std::make_shared<ValueCell>();
  m->promise = promises_.create();
  m->result = std::move(result);
  runtime::PromiseRef p = m->promise;
  resume(m);
  return p;
}

void Interpreter::resume(const std::shared_ptr<Machine>& m) {
  bool done = false;
  try {
    done = execute(*m);
  } catch (const runtime::JsThrow& t) {
    // The async function's promise rejects (reported to Node if nobody handles it).
    promises_.reject(m->promise, runtime::thrown_value(t));
    return;
  }
  if (done) {
    runtime::JsValue result;
    if (m->result) {
      const ValueEnv saved = std::exchange(current_value_, m->value);
      result = m->result();
      current_value_ = saved;
    }
    // `return x` resolves the promise with x: a thenable costs NewPromiseResolveThenableJob.
    promises_.resolve(m->promise, result, m->suspended_at);
    return;
  }
  runtime::JsValue awaited = std::exchange(await_value_, runtime::JsValue());
  const bool assigns = std::exchange(await_assigns_, false);
  promises_.await(
      awaited,
      [this, m, assigns](bool fulfilled, const runtime::JsValue& v) {
        if (fulfilled) {
          if (assigns) m->value->shown = runtime::show(v);
        } else if (!catch_in(*m, runtime::JsValueThrow(v))) {
          promises_.reject(m->promise, v);  // the rejection escapes the async function
          return;
        }
        resume(m);
      },
      m->suspended_at);
}

bool Interpreter::catch_in(Machine& m, const runtime::JsThrow& t) {
  while (!m.frames.empty() && m.frames.back().kind != FrameKind::try_body)
    m.frames.pop_back();
  if (m.frames.empty()) return false;
  Frame caught = std::move(m.frames.back());
  m.frames.pop_back();
  m.frames.push_back(
      Frame{caught.handler, 0, FrameKind::catch_body, 0, nullptr,
            std::make_shared<const std::string>(runtime::thrown_value(t).message_text())});
  return true;
}

bool Interpreter::execute(Machine& m) {
  // The running function's `v`, for the ops (a nested call, a listener, restores it).
  struct ValueScope {
    ValueEnv& slot;
    ValueEnv saved;
    ~ValueScope() { slot = std::move(saved); }
  } scope{current_value_, std::exchange(current_value_, m.value)};
  while (!m.frames.empty()) {
    // A long synchronous body (repeat 1e6) still stops promptly on Ctrl-C or a ceiling.
    if (runtime::stop_requested() != runtime::StopReason::none) return true;
    Frame& f = m.frames.back();
    if (f.pc == f.body->size()) {
      if (f.kind == FrameKind::repeat && --f.remaining > 0) {
        f.pc = 0;
        continue;
      }
      m.frames.pop_back();
      continue;
    }
    const Op& op = *(*f.body)[f.pc++];
    Flow flow;
    try {
      flow = op.run(Exec{*this, rt_, f.error});
    } catch (const runtime::JsThrow& t) {
      // Unwind to the nearest enclosing try body of this function.
      if (!catch_in(m, t)) throw;
      continue;
    }
    switch (flow.kind) {
      case Flow::Kind::next:
        break;
      case Flow::Kind::repeat:
        if (flow.times > 0 && !flow.body->empty()) {
          ErrorEnv env = f.error;  // `f` dangles once the vector grows
          m.frames.push_back(Frame{flow.body, 0, FrameKind::repeat, flow.times, nullptr, env});
        }
        break;
      case Flow::Kind::try_catch: {
        ErrorEnv env = f.error;
        m.frames.push_back(Frame{flow.body, 0, FrameKind::try_body, 0, flow.handler, env});
        break;
      }
      case Flow::Kind::await_:
        m.suspended_at = op.site;
        return false;
    }
  }
  return true;
}

}  // namespace nodelab::script
