#include "async/ops.hpp"

#include "script/shared_ops.hpp"

namespace nodelab::async {

script::OpRegistry registry() {
  script::OpRegistry r = script::shared_registry("async");
  add_promise_ops(r);  // promise_ops.cpp
  add_process_ops(r);
  add_callback_ops(r);
  add_abort_ops(r);    // abort_ops.cpp
  return r;
}

}  // namespace nodelab::async
