#include "emitter/emitter.hpp"

#include <algorithm>

#include "runtime/js_inspect.hpp"
#include "runtime/js_number.hpp"

namespace nodelab::emitter {

EventEmitter::Listeners* EventEmitter::find(std::string_view event) {
  for (auto& l : events_) {
    if (l.event == event) return &l;
  }
  return nullptr;
}

const EventEmitter::Listeners* EventEmitter::find(std::string_view event) const {
  for (const auto& l : events_) {
    if (l.event == event) return &l;
  }
  return nullptr;
}

std::size_t EventEmitter::listener_count(const std::string& event) const {
  const Listeners* l = find(event);
  return l ? l->entries.size() : 0;
}

std::size_t EventEmitter::total_listeners() const {
  std::size_t n = 0;
  for (const auto& l : events_)
    n += l.entries.size();
  return n;
}

namespace {
// An array index as Reflect.ownKeys sees one: a canonical decimal integer below 2^32 - 1.
bool is_array_index(const std::string& key) {
  if (key.empty() || key.size() > 10 || (key.size() > 1 && key[0] == '0')) return false;
  for (const char c : key) {
    if (c < '0' || c > '9') return false;
  }
  return std::stoull(key) < 4294967295ULL;
}
}  // namespace

// Reflect.ownKeys(_events) order: array-index keys first, ascending; then the other string
// keys in creation order.
std::vector<std::string> EventEmitter::event_names() const {
  std::vector<std::string> indices;
  std::vector<std::string> names;
  for (const auto& l : events_)
    (is_array_index(l.event) ? indices : names).push_back(l.event);
  std::sort(indices.begin(), indices.end(), [](const std::string& a, const std::string& b) {
    return std::stoull(a) < std::stoull(b);
  });
  indices.insert(indices.end(), names.begin(), names.end());
  return indices;
}

// _addListener
void EventEmitter::add(const std::string& event, const FunctionRef& fn, bool prepend, bool once) {
  // "Before adding it to the listeners, first emit 'newListener'" (with the unwrapped
  // function); a throw there leaves the listener out.
  if (find("newListener") != nullptr) emit("newListener");

  Entry entry{fn, once ? std::make_shared<OnceState>() : nullptr};
  Listeners* existing = find(event);
  if (existing == nullptr) {
    events_.push_back(Listeners{event, {std::move(entry)}, false});
    return;
  }
  if (existing->entries.size() == 1) existing->warned = false;  // a fresh array
  if (prepend) {
    existing->entries.insert(existing->entries.begin(), std::move(entry));
  } else {
    existing->entries.push_back(std::move(entry));
  }
  const double m = max_listeners();
  const auto n = existing->entries.size();
  if (m > 0 && static_cast<double>(n) > m && !existing->warned) {
    existing->warned = true;
    warn_("MaxListenersExceededWarning",
          "Possible EventEmitter memory leak detected. " + std::to_string(n) + " " + event +
              " listeners added to [EventEmitter]. MaxListeners is " +
              runtime::js_number_to_string(m) +
              ". Use emitter.setMaxListeners() to increase limit");
  }
}

void EventEmitter::remove_listener(const std::string& event, const FunctionRef& fn) {
  remove(event, fn, nullptr);
}

// removeListener
void EventEmitter::remove(const std::string& event, const FunctionRef& fn,
                          const OnceState* wrapper) {
  auto matches = [&](const Entry& e) { return wrapper ? e.once.get() == wrapper : e.fn == fn; };
  const auto it = std::find_if(events_.begin(), events_.end(),
                               [&](const Listeners& l) { return l.event == event; });
  if (it == events_.end()) return;
  if (it->entries.size() == 1) {
    if (!matches(it->entries.front())) return;
    // `if (--this._eventsCount === 0) this._events = ObjectCreate(null); else { delete
    // events[type]; if (events.removeListener) emit('removeListener') }`
    events_.erase(it);
    if (!events_.empty() && find("removeListener") != nullptr) emit("removeListener");
    return;
  }
  auto& entries = it->entries;
  for (std::size_t i = entries.size(); i-- > 0;) {
    if (!matches(entries[i])) continue;
    entries.erase(entries.begin() + static_cast<std::ptrdiff_t>(i));
    if (entries.size() == 1) it->warned = false;  // back to a bare function
    if (find("removeListener") != nullptr) emit("removeListener");
    return;
  }
}

// removeAllListeners()
void EventEmitter::remove_all_listeners() {
  if (find("removeListener") == nullptr) {
    events_.clear();
    return;
  }
  // Every other event first, each LIFO, emitting 'removeListener'; then 'removeListener'.
  for (const auto& key : event_names()) {
    if (key != "removeListener") remove_all_listeners(key);
  }
  remove_all_listeners("removeListener");
  events_.clear();
}

// removeAllListeners(type)
void EventEmitter::remove_all_listeners(const std::string& event) {
  if (find("removeListener") == nullptr) {
    const auto it = std::find_if(events_.begin(), events_.end(),
                                 [&](const Listeners& l) { return l.event == event; });
    if (it != events_.end()) events_.erase(it);
    return;
  }
  const Listeners* l = find(event);
  if (l == nullptr) return;
  // LIFO over a snapshot of the array; each removal goes through removeListener.
  const std::vector<Entry> snapshot = l->entries;
  for (std::size_t i = snapshot.size(); i-- > 0;) {
    const Entry& e = snapshot[i];
    remove(event, e.fn, e.once.get());
  }
}

void EventEmitter::call(const std::string& event, const Entry& e) {
  if (e.once) {
    // onceWrapper: remove the wrapper first, then call the listener.
    if (e.once->fired) return;
    remove(event, e.fn, e.once.get());
    e.once->fired = true;
  }
  if (e.fn->call) e.fn->call();
}

bool EventEmitter::emit(const std::string& event, const EmitArg& arg) {
  if (event == "error" && find("error") == nullptr) {
    if (arg.kind == EmitArg::Kind::error) {
      throw runtime::JsThrow(runtime::JsError{"Error", "", arg.text});  // the Error itself
    }
    const std::string shown =
        arg.kind == EmitArg::Kind::string ? runtime::js_inspect_string(arg.text) : "undefined";
    throw runtime::JsThrow(
        runtime::JsError{"Error", "ERR_UNHANDLED_ERROR", "Unhandled error. (" + shown + ")"});
  }
  const Listeners* l = find(event);
  if (l == nullptr) return false;
  // arrayClone: later additions and removals do not change this emit.
  const std::vector<Entry> listeners = l->entries;
  for (const Entry& e : listeners)
    call(event, e);
  return true;
}

}  // namespace nodelab::emitter
