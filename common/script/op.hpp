#pragma once
// The op tree a scenario file compiles to. An op is one line of the scenario's
// "JavaScript": it runs against the runtime (Op::run) and prints its Node.js twin
// (Op::emit_twin). Control ops (repeat, try, await) do not run their bodies themselves;
// they return a Flow asking the machine that runs them to push a frame or to suspend, so
// an `await` can stand anywhere inside an `async` body (inside `repeat` or `try` too).

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "runtime/runtime.hpp"

namespace nodelab::script {

class Op;
class Interpreter;
class TwinWriter;
using Body = std::vector<std::unique_ptr<Op>>;

// `e.message` of the nearest enclosing `catch` (null outside one). Callbacks created
// inside a catch body capture it, as a JavaScript closure captures `e`.
using ErrorEnv = std::shared_ptr<const std::string>;

// `v` of the nearest enclosing async function or promise reaction, as the lab displays it
// (runtime::show): `{value}` in a text. A cell shared by the closures created in that
// function, as JavaScript closures share a `let`: an `await` updates it in place.
struct ValueCell {
  std::string shown = "undefined";
};
using ValueEnv = std::shared_ptr<ValueCell>;

// What an op asks of the machine running it.
struct Flow {
  enum class Kind : std::uint8_t { next, repeat, try_catch, await_ };
  Kind kind = Kind::next;
  const Body* body = nullptr;     // repeat / try: the body to run
  const Body* handler = nullptr;  // try: the catch body
  std::int64_t times = 0;         // repeat
};

// What an op sees while it runs.
struct Exec {
  Interpreter& interp;
  runtime::Runtime& rt;
  const ErrorEnv& error;

  // A JS function whose body is `body`, closing over the current error binding.
  runtime::Task callback(const Body& body) const;
};

class Op {
 public:
  Op() = default;
  virtual ~Op() = default;
  Op(const Op&) = delete;
  Op& operator=(const Op&) = delete;

  virtual std::string_view name() const = 0;
  virtual Flow run(const Exec& ex) const = 0;
  virtual void emit_twin(TwinWriter& w) const = 0;
  // One line describing the op for narration ("setTimeout 10 ms", "log start").
  virtual std::string describe() const { return std::string(name()); }

  int line = 0;  // where the op's key is in the scenario file
  int col = 0;
  runtime::Site site = 0;  // index in Scenario::sites
};

// A log/throw text; inside a catch body `{error}` stands for e.message; inside an async
// function or a promise reaction `{value}` stands for __show(v).
class Text {
 public:
  struct Part {
    bool is_error = false;
    std::string literal;
    bool is_value = false;
  };
  static Text parse(std::string_view raw);
  bool uses_error() const;
  bool uses_value() const;
  std::string render(const ErrorEnv& error, const ValueEnv& value = nullptr) const;
  // A JavaScript expression: a string literal, or a concatenation with e.message and
  // __show(v) (runtime::show_twin_helper; the op emitting it declares the helper).
  std::string js() const;
  const std::string& raw() const { return raw_; }

 private:
  std::vector<Part> parts_;
  std::string raw_;
};

// A JavaScript string literal for `s` (JSON's escaping is valid JavaScript).
std::string js_string(std::string_view s);

}  // namespace nodelab::script
