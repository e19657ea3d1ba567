#pragma once
// Node 20's EventEmitter (lib/events.js), as the emitter lab runs it.
//
//   _events: { data: fn | [fn, fn, ...], newListener: fn, ... }   keys in creation order
//
// - One listener is stored as the function itself; a second turns it into an array, and the
//   MaxListeners `warned` flag lives on that array: when removals shrink it back to one
//   function the flag is gone, and growing again warns again.
// - emit() iterates a copy of the array (arrayClone): a listener removed during the emit still
//   runs in it, one added does not.
// - once() adds a wrapper that removes itself before calling the listener; off(fn) matches
//   the function itself or a wrapper whose .listener is fn (the last match wins).
// - 'newListener' is emitted before an addition, 'removeListener' after a removal.
// - MaxListenersExceededWarning when an array grows past the limit (default 10; 0 means
//   none), once per array, delivered on process.nextTick like every process warning.
// - emit('error') with no 'error' listener throws the Error itself, or ERR_UNHANDLED_ERROR
//   for anything else (its message quotes util.inspect(arg)).

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/runtime.hpp"

namespace nodelab::emitter {

// A JavaScript function object; its identity is its address.
struct Function {
  std::string id;              // the scenario's listener id (L.<id>); empty for request listeners
  runtime::Task call;          // its body
  std::vector<char> retained;  // what its closure keeps alive (the requests block's payload)
};
using FunctionRef = std::shared_ptr<Function>;

// The argument of an emit: none, a string, or new Error(text).
struct EmitArg {
  enum class Kind : std::uint8_t { none, string, error };
  Kind kind = Kind::none;
  std::string text;
};

class EventEmitter {
 public:
  // process.emitWarning(name, message), delivered on nextTick by the runtime.
  using WarningSink = std::function<void(std::string_view name, const std::string& message)>;

  explicit EventEmitter(WarningSink warn) : warn_(std::move(warn)) {}

  void on(const std::string& event, FunctionRef fn) { add(event, fn, false, false); }
  void once(const std::string& event, FunctionRef fn) { add(event, fn, false, true); }
  void prepend_listener(const std::string& event, FunctionRef fn) { add(event, fn, true, false); }
  void prepend_once_listener(const std::string& event, FunctionRef fn) {
    add(event, fn, true, true);
  }
  // removeListener / off: the last listener that is `fn` or a once-wrapper of `fn`.
  void remove_listener(const std::string& event, const FunctionRef& fn);
  void remove_all_listeners();
  void remove_all_listeners(const std::string& event);
  // setMaxListeners(n): n >= 0 (checked when the scenario loads); 0 or Infinity: no limit.
  void set_max_listeners(double n) { max_listeners_ = n; }
  double max_listeners() const { return max_listeners_.value_or(kDefaultMaxListeners); }

  // Calls the listeners of `event`; returns whether there were any. Throws runtime::JsThrow
  // for an unhandled 'error', and lets a listener's throw propagate, as Node does.
  bool emit(const std::string& event, const EmitArg& arg = {});

  std::size_t listener_count(const std::string& event) const;
  std::size_t total_listeners() const;
  // eventNames(): Reflect.ownKeys order (array-index keys first, ascending).
  std::vector<std::string> event_names() const;

  static constexpr double kDefaultMaxListeners = 10;

 private:
  struct OnceState {
    bool fired = false;
  };
  // What sits in a listener array: a function, or a once-wrapper (`once` set) around one.
  struct Entry {
    FunctionRef fn;
    std::shared_ptr<OnceState> once;
  };
  struct Listeners {
    std::string event;
    std::vector<Entry> entries;  // one entry = Node's bare function; more = an array
    bool warned = false;         // the array's flag
  };

  void add(const std::string& event, const FunctionRef& fn, bool prepend, bool once);
  // Removes the last entry matching `fn` (plain, or wrapping it) or, with `wrapper`, exactly
  // that once-wrapper (what onceWrapper passes to removeListener).
  void remove(const std::string& event, const FunctionRef& fn, const OnceState* wrapper);
  void call(const std::string& event, const Entry& e);
  Listeners* find(std::string_view event);
  const Listeners* find(std::string_view event) const;

  WarningSink warn_;
  std::vector<Listeners> events_;  // Reflect.ownKeys order: creation order
  std::optional<double> max_listeners_;
};

}  // namespace nodelab::emitter
