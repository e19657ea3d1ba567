#pragma once

#include "report/style.hpp"

namespace nodelab::driver {

int tour(const report::Style& st);

}  // namespace nodelab::driver
