#pragma once
// The event-loop lab's ops: the shared runtime's (common/script/shared_ops.hpp: timers,
// immediates, nextTick, promises, the threadpool, fs, CPU work, control flow) plus its own,
// `destroySocket`, which puts a handle in libuv's close phase.

#include "script/registry.hpp"

namespace nodelab::event_loop {

script::OpRegistry registry();

}  // namespace nodelab::event_loop
