#include "script/interpreter.hpp"

namespace nodelab::script {

Interpreter::Interpreter(const Scenario& scenario, runtime::Runtime& rt)
    : scenario_(scenario), rt_(rt) {}

runtime::RunResult Interpreter::run() {
  return rt_.run([this] { run_body(scenario_.main, nullptr); });
}

runtime::Task Interpreter::callback(const Body& body, ErrorEnv error) {
  if (body.empty()) return [] {};
  // Without an error binding the closure is two pointers, which std::function stores inline
  // (no allocation per scheduled callback).
  if (!error) return [this, &body] { run_body(body, nullptr); };
  return [this, &body, error = std::move(error)] { run_body(body, error); };
}

void Interpreter::run_body(const Body& body, const ErrorEnv& error) {
  if (body.empty()) return;
  Machine m;
  m.frames.reserve(4);
  m.frames.push_back(Frame{&body, 0, FrameKind::plain, 0, nullptr, error});
  execute(m);  // a callback body holds no `await` (checked when loading)
}

void Interpreter::start_async(const Body& body, const ErrorEnv& error) {
  auto m = std::make_shared<Machine>();
  m->frames.push_back(Frame{&body, 0, FrameKind::plain, 0, nullptr, error});
  resume(m);
}

void Interpreter::resume(const std::shared_ptr<Machine>& m) {
  bool done = false;
  try {
    done = execute(*m);
  } catch (const runtime::JsThrow& t) {
    rt_.reject_promise(t.error());  // the async function's promise rejects; nobody handles it
    return;
  }
  if (!done) {
    rt_.enqueue_microtask([this, m] { resume(m); }, m->suspended_at,
                          runtime::CallbackKind::await_resume);
  }
}

bool Interpreter::execute(Machine& m) {
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
      while (!m.frames.empty() && m.frames.back().kind != FrameKind::try_body)
        m.frames.pop_back();
      if (m.frames.empty()) throw;
      Frame caught = std::move(m.frames.back());
      m.frames.pop_back();
      m.frames.push_back(Frame{caught.handler, 0, FrameKind::catch_body, 0, nullptr,
                               std::make_shared<const std::string>(t.error().message)});
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
