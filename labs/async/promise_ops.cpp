// The async lab's promise ops (docs/scenario-format.md, "Ops of the async lab") and their
// twins. Every promise lives in the interpreter's engine (runtime/promise.hpp); a name is a
// property of the twin's `P` table (script/values.hpp).

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "async/ops.hpp"
#include "async/world.hpp"
#include "runtime/js_number.hpp"
#include "script/parser.hpp"
#include "script/twin.hpp"
#include "script/values.hpp"

namespace nodelab::async {

namespace {

using runtime::JsValue;
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

std::string name_field(Parser& p, Fields& f) {
  std::string name = f.identifier("name");
  script::give_promise_name(p, f.get("name"), name);
  return name;
}

std::string used_name(Parser& p, Fields& f, std::string_view key) {
  std::string name = f.identifier(key);
  script::use_promise_name(p, f.get(key), name);
  return name;
}

ValueSpec value_or_undefined(Parser& p, Fields& f, std::string_view op) {
  auto v = script::value_fields(p, f, op);
  return v ? *v : ValueSpec{};
}

std::string assign(const std::string& name) {
  return name.empty() ? std::string() : script::promise_js(name) + " = ";
}

// `P.name` read as an object whose method is called: undefined (not given yet) throws
// V8's TypeError.
PromiseRef promise_or_throw(Interpreter& interp, const std::string& name, std::string_view method) {
  const JsValue v = interp.named(name);
  if (v.kind == JsValue::Kind::promise) return v.promise;
  if (v.kind == JsValue::Kind::undefined) {
    throw runtime::JsValueThrow(JsValue::error(
        "TypeError", fmt::format("Cannot read properties of undefined (reading '{}')", method)));
  }
  throw runtime::JsValueThrow(JsValue::error(
      "TypeError", fmt::format("{}.{} is not a function", script::promise_js(name), method)));
}

// ---- resolve / reject / newPromise / thenable: promises given a name ----

enum class Make : std::uint8_t { resolve, reject };

class MakeOp final : public script::Op {
 public:
  MakeOp(Make make, std::string name, ValueSpec what)
      : make_(make), name_(std::move(name)), what_(std::move(what)) {}
  std::string_view name() const override { return make_ == Make::resolve ? "resolve" : "reject"; }
  Flow run(const Exec& ex) const override {
    auto& e = ex.interp.promises();
    const JsValue v = what_.eval(ex.interp);
    PromiseRef p = make_ == Make::resolve ? e.promise_resolve(v, site) : e.promise_reject(v);
    ex.interp.give_name(name_, JsValue::of(std::move(p)));
    return {};
  }
  void emit_twin(TwinWriter& w) const override {
    script::use_promises(w);
    w.line(fmt::format("{}Promise.{}({});", assign(name_), name(), what_.js()));
  }
  std::string describe() const override {
    return fmt::format("{}Promise.{}({})", assign(name_), name(), what_.describe());
  }

 private:
  Make make_;
  std::string name_;
  ValueSpec what_;
};

// P.name = new Promise((resolve, reject) => resolve(X)), or inside setTimeout(..., ms).
class NewPromiseOp final : public script::Op {
 public:
  NewPromiseOp(std::string name, Make settle, ValueSpec what, std::optional<double> after_ms)
      : name_(std::move(name)), settle_(settle), what_(std::move(what)), after_ms_(after_ms) {}
  std::string_view name() const override { return "newPromise"; }
  Flow run(const Exec& ex) const override {
    Interpreter& interp = ex.interp;
    PromiseRef p = interp.promises().create();
    auto settle = [&interp, p, this] {
      const auto f = interp.promises().resolving_functions(p, site);
      const JsValue v = what_.eval(interp);
      if (settle_ == Make::resolve) {
        f.resolve(v);
      } else {
        f.reject(v);
      }
    };
    if (after_ms_) {
      ex.rt.set_timeout(*after_ms_, settle, site);
    } else {
      settle();
    }
    interp.give_name(name_, JsValue::of(std::move(p)));
    return {};
  }
  void emit_twin(TwinWriter& w) const override {
    script::use_promises(w);
    const std::string call =
        fmt::format("{}({})", settle_ == Make::resolve ? "resolve" : "reject", what_.js());
    if (after_ms_) {
      w.line(fmt::format("{}new Promise((resolve, reject) => setTimeout(() => {}, {}));",
                         assign(name_), call, runtime::js_number_to_string(*after_ms_)));
    } else {
      w.line(fmt::format("{}new Promise((resolve, reject) => {});", assign(name_), call));
    }
  }
  std::string describe() const override {
    return fmt::format("{}new Promise({} {})", assign(name_),
                       settle_ == Make::resolve ? "resolve" : "reject", what_.describe());
  }

 private:
  std::string name_;
  Make settle_;
  ValueSpec what_;
  std::optional<double> after_ms_;
};

// P.name = { then(resolve, reject) { console.log(LOG); resolve(X); } }
class ThenableOp final : public script::Op {
 public:
  ThenableOp(std::string name, Make settle, ValueSpec what, std::optional<script::Text> log)
      : name_(std::move(name)), settle_(settle), what_(std::move(what)), log_(std::move(log)) {}
  std::string_view name() const override { return "thenable"; }
  Flow run(const Exec& ex) const override {
    Interpreter& interp = ex.interp;
    auto t = std::make_shared<runtime::Thenable>();
    // The method closes over the `e` and `v` in scope where the object was made.
    t->then = [&interp, this, error = ex.error,
               value = interp.current_value()](const runtime::ResolvingFunctions& f) {
      if (log_) interp.rt().log(log_->render(error, value));
      const JsValue v = what_.eval(interp);
      if (settle_ == Make::resolve) {
        f.resolve(v);
      } else {
        f.reject(v);
      }
    };
    interp.give_name(name_, JsValue::of(std::move(t)));
    return {};
  }
  void emit_twin(TwinWriter& w) const override {
    script::use_promises(w);
    std::string body;
    if (log_) {
      if (log_->uses_value()) script::use_show(w);
      body += "console.log(" + log_->js() + "); ";
    }
    body += fmt::format("{}({});", settle_ == Make::resolve ? "resolve" : "reject", what_.js());
    w.line(fmt::format("{}{{ then(resolve, reject) {{ {} }} }};", assign(name_), body));
  }

 private:
  std::string name_;
  Make settle_;
  ValueSpec what_;
  std::optional<script::Text> log_;
};

// ---- then / catch / finally ----

enum class React : std::uint8_t { then, catch_, finally };

class ReactOp final : public script::Op {
 public:
  ReactOp(React kind, std::string on, std::string name, Body fulfilled, bool has_fulfilled,
          Body rejected, bool has_rejected, std::optional<ValueSpec> result)
      : kind_(kind),
        on_(std::move(on)),
        name_(std::move(name)),
        fulfilled_(std::move(fulfilled)),
        has_fulfilled_(has_fulfilled),
        rejected_(std::move(rejected)),
        has_rejected_(has_rejected),
        result_(std::move(result)) {}
  std::string_view name() const override {
    switch (kind_) {
      case React::then:
        return "then";
      case React::catch_:
        return "catch";
      case React::finally:
        return "finally";
    }
    return "?";
  }

  Flow run(const Exec& ex) const override {
    Interpreter& interp = ex.interp;
    auto& e = interp.promises();
    const script::ErrorEnv error = ex.error;
    runtime::Handler on_fulfilled;
    runtime::Handler on_rejected;
    if (has_fulfilled_) {
      on_fulfilled = [&interp, error, this](const JsValue& v) {
        interp.run_function(fulfilled_, error, v);
        return result_ ? result_->eval(interp) : JsValue();
      };
    }
    if (has_rejected_) {
      on_rejected = [&interp, this](const JsValue& v) {
        interp.run_function(rejected_, std::make_shared<const std::string>(v.message_text()), v);
        return JsValue();
      };
    }
    const JsValue target = interp.named(on_);
    if (target.kind == JsValue::Kind::thenable && kind_ == React::then) {
      // A plain object's then: called now with our functions; it returns undefined.
      runtime::ResolvingFunctions f;
      f.resolve = [on_fulfilled](const JsValue& v) {
        if (on_fulfilled) on_fulfilled(v);
      };
      f.reject = [on_rejected](const JsValue& v) {
        if (on_rejected) on_rejected(v);
      };
      target.thenable->then(f);
      if (!name_.empty()) interp.give_name(name_, JsValue());
      return {};
    }
    PromiseRef p = promise_or_throw(interp, on_, name());
    PromiseRef derived;
    switch (kind_) {
      case React::then:
        derived = e.then(p, std::move(on_fulfilled), std::move(on_rejected), site);
        break;
      case React::catch_:
        derived = e.catch_(p, std::move(on_rejected), site);
        break;
      case React::finally:
        derived = e.finally(
            p,
            [&interp, error, this] {
              interp.run_body(fulfilled_, error);
              return JsValue();
            },
            site);
        break;
    }
    if (!name_.empty()) interp.give_name(name_, JsValue::of(std::move(derived)));
    return {};
  }

  void emit_twin(TwinWriter& w) const override {
    script::use_promises(w);
    if (result_ && result_->uses_promises()) script::use_promises(w);
    const std::string head =
        assign(name_) + script::promise_js(on_) + "." + std::string(name()) + "(";
    if (kind_ == React::finally) {
      w.function(head + "() => {", fulfilled_, ");");
      return;
    }
    std::string first;
    if (kind_ == React::then && !has_fulfilled_) first = "undefined, ";
    if (has_fulfilled_) {
      w.open(head + "(v) => {");
      w.body(fulfilled_);
      if (result_) w.line("return " + result_->js() + ";");
      if (!has_rejected_) {
        w.close("});");
        return;
      }
      w.middle("}, (v) => {");
    } else {
      w.open(head + first + "(v) => {");
    }
    w.line("const e = v;");
    w.body(rejected_);
    w.close("});");
  }
  std::string describe() const override {
    return fmt::format("{}{}.{}()", assign(name_), script::promise_js(on_), name());
  }

 private:
  React kind_;
  std::string on_, name_;
  Body fulfilled_;
  bool has_fulfilled_;
  Body rejected_;
  bool has_rejected_;
  std::optional<ValueSpec> result_;
};

// ---- all / allSettled / race / any ----

using Combinator = runtime::PromiseEngine::Combinator;

class CombineOp final : public script::Op {
 public:
  CombineOp(Combinator c, std::string name, std::vector<std::string> of)
      : c_(c), name_(std::move(name)), of_(std::move(of)) {}
  std::string_view name() const override { return runtime::combinator_name(c_); }
  Flow run(const Exec& ex) const override {
    std::vector<JsValue> inputs;
    inputs.reserve(of_.size());
    for (const auto& n : of_)
      inputs.push_back(ex.interp.named(n));
    PromiseRef p = ex.interp.promises().combine(c_, inputs, site);
    auto& first = ex.interp.extension<World>().first_combinator[static_cast<int>(c_)];
    if (!first) first = p;
    ex.interp.give_name(name_, JsValue::of(std::move(p)));
    return {};
  }
  void emit_twin(TwinWriter& w) const override {
    script::use_promises(w);
    std::vector<std::string> items;
    for (const auto& n : of_)
      items.push_back(script::promise_js(n));
    w.line(fmt::format("{}Promise.{}([{}]);", assign(name_), name(), fmt::join(items, ", ")));
  }
  std::string describe() const override {
    return fmt::format("{}Promise.{}([{}])", assign(name_), name(), fmt::join(of_, ", "));
  }

 private:
  Combinator c_;
  std::string name_;
  std::vector<std::string> of_;
};

// ---- ticks: a counter chain, one hop apart ----

class TicksOp final : public script::Op {
 public:
  TicksOp(std::int64_t count, std::string label) : count_(count), label_(std::move(label)) {}
  std::string_view name() const override { return "ticks"; }
  Flow run(const Exec& ex) const override {
    Interpreter& interp = ex.interp;
    auto& e = interp.promises();
    PromiseRef p = e.promise_resolve(JsValue(), site);
    for (std::int64_t i = 1; i <= count_; ++i) {
      p = e.then(
          p,
          [&interp, i, this](const JsValue&) {
            interp.rt().log(fmt::format("{} {}", label_, i));
            ++interp.extension<World>().ticks;
            return JsValue();
          },
          {}, site);
    }
    return {};
  }
  void emit_twin(TwinWriter& w) const override {
    w.line(
        fmt::format("{{ let p = Promise.resolve(); for (let i = 1; i <= {}; i++) p = p.then(() "
                    "=> console.log({} + i)); }}",
                    count_, script::js_string(label_ + " ")));
  }
  std::string describe() const override { return fmt::format("ticks x{}", count_); }

 private:
  std::int64_t count_;
  std::string label_;
};

Make settle_field(Parser& p, Fields& f, std::string_view op) {
  const std::string s = f.string("settle", std::string("resolve"));
  if (s == "resolve") return Make::resolve;
  if (s == "reject") return Make::reject;
  p.fail(f.get("settle"),
         fmt::format("`settle` of `{}` must be resolve or reject; got '{}'", op, s));
}

std::unique_ptr<script::Op> parse_react(Parser& p, const YAML::Node& v, React kind) {
  const std::string op = kind == React::then ? "then" : kind == React::catch_ ? "catch" : "finally";
  Fields f = kind == React::then ? p.fields(v, op, {"promise", "name", "do", "catch", "return"})
                                 : p.fields(v, op, {"promise", "name", "do"});
  std::string on = used_name(p, f, "promise");
  std::string name;
  if (f.has("name")) name = name_field(p, f);
  Body fulfilled, rejected;
  bool has_fulfilled = false, has_rejected = false;
  // Each reaction is a function of its own `v`.
  const bool saved = p.begin_value_scope();
  if (kind == React::catch_) {
    has_rejected = true;
    rejected = f.body("do", BodyKind::rejection);
  } else if (kind == React::finally) {
    has_fulfilled = true;
    fulfilled = f.body("do", BodyKind::callback);
  } else {
    has_fulfilled = f.has("do");
    if (has_fulfilled) fulfilled = f.body("do", BodyKind::reaction);
    has_rejected = f.has("catch");
    if (has_rejected) rejected = f.body("catch", BodyKind::rejection);
    if (!has_fulfilled && !has_rejected) p.fail(v, "`then` needs `do`, `catch` or both");
  }
  p.end_value_scope(saved);
  std::optional<ValueSpec> result;
  if (f.has("return")) {
    if (!has_fulfilled) p.fail(f.get("return"), "`return` is the `do` reaction's: add a `do`");
    const YAML::Node n = f.get("return");
    if (n.IsMap()) {
      Fields rf = p.fields(n, "return", {"value", "error", "promise"});
      result = script::value_fields(p, rf, "return");
      if (!result) p.fail(n, "`return` needs one of `value`, `error` and `promise`");
    } else {
      ValueSpec s;
      s.kind = ValueSpec::Kind::literal;
      s.literal = script::parse_literal(p, n, "`return` of `then`");
      result = s;
    }
  }
  return std::make_unique<ReactOp>(kind, std::move(on), std::move(name), std::move(fulfilled),
                                   has_fulfilled, std::move(rejected), has_rejected,
                                   std::move(result));
}

}  // namespace

void add_promise_ops(script::OpRegistry& r) {
  r.add_metrics(World::metric_table());
  for (Make m : {Make::resolve, Make::reject}) {
    const std::string op = m == Make::resolve ? "resolve" : "reject";
    r.add(
        op,
        [m, op](Parser& p, const YAML::Node& v) -> std::unique_ptr<script::Op> {
          Fields f = p.fields(v, op, {"name", "value", "error", "promise"});
          std::string name = name_field(p, f);
          return std::make_unique<MakeOp>(m, std::move(name), value_or_undefined(p, f, op));
        },
        fmt::format("P.name = Promise.{}(value | new Error(error) | P.promise)", op));
  }
  r.add(
      "newPromise",
      [](Parser& p, const YAML::Node& v) -> std::unique_ptr<script::Op> {
        Fields f =
            p.fields(v, "newPromise", {"name", "settle", "value", "error", "promise", "after_ms"});
        std::string name = name_field(p, f);
        const Make settle = settle_field(p, f, "newPromise");
        ValueSpec what = value_or_undefined(p, f, "newPromise");
        std::optional<double> after;
        if (f.has("after_ms")) after = f.number_in("after_ms", 0, p.limits().max_block_ms);
        return std::make_unique<NewPromiseOp>(std::move(name), settle, std::move(what), after);
      },
      "P.name = new Promise((resolve, reject) => settle(X)), now or in setTimeout(after_ms)");
  r.add(
      "thenable",
      [](Parser& p, const YAML::Node& v) -> std::unique_ptr<script::Op> {
        Fields f = p.fields(v, "thenable", {"name", "settle", "value", "error", "promise", "log"});
        std::string name = name_field(p, f);
        const Make settle = settle_field(p, f, "thenable");
        ValueSpec what = value_or_undefined(p, f, "thenable");
        std::optional<script::Text> log;
        if (f.has("log")) log = f.text("log");
        return std::make_unique<ThenableOp>(std::move(name), settle, std::move(what),
                                            std::move(log));
      },
      "P.name = { then(resolve, reject) { console.log(log); settle(X); } }");
  r.add(
      "then", [](Parser& p, const YAML::Node& v) { return parse_react(p, v, React::then); },
      "P.name = P.promise.then((v) => {do; return X}, (v) => { const e = v; catch })");
  r.add(
      "catch", [](Parser& p, const YAML::Node& v) { return parse_react(p, v, React::catch_); },
      "P.name = P.promise.catch((v) => { const e = v; do })");
  r.add(
      "finally", [](Parser& p, const YAML::Node& v) { return parse_react(p, v, React::finally); },
      "P.name = P.promise.finally(() => {do})");
  for (Combinator c :
       {Combinator::all, Combinator::all_settled, Combinator::race, Combinator::any}) {
    const std::string op(runtime::combinator_name(c));
    r.add(
        op,
        [c, op](Parser& p, const YAML::Node& v) -> std::unique_ptr<script::Op> {
          Fields f = p.fields(v, op, {"name", "of"});
          std::string name = name_field(p, f);
          const YAML::Node of = f.get("of");
          if (!of.IsDefined()) p.fail(v, fmt::format("`{}` needs `of`", op));
          if (!of.IsSequence()) {
            p.fail(of, fmt::format("`of` of `{}` must be a list of promise names", op));
          }
          std::vector<std::string> names;
          for (const auto& item : of) {
            names.push_back(p.identifier(item, fmt::format("a name in `of` of `{}`", op)));
            script::use_promise_name(p, item, names.back());
          }
          return std::make_unique<CombineOp>(c, std::move(name), std::move(names));
        },
        fmt::format("P.name = Promise.{}([P.a, P.b, ...]) over the names in `of`", op));
  }
  r.add(
      "ticks",
      [](Parser& p, const YAML::Node& v) -> std::unique_ptr<script::Op> {
        Fields f = p.fields(v, "ticks", {"count", "label"});
        const std::int64_t count = f.integer("count", 1, 1000);
        p.add_expanded(static_cast<double>(count), v);
        std::string label = f.string("label", std::string("tick"));
        return std::make_unique<TicksOp>(count, std::move(label));
      },
      "a counter chain: logs `tick 1`, `tick 2`... one microtask hop apart (count <= 1000)");
}

// ---- metrics ----

const std::vector<metrics::MetricInfo>& World::metric_table() {
  static const std::vector<metrics::MetricInfo> table = {
      {"promises.created", "", "promises the run created (async functions' included)"},
      {"promises.reactions", "", "promise reaction jobs run (await continuations included)"},
      {"promises.thenableJobs", "",
       "NewPromiseResolveThenableJobs run (resolving with a thenable)"},
      {"promises.awaits", "", "awaits performed"},
      {"promises.rejected", "", "promises rejected"},
      {"promises.unhandled", "", "promises rejected while they had no handler (reported to Node)"},
      {"promises.handledLate", "", "handlers added to such a promise afterwards"},
      {"combinator.all.settleHop", "", "hop at which the first Promise.all settled"},
      {"combinator.allSettled.settleHop", "", "hop at which the first Promise.allSettled settled"},
      {"combinator.race.settleHop", "", "hop at which the first Promise.race settled"},
      {"combinator.any.settleHop", "", "hop at which the first Promise.any settled"},
      {"ticks.logged", "", "lines the `ticks` counter chains logged"},
  };
  return table;
}

void World::collect(metrics::MetricSet& out) const {
  const auto& s = interp_.promises().stats();
  if (s.created == 0) return;
  out.set("promises.created", static_cast<double>(s.created));
  out.set("promises.reactions", static_cast<double>(s.reactions));
  out.set("promises.thenableJobs", static_cast<double>(s.thenable_jobs));
  out.set("promises.awaits", static_cast<double>(s.awaits));
  out.set("promises.rejected", static_cast<double>(s.rejected));
  out.set("promises.unhandled", static_cast<double>(s.unhandled));
  out.set("promises.handledLate", static_cast<double>(s.handled_late));
  for (int c = 0; c < 4; ++c) {
    const auto& p = first_combinator[c];
    if (!p) continue;
    out.set(fmt::format("combinator.{}.settleHop",
                        runtime::combinator_name(static_cast<Combinator>(c))),
            p->settle_hop() >= 0 ? std::optional<double>(p->settle_hop()) : std::nullopt);
  }
  out.set("ticks.logged", static_cast<double>(ticks));
}

}  // namespace nodelab::async
