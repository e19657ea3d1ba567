#pragma once
// The run as a timeline: the one model behind --trace (report/json.cpp) and --html
// (report/html.cpp).
//
// - Lanes: one per place a callback can run, in drawing order: the phase lanes from
//   runtime/phase.hpp's NODELAB_PHASE_MAP (main, nextTick, microtask, then libuv's phases in
//   uv_run order; idle and prepare only when a callback ran there), then one lane per
//   threadpool thread and one per worker_thread, from the work spans. The trace numbers them
//   (its tids) 1.. for phases, 101.. for threadpool threads, 201.. for workers.
// - Steps: the bars and the steps of the page's slider. Up to kDetailLimit callbacks, one per
//   callback; above, the callbacks of one lane and one label within a time bucket are one
//   bar "xN". Each knows what it drained (nextTick and microtask callbacks after a macrotask)
//   and the queue depths right after it.
// - Queue depths over time, derived from the recording: a callback counts as waiting from the
//   end of the callback that scheduled it to its own start (a setInterval counts once, from
//   the end of its previous repetition), so only callbacks that ran are counted (a cleared
//   timer is not). The threadpool queue is from the pool's own timestamps: tasks submitted
//   and not yet picked up by a thread.
// - Long series (queues, lab counters) are reduced to a min/max envelope per time bucket.

#include <array>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/phase.hpp"
#include "runtime/recorder.hpp"
#include "script/scenario.hpp"

namespace nodelab::report::timeline {

using runtime::CallbackId;
using runtime::Nanos;
using runtime::Phase;

// Up to this many callbacks, every callback is a bar and a step of the slider.
inline constexpr std::size_t kDetailLimit = 20'000;
// Aggregated bars at most (the bucket width doubles until they fit).
inline constexpr std::size_t kMaxGroups = 30'000;
// Time buckets across the run for aggregated bars, long series and iteration markers.
inline constexpr std::size_t kTimeBuckets = 2'000;

// Thread lanes' colours (the phase lanes' are NODELAB_PHASE_MAP's).
inline constexpr std::string_view kThreadpoolColor = "#3f7f9f";
inline constexpr std::string_view kWorkerColor = "#7a5c2e";

// Milliseconds to 0.1 us: enough for a 5 us callback, and short in a file.
inline double round_ms(Nanos t) {
  return std::round(runtime::to_ms(t) * 1e4) / 1e4;
}

enum class LaneKind : std::uint8_t { phase, threadpool, worker };

struct Lane {
  std::string name;  // "timers", "threadpool #1", "worker #2"
  LaneKind kind = LaneKind::phase;
  std::string_view color;
  Phase phase = Phase::main;  // phase lanes
  std::uint32_t thread = 0;   // thread lanes: 1..
  int tid = 0;                // --trace's thread id
};

class Lanes {
 public:
  // `count_internal`: whether the runtime's internal callbacks (fs request steps) make an
  // if_used lane appear; --trace shows them, the page leaves them out.
  Lanes(const runtime::Recorder& rec, bool count_internal);

  const std::vector<Lane>& all() const { return lanes_; }
  std::size_t size() const { return lanes_.size(); }
  const Lane& operator[](std::size_t i) const { return lanes_[i]; }
  // The lane of a phase (0 for an if_used phase nothing ran in).
  std::uint32_t of(Phase p) const { return phase_lane_[static_cast<std::size_t>(p)]; }
  std::uint32_t of(const runtime::WorkSpan& s) const;

 private:
  std::vector<Lane> lanes_;
  std::array<std::uint32_t, runtime::kPhaseNames.size()> phase_lane_{};
  std::uint32_t first_thread_lane_ = 0;
  std::uint32_t first_worker_lane_ = 0;
};

// The queues a callback waits in before it runs, by the phase that runs it.
inline constexpr std::size_t kQueues = 6;
struct QueueInfo {
  std::string_view name;
  Phase phase;  // its colour
  std::string_view help;
};
extern const std::array<QueueInfo, kQueues> kQueueInfo;
std::optional<std::size_t> queue_of(Phase p);

// A value over time, as the points where it changes (a step function).
class Series {
 public:
  void add(Nanos t, double v);
  bool empty() const { return v_.empty(); }
  double max() const;
  // {t, v}: the value from each t on. Past 2 x kTimeBuckets points, one entry per time bucket
  // with the lowest and highest value the bucket saw (lo, hi; "env": true) and its last (v).
  nlohmann::json to_json(Nanos end) const;

 private:
  std::vector<Nanos> t_;
  std::vector<double> v_;
};

// One bar of the timeline and one step of the slider: a callback, or (aggregated) the
// callbacks of one lane and one label within one time bucket.
struct Step {
  CallbackId first = 0;
  CallbackId last = 0;
  std::uint32_t count = 0;
  std::uint32_t lane = 0;
  std::uint32_t label = 0;
  std::uint32_t iteration = 0;
  Nanos t0{0};
  Nanos t1{0};
  Nanos busy{0};
  CallbackId parent_cb = runtime::kNoCallback;
  CallbackId drained_by_cb = runtime::kNoCallback;
  double late_ms = -1;
  std::uint32_t drain_n = 0;
  Nanos drain_end{0};
  std::array<std::int32_t, kQueues> queues_after{};
};

// A threadpool or worker task (aggregated: a thread's tasks within one time bucket).
struct SpanBar {
  std::uint32_t lane = 0;
  std::uint32_t label = 0;
  std::uint32_t count = 0;
  Nanos queued{0};
  Nanos t0{0};
  Nanos t1{0};
  Nanos max_wait{0};
};

struct NamedSeries {
  std::string name;
  Series series;
};

class Timeline {
 public:
  // `s` may be null (labels are then the callback kinds).
  Timeline(const runtime::Recorder& rec, const script::Scenario* s);

  const Lanes& lanes() const { return lanes_; }
  // The last timestamp recorded (at least 1 us).
  Nanos end() const { return end_; }
  const std::vector<std::string>& labels() const { return labels_; }
  // In time order.
  const std::vector<Step>& steps() const { return steps_; }
  // The bar holding callback `id` (an internal callback: the one that scheduled it), or -1.
  std::int64_t step_at(CallbackId id) const;
  std::size_t internal() const { return internal_; }
  bool aggregated() const { return aggregated_; }
  std::size_t buckets() const { return buckets_; }
  std::int64_t bucket_width(std::size_t buckets) const;

  const std::array<Series, kQueues>& queues() const { return queues_; }
  const Series& pool_queue() const { return pool_; }
  // The lab's counters, in the order they first appear.
  const std::vector<NamedSeries>& counters() const { return counters_; }

  const std::vector<SpanBar>& span_bars() const { return span_bars_; }
  bool spans_aggregated() const { return spans_aggregated_; }

  // The first callback of each loop iteration (thinned to one per time bucket when the run
  // has more than kDetailLimit callbacks): iteration numbers and start times.
  const std::vector<std::uint32_t>& iteration_numbers() const { return it_n_; }
  const std::vector<Nanos>& iteration_starts() const { return it_t_; }

 private:
  void find_end();
  std::uint32_t label_of(const runtime::CallbackRecord& c);
  std::uint32_t label_of(std::string text);
  void add_to(Step& st, const runtime::CallbackRecord& c) const;
  void build_steps();
  void derive_queues();
  void build_spans();
  void collect_counters();
  void find_iterations();

  const runtime::Recorder& rec_;
  const script::Scenario* s_;
  Lanes lanes_;
  Nanos end_{0};
  std::vector<std::string> labels_;
  std::unordered_map<std::uint64_t, std::uint32_t> label_index_;
  std::vector<Step> steps_;
  std::vector<std::int64_t> step_of_;  // callback id -> step (-1: internal)
  std::size_t internal_ = 0;
  bool aggregated_ = false;
  std::size_t buckets_ = kTimeBuckets;
  std::array<Series, kQueues> queues_;
  Series pool_;
  std::vector<NamedSeries> counters_;
  std::vector<SpanBar> span_bars_;
  bool spans_aggregated_ = false;
  std::vector<std::uint32_t> it_n_;
  std::vector<Nanos> it_t_;
};

}  // namespace nodelab::report::timeline
