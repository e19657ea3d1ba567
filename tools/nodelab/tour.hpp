#pragma once

#include "report/style.hpp"

namespace nodelab::driver {

// Each lab's screens, in NODELAB_LABS order. On a terminal (stdin and stdout) each screen
// after the first waits for Enter, unless `no_pause`.
int tour(const report::Style& st, bool no_pause);

}  // namespace nodelab::driver
