#pragma once
// The async lab's op registry: the shared runtime's ops, plus the lab's promises,
// callbacks, cancellation and network ops (each family in its own file, added here).

#include "script/registry.hpp"

namespace nodelab::async {

script::OpRegistry registry();

// Named promises, then/catch/finally, the combinators and the `ticks` chain (promise_ops.cpp).
void add_promise_ops(script::OpRegistry& r);
// AbortController, its signal's 'abort' listeners, timers/promises setTimeout (abort_ops.cpp).
void add_abort_ops(script::OpRegistry& r);

}  // namespace nodelab::async
