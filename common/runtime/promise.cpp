#include "runtime/promise.hpp"

#include "runtime/js_inspect.hpp"
#include "runtime/js_number.hpp"

namespace nodelab::runtime {

// ---- values ----

JsValue JsValue::of_number(double v) {
  JsValue r;
  r.kind = Kind::number;
  r.number = v;
  return r;
}

JsValue JsValue::of_string(std::string s) {
  JsValue r;
  r.kind = Kind::string;
  r.text = std::move(s);
  return r;
}

JsValue JsValue::of_boolean(bool b) {
  JsValue r;
  r.kind = Kind::boolean;
  r.boolean = b;
  return r;
}

JsValue JsValue::error(std::string name, std::string message, std::string code) {
  JsValue r;
  r.kind = Kind::error;
  r.name = std::move(name);
  r.text = std::move(message);
  r.code = std::move(code);
  return r;
}

JsValue JsValue::array(std::vector<JsValue> items) {
  JsValue r;
  r.kind = Kind::array;
  r.items = std::move(items);
  return r;
}

JsValue JsValue::aggregate_error(std::vector<JsValue> errors, std::string message) {
  JsValue r = error("AggregateError", std::move(message));
  r.items = std::move(errors);
  return r;
}

JsValue JsValue::settled(bool fulfilled, JsValue v) {
  JsValue r;
  r.kind = Kind::settled;
  r.boolean = fulfilled;
  r.items.push_back(std::move(v));
  return r;
}

JsValue JsValue::of(PromiseRef p) {
  JsValue r;
  r.kind = Kind::promise;
  r.promise = std::move(p);
  return r;
}

JsValue JsValue::of(std::shared_ptr<Thenable> t) {
  JsValue r;
  r.kind = Kind::thenable;
  r.thenable = std::move(t);
  return r;
}

JsValue JsValue::from_error(const JsError& e) {
  if (!e.is_error) return of_string(e.message);
  return error(e.name, e.message, e.code);
}

namespace {

// util.inspect of a primitive or of what the runtime's death message needs.
std::string inspect_text(const JsValue& v) {
  switch (v.kind) {
    case JsValue::Kind::undefined:
      return "undefined";
    case JsValue::Kind::number:
      return js_number_to_string(v.number);
    case JsValue::Kind::string:
      return js_inspect_string(v.text);
    case JsValue::Kind::boolean:
      return v.boolean ? "true" : "false";
    case JsValue::Kind::promise:
      return "Promise";
    default:
      return show(v);
  }
}

std::string show_nested(const JsValue& v) {
  if (v.kind == JsValue::Kind::string) return "'" + v.text + "'";
  return show(v);
}

std::string show_items(const std::vector<JsValue>& items) {
  std::string out = "[";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ", ";
    out += show_nested(items[i]);
  }
  return out + "]";
}

}  // namespace

JsError JsValue::to_error() const {
  if (kind == Kind::error) return JsError{name, numeric_code ? std::string() : code, text, true};
  return JsError{"Error", "", inspect_text(*this), false};
}

std::string JsValue::message_text() const {
  return kind == Kind::error ? text : "undefined";
}

std::string show(const JsValue& v) {
  switch (v.kind) {
    case JsValue::Kind::undefined:
      return "undefined";
    case JsValue::Kind::number:
      return js_number_to_string(v.number);
    case JsValue::Kind::string:
      return v.text;
    case JsValue::Kind::boolean:
      return v.boolean ? "true" : "false";
    case JsValue::Kind::error: {
      std::string s = v.name;
      if (!v.code.empty()) s += " [" + v.code + "]";
      s += ": " + v.text;
      if (v.name == "AggregateError") s += " " + show_items(v.items);
      if (v.cause) s += " (cause: " + show(*v.cause) + ")";
      return s;
    }
    case JsValue::Kind::array:
      return show_items(v.items);
    case JsValue::Kind::settled:
      return v.boolean ? "{ status: 'fulfilled', value: " + show_nested(v.items.at(0)) + " }"
                       : "{ status: 'rejected', reason: " + show_nested(v.items.at(0)) + " }";
    case JsValue::Kind::promise:
      return "Promise";
    case JsValue::Kind::thenable:
      return "object";
  }
  return "?";
}

std::string_view show_twin_helper() {
  return "// __show(v): the lab's display rule for a value (docs/scenario-format.md), not\n"
         "// util.inspect: strings as is (quoted inside arrays and records), Errors as\n"
         "// `Name [code]: message`, AggregateError's errors, a cause, allSettled records.\n"
         "const __show = (v) => {\n"
         "  const inner = (x) => (typeof x === 'string' ? `'${x}'` : __show(x));\n"
         "  if (Array.isArray(v)) return `[${v.map(inner).join(', ')}]`;\n"
         "  if (v instanceof Promise) return 'Promise';\n"
         "  if (v instanceof Error) {\n"
         "    let s = v.name + (v.code !== undefined ? ` [${v.code}]` : '') + ': ' + v.message;\n"
         "    if (v.name === 'AggregateError') s += ' ' + __show(v.errors);\n"
         "    if (v.cause !== undefined) s += ` (cause: ${__show(v.cause)})`;\n"
         "    return s;\n"
         "  }\n"
         "  if (v !== null && typeof v === 'object' && 'status' in v) {\n"
         "    return v.status === 'fulfilled' ? `{ status: 'fulfilled', value: ${inner(v.value)} "
         "}`\n"
         "      : `{ status: 'rejected', reason: ${inner(v.reason)} }`;\n"
         "  }\n"
         "  if (v !== null && typeof v === 'object') return 'object';\n"
         "  return String(v);\n"
         "};";
}

JsValue thrown_value(const JsThrow& t) {
  if (const auto* v = dynamic_cast<const JsValueThrow*>(&t)) return v->value();
  return JsValue::from_error(t.error());
}

std::string_view combinator_name(PromiseEngine::Combinator c) {
  switch (c) {
    case PromiseEngine::Combinator::all:
      return "all";
    case PromiseEngine::Combinator::all_settled:
      return "allSettled";
    case PromiseEngine::Combinator::race:
      return "race";
    case PromiseEngine::Combinator::any:
      return "any";
  }
  return "?";
}

// ---- the engine ----

PromiseEngine::~PromiseEngine() {
  for (auto& w : all_) {
    if (auto p = w.lock()) p->reactions_.clear();
  }
}

PromiseRef PromiseEngine::create() {
  auto p = std::make_shared<Promise>();
  p->id_ = rt_.new_promise_id();
  ++stats_.created;
  if (all_.size() == all_.capacity() && all_.size() >= 64) {
    std::erase_if(all_, [](const std::weak_ptr<Promise>& w) { return w.expired(); });
  }
  all_.push_back(p);
  return p;
}

void PromiseEngine::enqueue(std::function<void()> fn, Site site, CallbackKind kind) {
  const int hop = hop_ + 1;
  rt_.enqueue_microtask(
      [this, hop, fn = std::move(fn)] {
        const int saved = hop_;
        hop_ = hop;
        try {
          fn();
        } catch (...) {
          hop_ = saved;
          throw;
        }
        hop_ = saved;
      },
      site, kind);
}

ResolvingFunctions PromiseEngine::resolving_functions(const PromiseRef& p, Site site) {
  auto already = std::make_shared<bool>(false);
  ResolvingFunctions f;
  f.resolve = [this, p, already, site](const JsValue& v) {
    if (*already) return;
    *already = true;
    resolve(p, v, site);
  };
  f.reject = [this, p, already](const JsValue& r) {
    if (*already) return;
    *already = true;
    reject(p, r);
  };
  return f;
}

void PromiseEngine::resolve(const PromiseRef& p, const JsValue& resolution, Site site) {
  if (resolution.kind == JsValue::Kind::promise && resolution.promise == p) {
    reject(p, JsValue::error("TypeError", "Chaining cycle detected for promise #<Promise>"));
    return;
  }
  if (!resolution.is_thenable()) {
    fulfill(p, resolution);
    return;
  }
  enqueue_thenable_job(p, resolution, site);
}

void PromiseEngine::enqueue_thenable_job(const PromiseRef& p, const JsValue& thenable, Site site) {
  enqueue(
      [this, p, thenable, site] {
        ++stats_.thenable_jobs;
        if (thenable.kind == JsValue::Kind::promise) {
          // V8's fast path for a native promise with the original `then`: PerformPromiseThen
          // straight onto p, as thenable.then(resolve, reject) would (same hops).
          perform_then(thenable.promise, {}, {}, p, site);
          return;
        }
        ResolvingFunctions f = resolving_functions(p, site);
        try {
          thenable.thenable->then(f);
        } catch (const JsThrow& t) {
          f.reject(thrown_value(t));
        }
      },
      site, CallbackKind::promise);
}

void PromiseEngine::fulfill(const PromiseRef& p, const JsValue& value) {
  if (p->state_ != PromiseState::pending) return;
  p->state_ = PromiseState::fulfilled;
  p->result_ = value;
  p->settle_hop_ = hop_;
  trigger(p);
}

void PromiseEngine::reject(const PromiseRef& p, const JsValue& reason) {
  if (p->state_ != PromiseState::pending) return;
  p->state_ = PromiseState::rejected;
  p->result_ = reason;
  p->settle_hop_ = hop_;
  ++stats_.rejected;
  if (!p->has_handler_) {
    // HostPromiseRejectionTracker(p, "reject")
    ++stats_.unhandled;
    rt_.promise_rejected_without_handler(p->id_, reason.to_error());
  }
  trigger(p);
}

void PromiseEngine::trigger(const PromiseRef& p) {
  std::vector<Promise::Reaction> reactions = std::move(p->reactions_);
  p->reactions_.clear();
  const bool fulfilled = p->state_ == PromiseState::fulfilled;
  for (auto& r : reactions)
    enqueue_reaction(std::move(r), fulfilled, p->result_);
}

void PromiseEngine::enqueue_reaction(Promise::Reaction r, bool fulfilled, JsValue argument) {
  const Site site = r.site;
  const CallbackKind kind = r.kind;
  enqueue(
      [this, r = std::move(r), fulfilled, argument = std::move(argument)] {
        ++stats_.reactions;
        const Handler& h = fulfilled ? r.on_fulfilled : r.on_rejected;
        if (!h) {
          if (!r.derived) return;
          if (fulfilled) {
            resolve(r.derived, argument, r.site);
          } else {
            reject(r.derived, argument);
          }
          return;
        }
        JsValue result;
        try {
          result = h(argument);
        } catch (const JsThrow& t) {
          if (r.derived) reject(r.derived, thrown_value(t));
          return;
        }
        if (r.derived) resolve(r.derived, result, r.site);
      },
      site, kind);
}

void PromiseEngine::perform_then(const PromiseRef& p, Handler on_fulfilled, Handler on_rejected,
                                 PromiseRef derived, Site site, CallbackKind kind) {
  Promise::Reaction r{std::move(on_fulfilled), std::move(on_rejected), std::move(derived), site,
                      kind};
  switch (p->state_) {
    case PromiseState::pending:
      p->reactions_.push_back(std::move(r));
      break;
    case PromiseState::fulfilled:
      enqueue_reaction(std::move(r), true, p->result_);
      break;
    case PromiseState::rejected:
      if (!p->has_handler_) {
        // HostPromiseRejectionTracker(p, "handle")
        ++stats_.handled_late;
        rt_.promise_handler_added_after_reject(p->id_);
      }
      enqueue_reaction(std::move(r), false, p->result_);
      break;
  }
  p->has_handler_ = true;
}

PromiseRef PromiseEngine::promise_resolve(const JsValue& v, Site site) {
  if (v.kind == JsValue::Kind::promise) return v.promise;
  PromiseRef p = create();
  resolve(p, v, site);
  return p;
}

PromiseRef PromiseEngine::promise_reject(const JsValue& reason) {
  PromiseRef p = create();
  reject(p, reason);
  return p;
}

PromiseRef PromiseEngine::then(const PromiseRef& p, Handler on_fulfilled, Handler on_rejected,
                               Site site) {
  PromiseRef derived = create();
  perform_then(p, std::move(on_fulfilled), std::move(on_rejected), derived, site);
  return derived;
}

PromiseRef PromiseEngine::catch_(const PromiseRef& p, Handler on_rejected, Site site) {
  return then(p, {}, std::move(on_rejected), site);
}

PromiseRef PromiseEngine::finally(const PromiseRef& p, std::function<JsValue()> on_finally,
                                  Site site) {
  Handler then_finally = [this, on_finally, site](const JsValue& value) {
    const JsValue result = on_finally();
    PromiseRef promise = promise_resolve(result, site);
    return JsValue::of(then(
        promise, [value](const JsValue&) { return value; }, {}, site));
  };
  Handler catch_finally = [this, on_finally, site](const JsValue& reason) {
    const JsValue result = on_finally();
    PromiseRef promise = promise_resolve(result, site);
    return JsValue::of(then(
        promise, [reason](const JsValue&) -> JsValue { throw JsValueThrow(reason); }, {}, site));
  };
  return then(p, std::move(then_finally), std::move(catch_finally), site);
}

void PromiseEngine::await(const JsValue& v,
                          std::function<void(bool fulfilled, const JsValue&)> resume, Site site) {
  ++stats_.awaits;
  PromiseRef promise = promise_resolve(v, site);
  perform_then(
      promise,
      [resume](const JsValue& value) {
        resume(true, value);
        return JsValue::undefined();
      },
      [resume](const JsValue& reason) {
        resume(false, reason);
        return JsValue::undefined();
      },
      nullptr, site, CallbackKind::await_resume);
}

PromiseRef PromiseEngine::combine(Combinator c, const std::vector<JsValue>& inputs, Site site) {
  PromiseRef result = create();
  const ResolvingFunctions cap = resolving_functions(result, site);
  struct State {
    std::vector<JsValue> values;
    int remaining = 1;
  };
  auto st = std::make_shared<State>();
  auto finish = [c, cap, st] {
    if (c == Combinator::any) {
      cap.reject(JsValue::aggregate_error(st->values, "All promises were rejected"));
    } else {
      cap.resolve(JsValue::array(st->values));
    }
  };
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    PromiseRef next = promise_resolve(inputs[i], site);
    st->values.emplace_back();
    Handler on_fulfilled;
    Handler on_rejected;
    if (c == Combinator::race) {
      on_fulfilled = [cap](const JsValue& v) {
        cap.resolve(v);
        return JsValue::undefined();
      };
      on_rejected = [cap](const JsValue& r) {
        cap.reject(r);
        return JsValue::undefined();
      };
      perform_then(next, std::move(on_fulfilled), std::move(on_rejected), nullptr, site);
      continue;
    }
    ++st->remaining;
    auto called = std::make_shared<bool>(false);
    // An element function: stores its value once, settles the combinator with the last one.
    auto element = [st, i, called, finish](JsValue v) {
      if (*called) return;
      *called = true;
      st->values[i] = std::move(v);
      if (--st->remaining == 0) finish();
    };
    switch (c) {
      case Combinator::all:
        on_fulfilled = [element](const JsValue& v) {
          element(v);
          return JsValue::undefined();
        };
        on_rejected = [cap](const JsValue& r) {
          cap.reject(r);
          return JsValue::undefined();
        };
        break;
      case Combinator::all_settled:
        on_fulfilled = [element](const JsValue& v) {
          element(JsValue::settled(true, v));
          return JsValue::undefined();
        };
        on_rejected = [element](const JsValue& r) {
          element(JsValue::settled(false, r));
          return JsValue::undefined();
        };
        break;
      case Combinator::any:
        on_fulfilled = [cap](const JsValue& v) {
          cap.resolve(v);
          return JsValue::undefined();
        };
        on_rejected = [element](const JsValue& r) {
          element(r);
          return JsValue::undefined();
        };
        break;
      case Combinator::race:
        break;
    }
    perform_then(next, std::move(on_fulfilled), std::move(on_rejected), nullptr, site);
  }
  if (c != Combinator::race && --st->remaining == 0) finish();
  return result;
}

}  // namespace nodelab::runtime
