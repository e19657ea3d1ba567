#pragma once
// The emitter lab's EventEmitter: common/events/event_emitter.hpp (Node 20's lib/events.js,
// shared with every lab) over the lab's JavaScript functions and emit argument.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "events/event_emitter.hpp"
#include "runtime/js_error.hpp"
#include "runtime/runtime.hpp"

namespace nodelab::emitter {

// The argument of an emit: none, a string, or new Error(text).
struct EmitArg {
  enum class Kind : std::uint8_t { none, string, error };
  Kind kind = Kind::none;
  std::string text;
};

// A JavaScript function object; its identity is its address.
struct Function {
  std::string id;              // the scenario's listener id (L.<id>); empty for request listeners
  runtime::Task call;          // its body
  std::vector<char> retained;  // what its closure keeps alive (the requests block's payload)

  void operator()(const EmitArg&) const {
    if (call) call();
  }
};
using FunctionRef = std::shared_ptr<Function>;

// What emit('error', arg) throws with no 'error' listener: the Error itself, or
// ERR_UNHANDLED_ERROR quoting util.inspect(arg).
runtime::JsError error_to_throw(const EmitArg& arg);

using EventEmitter = events::EventEmitter<EmitArg, FunctionRef>;

}  // namespace nodelab::emitter
