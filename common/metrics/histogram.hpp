#pragma once
// A log-linear percentile histogram in the spirit of HdrHistogram (which Node's
// perf_hooks histograms use): values are bucketed with a relative precision of 1/256
// (~0.4%), so memory stays small however many samples arrive, while count, min, max,
// mean and stddev are kept exactly.

#include <cstdint>
#include <optional>
#include <vector>

namespace nodelab::metrics {

class Histogram {
 public:
  void record(std::uint64_t value);
  void reset();

  std::uint64_t count() const { return count_; }
  bool empty() const { return count_ == 0; }
  std::uint64_t min() const { return count_ ? min_ : 0; }
  std::uint64_t max() const { return max_; }
  double mean() const;
  double stddev() const;
  // Nearest-rank percentile (p in [0, 100]): the highest value equivalent to the bucket
  // that holds the sample of that rank, clamped to [min, max]. 0 when empty.
  std::uint64_t percentile(double p) const;

  static std::size_t bucket_of(std::uint64_t value);
  static std::uint64_t highest_in_bucket(std::size_t bucket);

 private:
  std::vector<std::uint64_t> buckets_;
  std::uint64_t count_ = 0;
  std::uint64_t min_ = 0;
  std::uint64_t max_ = 0;
  double mean_ = 0;  // Welford's running mean and sum of squared deviations: no catastrophic
  double m2_ = 0;    // cancellation for large values with a small spread
};

}  // namespace nodelab::metrics
