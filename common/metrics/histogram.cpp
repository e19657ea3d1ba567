#include "metrics/histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace nodelab::metrics {

namespace {
constexpr unsigned kSubBits = 8;  // 256 sub-buckets per power of two
constexpr std::uint64_t kSub = 1u << kSubBits;
}  // namespace

// Values below 2*kSub have their own bucket; above that, each power of two [2^k, 2^(k+1))
// is split into kSub equal buckets.
std::size_t Histogram::bucket_of(std::uint64_t v) {
  if (v < 2 * kSub) return static_cast<std::size_t>(v);
  const unsigned shift = static_cast<unsigned>(std::bit_width(v)) - 1 - kSubBits;
  return static_cast<std::size_t>(kSub * shift + (v >> shift));
}

std::uint64_t Histogram::highest_in_bucket(std::size_t b) {
  if (b < 2 * kSub) return b;
  const std::uint64_t shift = b / kSub - 1;
  const std::uint64_t mantissa = b % kSub + kSub;
  return ((mantissa + 1) << shift) - 1;
}

void Histogram::record(std::uint64_t v) {
  const std::size_t b = bucket_of(v);
  if (b >= buckets_.size()) buckets_.resize(b + 1, 0);
  ++buckets_[b];
  if (count_ == 0 || v < min_) min_ = v;
  max_ = std::max(max_, v);
  ++count_;
  const double x = static_cast<double>(v);
  const double delta = x - mean_;
  mean_ += delta / static_cast<double>(count_);
  m2_ += delta * (x - mean_);
}

void Histogram::reset() {
  *this = Histogram{};
}

double Histogram::mean() const {
  return count_ ? mean_ : 0.0;
}

// Population standard deviation, as hdr_stddev reports it.
double Histogram::stddev() const {
  return count_ ? std::sqrt(std::max(0.0, m2_ / static_cast<double>(count_))) : 0.0;
}

std::uint64_t Histogram::percentile(double p) const {
  if (count_ == 0) return 0;
  if (!(p > 0)) return min_;  // rank 1 is the minimum itself (hdr_value_at_percentile agrees)
  p = std::min(p, 100.0);
  auto rank = static_cast<std::uint64_t>(std::ceil(p / 100.0 * static_cast<double>(count_)));
  rank = std::clamp<std::uint64_t>(rank, 1, count_);
  std::uint64_t seen = 0;
  for (std::size_t b = 0; b < buckets_.size(); ++b) {
    seen += buckets_[b];
    if (seen >= rank) return std::clamp(highest_in_bucket(b), min_, max_);
  }
  return max_;
}

}  // namespace nodelab::metrics
