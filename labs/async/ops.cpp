#include "async/ops.hpp"

#include "async/io_world.hpp"
#include "script/shared_ops.hpp"

namespace nodelab::async {

void add_io(script::OpRegistry& r) {
  add_downstream_block(r);
  add_calls(r);
  add_asio_calls(r);
  r.add_metrics(IoWorld::metric_table());
}

script::OpRegistry registry() {
  script::OpRegistry r = script::shared_registry("async");
  add_promise_ops(r);  // promise_ops.cpp
  add_process_ops(r);
  add_callback_ops(r);
  add_abort_ops(r);  // abort_ops.cpp
  add_io(r);
  return r;
}

}  // namespace nodelab::async
