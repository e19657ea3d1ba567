// runtime::js_number_to_string must print exactly what JavaScript's String(x) prints: it is
// used for the TimeoutOverflowWarning text and for numbers in the Node twin's source.
// Every expected value below was printed by `node -p 'String(x)'` on Node v20.20.2.

#include "runtime/js_number.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <limits>

using nodelab::runtime::js_number_to_string;

TEST_CASE("js_number.zero_and_negative_zero") {
  CHECK(js_number_to_string(0.0) == "0");
  // String(-0) is "0" (Number::toString step 2: if x is -0 or +0, return "0").
  CHECK(js_number_to_string(-0.0) == "0");
}

TEST_CASE("js_number.integers_print_without_exponent_up_to_1e21") {
  CHECK(js_number_to_string(1) == "1");
  CHECK(js_number_to_string(100) == "100");
  CHECK(js_number_to_string(2147483648.0) == "2147483648");
  // 2**53
  CHECK(js_number_to_string(9007199254740992.0) == "9007199254740992");
  // Below 1e21 the digits are padded with zeros ...
  CHECK(js_number_to_string(1e20) == "100000000000000000000");
  CHECK(js_number_to_string(123456789012345680000.0) == "123456789012345680000");
  // ... from 1e21 on it is exponent notation, with an explicit "+".
  CHECK(js_number_to_string(1e21) == "1e+21");
  CHECK(js_number_to_string(1.7976931348623157e308) == "1.7976931348623157e+308");
}

TEST_CASE("js_number.fractions_use_the_shortest_round_trip_digits") {
  CHECK(js_number_to_string(1.5) == "1.5");
  CHECK(js_number_to_string(-1.5) == "-1.5");
  CHECK(js_number_to_string(3000000000.5) == "3000000000.5");
  CHECK(js_number_to_string(1.0 / 3.0) == "0.3333333333333333");
  CHECK(js_number_to_string(0.1 + 0.2) == "0.30000000000000004");
}

TEST_CASE("js_number.small_numbers_switch_to_exponent_below_1e_minus_6") {
  // 1e-6 is still written out in full; 1e-7 is the first exponent form.
  CHECK(js_number_to_string(0.000001) == "0.000001");
  CHECK(js_number_to_string(0.0000015) == "0.0000015");
  CHECK(js_number_to_string(1e-7) == "1e-7");
  CHECK(js_number_to_string(123e-20) == "1.23e-18");
  CHECK(js_number_to_string(5e-324) == "5e-324");
}

TEST_CASE("js_number.infinities_and_nan") {
  CHECK(js_number_to_string(std::numeric_limits<double>::infinity()) == "Infinity");
  CHECK(js_number_to_string(-std::numeric_limits<double>::infinity()) == "-Infinity");
  CHECK(js_number_to_string(std::numeric_limits<double>::quiet_NaN()) == "NaN");
  CHECK(js_number_to_string(-std::numeric_limits<double>::quiet_NaN()) == "NaN");
}
