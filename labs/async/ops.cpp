#include "async/ops.hpp"

#include "script/shared_ops.hpp"

namespace nodelab::async {

script::OpRegistry registry() {
  script::OpRegistry r = script::shared_registry("async");
  return r;
}

}  // namespace nodelab::async
