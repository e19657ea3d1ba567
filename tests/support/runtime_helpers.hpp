#pragma once
// Test support for driving the runtime's C++ API directly: log callbacks, promise reactions,
// throws, and reading back what the recorder saw.

#include <string>
#include <vector>

#include "runtime/js_error.hpp"
#include "runtime/runtime.hpp"

namespace nodelab::testing {

// The logged lines, in order.
inline std::vector<std::string> log_texts(const runtime::Runtime& rt) {
  std::vector<std::string> out;
  for (const auto& l : rt.recorder().logs())
    out.push_back(l.text);
  return out;
}

// The record of the callback that logged `text` (first occurrence), or null.
inline const runtime::CallbackRecord* logged_by(const runtime::Runtime& rt,
                                                const std::string& text) {
  for (const auto& l : rt.recorder().logs()) {
    if (l.text == text) return rt.recorder().find(l.callback);
  }
  return nullptr;
}

// A JS function that logs `text`.
inline runtime::Task logger(runtime::Runtime& rt, std::string text) {
  return [&rt, text = std::move(text)] { rt.log(text); };
}

// Promise.resolve().then(cb)
inline void promise(runtime::Runtime& rt, runtime::Task cb) {
  rt.enqueue_microtask(std::move(cb), 0, runtime::CallbackKind::promise);
}

// throw new Error(message)
[[noreturn]] inline void js_throw(const std::string& message) {
  throw runtime::JsThrow(runtime::JsError{"Error", "", message});
}

}  // namespace nodelab::testing
