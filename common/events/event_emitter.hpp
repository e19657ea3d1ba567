#pragma once
// Node 20's EventEmitter (lib/events.js), one implementation for every lab: the emitter lab
// drives it directly, and every stream of the streams lab is one.
//
//   _events: { data: fn | [fn, fn, ...], newListener: fn, ... }   keys in creation order
//
// - One listener is stored as the function itself; a second turns it into an array, and the
//   MaxListeners `warned` flag lives on that array: when removals shrink it back to one
//   function the flag is gone, and growing again warns again.
// - emit() calls a single function as it is, and iterates a copy of an array (arrayClone): a
//   listener removed during the emit still runs in it, one added does not.
// - once() adds a wrapper that removes itself before calling the listener; off(fn) matches
//   the function itself or a wrapper whose .listener is fn (the last match wins).
// - 'newListener' is emitted before an addition, 'removeListener' after a removal.
// - MaxListenersExceededWarning when an array grows past the limit (default 10; 0 means
//   none), once per array, with the emitter's constructor name ([EventEmitter], [Readable],
//   [Socket]...), delivered on process.nextTick like every process warning.
// - emit('error') with no 'error' listener throws the Error itself, or ERR_UNHANDLED_ERROR
//   for anything else (its message quotes util.inspect(arg)).
//
// The template parameters:
//   Arg  what emit() hands every listener (one argument object; default-constructible, the
//        argument of 'newListener'/'removeListener' here). `error_to_throw(const Arg&)`,
//        found by argument-dependent lookup, is what emit('error', arg) throws without a
//        listener: the Error itself, or err_unhandled_error(util.inspect(arg)).
//   Fn   the listener: a shared pointer to a function object (its identity is its address,
//        as a JavaScript function's), called as (*fn)(arg).
//
// Cost: an emit finds its event in a small flat vector (creation order, as Node's keys) and
// calls a single listener through a raw pointer: no copy, no reference count, no allocation.
// A listener removed while any emit of this emitter is running is kept alive (parked) until
// the outermost emit returns, which is what the JavaScript closure's reachability from the
// running emit gives Node.

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "runtime/js_error.hpp"

namespace nodelab::events {

inline constexpr double kDefaultMaxListeners = 10;

// process.emitWarning(name, message): the owner delivers it (on nextTick).
using WarningSink = std::function<void(std::string_view name, const std::string& message)>;

// "Possible EventEmitter memory leak detected. 11 data listeners added to [Readable].
// MaxListeners is 10. Use emitter.setMaxListeners() to increase limit"
std::string max_listeners_warning(std::size_t count, std::string_view event,
                                  std::string_view class_name, double max);
// ERR_UNHANDLED_ERROR: "Unhandled error. (<inspected>)".
runtime::JsError err_unhandled_error(std::string_view inspected);
// Reflect.ownKeys order of keys given in creation order: array-index keys first, ascending.
std::vector<std::string> own_keys_order(std::vector<std::string> keys);

// The default listener: a function object over std::function.
template <class Arg>
struct Listener {
  std::function<void(const Arg&)> fn;
  void operator()(const Arg& a) const { fn(a); }
};
template <class Arg>
using ListenerRef = std::shared_ptr<Listener<Arg>>;

template <class Arg, class Fn = ListenerRef<Arg>>
class EventEmitter {
  using Target = typename std::pointer_traits<Fn>::element_type;

 public:
  using WarningSink = events::WarningSink;
  static constexpr double kDefaultMaxListeners = events::kDefaultMaxListeners;

  explicit EventEmitter(WarningSink warn, std::string class_name = "EventEmitter")
      : warn_(std::move(warn)), class_name_(std::move(class_name)) {}
  EventEmitter(const EventEmitter&) = delete;
  EventEmitter& operator=(const EventEmitter&) = delete;

  void on(std::string_view event, Fn fn) { add(event, std::move(fn), false, false); }
  void once(std::string_view event, Fn fn) { add(event, std::move(fn), false, true); }
  void prepend_listener(std::string_view event, Fn fn) { add(event, std::move(fn), true, false); }
  void prepend_once_listener(std::string_view event, Fn fn) {
    add(event, std::move(fn), true, true);
  }
  // removeListener / off: the last listener that is `fn` or a once-wrapper of `fn`.
  void remove_listener(std::string_view event, const Fn& fn) { remove(event, fn.get(), nullptr); }
  void remove_all_listeners();
  void remove_all_listeners(std::string_view event);
  // setMaxListeners(n): n >= 0; 0 or Infinity: no limit.
  void set_max_listeners(double n) { max_listeners_ = n; }
  double max_listeners() const { return max_listeners_.value_or(kDefaultMaxListeners); }
  // The constructor name the warning prints ([EventEmitter]).
  void set_class_name(std::string name) { class_name_ = std::move(name); }
  const std::string& class_name() const { return class_name_; }
  // Called after every removal through removeListener (a once-wrapper's too), with the event:
  // what a subclass's removeListener override adds (Readable's).
  void set_remove_hook(std::function<void(std::string_view event)> hook) {
    remove_hook_ = std::move(hook);
  }

  // Calls the listeners of `event` with `arg`; returns whether there were any. Throws
  // runtime::JsThrow for an unhandled 'error', and lets a listener's throw propagate.
  bool emit(std::string_view event, const Arg& arg = Arg{}) {
    Listeners* l = find(event);
    if (l == nullptr) [[unlikely]]
      return emit_none(event, arg);
    if (l->entries.size() == 1 && !l->entries.front().once) [[likely]] {
      // `typeof handler === 'function'`: called as it is, no clone.
      Target* f = l->entries.front().fn.get();
      Running running(*this);
      (*f)(arg);
      return true;
    }
    return emit_slow(*l, event, arg);
  }

  std::size_t listener_count(std::string_view event) const {
    const Listeners* l = find(event);
    return l ? l->entries.size() : 0;
  }
  std::size_t total_listeners() const {
    std::size_t n = 0;
    for (const auto& l : events_)
      n += l.entries.size();
    return n;
  }
  // eventNames(): Reflect.ownKeys order (array-index keys first, ascending).
  std::vector<std::string> event_names() const {
    std::vector<std::string> keys;
    keys.reserve(events_.size());
    for (const auto& l : events_)
      keys.push_back(l.event);
    return own_keys_order(std::move(keys));
  }

 private:
  struct OnceState {
    bool fired = false;
  };
  // What sits in a listener array: a function, or a once-wrapper (`once` set) around one.
  struct Entry {
    Fn fn;
    std::unique_ptr<OnceState> once;
  };
  struct Listeners {
    std::string event;
    std::vector<Entry> entries;  // one entry = Node's bare function; more = an array
    bool warned = false;         // the array's flag
  };
  // A listener as an emit holds it (the arrayClone's element).
  struct Held {
    Target* fn;
    OnceState* once;
  };

  // Counts the emits running; removals meanwhile park their entries until the last returns.
  class Running {
   public:
    explicit Running(EventEmitter& e) : e_(e) { ++e_.running_; }
    ~Running() {
      if (--e_.running_ == 0 && !e_.parked_.empty()) e_.release_parked();
    }
    Running(const Running&) = delete;
    Running& operator=(const Running&) = delete;

   private:
    EventEmitter& e_;
  };

  Listeners* find(std::string_view event) {
    for (auto& l : events_) {
      if (l.event == event) return &l;
    }
    return nullptr;
  }
  const Listeners* find(std::string_view event) const {
    for (const auto& l : events_) {
      if (l.event == event) return &l;
    }
    return nullptr;
  }

  bool emit_none(std::string_view event, const Arg& arg) {
    if (event == "error") throw runtime::JsThrow(error_to_throw(arg));
    return false;
  }
  bool emit_slow(Listeners& l, std::string_view event, const Arg& arg);
  void add(std::string_view event, Fn fn, bool prepend, bool once);
  // Removes the last entry matching `fn` (plain, or wrapping it) or, with `wrapper`, exactly
  // that once-wrapper (what onceWrapper passes to removeListener).
  void remove(std::string_view event, const void* fn, const OnceState* wrapper);
  void erase_event(typename std::vector<Listeners>::iterator it);
  void park(Entry&& e) { parked_.push_back(std::move(e)); }
  void clear_all() {
    if (running_ > 0) {
      for (auto& l : events_)
        for (auto& e : l.entries)
          park(std::move(e));
    }
    events_.clear();
  }
  void release_parked() {
    std::vector<Entry> dead;
    dead.swap(parked_);  // destructors may run code that removes more
  }

  WarningSink warn_;
  std::string class_name_;
  std::vector<Listeners> events_;  // Reflect.ownKeys order: creation order
  std::optional<double> max_listeners_;
  std::function<void(std::string_view)> remove_hook_;
  std::size_t running_ = 0;    // emits of this emitter on the stack
  std::vector<Entry> parked_;  // removed while an emit ran
};

// ---- the rest of lib/events.js ----

template <class Arg, class Fn>
bool EventEmitter<Arg, Fn>::emit_slow(Listeners& l, std::string_view event, const Arg& arg) {
  // arrayClone: later additions and removals do not change this emit. The raw pointers stay
  // valid: a removal during the emit parks its entry.
  constexpr std::size_t kInline = 16;
  const std::size_t n = l.entries.size();
  Held inline_copy[kInline];
  std::unique_ptr<Held[]> heap_copy;
  Held* copy = inline_copy;
  if (n > kInline) {
    heap_copy = std::make_unique<Held[]>(n);
    copy = heap_copy.get();
  }
  for (std::size_t i = 0; i < n; ++i)
    copy[i] = Held{l.entries[i].fn.get(), l.entries[i].once.get()};
  Running running(*this);
  for (std::size_t i = 0; i < n; ++i) {
    const Held& h = copy[i];
    if (h.once != nullptr) {
      // onceWrapper: remove the wrapper first, then call the listener.
      if (h.once->fired) continue;
      remove(event, h.fn, h.once);
      h.once->fired = true;
    }
    (*h.fn)(arg);
  }
  return true;
}

// _addListener
template <class Arg, class Fn>
void EventEmitter<Arg, Fn>::add(std::string_view event, Fn fn, bool prepend, bool once) {
  // "Before adding it to the listeners, first emit 'newListener'" (with the unwrapped
  // function); a throw there leaves the listener out.
  if (find("newListener") != nullptr) emit("newListener");

  Entry entry{std::move(fn), once ? std::make_unique<OnceState>() : nullptr};
  Listeners* existing = find(event);
  if (existing == nullptr) {
    Listeners l{std::string(event), {}, false};
    l.entries.push_back(std::move(entry));
    events_.push_back(std::move(l));
    return;
  }
  if (existing->entries.size() == 1) existing->warned = false;  // a fresh array
  if (prepend) {
    existing->entries.insert(existing->entries.begin(), std::move(entry));
  } else {
    existing->entries.push_back(std::move(entry));
  }
  const double m = max_listeners();
  const auto count = existing->entries.size();
  if (m > 0 && static_cast<double>(count) > m && !existing->warned) {
    existing->warned = true;
    if (warn_)
      warn_("MaxListenersExceededWarning", max_listeners_warning(count, event, class_name_, m));
  }
}

template <class Arg, class Fn>
void EventEmitter<Arg, Fn>::erase_event(typename std::vector<Listeners>::iterator it) {
  if (running_ > 0) {
    for (auto& e : it->entries)
      park(std::move(e));
  }
  events_.erase(it);
}

// removeListener
template <class Arg, class Fn>
void EventEmitter<Arg, Fn>::remove(std::string_view event, const void* fn,
                                   const OnceState* wrapper) {
  auto matches = [&](const Entry& e) {
    return wrapper ? e.once.get() == wrapper : static_cast<const void*>(e.fn.get()) == fn;
  };
  auto it = events_.begin();
  while (it != events_.end() && it->event != event)
    ++it;
  if (it == events_.end()) return;
  if (it->entries.size() == 1) {
    if (!matches(it->entries.front())) return;
    // `if (--this._eventsCount === 0) this._events = ObjectCreate(null); else { delete
    // events[type]; if (events.removeListener) emit('removeListener') }`
    erase_event(it);
    if (!events_.empty() && find("removeListener") != nullptr) emit("removeListener");
    if (remove_hook_) remove_hook_(event);
    return;
  }
  auto& entries = it->entries;
  // The scan from the end (spliceOne's caller), one loop per kind of match.
  std::size_t i = entries.size();
  if (wrapper != nullptr) {
    while (i-- > 0 && entries[i].once.get() != wrapper) {
    }
  } else {
    while (i-- > 0 && static_cast<const void*>(entries[i].fn.get()) != fn) {
    }
  }
  if (i < entries.size()) {
    if (running_ > 0) park(std::move(entries[i]));
    entries.erase(entries.begin() + static_cast<std::ptrdiff_t>(i));
    if (entries.size() == 1) it->warned = false;  // back to a bare function
    if (find("removeListener") != nullptr) emit("removeListener");
    if (remove_hook_) remove_hook_(event);
    return;
  }
}

// removeAllListeners()
template <class Arg, class Fn>
void EventEmitter<Arg, Fn>::remove_all_listeners() {
  if (find("removeListener") == nullptr) {
    clear_all();
    return;
  }
  // Every other event first, each LIFO, emitting 'removeListener'; then 'removeListener'.
  for (const auto& key : event_names()) {
    if (key != "removeListener") remove_all_listeners(key);
  }
  remove_all_listeners("removeListener");
  clear_all();
}

// removeAllListeners(type)
template <class Arg, class Fn>
void EventEmitter<Arg, Fn>::remove_all_listeners(std::string_view event) {
  if (find("removeListener") == nullptr) {
    auto it = events_.begin();
    while (it != events_.end() && it->event != event)
      ++it;
    if (it != events_.end()) erase_event(it);
    return;
  }
  const Listeners* l = find(event);
  if (l == nullptr) return;
  // LIFO over a snapshot of the array; each removal goes through removeListener (whose
  // 'removeListener' listeners may remove more: the snapshot's entries stay parked).
  std::vector<Held> snapshot;
  snapshot.reserve(l->entries.size());
  for (const auto& e : l->entries)
    snapshot.push_back(Held{e.fn.get(), e.once.get()});
  Running running(*this);
  for (std::size_t i = snapshot.size(); i-- > 0;)
    remove(event, snapshot[i].fn, snapshot[i].once);
}

}  // namespace nodelab::events
