// The async lab's cancellation ops: AbortController / AbortSignal and timers/promises'
// setTimeout with a signal, as Node 20 implements them (lib/internal/abort_controller.js,
// lib/timers/promises.js, lib/internal/per_context/primordials.js SafePromisePrototypeFinally).
// docs/scenario-format.md, "Ops of the async lab".

#include <fmt/format.h>

#include <map>
#include <optional>
#include <vector>

#include "async/ops.hpp"
#include "async/world.hpp"
#include "metrics/metric_set.hpp"
#include "runtime/js_number.hpp"
#include "script/parser.hpp"
#include "script/twin.hpp"
#include "script/values.hpp"

namespace nodelab::async {

namespace {

using runtime::JsValue;
using runtime::PromiseEngine;
using runtime::PromiseRef;
using script::Body;
using script::BodyKind;
using script::Exec;
using script::Fields;
using script::Flow;
using script::Interpreter;
using script::Parser;
using script::TwinWriter;
using script::ValueSpec;

// An AbortSignal: its state and its 'abort' listeners, in the order they were added.
struct Signal {
  bool timeout = false;    // AbortSignal.timeout's: no controller, AC.name.abort is undefined
  bool composite = false;  // AbortSignal.any's: no controller either
  bool aborted = false;
  JsValue reason;
  struct Listener {
    std::uint64_t id = 0;
    std::function<void()> fn;
    bool removed = false;
  };
  std::vector<std::shared_ptr<Listener>> listeners;
  std::uint64_t next_id = 1;
  // kDependantSignals: the AbortSignal.any signals this one aborts after its own listeners
  // ran, each once, in the order they were first added (a Set). Node holds them by WeakRef,
  // and keeps one with an 'abort' listener alive (gcPersistentSignals): held here.
  std::vector<std::shared_ptr<Signal>> dependants;
  // kSourceSignals of a composite: the non-composite signals it follows (nullopt: any([])).
  std::optional<std::vector<std::weak_ptr<Signal>>> sources;

  void add_dependant(const std::shared_ptr<Signal>& s) {
    for (const auto& d : dependants) {
      if (d == s) return;
    }
    dependants.push_back(s);
  }
  std::uint64_t add(std::function<void()> fn) {
    listeners.push_back(std::make_shared<Listener>(Listener{next_id, std::move(fn), false}));
    return next_id++;
  }
  void remove(std::uint64_t id) {
    for (auto it = listeners.begin(); it != listeners.end(); ++it) {
      if ((*it)->id == id) {
        (*it)->removed = true;
        listeners.erase(it);
        return;
      }
    }
  }
};

struct Signals {
  explicit Signals(Interpreter&) {}
  std::map<std::string, std::shared_ptr<Signal>> by_controller;  // AC.name.signal
  // For the metrics: signals made and aborted, by kind; 'abort' listeners called.
  std::uint64_t made = 0, aborted = 0, any_made = 0, any_aborted = 0, listeners_run = 0;
  std::shared_ptr<Signal> get(const std::string& controller) {
    auto& s = by_controller[controller];
    if (!s) s = std::make_shared<Signal>();
    return s;
  }
};

// new DOMException('This operation was aborted', 'AbortError'): code 20.
JsValue dom_abort_error() {
  JsValue e = JsValue::error("AbortError", "This operation was aborted", "20");
  e.numeric_code = true;
  return e;
}

// lib/internal/errors.js AbortError: code 'ABORT_ERR', `cause` from its options.
JsValue abort_error(const JsValue& cause) {
  JsValue e = JsValue::error("AbortError", "The operation was aborted", "ABORT_ERR");
  if (cause.kind != JsValue::Kind::undefined) e.cause = std::make_shared<JsValue>(cause);
  return e;
}

// abortSignal(signal, reason): marks it aborted and dispatches 'abort' synchronously to the
// listeners present when the dispatch began (one removed meanwhile is skipped); a listener's
// throw is rethrown from process.nextTick (lib/internal/event_target.js), an uncaught
// exception. Then each dependant AbortSignal.any signal is aborted the same way with the same
// reason: all of the source's listeners run before any of the dependant's, and the dependant
// is still not aborted while the source's run.
void abort_signal(Interpreter& interp, Signal& s, JsValue reason, runtime::Site site) {
  if (s.aborted) return;
  s.aborted = true;
  s.reason = std::move(reason);
  auto& stats = interp.extension<Signals>();
  ++stats.aborted;
  if (s.composite) ++stats.any_aborted;
  const auto snapshot = s.listeners;
  for (const auto& l : snapshot) {
    if (l->removed) continue;
    ++stats.listeners_run;
    try {
      l->fn();
    } catch (const runtime::JsThrow& t) {
      const JsValue err = runtime::thrown_value(t);
      interp.rt().next_tick([err] { throw runtime::JsValueThrow(err); }, site);
    }
  }
  // signal[kDependantSignals]?.forEach(...): a Set's forEach also visits one added meanwhile.
  for (std::size_t i = 0; i < s.dependants.size(); ++i) {
    const std::shared_ptr<Signal> d = s.dependants[i];
    abort_signal(interp, *d, s.reason, site);
  }
}

// AC.name.signal for an op that reads it: a name given by an op that has not run yet is
// undefined in the twin, and reading .signal of it a TypeError.
std::shared_ptr<Signal> existing_signal(Interpreter& interp, const std::string& controller) {
  auto& m = interp.extension<Signals>().by_controller;
  const auto it = m.find(controller);
  if (it == m.end()) {
    throw runtime::JsValueThrow(
        JsValue::error("TypeError", "Cannot read properties of undefined (reading 'signal')"));
  }
  return it->second;
}

std::string controller_js(const std::string& name) {
  return "AC." + name;
}

void use_controllers(TwinWriter& w) {
  w.declare("(controllers)", "const AC = Object.create(null);");
}

class ControllerOp final : public script::Op {
 public:
  explicit ControllerOp(std::string name) : name_(std::move(name)) {}
  std::string_view name() const override { return "abortController"; }
  Flow run(const Exec& ex) const override {
    // A new controller: a fresh signal under the name.
    auto& signals = ex.interp.extension<Signals>();
    signals.by_controller[name_] = std::make_shared<Signal>();
    ++signals.made;
    return {};
  }
  void emit_twin(TwinWriter& w) const override {
    use_controllers(w);
    w.line(controller_js(name_) + " = new AbortController();");
  }

 private:
  std::string name_;
};

class AbortOp final : public script::Op {
 public:
  AbortOp(std::string controller, std::optional<ValueSpec> reason)
      : controller_(std::move(controller)), reason_(std::move(reason)) {}
  std::string_view name() const override { return "abort"; }
  Flow run(const Exec& ex) const override {
    auto signal = ex.interp.extension<Signals>().get(controller_);
    if (signal->timeout || signal->composite) {
      throw runtime::JsValueThrow(JsValue::error(
          "TypeError", fmt::format("{}.abort is not a function", controller_js(controller_))));
    }
    // abort(reason = new DOMException('This operation was aborted', 'AbortError'))
    JsValue reason = reason_ ? reason_->eval(ex.interp) : JsValue();
    if (reason.kind == JsValue::Kind::undefined) reason = dom_abort_error();
    abort_signal(ex.interp, *signal, std::move(reason), site);
    return {};
  }
  void emit_twin(TwinWriter& w) const override {
    use_controllers(w);
    if (reason_ && reason_->uses_promises()) script::use_promises(w);
    w.line(controller_js(controller_) + ".abort(" + (reason_ ? reason_->js() : "") + ");");
  }

 private:
  std::string controller_;
  std::optional<ValueSpec> reason_;
};

// AC.name = { signal: AbortSignal.timeout(ms) }: an unref'd timer aborts it with a
// DOMException TimeoutError (code 23) (lib/internal/abort_controller.js
// setWeakAbortSignalTimeout); a program waiting only on it exits.
class TimeoutSignalOp final : public script::Op {
 public:
  TimeoutSignalOp(std::string name, double ms) : name_(std::move(name)), ms_(ms) {}
  std::string_view name() const override { return "timeoutSignal"; }
  Flow run(const Exec& ex) const override {
    Interpreter& interp = ex.interp;
    auto signal = std::make_shared<Signal>();
    signal->timeout = true;
    auto& signals = interp.extension<Signals>();
    signals.by_controller[name_] = signal;
    ++signals.made;
    std::weak_ptr<Signal> weak = signal;
    const runtime::TimerId id = ex.rt.set_timeout(
        ms_,
        [&interp, weak, site = site] {
          const auto s = weak.lock();
          if (!s) return;
          JsValue reason =
              JsValue::error("TimeoutError", "The operation was aborted due to timeout", "23");
          reason.numeric_code = true;
          abort_signal(interp, *s, std::move(reason), site);
        },
        site);
    ex.rt.unref_timer(id);
    return {};
  }
  void emit_twin(TwinWriter& w) const override {
    use_controllers(w);
    w.line(fmt::format("{} = {{ signal: AbortSignal.timeout({}) }};", controller_js(name_),
                       runtime::js_number_to_string(ms_)));
  }
  std::string describe() const override {
    return fmt::format("AbortSignal.timeout({})", runtime::js_number_to_string(ms_));
  }

 private:
  std::string name_;
  double ms_;
};

// AC.name = { signal: AbortSignal.any([AC.a.signal, ...]) } (lib/internal/abort_controller.js
// AbortSignal.any): aborted at once with the reason of the first source already aborted;
// else each source (a composite one stands for its own sources) lists it as a dependant, so
// the first source to abort aborts it with the same reason, after the source's own listeners.
class AnySignalOp final : public script::Op {
 public:
  AnySignalOp(std::string name, std::vector<std::string> of)
      : name_(std::move(name)), of_(std::move(of)) {}
  std::string_view name() const override { return "anySignal"; }
  Flow run(const Exec& ex) const override {
    Interpreter& interp = ex.interp;
    std::vector<std::shared_ptr<Signal>> inputs;
    for (const auto& c : of_)
      inputs.push_back(existing_signal(interp, c));
    auto result = std::make_shared<Signal>();
    result->composite = true;
    auto& signals = interp.extension<Signals>();
    signals.by_controller[name_] = result;
    ++signals.made;
    ++signals.any_made;
    if (inputs.empty()) return {};
    result->sources.emplace();
    for (const auto& in : inputs) {
      if (in->aborted) {
        abort_signal(interp, *result, in->reason, site);
        return {};
      }
      if (!in->composite) {
        result->sources->push_back(in);
        in->add_dependant(result);
      } else if (in->sources) {
        for (const auto& weak : *in->sources) {
          const auto src = weak.lock();
          if (!src) continue;
          result->sources->push_back(src);
          src->add_dependant(result);
        }
      }
    }
    return {};
  }
  void emit_twin(TwinWriter& w) const override {
    use_controllers(w);
    std::string list;
    for (const auto& c : of_)
      list += (list.empty() ? "" : ", ") + controller_js(c) + ".signal";
    w.line(fmt::format("{} = {{ signal: AbortSignal.any([{}]) }};", controller_js(name_), list));
  }
  std::string describe() const override {
    return fmt::format("AbortSignal.any of {} signals", of_.size());
  }

 private:
  std::string name_;
  std::vector<std::string> of_;
};

class OnAbortOp final : public script::Op {
 public:
  OnAbortOp(std::string controller, Body body)
      : controller_(std::move(controller)), body_(std::move(body)) {}
  std::string_view name() const override { return "onAbort"; }
  Flow run(const Exec& ex) const override {
    auto signal = ex.interp.extension<Signals>().get(controller_);
    Interpreter& interp = ex.interp;
    std::weak_ptr<Signal> weak = signal;
    signal->add([&interp, weak, this] {
      const auto s = weak.lock();
      const JsValue reason = s ? s->reason : JsValue();
      interp.run_function(body_, std::make_shared<const std::string>(reason.message_text()),
                          reason);
    });
    return {};
  }
  void emit_twin(TwinWriter& w) const override {
    use_controllers(w);
    const std::string signal = controller_js(controller_) + ".signal";
    w.open(signal + ".addEventListener('abort', () => {");
    w.line("const v = " + signal + ".reason, e = v;");
    w.body(body_);
    w.close("});");
  }

 private:
  std::string controller_;
  Body body_;
};

// P.name = require('timers/promises').setTimeout(ms, value, { signal: AC.c.signal })
class SleepOp final : public script::Op {
 public:
  SleepOp(std::string name, double ms, ValueSpec value, std::string controller)
      : name_(std::move(name)),
        ms_(ms),
        value_(std::move(value)),
        controller_(std::move(controller)) {}
  std::string_view name() const override { return "sleep"; }
  Flow run(const Exec& ex) const override {
    Interpreter& interp = ex.interp;
    PromiseEngine& e = interp.promises();
    runtime::Runtime& rt = ex.rt;
    std::shared_ptr<Signal> signal;
    if (!controller_.empty()) signal = interp.extension<Signals>().get(controller_);
    if (signal && signal->aborted) {
      interp.give_name(name_, JsValue::of(e.promise_reject(abort_error(signal->reason))));
      return {};
    }
    PromiseRef ret = e.create();
    const JsValue value = value_.eval(interp);
    auto fired = std::make_shared<bool>(false);
    const runtime::TimerId timer = rt.set_timeout(
        ms_,
        [&e, ret, value, fired, site = site] {
          *fired = true;
          e.resolving_functions(ret, site).resolve(value);
        },
        site);
    if (!signal) {
      interp.give_name(name_, JsValue::of(ret));
      return {};
    }
    std::weak_ptr<Signal> weak = signal;
    const std::uint64_t listener = signal->add([&rt, &e, ret, fired, timer, weak, site = site] {
      if (*fired) return;  // the timeout is destroyed once it ran
      *fired = true;
      rt.clear_timer(timer);
      const auto s = weak.lock();
      e.resolving_functions(ret, site).reject(abort_error(s ? s->reason : JsValue()));
    });
    // SafePromisePrototypeFinally(ret, () => signal.removeEventListener('abort', oncancel)):
    //   new Promise((a, b) => new SafePromise((a, b) => ret.then(a, b)).finally(f).then(a, b))
    PromiseRef outer = e.create();
    const auto outer_fns = e.resolving_functions(outer, site);
    PromiseRef safe = e.create();
    const auto safe_fns = e.resolving_functions(safe, site);
    e.then(
        ret,
        [safe_fns](const JsValue& v) {
          safe_fns.resolve(v);
          return JsValue();
        },
        [safe_fns](const JsValue& r) {
          safe_fns.reject(r);
          return JsValue();
        },
        site);
    PromiseRef fin = e.finally(
        safe,
        [weak, listener] {
          if (const auto s = weak.lock()) s->remove(listener);
          return JsValue();
        },
        site);
    e.then(
        fin,
        [outer_fns](const JsValue& v) {
          outer_fns.resolve(v);
          return JsValue();
        },
        [outer_fns](const JsValue& r) {
          outer_fns.reject(r);
          return JsValue();
        },
        site);
    interp.give_name(name_, JsValue::of(outer));
    return {};
  }
  void emit_twin(TwinWriter& w) const override {
    script::use_promises(w);
    if (value_.uses_promises()) script::use_promises(w);
    w.require("timers/promises", "const timersPromises = require('timers/promises');");
    std::string args = runtime::js_number_to_string(ms_) + ", " + value_.js();
    if (!controller_.empty()) {
      use_controllers(w);
      args += ", { signal: " + controller_js(controller_) + ".signal }";
    }
    w.line(fmt::format("{} = timersPromises.setTimeout({});", script::promise_js(name_), args));
  }
  std::string describe() const override {
    return fmt::format("sleep {} ms", runtime::js_number_to_string(ms_));
  }

 private:
  std::string name_;
  double ms_;
  ValueSpec value_;
  std::string controller_;
};

// A minimal EventEmitter (lib/events.js) for events.once: named emitters, created on first
// use (the twin's `E.name = new EventEmitter()`), whose listeners are the ones events.once
// adds, each with `once` semantics (removed before it is called).
struct Emitter {
  struct Listener {
    std::uint64_t id = 0;
    std::function<void(const std::vector<JsValue>&)> fn;
  };
  std::map<std::string, std::vector<std::shared_ptr<Listener>>> by_event;
  std::uint64_t next_id = 1;

  std::uint64_t once(const std::string& event,
                     std::function<void(const std::vector<JsValue>&)> fn) {
    by_event[event].push_back(std::make_shared<Listener>(Listener{next_id, std::move(fn)}));
    return next_id++;
  }
  void remove(const std::string& event, std::uint64_t id) {
    auto& v = by_event[event];
    // removeListener removes the most recently added match: ids are unique, so the one.
    for (auto it = v.begin(); it != v.end(); ++it) {
      if ((*it)->id == id) {
        v.erase(it);
        return;
      }
    }
  }
  std::size_t count(const std::string& event) const {
    const auto it = by_event.find(event);
    return it == by_event.end() ? 0 : it->second.size();
  }
  // emit(event, ...args): the listeners present when it began (arrayClone), in order; each
  // `once` one removed, then called. 'error' with no listener throws its argument.
  bool emit(const std::string& event, const std::vector<JsValue>& args) {
    const auto snapshot = by_event[event];
    if (snapshot.empty()) {
      if (event == "error") throw runtime::JsValueThrow(args.empty() ? JsValue() : args[0]);
      return false;
    }
    for (const auto& l : snapshot) {
      remove(event, l->id);
      l->fn(args);
    }
    return true;
  }
};

struct Emitters {
  explicit Emitters(Interpreter&) {}
  std::map<std::string, Emitter> by_name;
  // For the metrics: emits (and those no listener heard); events.once calls and outcomes.
  std::uint64_t emits = 0, unheard = 0;
  std::uint64_t once_calls = 0, once_resolved = 0, once_aborted = 0, once_errored = 0;
};

std::string emitter_js(const std::string& name) {
  return "E." + name;
}

void use_emitter(TwinWriter& w, const std::string& name) {
  w.require("events", "const events = require('events');");
  w.declare("(emitters)", "const E = Object.create(null);");
  w.declare("emitter " + name, emitter_js(name) + " = new events.EventEmitter();");
}

std::string event_field(Parser& p, Fields& f, std::string_view op) {
  std::string event = f.string("event");
  if (event.empty()) p.fail(f.get("event"), fmt::format("`event` of `{}` must not be empty", op));
  return event;
}

// E.emitter.emit(event[, value | new Error(error)])
class EmitOp final : public script::Op {
 public:
  EmitOp(std::string emitter, std::string event, std::optional<ValueSpec> arg)
      : emitter_(std::move(emitter)), event_(std::move(event)), arg_(std::move(arg)) {}
  std::string_view name() const override { return "emit"; }
  Flow run(const Exec& ex) const override {
    std::vector<JsValue> args;
    if (arg_) args.push_back(arg_->eval(ex.interp));
    auto& emitters = ex.interp.extension<Emitters>();
    Emitter& em = emitters.by_name[emitter_];
    ++emitters.emits;
    if (em.count(event_) == 0) ++emitters.unheard;  // counted before an 'error' throws
    em.emit(event_, args);
    return {};
  }
  void emit_twin(TwinWriter& w) const override {
    use_emitter(w, emitter_);
    if (arg_ && arg_->uses_promises()) script::use_promises(w);
    w.line(fmt::format("{}.emit({}{});", emitter_js(emitter_), script::js_string(event_),
                       arg_ ? ", " + arg_->js() : std::string()));
  }

 private:
  std::string emitter_, event_;
  std::optional<ValueSpec> arg_;
};

// Logs `listenerCount(emitter, event) = N`.
class ListenerCountOp final : public script::Op {
 public:
  ListenerCountOp(std::string emitter, std::string event)
      : emitter_(std::move(emitter)), event_(std::move(event)) {}
  std::string_view name() const override { return "listenerCount"; }
  Flow run(const Exec& ex) const override {
    const auto n = ex.interp.extension<Emitters>().by_name[emitter_].count(event_);
    ex.rt.log(fmt::format("listenerCount({}, {}) = {}", emitter_, event_, n));
    return {};
  }
  void emit_twin(TwinWriter& w) const override {
    use_emitter(w, emitter_);
    w.line(fmt::format("console.log({} + {}.listenerCount({}));",
                       script::js_string(fmt::format("listenerCount({}, {}) = ", emitter_, event_)),
                       emitter_js(emitter_), script::js_string(event_)));
  }

 private:
  std::string emitter_, event_;
};

// P.name = events.once(E.emitter, event[, { signal: AC.controller.signal }]) (lib/events.js
// once, an async function): an aborted signal throws the AbortError (the promise is rejected
// at once); else a `new Promise` that the async function's promise adopts (one
// NewPromiseResolveThenableJob, so the caller sees its outcome two hops after it settles).
// Its listeners: the event's (resolves with the args array), 'error' (unless the event is
// 'error'; rejects with it) and the signal's 'abort' (rejects with AbortError, cause = the
// signal's reason); whichever runs first removes the other two.
class EventsOnceOp final : public script::Op {
 public:
  EventsOnceOp(std::string name, std::string emitter, std::string event, std::string controller)
      : name_(std::move(name)),
        emitter_(std::move(emitter)),
        event_(std::move(event)),
        controller_(std::move(controller)) {}
  std::string_view name() const override { return "eventsOnce"; }
  Flow run(const Exec& ex) const override {
    Interpreter& interp = ex.interp;
    PromiseEngine& e = interp.promises();
    std::shared_ptr<Signal> signal;
    if (!controller_.empty()) signal = existing_signal(interp, controller_);
    Emitters& stats = interp.extension<Emitters>();
    ++stats.once_calls;
    if (signal && signal->aborted) {
      ++stats.once_aborted;
      interp.give_name(name_, JsValue::of(e.promise_reject(abort_error(signal->reason))));
      return {};
    }
    Emitter& em = stats.by_name[emitter_];
    PromiseRef inner = e.create();
    const auto fns = e.resolving_functions(inner, site);
    struct Ids {
      std::uint64_t event = 0, error = 0, abort = 0;
    };
    auto ids = std::make_shared<Ids>();
    std::weak_ptr<Signal> weak = signal;
    const std::string event = event_;
    ids->event =
        em.once(event, [&stats, &em, ids, weak, fns, event](const std::vector<JsValue>& args) {
          ++stats.once_resolved;
          if (ids->error != 0) em.remove("error", ids->error);
          if (const auto s = weak.lock()) s->remove(ids->abort);
          fns.resolve(JsValue::array(args));
        });
    if (event != "error") {
      ids->error =
          em.once("error", [&stats, &em, ids, weak, fns, event](const std::vector<JsValue>& args) {
            ++stats.once_errored;
            em.remove(event, ids->event);
            if (const auto s = weak.lock()) s->remove(ids->abort);
            fns.reject(args.empty() ? JsValue() : args[0]);
          });
    }
    if (signal) {
      ids->abort = signal->add([&stats, &em, ids, weak, fns, event] {
        ++stats.once_aborted;
        const auto s = weak.lock();
        if (s) s->remove(ids->abort);  // { once: true }
        em.remove(event, ids->event);
        if (ids->error != 0) em.remove("error", ids->error);
        fns.reject(abort_error(s ? s->reason : JsValue()));
      });
    }
    // `return new Promise(...)` from the async function: its promise adopts this one.
    PromiseRef outer = e.create();
    e.resolving_functions(outer, site).resolve(JsValue::of(inner));
    interp.give_name(name_, JsValue::of(outer));
    return {};
  }
  void emit_twin(TwinWriter& w) const override {
    script::use_promises(w);
    use_emitter(w, emitter_);
    std::string args = emitter_js(emitter_) + ", " + script::js_string(event_);
    if (!controller_.empty()) {
      use_controllers(w);
      args += ", { signal: " + controller_js(controller_) + ".signal }";
    }
    w.line(fmt::format("{} = events.once({});", script::promise_js(name_), args));
  }
  std::string describe() const override { return fmt::format("events.once '{}'", event_); }

 private:
  std::string name_, emitter_, event_, controller_;
};

}  // namespace

void collect_abort_metrics(script::Interpreter& interp, metrics::MetricSet& out) {
  const Signals& s = interp.extension<Signals>();
  if (s.made > 0) {
    out.set("signals.made", static_cast<double>(s.made));
    out.set("signals.aborted", static_cast<double>(s.aborted));
    out.set("signals.anyMade", static_cast<double>(s.any_made));
    out.set("signals.anyAborted", static_cast<double>(s.any_aborted));
    out.set("signals.listenersRun", static_cast<double>(s.listeners_run));
  }
  const Emitters& em = interp.extension<Emitters>();
  if (em.by_name.empty()) return;  // no emitter in this scenario
  std::size_t left = 0;
  for (const auto& [name, e] : em.by_name) {
    for (const auto& [event, listeners] : e.by_event)
      left += listeners.size();
  }
  out.set("emitter.emits", static_cast<double>(em.emits));
  out.set("emitter.unheardEmits", static_cast<double>(em.unheard));
  out.set("emitter.listenersLeft", static_cast<double>(left));
  out.set("once.calls", static_cast<double>(em.once_calls));
  out.set("once.resolved", static_cast<double>(em.once_resolved));
  out.set("once.aborted", static_cast<double>(em.once_aborted));
  out.set("once.errored", static_cast<double>(em.once_errored));
  out.set("once.pending", static_cast<double>(em.once_calls - em.once_resolved - em.once_aborted -
                                              em.once_errored));
}

void add_abort_ops(script::OpRegistry& r) {
  r.add_metrics({
      {"signals.made", "", "AbortSignals made: controllers', AbortSignal.timeout's and .any's"},
      {"signals.aborted", "", "of those, aborted (each once)"},
      {"signals.anyMade", "", "AbortSignal.any signals made"},
      {"signals.anyAborted", "", "of those, aborted (by a source, or at once by an aborted one)"},
      {"signals.listenersRun", "", "'abort' listeners called (events.once's and sleep's too)"},
      {"emitter.emits", "", "emit calls on the lab's emitters"},
      {"emitter.unheardEmits", "",
       "of those, with no listener for the event (emit returned false)"},
      {"emitter.listenersLeft", "", "listeners still on the emitters when the run ended"},
      {"once.calls", "", "events.once calls"},
      {"once.resolved", "", "of those, resolved by their event"},
      {"once.aborted", "", "rejected with AbortError (signal aborted before or during the wait)"},
      {"once.errored", "", "rejected by an 'error' event"},
      {"once.pending", "", "still waiting when the run ended"},
  });
  r.add(
      "abortController",
      [](Parser& p, const YAML::Node& v) -> std::unique_ptr<script::Op> {
        Fields f = p.fields(v, "abortController", {"name"});
        std::string name = f.identifier("name");
        script::give_promise_name(p, f.get("name"), name);
        return std::make_unique<ControllerOp>(std::move(name));
      },
      "AC.name = new AbortController()");
  r.add(
      "timeoutSignal",
      [](Parser& p, const YAML::Node& v) -> std::unique_ptr<script::Op> {
        Fields f = p.fields(v, "timeoutSignal", {"name", "ms"});
        std::string name = f.identifier("name");
        script::give_promise_name(p, f.get("name"), name);
        // validateUint32(delay): a whole number; the lab caps it at 60 000 ms.
        const auto ms = f.integer("ms", 0, 60000);
        return std::make_unique<TimeoutSignalOp>(std::move(name), static_cast<double>(ms));
      },
      "AC.name = { signal: AbortSignal.timeout(ms) }: unref'd; TimeoutError (code 23)");
  r.add(
      "abort",
      [](Parser& p, const YAML::Node& v) -> std::unique_ptr<script::Op> {
        Fields f = p.fields(v, "abort", {"controller", "value", "error"});
        std::string c = f.identifier("controller");
        script::use_promise_name(p, f.get("controller"), c);
        return std::make_unique<AbortOp>(std::move(c), script::value_fields(p, f, "abort"));
      },
      "AC.controller.abort([value | new Error(error)]); default reason: DOMException AbortError");
  r.add(
      "onAbort",
      [](Parser& p, const YAML::Node& v) -> std::unique_ptr<script::Op> {
        Fields f = p.fields(v, "onAbort", {"controller", "do"});
        std::string c = f.identifier("controller");
        script::use_promise_name(p, f.get("controller"), c);
        const bool saved = p.begin_value_scope();
        Body body = f.body("do", BodyKind::rejection);
        p.end_value_scope(saved);
        return std::make_unique<OnAbortOp>(std::move(c), std::move(body));
      },
      "signal.addEventListener('abort', ...): `{value}` is signal.reason, `{error}` its message");
  r.add(
      "sleep",
      [](Parser& p, const YAML::Node& v) -> std::unique_ptr<script::Op> {
        Fields f = p.fields(v, "sleep", {"name", "ms", "value", "error", "promise", "controller"});
        std::string name = f.identifier("name");
        script::give_promise_name(p, f.get("name"), name);
        const double ms = f.number_in("ms", 0, p.limits().max_block_ms);
        auto value = script::value_fields(p, f, "sleep");
        std::string c;
        if (f.has("controller")) {
          c = f.identifier("controller");
          script::use_promise_name(p, f.get("controller"), c);
        }
        return std::make_unique<SleepOp>(std::move(name), ms, value ? *value : ValueSpec{},
                                         std::move(c));
      },
      "P.name = timers/promises setTimeout(ms, value, {signal: AC.controller.signal})");
  r.add(
      "anySignal",
      [](Parser& p, const YAML::Node& v) -> std::unique_ptr<script::Op> {
        Fields f = p.fields(v, "anySignal", {"name", "of"});
        std::string name = f.identifier("name");
        script::give_promise_name(p, f.get("name"), name);
        const YAML::Node of = f.get("of");
        if (!of.IsDefined()) p.fail(v, "`anySignal` needs `of`");
        if (!of.IsSequence()) p.fail(of, "`of` of `anySignal` must be a list of controller names");
        std::vector<std::string> names;
        for (const auto& item : of) {
          names.push_back(p.identifier(item, "a name in `of` of `anySignal`"));
          script::use_promise_name(p, item, names.back());
        }
        return std::make_unique<AnySignalOp>(std::move(name), std::move(names));
      },
      "AC.name = { signal: AbortSignal.any([AC.a.signal, ...]) } over the names in `of`");
  r.add(
      "eventsOnce",
      [](Parser& p, const YAML::Node& v) -> std::unique_ptr<script::Op> {
        Fields f = p.fields(v, "eventsOnce", {"name", "emitter", "event", "controller"});
        std::string name = f.identifier("name");
        script::give_promise_name(p, f.get("name"), name);
        std::string emitter = f.identifier("emitter");
        std::string event = event_field(p, f, "eventsOnce");
        std::string c;
        if (f.has("controller")) {
          c = f.identifier("controller");
          script::use_promise_name(p, f.get("controller"), c);
        }
        return std::make_unique<EventsOnceOp>(std::move(name), std::move(emitter), std::move(event),
                                              std::move(c));
      },
      "P.name = events.once(E.emitter, event, { signal: AC.controller.signal }): args array");
  r.add(
      "emit",
      [](Parser& p, const YAML::Node& v) -> std::unique_ptr<script::Op> {
        Fields f = p.fields(v, "emit", {"emitter", "event", "value", "error", "promise"});
        std::string emitter = f.identifier("emitter");
        std::string event = event_field(p, f, "emit");
        auto arg = script::value_fields(p, f, "emit");
        if (event == "error" && (!arg || arg->kind != ValueSpec::Kind::error)) {
          p.fail(f.get("event"), "`emit` of 'error' needs `error:` (the Error it throws unheard)");
        }
        return std::make_unique<EmitOp>(std::move(emitter), std::move(event), std::move(arg));
      },
      "E.emitter.emit(event[, value | new Error(error) | P.promise])");
  r.add(
      "listenerCount",
      [](Parser& p, const YAML::Node& v) -> std::unique_ptr<script::Op> {
        Fields f = p.fields(v, "listenerCount", {"emitter", "event"});
        std::string emitter = f.identifier("emitter");
        return std::make_unique<ListenerCountOp>(std::move(emitter),
                                                 event_field(p, f, "listenerCount"));
      },
      "logs `listenerCount(emitter, event) = N`");
}

}  // namespace nodelab::async
