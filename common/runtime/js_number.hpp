#pragma once
// ECMAScript Number::toString(x) (ECMA-262 §6.1.6.1.20): how Node prints a number, e.g. in
// "2147483648 does not fit into a 32-bit signed integer." and in the twin's source text.

#include <string>

namespace nodelab::runtime {

std::string js_number_to_string(double x);

}  // namespace nodelab::runtime
