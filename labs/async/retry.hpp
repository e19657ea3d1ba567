#pragma once
// Retry policies for a failed call, as the common client libraries space them (the AWS
// Architecture Blog's "Exponential Backoff And Jitter" names them):
//
//   immediate    the next attempt goes out at once, in the callback that saw the failure
//   exponential  delay(k) = min(cap, base * 2^(k-1)) before attempt k+1 (k = failures so far)
//   full-jitter  delay(k) = floor(U * min(cap, base * 2^(k-1))), U uniform in [0, 1) from a
//                seeded generator: the same seed, the same delays, in the lab and its twin
//
// The generator is mulberry32 (32-bit state, integer arithmetic only) so the Node twin
// (labs/async/twin/io.js, __mulberry32) draws exactly the same sequence with Math.imul; each
// call has its own stream, seeded with seed + 0x9E3779B9 * call index, so the delays do not
// depend on the order in which calls fail.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string_view>

namespace nodelab::async {

class Mulberry32 {
 public:
  explicit Mulberry32(std::uint32_t seed) : state_(seed) {}
  std::uint32_t next() {
    state_ += 0x6D2B79F5U;
    std::uint32_t t = state_;
    t = (t ^ (t >> 15)) * (t | 1U);
    t ^= t + (t ^ (t >> 7)) * (t | 61U);
    return t ^ (t >> 14);
  }
  // In [0, 1): next() / 2^32.
  double uniform() { return static_cast<double>(next()) / 4294967296.0; }

 private:
  std::uint32_t state_;
};

// The seed of call `index`'s stream (1-based index), as the twin computes it: (seed +
// Math.imul(0x9E3779B9, index)) >>> 0.
inline std::uint32_t call_seed(std::uint32_t seed, std::uint32_t index) {
  return seed + 0x9E3779B9U * index;
}

enum class RetryPolicy : std::uint8_t { immediate, exponential, full_jitter };
inline constexpr std::string_view kRetryPolicies[] = {"immediate", "exponential", "full-jitter"};

struct RetrySpec {
  RetryPolicy policy = RetryPolicy::exponential;
  std::uint32_t attempts = 3;  // in all, the first included (1: no retry)
  double base_ms = 100;
  double cap_ms = 10'000;
  std::uint32_t seed = 1;
};

// The delays of one call's retries, in order.
class Backoff {
 public:
  Backoff(const RetrySpec& spec, std::uint32_t call_index)
      : spec_(spec), rng_(call_seed(spec.seed, call_index)) {}
  // The delay before the next attempt after `failures` failures (1, 2, ...), in whole ms.
  double delay_ms(std::uint32_t failures) {
    if (spec_.policy == RetryPolicy::immediate) return 0;
    const double exp =
        std::min(spec_.cap_ms,
                 spec_.base_ms * std::ldexp(1.0, static_cast<int>(std::min(failures, 60U)) - 1));
    if (spec_.policy == RetryPolicy::exponential) return std::floor(exp);
    return std::floor(rng_.uniform() * exp);
  }

 private:
  RetrySpec spec_;
  Mulberry32 rng_;
};

}  // namespace nodelab::async
