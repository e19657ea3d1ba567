#pragma once
// JavaScript values in a scenario: a literal (`value: 3`, `value: "text"`, `value: true`), an
// Error (`error: TEXT`, `new Error(TEXT)`) or a named promise (`promise: NAME`, the twin's
// `P.NAME`), and the table of named promises. A name is given once in the file (an `async`
// with `name:`, a lab op creating a promise); using a name no op gives, or giving one twice,
// is a load error at its FILE:LINE:COL. At run time the table starts empty: reading a name
// before the op giving it ran reads `undefined`, as the twin's `P.NAME` does.

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "runtime/promise.hpp"
#include "script/parser.hpp"

namespace nodelab::script {

class Interpreter;

struct ValueSpec {
  enum class Kind : std::uint8_t { undefined, literal, error, promise };
  Kind kind = Kind::undefined;
  runtime::JsValue literal;  // literal: a number, a string or a boolean
  std::string text;          // error: the message; promise: the name

  // Evaluates it now (a name reads the table as it is at this moment).
  runtime::JsValue eval(Interpreter& interp) const;
  // The twin's expression (P.NAME for a name: the writer must use_promises()).
  std::string js() const;
  bool uses_promises() const { return kind == Kind::promise; }
  // For narration: 3, "text", Error: x, P.name
  std::string describe() const;
};

// A scalar as a value: an unquoted number (YAML's .inf/.nan too) or true/false is that
// JavaScript value; anything else, or any quoted scalar, is a string.
runtime::JsValue parse_literal(Parser& p, const YAML::Node& n, std::string_view what);

// The one of `value`, `error` and `promise` the op's fields hold (nullopt: none; two is an
// error). `promise` names a promise some op gives.
std::optional<ValueSpec> value_fields(Parser& p, Fields& f, std::string_view op);

// Registers the name an op gives (a second giving is an error) or uses (checked once the
// whole file is parsed: add_promise_name_check).
void give_promise_name(Parser& p, const YAML::Node& at, const std::string& name);
void use_promise_name(Parser& p, const YAML::Node& at, const std::string& name);
void add_promise_name_check(OpRegistry& r);

// The twin's table of named promises (`const P = Object.create(null);`) and its __show.
void use_promises(TwinWriter& w);
void use_show(TwinWriter& w);
std::string promise_js(const std::string& name);

}  // namespace nodelab::script
