#pragma once
// A JavaScript exception in flight. Scenario code throws it (`throw: TEXT`, an 'error'
// event without a listener); `try` ops catch it; the runtime decides at the callback
// boundary whether it is an uncaught exception or a promise rejection, exactly where Node
// would (lib/internal/process/task_queues.js, lib/internal/process/promises.js).
// It never crosses into libuv: every libuv callback of the runtime catches it.

#include <exception>
#include <string>
#include <utility>

namespace nodelab::runtime {

struct JsError {
  std::string name = "Error";  // constructor name as Node prints it: Error
  std::string code;            // e.g. ERR_UNHANDLED_ERROR; empty for a plain Error
  std::string message;         // e.message; for a non-Error value, its util.inspect() text
  bool is_error = true;        // false: a thrown/rejected value that is not an Error (`reject(42)`)

  // The first line Node prints for it on stderr, e.g. "Error [ERR_UNHANDLED_ERROR]: ...".
  std::string headline() const {
    return code.empty() ? name + ": " + message : name + " [" + code + "]: " + message;
  }
};

class JsThrow : public std::exception {
 public:
  explicit JsThrow(JsError error) : error_(std::move(error)) {}
  const JsError& error() const { return error_; }
  const char* what() const noexcept override { return error_.message.c_str(); }

 private:
  JsError error_;
};

}  // namespace nodelab::runtime
