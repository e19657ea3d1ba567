// PeakSeries (labs/streams/peak_series.hpp): what the flow's timeline rows record.

#include <doctest/doctest.h>

#include <chrono>
#include <utility>
#include <vector>

#include "streams/peak_series.hpp"

using namespace nodelab;
using namespace std::chrono_literals;

namespace {

struct Recorded {
  std::vector<std::pair<double, double>> points;  // {ms, value}
  streams::PeakSeries series{1ms, [this](runtime::Nanos t, double v) {
                               points.emplace_back(
                                   std::chrono::duration<double, std::milli>(t).count(), v);
                             }};
};

runtime::Nanos us(std::int64_t n) {
  return std::chrono::microseconds(n);
}

}  // namespace

TEST_CASE("streams.peak_series_keeps_a_peak_that_falls_within_the_interval") {
  // A socket's writableLength: up to 16 KiB for a write and back to 0 within 100 µs, over and
  // over. A sample every millisecond, taken between two writes, would read 0 every time.
  Recorded r;
  for (std::int64_t ms = 0; ms < 5; ++ms) {
    r.series.update(us(ms * 1000 + 400), 16384);
    r.series.update(us(ms * 1000 + 500), 0);
  }
  r.series.flush();
  REQUIRE(r.points.size() == 5);
  for (std::size_t i = 0; i < r.points.size(); ++i) {
    CHECK(r.points[i].first == static_cast<double>(i));
    CHECK(r.points[i].second == 16384);
  }
}

TEST_CASE("streams.peak_series_holds_the_value_through_a_quiet_stretch") {
  Recorded r;
  r.series.update(us(100), 0);
  r.series.update(us(200), 16384);  // a write waits for the kernel...
  r.series.update(us(40'200), 0);   // ...40 ms, then completes
  r.series.update(us(45'300), 7);
  r.series.flush();
  const std::vector<std::pair<double, double>> want = {
      {0, 16384},   // the first millisecond's peak
      {1, 16384},   // held, with no change, until...
      {40, 16384},  // ...the millisecond it fell in: its peak is still the wait's
      {41, 0},      // then 0 until the next change
      {45, 7},
  };
  CHECK(r.points == want);
}

TEST_CASE("streams.peak_series_flush_records_the_open_interval_once_and_again_if_it_grows") {
  Recorded r;
  r.series.flush();  // nothing yet
  CHECK(r.points.empty());
  r.series.update(us(10), 3);
  r.series.flush();
  r.series.flush();
  REQUIRE(r.points.size() == 1);
  CHECK(r.points[0] == std::pair<double, double>{0, 3});
  // A change in the same interval after a flush records it again with its whole maximum.
  r.series.update(us(20), 1);
  r.series.flush();
  REQUIRE(r.points.size() == 2);
  CHECK(r.points[1] == std::pair<double, double>{0, 3});
  r.series.update(us(30), 9);
  r.series.flush();
  REQUIRE(r.points.size() == 3);
  CHECK(r.points[2] == std::pair<double, double>{0, 9});
}
