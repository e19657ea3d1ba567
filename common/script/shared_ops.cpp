// Each shared op: how it parses, what it does on the runtime, and its Node.js twin.

#include "script/shared_ops.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <list>
#include <set>

#include "runtime/js_number.hpp"
#include "script/interpreter.hpp"
#include "script/parser.hpp"
#include "script/twin.hpp"
#include "script/values.hpp"

namespace nodelab::script {

namespace {

using runtime::CallbackKind;
using runtime::from_ms;
using runtime::js_number_to_string;

std::string num(double v) {
  return js_number_to_string(v);
}

// ---- log / throw ----

class LogOp final : public Op {
 public:
  explicit LogOp(Text text) : text_(std::move(text)) {}
  std::string_view name() const override { return "log"; }
  Flow run(const Exec& ex) const override {
    ex.rt.log(text_.render(ex.error, ex.interp.current_value()));
    return {};
  }
  void emit_twin(TwinWriter& w) const override {
    if (text_.uses_value()) use_show(w);
    w.line("console.log(" + text_.js() + ");");
  }
  std::string describe() const override { return "log " + text_.raw(); }

 private:
  Text text_;
};

class ThrowOp final : public Op {
 public:
  explicit ThrowOp(Text text) : text_(std::move(text)) {}
  std::string_view name() const override { return "throw"; }
  Flow run(const Exec& ex) const override {
    throw runtime::JsThrow(
        runtime::JsError{"Error", "", text_.render(ex.error, ex.interp.current_value())});
  }
  void emit_twin(TwinWriter& w) const override {
    if (text_.uses_value()) use_show(w);
    w.line("throw new Error(" + text_.js() + ");");
  }
  std::string describe() const override { return "throw " + text_.raw(); }

 private:
  Text text_;
};

// ---- timers and queues ----

class SetTimeoutOp final : public Op {
 public:
  SetTimeoutOp(double ms, Body then) : ms_(ms), then_(std::move(then)) {}
  std::string_view name() const override { return "setTimeout"; }
  Flow run(const Exec& ex) const override {
    ex.rt.set_timeout(ms_, ex.callback(then_), site);
    return {};
  }
  void emit_twin(TwinWriter& w) const override {
    w.function("setTimeout(() => {", then_, ", " + num(ms_) + ");");
  }
  std::string describe() const override { return "setTimeout " + num(ms_) + " ms"; }

 private:
  double ms_;
  Body then_;
};

class SetIntervalOp final : public Op {
 public:
  SetIntervalOp(double ms, std::int64_t times, Body then)
      : ms_(ms), times_(times), then_(std::move(then)) {}
  std::string_view name() const override { return "setInterval"; }
  Flow run(const Exec& ex) const override {
    struct State {
      std::int64_t runs = 0;
      runtime::TimerId id = 0;
    };
    auto state = std::make_shared<State>();
    runtime::Runtime& rt = ex.rt;
    runtime::Task body = ex.callback(then_);
    state->id = rt.set_interval(
        ms_,
        [&rt, state, body = std::move(body), times = times_] {
          body();
          if (++state->runs == times) rt.clear_timer(state->id);
        },
        site);
    return {};
  }
  void emit_twin(TwinWriter& w) const override {
    w.open("{ let runs = 0;");
    w.open("const iv = setInterval(() => {");
    w.body(then_);
    w.line("if (++runs === " + std::to_string(times_) + ") clearInterval(iv);");
    w.close("}, " + num(ms_) + ");");
    w.close("}");
  }
  std::string describe() const override {
    return fmt::format("setInterval {} ms x{}", num(ms_), times_);
  }

 private:
  double ms_;
  std::int64_t times_;
  Body then_;
};

// setImmediate, process.nextTick, Promise.resolve().then, queueMicrotask: a callback
// handed to one queue.
enum class Queue : std::uint8_t { immediate, next_tick, promise, queue_microtask };

class QueueOp final : public Op {
 public:
  QueueOp(Queue q, Body then) : queue_(q), then_(std::move(then)) {}
  std::string_view name() const override {
    switch (queue_) {
      case Queue::immediate:
        return "setImmediate";
      case Queue::next_tick:
        return "nextTick";
      case Queue::promise:
        return "promise";
      case Queue::queue_microtask:
        return "queueMicrotask";
    }
    return "?";
  }
  Flow run(const Exec& ex) const override {
    runtime::Task cb = ex.callback(then_);
    switch (queue_) {
      case Queue::immediate:
        ex.rt.set_immediate(std::move(cb), site);
        break;
      case Queue::next_tick:
        ex.rt.next_tick(std::move(cb), site);
        break;
      case Queue::promise:
        ex.rt.enqueue_microtask(std::move(cb), site, CallbackKind::promise);
        break;
      case Queue::queue_microtask:
        ex.rt.enqueue_microtask(std::move(cb), site, CallbackKind::queue_microtask);
        break;
    }
    return {};
  }
  void emit_twin(TwinWriter& w) const override {
    switch (queue_) {
      case Queue::immediate:
        w.function("setImmediate(() => {", then_, ");");
        break;
      case Queue::next_tick:
        w.function("process.nextTick(() => {", then_, ");");
        break;
      case Queue::promise:
        w.function("Promise.resolve().then(() => {", then_, ");");
        break;
      case Queue::queue_microtask:
        w.function("queueMicrotask(() => {", then_, ");");
        break;
    }
  }

 private:
  Queue queue_;
  Body then_;
};

// ---- async / await ----

// (async () => {do; return RESULT})(), its promise optionally named: P.NAME = (async...)().
class AsyncOp final : public Op {
 public:
  AsyncOp(Body body, std::string promise_name, std::optional<ValueSpec> result, bool declares_v)
      : body_(std::move(body)),
        name_(std::move(promise_name)),
        result_(std::move(result)),
        declares_v_(declares_v) {}
  std::string_view name() const override { return "async"; }
  Flow run(const Exec& ex) const override {
    Interpreter& interp = ex.interp;
    std::function<runtime::JsValue()> result;
    if (result_) result = [this, &interp] { return result_->eval(interp); };
    runtime::PromiseRef p = interp.start_async(body_, ex.error, std::move(result));
    // The assignment happens once the call returned (at the first await).
    if (!name_.empty()) interp.give_name(name_, runtime::JsValue::of(std::move(p)));
    return {};
  }
  void emit_twin(TwinWriter& w) const override {
    if (!name_.empty() || (result_ && result_->uses_promises())) use_promises(w);
    const std::string head =
        (name_.empty() ? std::string() : promise_js(name_) + " = ") + "(async () => {";
    if (!declares_v_ && !result_) {
      w.function(head, body_, ")();");
      return;
    }
    w.open(head);
    if (declares_v_) w.line("let v;");
    w.body(body_);
    if (result_) w.line("return " + result_->js() + ";");
    w.close("})();");
  }
  std::string describe() const override {
    return name_.empty() ? "async" : "async " + promise_js(name_);
  }

 private:
  Body body_;
  std::string name_;
  std::optional<ValueSpec> result_;
  bool declares_v_;
};

// `await undefined` (no field: the old form, one hop), or `v = await X`.
class AwaitOp final : public Op {
 public:
  explicit AwaitOp(std::optional<ValueSpec> what) : what_(std::move(what)) {}
  std::string_view name() const override { return "await"; }
  Flow run(const Exec& ex) const override {
    if (what_) ex.interp.set_await_value(what_->eval(ex.interp));
    return Flow{Flow::Kind::await_};
  }
  void emit_twin(TwinWriter& w) const override {
    if (!what_) {
      w.line("await undefined;");
      return;
    }
    if (what_->uses_promises()) use_promises(w);
    w.line("v = await " + what_->js() + ";");
  }
  std::string describe() const override {
    return what_ ? "await " + what_->describe() : "await undefined";
  }

 private:
  std::optional<ValueSpec> what_;
};

// `return:` of an async (or of a reaction): a scalar literal, or {value|error|promise}.
std::optional<ValueSpec> parse_result(Parser& p, Fields& f, std::string_view op) {
  if (!f.has("return")) return std::nullopt;
  const YAML::Node n = f.get("return");
  if (!n.IsMap()) {
    ValueSpec v;
    v.kind = ValueSpec::Kind::literal;
    v.literal = parse_literal(p, n, fmt::format("`return` of `{}`", op));
    return v;
  }
  Fields rf = p.fields(n, "return", {"value", "error", "promise"});
  auto v = value_fields(p, rf, "return");
  if (!v) p.fail(n, "`return` needs one of `value`, `error` and `promise`");
  return v;
}

// ---- I/O ----

class ReadFileOp final : public Op {
 public:
  explicit ReadFileOp(Body then) : then_(std::move(then)) {}
  std::string_view name() const override { return "readFile"; }
  Flow run(const Exec& ex) const override {
    ex.rt.read_file(ex.interp.scenario().path, ex.callback(then_), site);
    return {};
  }
  void emit_twin(TwinWriter& w) const override {
    w.require("fs", "const fs = require('fs');");
    w.function("fs.readFile(__filename, () => {", then_, ");");
  }

 private:
  Body then_;
};

class ThreadpoolOp final : public Op {
 public:
  ThreadpoolOp(double ms, Body then) : ms_(ms), then_(std::move(then)) {}
  std::string_view name() const override { return "threadpool"; }
  Flow run(const Exec& ex) const override {
    ex.rt.queue_threadpool(from_ms(ms_), ex.callback(then_), site);
    return {};
  }
  void emit_twin(TwinWriter& w) const override {
    w.require("crypto", "const crypto = require('crypto');");
    w.helper("threadpool",
             "// threadpool(ms, cb): crypto.pbkdf2 occupies one libuv pool thread for about ms\n"
             "// (iterations calibrated once at start-up); its callback runs in the poll phase.\n"
             "const __pbkdf2PerMs = (() => {\n"
             "  const t0 = performance.now();\n"
             "  crypto.pbkdf2Sync('nodelab', 'salt', 20000, 32, 'sha256');\n"
             "  return 20000 / Math.max(performance.now() - t0, 0.001);\n"
             "})();\n"
             "const __threadpool = (ms, cb) => crypto.pbkdf2('nodelab', 'salt',\n"
             "  Math.max(1, Math.round(ms * __pbkdf2PerMs)), 32, 'sha256', () => cb());");
    w.function("__threadpool(" + num(ms_) + ", () => {", then_, ");");
  }
  std::string describe() const override { return "threadpool " + num(ms_) + " ms"; }

 private:
  double ms_;
  Body then_;
};

// ---- CPU ----

class BlockOp final : public Op {
 public:
  explicit BlockOp(double ms) : ms_(ms) {}
  std::string_view name() const override { return "block"; }
  Flow run(const Exec& ex) const override {
    ex.rt.busy_wait(from_ms(ms_));
    return {};
  }
  void emit_twin(TwinWriter& w) const override {
    w.line("{ const end = performance.now() + " + num(ms_) +
           "; while (performance.now() < end); }");
  }
  std::string describe() const override { return "block " + num(ms_) + " ms"; }

 private:
  double ms_;
};

enum class Via : std::uint8_t { next_tick, promise, set_immediate, set_timeout };
constexpr std::string_view kViaNames[] = {"nextTick", "promise", "setImmediate", "setTimeout"};

class RecurseOp final : public Op {
 public:
  RecurseOp(Via via, std::int64_t times, std::int64_t work_us, Body then)
      : via_(via), times_(times), work_us_(work_us), then_(std::move(then)) {}
  std::string_view name() const override { return "recurse"; }

  Flow run(const Exec& ex) const override {
    Chains& chains = ex.interp.extension<Chains>();
    chains.live.emplace_front();
    Chain& c = chains.live.front();
    c.self = chains.live.begin();
    c.owner = &chains;
    c.op = this;
    c.rt = &ex.rt;
    c.then = ex.callback(then_);
    c.schedule();
    return {};
  }

 private:
  struct Chains;
  // One chain: `step` busy-waits, then re-schedules itself through `via` until it has run
  // `times` times, then runs `then`. Its scheduled closure is one pointer (no allocation
  // per hop); the chain frees itself when done, and the run frees chains cut short.
  struct Chain {
    std::list<Chain>::iterator self;
    Chains* owner = nullptr;
    const RecurseOp* op = nullptr;
    runtime::Runtime* rt = nullptr;
    runtime::Task then;
    std::int64_t runs = 0;

    void step() {
      if (op->work_us_ > 0) rt->busy_wait(std::chrono::microseconds(op->work_us_));
      if (++runs < op->times_) return schedule();
      runtime::Task last = std::move(then);
      owner->live.erase(self);  // `this` is gone from here on
      last();
    }
    void schedule() {
      runtime::Task t = [this] { step(); };
      switch (op->via_) {
        case Via::next_tick:
          rt->next_tick(std::move(t), op->site);
          break;
        case Via::promise:
          rt->enqueue_microtask(std::move(t), op->site, CallbackKind::promise);
          break;
        case Via::set_immediate:
          rt->set_immediate(std::move(t), op->site);
          break;
        case Via::set_timeout:
          rt->set_timeout(0, std::move(t), op->site);
          break;
      }
    }
  };
  struct Chains {
    explicit Chains(Interpreter&) {}
    std::list<Chain> live;
  };

 public:
  void emit_twin(TwinWriter& w) const override {
    static constexpr std::string_view kSchedule[] = {"process.nextTick(step)",
                                                     "Promise.resolve().then(step)",
                                                     "setImmediate(step)", "setTimeout(step, 0)"};
    const std::string schedule(kSchedule[static_cast<int>(via_)]);
    w.open("{ let runs = 0;");
    w.open("const step = () => {");
    if (work_us_ > 0) {
      w.line("{ const end = performance.now() + " + num(static_cast<double>(work_us_) / 1000) +
             "; while (performance.now() < end); }");
    }
    if (then_.empty()) {
      w.line("if (++runs < " + std::to_string(times_) + ") " + schedule + ";");
    } else {
      w.open("if (++runs < " + std::to_string(times_) + ") " + schedule + "; else {");
      w.body(then_);
      w.close("}");
    }
    w.close("};");
    w.line(schedule + ";");
    w.close("}");
  }
  std::string describe() const override {
    return fmt::format("recurse via {} x{}", kViaNames[static_cast<int>(via_)], times_);
  }

 private:
  Via via_;
  std::int64_t times_;
  std::int64_t work_us_;
  Body then_;
};

// ---- control ----

class RepeatOp final : public Op {
 public:
  RepeatOp(std::int64_t times, Body body) : times_(times), body_(std::move(body)) {}
  std::string_view name() const override { return "repeat"; }
  Flow run(const Exec&) const override { return Flow{Flow::Kind::repeat, &body_, nullptr, times_}; }
  void emit_twin(TwinWriter& w) const override {
    w.function("for (let i = 0; i < " + std::to_string(times_) + "; i++) {", body_, "");
  }
  std::string describe() const override { return fmt::format("repeat x{}", times_); }

 private:
  std::int64_t times_;
  Body body_;
};

class TryOp final : public Op {
 public:
  TryOp(Body body, Body handler) : body_(std::move(body)), handler_(std::move(handler)) {}
  std::string_view name() const override { return "try"; }
  Flow run(const Exec&) const override { return Flow{Flow::Kind::try_catch, &body_, &handler_, 0}; }
  void emit_twin(TwinWriter& w) const override {
    w.open("try {");
    w.body(body_);
    w.middle("} catch (e) {");
    w.body(handler_);
    w.close("}");
  }

 private:
  Body body_;
  Body handler_;
};

// `when`: a branch chosen by the scenario's params when it is loaded (a variant picks a
// strategy). The twin holds only the chosen branch, inline.
class WhenOp final : public Op {
 public:
  WhenOp(std::string condition, bool matched, Body body)
      : condition_(std::move(condition)), matched_(matched), body_(std::move(body)) {}
  std::string_view name() const override { return "when"; }
  Flow run(const Exec&) const override {
    if (!matched_ || body_.empty()) return {};
    return Flow{Flow::Kind::repeat, &body_, nullptr, 1};
  }
  void emit_twin(TwinWriter& w) const override {
    w.line("// when " + condition_ + (matched_ ? ":" : ": not in this run"));
    if (matched_) w.body(body_);
  }
  std::string describe() const override { return "when " + condition_; }

 private:
  std::string condition_;
  bool matched_;
  Body body_;
};

std::unique_ptr<Op> parse_when(Parser& p, const YAML::Node& v) {
  p.visit(v);
  if (!v.IsMap()) {
    p.fail(v, "`when` takes declared params to match and `do`, e.g. {strategy: sync, do: [...]}");
  }
  bool matched = true;
  std::string condition;
  YAML::Node body = YAML::Node(YAML::NodeType::Undefined);
  std::set<std::string> seen;
  for (const auto& kv : v) {
    p.visit(kv.first);
    const std::string key = kv.first.IsScalar() ? kv.first.Scalar() : std::string();
    if (!seen.insert(key).second)
      p.fail(kv.first, fmt::format("duplicate key '{}' in `when`", key));
    if (key == "do") {
      body = kv.second;
      continue;
    }
    const Param* param = p.param(key);
    if (param == nullptr) {
      p.fail(kv.first, fmt::format("`when` matches declared params (under `params:`); '{}' is "
                                   "not one",
                                   key));
    }
    std::vector<std::string> allowed;
    if (kv.second.IsSequence()) {
      for (const auto& item : kv.second)
        allowed.push_back(p.string(item, "a `when` value"));
    } else {
      allowed.push_back(p.string(kv.second, "a `when` value"));
    }
    if (!condition.empty()) condition += ", ";
    // Quoted as JavaScript strings: the condition goes into a comment of the twin, which
    // must not carry a raw line break.
    std::vector<std::string> quoted;
    for (const auto& a : allowed)
      quoted.push_back(js_string(a));
    condition += fmt::format("{} in [{}]", key, fmt::join(quoted, ", "));
    matched = matched && std::find(allowed.begin(), allowed.end(), param->value.get().Scalar()) !=
                             allowed.end();
  }
  if (condition.empty()) p.fail(v, "`when` needs at least one param to match");
  return std::make_unique<WhenOp>(condition, matched, p.parse_body(body, BodyKind::control));
}

// ---- parsers ----

Body then_of(Parser&, Fields& f) {
  return f.body("then", BodyKind::callback);
}

std::unique_ptr<Op> parse_timer_like(Parser& p, const YAML::Node& v, bool interval) {
  Fields f = interval ? p.fields(v, "setInterval", {"ms", "times", "then"})
                      : p.fields(v, "setTimeout", {"ms", "then"});
  // Node accepts any number (negative, NaN, huge) and coerces it; so do we.
  const double ms = f.number("ms", interval ? std::nullopt : std::optional<double>(0.0));
  if (!interval) return std::make_unique<SetTimeoutOp>(ms, then_of(p, f));
  const std::int64_t times = f.integer("times", 1, p.limits().max_times);
  return std::make_unique<SetIntervalOp>(
      ms, times, f.body("then", BodyKind::callback, static_cast<double>(times)));
}

std::unique_ptr<Op> parse_queue(Parser& p, const YAML::Node& v, Queue q, std::string_view name) {
  Fields f = p.fields(v, name, {"then"});
  return std::make_unique<QueueOp>(q, then_of(p, f));
}

}  // namespace

OpRegistry shared_registry(std::string lab_id) {
  OpRegistry r(std::move(lab_id));
  r.add_metrics(runtime::Runtime::metric_table());

  r.add(
      "log",
      [](Parser& p, const YAML::Node& v) { return std::make_unique<LogOp>(p.text(v, "`log`")); },
      "console.log(TEXT)");
  r.add(
      "throw",
      [](Parser& p, const YAML::Node& v) {
        return std::make_unique<ThrowOp>(p.text(v, "`throw`"));
      },
      "throw new Error(TEXT)");
  r.add(
      "setTimeout", [](Parser& p, const YAML::Node& v) { return parse_timer_like(p, v, false); },
      "setTimeout(() => {then}, ms)");
  r.add(
      "setInterval", [](Parser& p, const YAML::Node& v) { return parse_timer_like(p, v, true); },
      "setInterval(() => {then}, ms), cleared after `times` runs");
  r.add(
      "setImmediate",
      [](Parser& p, const YAML::Node& v) {
        return parse_queue(p, v, Queue::immediate, "setImmediate");
      },
      "setImmediate(() => {then})");
  r.add(
      "nextTick",
      [](Parser& p, const YAML::Node& v) {
        return parse_queue(p, v, Queue::next_tick, "nextTick");
      },
      "process.nextTick(() => {then})");
  r.add(
      "promise",
      [](Parser& p, const YAML::Node& v) { return parse_queue(p, v, Queue::promise, "promise"); },
      "Promise.resolve().then(() => {then})");
  r.add(
      "queueMicrotask",
      [](Parser& p, const YAML::Node& v) {
        return parse_queue(p, v, Queue::queue_microtask, "queueMicrotask");
      },
      "queueMicrotask(() => {then})");
  r.add(
      "async",
      [](Parser& p, const YAML::Node& v) {
        Fields f = p.fields(v, "async", {"do", "name", "return"});
        std::string name;
        if (f.has("name")) {
          name = f.identifier("name");
          give_promise_name(p, f.get("name"), name);
        }
        const bool saved = p.begin_value_scope();
        Body body = f.body("do", BodyKind::async_do);
        const bool declares_v = p.end_value_scope(saved);
        auto result = parse_result(p, f, "async");
        return std::make_unique<AsyncOp>(std::move(body), std::move(name), std::move(result),
                                         declares_v);
      },
      "P.name = (async () => {do; return X})(): runs synchronously up to its first await");
  r.add(
      "await",
      [](Parser& p, const YAML::Node& v) -> std::unique_ptr<Op> {
        Fields f = p.fields(v, "await", {"value", "error", "promise"});
        if (!p.in_async()) {
          p.fail(v,
                 "`await` may only stand in the `do` of an `async` (not inside a callback's "
                 "`then`): in JavaScript it would be a syntax error");
        }
        auto what = value_fields(p, f, "await");
        if (what) p.use_value();
        return std::make_unique<AwaitOp>(std::move(what));
      },
      "await undefined (`await: {}`: one hop), or v = await value|error|promise (inside async)");
  r.add(
      "readFile",
      [](Parser& p, const YAML::Node& v) {
        Fields f = p.fields(v, "readFile", {"then"});
        return std::make_unique<ReadFileOp>(then_of(p, f));
      },
      "fs.readFile(__filename, () => {then}): four threadpool requests, callback in poll");
  r.add(
      "threadpool",
      [](Parser& p, const YAML::Node& v) {
        Fields f = p.fields(v, "threadpool", {"ms", "then"});
        const double ms = f.number_in("ms", 0, p.limits().max_block_ms);
        return std::make_unique<ThreadpoolOp>(ms, then_of(p, f));
      },
      "a task holding one threadpool thread for ms (twin: calibrated crypto.pbkdf2)");
  r.add(
      "block",
      [](Parser& p, const YAML::Node& v) {
        Fields f = p.fields(v, "block", {"ms"});
        const double ms = f.number_in("ms", 0, p.limits().max_block_ms);
        p.add_busy_ms(ms, v);
        return std::make_unique<BlockOp>(ms);
      },
      "busy-wait ms on the loop thread");
  r.add(
      "recurse",
      [](Parser& p, const YAML::Node& v) {
        Fields f = p.fields(v, "recurse", {"via", "times", "work_us", "then"});
        const std::string via_name = f.string("via");
        const auto* it = std::find(std::begin(kViaNames), std::end(kViaNames), via_name);
        if (it == std::end(kViaNames)) {
          p.fail(f.get("via"), fmt::format("`via` of `recurse` must be nextTick, promise, "
                                           "setImmediate or setTimeout; got '{}'",
                                           via_name));
        }
        const std::int64_t times = f.integer("times", 1, p.limits().max_times);
        const std::int64_t work_us = f.integer("work_us", 0, p.limits().max_work_us, 0);
        p.add_expanded(static_cast<double>(times), v);
        p.add_busy_ms(static_cast<double>(times) * static_cast<double>(work_us) / 1000.0, v);
        return std::make_unique<RecurseOp>(static_cast<Via>(it - std::begin(kViaNames)), times,
                                           work_us, then_of(p, f));
      },
      "a callback re-scheduling itself through `via` `times` times, then `then`");
  r.add(
      "repeat",
      [](Parser& p, const YAML::Node& v) {
        Fields f = p.fields(v, "repeat", {"times", "do"});
        const std::int64_t times = f.integer("times", 0, p.limits().max_times);
        return std::make_unique<RepeatOp>(
            times, f.body("do", BodyKind::control, static_cast<double>(times)));
      },
      "for (let i = 0; i < times; i++) {do}");
  r.add(
      "try",
      [](Parser& p, const YAML::Node& v) {
        Fields f = p.fields(v, "try", {"do", "catch"});
        Body body = f.body("do", BodyKind::control);
        return std::make_unique<TryOp>(std::move(body), f.body("catch", BodyKind::handler));
      },
      "try {do} catch (e) {catch}; `{error}` in a catch log is e.message");
  add_promise_name_check(r);
  r.add("when", parse_when,
        "a branch kept only when the scenario's params match (variants pick strategies)");
  return r;
}

}  // namespace nodelab::script
