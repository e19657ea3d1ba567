#pragma once

// A quantity for the timeline (--html, --trace) that changes far more often than a graph can
// show: every change is fed in, and what is recorded is the largest value of each fixed
// interval, stamped where the interval begins, so a graph of it shows every peak the metrics
// see. Sampling the value at chosen instants instead misses whatever rises and falls between
// two of them (a socket's writableLength that is 16 KiB only while a write waits for the
// kernel, 0 whenever the producer looks).
//
//   update(t, v)  the value is v from time t on (t never decreases)
//   flush()       record the interval still open (at the end of a run, or for a report)
//
// Recorded points: one per interval that saw a change (its maximum) and, after a quiet
// stretch of intervals, one at the start of the stretch with the value held through it; so at
// most two points per change and two per interval.

#include <algorithm>
#include <cstdint>
#include <functional>

#include "runtime/clock.hpp"

namespace nodelab::streams {

class PeakSeries {
 public:
  using Record = std::function<void(runtime::Nanos t, double v)>;

  PeakSeries(runtime::Nanos interval, Record record)
      : width_(std::max<std::int64_t>(1, interval.count())), record_(std::move(record)) {}

  void update(runtime::Nanos t, double v) {
    const std::int64_t k = t.count() / width_;
    if (!started_) {
      started_ = open_ = true;
      bucket_ = k;
      max_ = last_ = v;
      return;
    }
    if (k <= bucket_) {
      // After a flush the interval is recorded again, with the maximum of all of it.
      max_ = std::max(max_, v);
      open_ = true;
      last_ = v;
      return;
    }
    if (open_) record_(at(bucket_), max_);
    // The value `last_` held from the end of the last changed interval until now.
    if (k > bucket_ + 1) record_(at(bucket_ + 1), last_);
    bucket_ = k;
    max_ = std::max(last_, v);  // the interval began at `last_`
    last_ = v;
    open_ = true;
  }

  void flush() {
    if (!open_) return;
    record_(at(bucket_), max_);
    open_ = false;
  }

 private:
  runtime::Nanos at(std::int64_t bucket) const { return runtime::Nanos(bucket * width_); }

  std::int64_t width_;
  Record record_;
  bool started_ = false, open_ = false;
  std::int64_t bucket_ = 0;
  double max_ = 0, last_ = 0;
};

}  // namespace nodelab::streams
