// metrics::Histogram: the log-linear bucketing (HdrHistogram-like, 1/256 relative precision)
// and the exact statistics kept beside it.

#include "metrics/histogram.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

using nodelab::metrics::Histogram;

namespace {

// Values worth probing: every small value, each power of two and its neighbours, and a
// spread of large values up to the top of the range.
std::vector<std::uint64_t> probe_values() {
  std::vector<std::uint64_t> v;
  for (std::uint64_t i = 0; i < 2048; ++i)
    v.push_back(i);
  for (unsigned k = 9; k < 64; ++k) {
    const std::uint64_t p = std::uint64_t{1} << k;
    for (std::uint64_t d :
         {p - 1, p, p + 1, p + p / 3, p + p / 2, p + (p >> 8), p + (p >> 8) - 1}) {
      v.push_back(d);
    }
  }
  v.push_back(std::numeric_limits<std::uint64_t>::max());
  v.push_back(std::numeric_limits<std::uint64_t>::max() - 1);
  return v;
}

}  // namespace

TEST_CASE("histogram.small_values_have_their_own_bucket") {
  // Below 2 * 256 every value is its own bucket, so small counts are exact.
  for (std::uint64_t v = 0; v < 512; ++v) {
    CHECK(Histogram::bucket_of(v) == v);
    CHECK(Histogram::highest_in_bucket(v) == v);
  }
}

TEST_CASE("histogram.bucket_round_trip") {
  for (const std::uint64_t v : probe_values()) {
    CAPTURE(v);
    const std::size_t b = Histogram::bucket_of(v);
    const std::uint64_t hi = Histogram::highest_in_bucket(b);
    // A value lies in its bucket: at most the bucket's highest value ...
    CHECK(hi >= v);
    // ... and the bucket of that highest value is the same bucket.
    CHECK(Histogram::bucket_of(hi) == b);
    // The next value starts the next bucket (no gaps, no overlaps between buckets).
    if (hi != std::numeric_limits<std::uint64_t>::max()) {
      CHECK(Histogram::bucket_of(hi + 1) == b + 1);
    }
    // 256 sub-buckets per power of two: a bucket spans less than 1/256 of its values.
    if (v > 0) {
      CHECK(static_cast<double>(hi - v) / static_cast<double>(v) <= 1.0 / 256.0);
    }
  }
}

TEST_CASE("histogram.bucket_of_is_monotonic") {
  std::uint64_t prev_v = 0;
  std::size_t prev_b = Histogram::bucket_of(0);
  for (std::uint64_t v = 1; v < 200'000; ++v) {
    const std::size_t b = Histogram::bucket_of(v);
    CHECK_MESSAGE(b >= prev_b, "bucket_of(" << v << ") < bucket_of(" << prev_v << ")");
    // Consecutive values never skip a bucket.
    CHECK(b - prev_b <= 1);
    prev_b = b;
    prev_v = v;
  }
  // highest_in_bucket is strictly increasing across buckets.
  for (std::size_t b = 1; b < Histogram::bucket_of(std::uint64_t{1} << 62); ++b) {
    REQUIRE(Histogram::highest_in_bucket(b) > Histogram::highest_in_bucket(b - 1));
  }
}

TEST_CASE("histogram.empty_histogram_reports_zero") {
  Histogram h;
  CHECK(h.empty());
  CHECK(h.count() == 0);
  CHECK(h.min() == 0);
  CHECK(h.max() == 0);
  CHECK(h.mean() == 0.0);
  CHECK(h.stddev() == 0.0);
  CHECK(h.percentile(0) == 0);
  CHECK(h.percentile(50) == 0);
  CHECK(h.percentile(100) == 0);
}

TEST_CASE("histogram.exact_count_min_max_mean_stddev") {
  Histogram h;
  for (std::uint64_t v : {2, 4, 4, 4, 5, 5, 7, 9})
    h.record(v);
  CHECK_FALSE(h.empty());
  CHECK(h.count() == 8);
  CHECK(h.min() == 2);
  CHECK(h.max() == 9);
  // The textbook data set: mean 5, population standard deviation exactly 2 (the same
  // definition as hdr_stddev, which Node's histogram.stddev uses).
  CHECK(h.mean() == doctest::Approx(5.0).epsilon(1e-12));
  CHECK(h.stddev() == doctest::Approx(2.0).epsilon(1e-12));
}

TEST_CASE("histogram.statistics_are_exact_for_large_values") {
  // Nanosecond samples far above the exact-bucket range (10 s +- 1 us): the statistics are
  // kept from the raw values, not from the 0.4%-wide buckets.
  Histogram h;
  const std::uint64_t base = 10'000'000'000ULL;
  h.record(base - 1000);
  h.record(base + 1000);
  CHECK(h.min() == base - 1000);
  CHECK(h.max() == base + 1000);
  CHECK(h.mean() == doctest::Approx(1e10).epsilon(1e-15));
  CHECK(h.stddev() == doctest::Approx(1000.0).epsilon(1e-4));
}

// Regression: stddev() used to be sqrt(sum_sq/n - mean^2), whose two terms cancel
// catastrophically for large values with a small spread (x^2 ~ 1e20 needs 67 bits; long
// double has 64): two samples 10 s +- 1 ns reported a stddev of 0 instead of 1.
TEST_CASE("histogram.stddev_survives_large_values_with_a_tiny_spread") {
  Histogram h;
  const std::uint64_t base = 10'000'000'000ULL;
  h.record(base + 1);
  h.record(base + 3);
  CHECK(h.stddev() == doctest::Approx(1.0).epsilon(1e-6));
}

TEST_CASE("histogram.single_sample_percentiles_are_exact") {
  Histogram h;
  h.record(123'456'789);
  // Every percentile is clamped to [min, max], so one sample is reported exactly even though
  // its bucket spans ~0.4%.
  CHECK(h.percentile(0) == 123'456'789);
  CHECK(h.percentile(50) == 123'456'789);
  CHECK(h.percentile(99.9) == 123'456'789);
  CHECK(h.percentile(100) == 123'456'789);
  CHECK(h.stddev() == 0.0);
}

TEST_CASE("histogram.percentile_nearest_rank_on_1_to_100000") {
  Histogram h;
  constexpr std::uint64_t n = 100'000;
  for (std::uint64_t v = 1; v <= n; ++v)
    h.record(v);
  CHECK(h.count() == n);
  CHECK(h.min() == 1);
  CHECK(h.max() == n);
  // Mean (n+1)/2 and population stddev sqrt((n^2-1)/12), exactly.
  CHECK(h.mean() == doctest::Approx(50'000.5).epsilon(1e-12));
  CHECK(h.stddev() == doctest::Approx(28'867.5134580379).epsilon(1e-9));

  for (const double p : {1.0, 10.0, 25.0, 50.0, 75.0, 90.0, 99.0, 99.9, 99.99}) {
    CAPTURE(p);
    // Nearest rank: the value of rank ceil(p/100 * n); here value == rank.
    const auto exact = static_cast<std::uint64_t>(std::ceil(p / 100.0 * static_cast<double>(n)));
    const std::uint64_t got = h.percentile(p);
    // The reported value is the top of the bucket holding that sample: never below it, and
    // within the bucket width (< 1/256 = 0.39%) above it.
    CHECK(got >= exact);
    CHECK(static_cast<double>(got - exact) / static_cast<double>(exact) < 0.004);
  }
  // Small ranks fall in the exact buckets (< 512).
  CHECK(h.percentile(0.1) == 100);
  CHECK(h.percentile(0.5) == 500);
}

TEST_CASE("histogram.p100_clamps_to_max") {
  Histogram h;
  for (std::uint64_t v : {1000, 5000, 777'777})
    h.record(v);
  // 777777 sits in a bucket whose top is higher ...
  REQUIRE(Histogram::highest_in_bucket(Histogram::bucket_of(777'777)) > 777'777);
  // ... but p100 (rank n) is clamped to the exact max, and p > 100 counts as 100.
  CHECK(h.percentile(100) == 777'777);
  CHECK(h.percentile(250) == 777'777);
}

TEST_CASE("histogram.p0_is_the_minimum_in_the_exact_range") {
  Histogram h;
  for (std::uint64_t v : {3, 7, 300})
    h.record(v);
  // Rank 1 is the smallest sample; below 512 buckets are exact, so p0 == min, and p < 0
  // counts as 0.
  CHECK(h.percentile(0) == 3);
  CHECK(h.percentile(-5) == 3);
  CHECK(h.percentile(100) == 300);
}

// Regression: percentile(0) used to return the *top* of the minimum's bucket, a value above
// min() that was never recorded (1001 for a minimum of 1000). Nearest rank 1 is the minimum
// itself, and HdrHistogram's hdr_value_at_percentile special-cases p == 0 the same way.
TEST_CASE("histogram.p0_clamps_to_min") {
  Histogram h;
  for (std::uint64_t v : {1000, 5000, 777'777})
    h.record(v);
  CHECK(h.percentile(0) == h.min());
  CHECK(h.percentile(-5) == h.min());
}

TEST_CASE("histogram.reset_forgets_everything") {
  Histogram h;
  for (std::uint64_t v = 1; v <= 1000; ++v)
    h.record(v * 1000);
  h.reset();
  CHECK(h.empty());
  CHECK(h.max() == 0);
  CHECK(h.percentile(99) == 0);
  // A fresh sample after reset is the new min and max (min is not stuck at the old one).
  h.record(42);
  CHECK(h.min() == 42);
  CHECK(h.max() == 42);
  CHECK(h.mean() == 42.0);
}

TEST_CASE("histogram.zero_is_a_valid_sample") {
  Histogram h;
  h.record(0);
  h.record(10);
  CHECK(h.min() == 0);
  CHECK(h.max() == 10);
  CHECK(h.percentile(50) == 0);
  CHECK(h.percentile(51) == 10);
}
