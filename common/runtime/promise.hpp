#pragma once
// JavaScript promises as V8 11.3 (Node 20) runs them: states, reactions, the resolve
// functions, then/catch/finally, Promise.resolve/reject, await, and the four combinators,
// with every microtask hop where V8 takes it (docs/node-semantics.md "Promises and async
// functions"). Each reaction, each NewPromiseResolveThenableJob and each await continuation
// is one microtask on the runtime's queue, so they interleave with nextTicks, queueMicrotask
// and the legacy `promise` op exactly as in Node.
//
// The rules (ECMAScript 2023 §27.2, V8 src/builtins/promise-*.tq, src/builtins/
// builtins-async-function-gen.cc):
// - ResolvePromise(p, x): x === p rejects with a TypeError; a non-thenable x fulfills p now;
//   a thenable x (a native promise too) queues NewPromiseResolveThenableJob (one hop), which
//   calls x.then(resolve, reject): resolving with a settled native promise costs two hops
//   more than resolving with a plain value.
// - PerformPromiseThen: on a settled promise it queues the reaction at once; on a rejected
//   promise nobody handled it first calls HostPromiseRejectionTracker(p, "handle")
//   (Runtime::promise_handler_added_after_reject). RejectPromise on a promise without a
//   handler calls HostPromiseRejectionTracker(p, "reject")
//   (Runtime::promise_rejected_without_handler). V8 reports nothing else to Node.
// - Promise.resolve(nativePromise) returns it as is; `await v` is PromiseResolve(v) then
//   PerformPromiseThen (V8's await optimisation): one hop after a native promise settles,
//   NewPromiseResolveThenableJob first for any other thenable.
// - finally(f) is then(thenFinally, catchFinally); each calls f, then returns
//   Promise.resolve(f()).then(() => value) (or a thrower): the promise it returns settles
//   three hops after the original.
// - Promise.all/allSettled/race/any: C.resolve(x) for each input, then x.then(element
//   functions, capability functions); the combinator settles in the hop of its deciding
//   input's reaction (one hop after that input settled).

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/js_error.hpp"
#include "runtime/phase.hpp"
#include "runtime/runtime.hpp"

namespace nodelab::runtime {

class Promise;
struct Thenable;
using PromiseRef = std::shared_ptr<Promise>;

// A JavaScript value, as far as the labs need one.
struct JsValue {
  enum class Kind : std::uint8_t {
    undefined,
    number,
    string,
    boolean,
    error,     // an Error object: name, message, code, cause (AggregateError: items = errors)
    array,     // items
    settled,   // an allSettled record: boolean = fulfilled, items[0] = value or reason
    promise,   // a native promise
    thenable,  // a plain object with a then method
  };
  Kind kind = Kind::undefined;
  double number = 0;
  bool boolean = false;
  std::string text;           // string: the string; error: e.message
  std::string name;           // error: e.name (Error, TypeError, AbortError, AggregateError...)
  std::string code;           // error: e.code as text; empty when e.code is undefined
  bool numeric_code = false;  // error: e.code is a number (a DOMException's legacy code)
  std::vector<JsValue> items;
  std::shared_ptr<const JsValue> cause;  // error: e.cause, null when undefined
  PromiseRef promise;
  std::shared_ptr<Thenable> thenable;

  static JsValue undefined() { return {}; }
  static JsValue of_number(double v);
  static JsValue of_string(std::string s);
  static JsValue of_boolean(bool b);
  static JsValue error(std::string name, std::string message, std::string code = {});
  static JsValue array(std::vector<JsValue> items);
  // new AggregateError(errors, message)
  static JsValue aggregate_error(std::vector<JsValue> errors, std::string message);
  static JsValue settled(bool fulfilled, JsValue v);
  static JsValue of(PromiseRef p);
  static JsValue of(std::shared_ptr<Thenable> t);
  // A runtime exception as a value (an Error; a non-Error when !is_error: its message text).
  static JsValue from_error(const JsError& e);

  bool is_error() const { return kind == Kind::error; }
  // An object whose `then` is callable: ResolvePromise and await treat it as a thenable.
  bool is_thenable() const { return kind == Kind::promise || kind == Kind::thenable; }
  // For the runtime's bookkeeping and death message (JsError::is_error false for non-Errors,
  // with util.inspect's text as the message).
  JsError to_error() const;
  // What `e.message` evaluates to in JavaScript: the message of an Error, "undefined" for
  // anything else (a primitive or a plain object has no message).
  std::string message_text() const;
};

// THE display rule of a value, shared by the lab (show) and its twin (show_twin_helper, a
// JavaScript function `__show` with the same rule), so both print the same text by
// construction. Not util.inspect:
//   undefined, 3, true, text (a top-level string as is; nested in an array or a record,
//   single-quoted: 'text'); [1, 'a', Error: x]; an Error `Name: message`, `Name [code]:
//   message` when e.code is defined, then ` [errors]` for an AggregateError and
//   ` (cause: CAUSE)` when e.cause is defined; { status: 'fulfilled', value: V } /
//   { status: 'rejected', reason: R }; a promise `Promise`; any other object `object`.
std::string show(const JsValue& v);
std::string_view show_twin_helper();

// A throw carrying any JavaScript value (`throw 42`, a rejection reason rethrown by await).
class JsValueThrow : public JsThrow {
 public:
  explicit JsValueThrow(JsValue v) : JsThrow(v.to_error()), value_(std::move(v)) {}
  const JsValue& value() const { return value_; }

 private:
  JsValue value_;
};
// The value a throw carries: a JsValueThrow's value, or the JsError as an Error value.
JsValue thrown_value(const JsThrow& t);

// A promise's resolve and reject functions (CreateResolvingFunctions: one shared
// alreadyResolved flag; later calls do nothing).
struct ResolvingFunctions {
  std::function<void(const JsValue&)> resolve;
  std::function<void(const JsValue&)> reject;
};

// A plain object with a then method: then(resolve, reject) is called by
// NewPromiseResolveThenableJob (or by await) with the promise's resolving functions. It may
// throw (JsThrow): the promise then rejects, unless already resolved.
struct Thenable {
  std::function<void(const ResolvingFunctions&)> then;
};

enum class PromiseState : std::uint8_t { pending, fulfilled, rejected };

// A reaction handler: the argument in, the value to resolve the derived promise with out; a
// JsThrow rejects the derived promise. An empty Handler is `undefined` (passes through).
using Handler = std::function<JsValue(const JsValue&)>;

class Promise {
 public:
  PromiseState state() const { return state_; }
  const JsValue& result() const { return result_; }
  PromiseId id() const { return id_; }
  // [[PromiseIsHandled]]: a reaction was ever added.
  bool has_handler() const { return has_handler_; }
  // The hop at which it settled (0: synchronously, in the callback that started the chain;
  // -1: still pending). See PromiseEngine::hop().
  int settle_hop() const { return settle_hop_; }

 private:
  friend class PromiseEngine;
  struct Reaction {
    Handler on_fulfilled;
    Handler on_rejected;
    PromiseRef derived;  // null: no promise to resolve (await, combinator elements)
    Site site = 0;
    CallbackKind kind = CallbackKind::promise;
  };
  PromiseId id_ = 0;
  PromiseState state_ = PromiseState::pending;
  JsValue result_;
  std::vector<Reaction> reactions_;
  bool has_handler_ = false;
  int settle_hop_ = -1;
};

class PromiseEngine {
 public:
  explicit PromiseEngine(Runtime& rt) : rt_(rt) {}
  ~PromiseEngine();  // drops every pending reaction (they may hold cycles)
  PromiseEngine(const PromiseEngine&) = delete;
  PromiseEngine& operator=(const PromiseEngine&) = delete;

  Runtime& rt() { return rt_; }

  // new Promise(executor), before the executor runs: pending.
  PromiseRef create();
  ResolvingFunctions resolving_functions(const PromiseRef& p, Site site);
  // ResolvePromise / FulfillPromise / RejectPromise on a promise not yet resolved (the
  // resolving functions check that; these do not).
  void resolve(const PromiseRef& p, const JsValue& resolution, Site site);
  void fulfill(const PromiseRef& p, const JsValue& value);
  void reject(const PromiseRef& p, const JsValue& reason);

  // Promise.resolve(v): a native promise as is; otherwise a new promise resolved with v.
  PromiseRef promise_resolve(const JsValue& v, Site site);
  // Promise.reject(reason)
  PromiseRef promise_reject(const JsValue& reason);
  // p.then(onFulfilled, onRejected): the derived promise.
  PromiseRef then(const PromiseRef& p, Handler on_fulfilled, Handler on_rejected, Site site);
  // PerformPromiseThen without a derived promise (`derived` null) or with one.
  void perform_then(const PromiseRef& p, Handler on_fulfilled, Handler on_rejected,
                    PromiseRef derived, Site site, CallbackKind kind = CallbackKind::promise);
  PromiseRef catch_(const PromiseRef& p, Handler on_rejected, Site site);
  // p.finally(onFinally): onFinally's return value is awaited (Promise.resolve) before the
  // original outcome passes through; a throw in it rejects the result instead.
  PromiseRef finally(const PromiseRef& p, std::function<JsValue()> on_finally, Site site);
  // `await v` in an async function: resume(true, value) or resume(false, reason) from an
  // await continuation microtask.
  void await(const JsValue& v, std::function<void(bool fulfilled, const JsValue&)> resume,
             Site site);

  enum class Combinator : std::uint8_t { all, all_settled, race, any };
  // Promise.all / allSettled / race / any over the values of an array.
  PromiseRef combine(Combinator c, const std::vector<JsValue>& inputs, Site site);

  // The hop the running code is at: 0 in a macrotask (or the main script), 1 + the hop of
  // the code that queued it in a microtask this engine queued.
  int hop() const { return hop_; }

  struct Stats {
    std::uint64_t created = 0;
    std::uint64_t reactions = 0;      // reaction jobs run (await continuations included)
    std::uint64_t thenable_jobs = 0;  // NewPromiseResolveThenableJobs run
    std::uint64_t awaits = 0;         // awaits performed
    std::uint64_t rejected = 0;       // promises rejected
    std::uint64_t unhandled = 0;      // ... while they had no handler (reported to Node)
    std::uint64_t handled_late = 0;   // handlers added to such promises afterwards
  };
  const Stats& stats() const { return stats_; }

 private:
  void trigger(const PromiseRef& p);
  void enqueue_reaction(Promise::Reaction r, bool fulfilled, JsValue argument);
  void enqueue_thenable_job(const PromiseRef& p, const JsValue& thenable, Site site);
  // Runs `fn` as a microtask of `kind`, one hop after the code queueing it.
  void enqueue(std::function<void()> fn, Site site, CallbackKind kind);

  Runtime& rt_;
  Stats stats_;
  int hop_ = 0;
  std::vector<std::weak_ptr<Promise>> all_;  // every promise made (to break cycles at the end)
};

std::string_view combinator_name(PromiseEngine::Combinator c);

}  // namespace nodelab::runtime
