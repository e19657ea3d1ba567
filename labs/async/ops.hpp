#pragma once
// The async lab's op registry: the shared runtime's ops, plus the lab's promises,
// callbacks, cancellation and network ops (each family in its own file, added here).

#include "script/registry.hpp"

namespace nodelab::async {

script::OpRegistry registry();

}  // namespace nodelab::async
