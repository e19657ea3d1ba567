#include "emitter/emitter.hpp"

#include "runtime/js_inspect.hpp"

namespace nodelab::emitter {

runtime::JsError error_to_throw(const EmitArg& arg) {
  if (arg.kind == EmitArg::Kind::error) return runtime::JsError{"Error", "", arg.text};
  return events::err_unhandled_error(
      arg.kind == EmitArg::Kind::string ? runtime::js_inspect_string(arg.text) : "undefined");
}

}  // namespace nodelab::emitter
