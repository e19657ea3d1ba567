#include "runtime/js_number.hpp"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <string_view>

namespace nodelab::runtime {

std::string js_number_to_string(double x) {
  if (std::isnan(x)) return "NaN";
  if (x == 0) return "0";  // +0 and -0 both print as 0
  if (x < 0) return "-" + js_number_to_string(-x);
  if (std::isinf(x)) return "Infinity";

  // Shortest round-trip digits: "d.ddde±XX" -> digits s (k of them) and n = exponent + 1.
  char buf[64];
  const auto res = std::to_chars(buf, buf + sizeof buf, x, std::chars_format::scientific);
  const std::string_view sci(buf, static_cast<std::size_t>(res.ptr - buf));
  const auto e_pos = sci.find('e');
  std::string digits;
  for (char c : sci.substr(0, e_pos)) {
    if (c != '.') digits += c;
  }
  const int n = std::atoi(std::string(sci.substr(e_pos + 1)).c_str()) + 1;
  const int k = static_cast<int>(digits.size());

  if (k <= n && n <= 21) return digits + std::string(static_cast<std::size_t>(n - k), '0');
  if (0 < n && n <= 21) {
    return digits.substr(0, static_cast<std::size_t>(n)) + "." +
           digits.substr(static_cast<std::size_t>(n));
  }
  if (-6 < n && n <= 0) return "0." + std::string(static_cast<std::size_t>(-n), '0') + digits;
  const int e = n - 1;
  std::string out = digits.substr(0, 1);
  if (k > 1) out += "." + digits.substr(1);
  out += e < 0 ? "e-" : "e+";
  out += std::to_string(std::abs(e));
  return out;
}

}  // namespace nodelab::runtime
