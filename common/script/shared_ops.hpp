#pragma once
// The ops of the shared runtime, which every lab accepts (docs/scenario-format.md "Ops of the
// shared runtime"). A lab adds its own ops to this registry (labs/<id>/).

#include "script/registry.hpp"

namespace nodelab::script {

// A registry for `lab_id` holding the shared ops and the runtime's metric table.
OpRegistry shared_registry(std::string lab_id);

}  // namespace nodelab::script
