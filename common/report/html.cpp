// --html FILE: the run as one self-contained page, for a workshop screen or a CI artifact
// opened offline. Nothing is fetched: no external script, font or image, and a
// Content-Security-Policy of default-src 'none' makes sure nothing could be.
//
// The file has three parts:
//   1. Static HTML written here, readable without JavaScript: the header, the verdict
//      (outcome, diagnosis, expectations), the legend, the metrics table (format_metric),
//      the model answer with its placeholders filled (fill_placeholders), and a <noscript>
//      copy of the first logs.
//   2. One JSON object in <script type="application/json" id="nodelab-data">: lanes, steps
//      (the callbacks), queue depths, threadpool spans, counters, logs, and the same metrics,
//      verdict and answer for tools. Every '<', '>' and '&' in it is written \u003c, \u003e,
//      \u0026, so no text from a scenario (a log saying "</script>") can end the element.
//   3. One inline script, vanilla JS, that draws the timeline on a <canvas> and runs the
//      step slider. It sets window.nodelabErrors (every script error, unhandled rejection
//      and Content-Security-Policy violation lands there and in <body data-errors>), and
//      when the first drawing is done <body data-lanes> (each lane's name, colour, page
//      rectangle and bars drawn) and <body data-rendered="1">. Those markers are what
//      tests/report/html_in_chromium.sh reads from a real browser.
//
//    [<] ======o============ [>]  step 6 of 11    axis: step order | time    fit + -
//    step 6: iteration 4 · check · setImmediate callback ... queues after it: ...
//               | 0 ms            1 ms            2 ms            3 ms   <- axis (ms or steps)
//               |      1     2   3   4                     6           <- loop iterations
//    main       |#####
//    nextTick   |                     # <-.                            <- drained by the poll
//    microtask  |                      #<-|                               callback: connector
//    timers     |                         |                    #          line, and a dark
//    poll       |                    ##===' (drain tail)                  tail after it
//    check      |                         #
//    close      |                          #
//    threadpool #1 |  ---######                                        <- wait line, then run
//    queues     |  nextTick ..#.., immediates ..##.., timers #####..   <- one row per queue
//    counters   |  listenerCount  ____----~~~~                         <- lab counters
//
// What the page shows, and how it stays honest:
// - Lanes: main, nextTick, microtask, then libuv's phases in uv_run order (timers, pending,
//   poll, check, close; idle and prepare only when used), then one lane per threadpool
//   thread from the work spans. Each callback is a bar from its start to its end, coloured
//   by phase as report/style.cpp colours the terminal. The fs request steps the runtime
//   records for bookkeeping (internal) are left out, as the narration leaves them out.
// - Drains under their parent: nextTick and microtask bars sit in their own lanes; a dark
//   tail after the macrotask that drained them (in its lane, up to the end of the drain)
//   and a thin connector to each drained bar tie them to it.
// - Queue depths after each step are derived from the recording: a callback counts as
//   waiting from the end of the callback that scheduled it to its own start (a setInterval
//   counts once, from the end of its previous repetition). So only callbacks that ran are
//   counted (a cleared timer is not). The threadpool queue is from the pool's own
//   timestamps: tasks submitted and not yet picked up by a thread.
// - Large runs: above kDetailLimit callbacks, callbacks of one lane and one label within a
//   time bucket are drawn as one bar "xN"; the page says so, and the slider steps through
//   those bars. Long series are reduced to a min/max envelope per time bucket. A run of
//   200 000 callbacks makes a page of a few hundred KB that draws in milliseconds.

#include "report/html.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <iterator>
#include <map>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace nodelab::report {

namespace {

using nlohmann::json;
using runtime::CallbackId;
using runtime::CallbackKind;
using runtime::CallbackRecord;
using runtime::Nanos;
using runtime::Phase;

// Up to this many callbacks, every callback is a bar and a step of the slider.
constexpr std::size_t kDetailLimit = 20'000;
// Aggregated bars at most (the bucket width doubles until they fit).
constexpr std::size_t kMaxGroups = 30'000;
// Time buckets across the run for aggregated bars, long series and iteration markers.
constexpr std::size_t kTimeBuckets = 2'000;
constexpr std::size_t kMaxLogs = 5'000;
constexpr std::size_t kNoscriptLogs = 200;
// Small runs open on the step-order axis (see default_axis).
constexpr std::size_t kOrderAxisSteps = 150;

// The lanes in drawing order; colours follow report/style.cpp's terminal palette (bold,
// cyan, magenta, yellow, bright red, grey, blue, green, red), darkened for a white page.
struct LaneStyle {
  Phase phase;
  std::string_view color;
};
constexpr LaneStyle kPhaseLanes[] = {
    {Phase::main, "#6b5b95"},    {Phase::next_tick, "#1b9aaa"}, {Phase::microtask, "#b4479c"},
    {Phase::timers, "#d08c00"},  {Phase::pending, "#e4572e"},   {Phase::idle, "#8a8a8a"},
    {Phase::prepare, "#8a8a8a"}, {Phase::poll, "#2f6fdb"},      {Phase::check, "#2e9e44"},
    {Phase::close, "#c0392b"},
};
constexpr std::string_view kThreadpoolColor = "#3f7f9f";
constexpr std::string_view kWorkerColor = "#7a5c2e";
constexpr std::string_view kCounterColors[] = {"#7a4fbf", "#c2185b", "#00897b",
                                               "#f57c00", "#5d4037", "#1565c0"};

std::string_view lane_color(Phase p) {
  for (const auto& l : kPhaseLanes) {
    if (l.phase == p) return l.color;
  }
  return "#8a8a8a";
}

// The queue a callback waited in before it ran, by the phase that ran it.
constexpr std::size_t kQueues = 6;
struct QueueStyle {
  std::string_view name;
  Phase phase;  // its colour
  std::string_view help;
};
constexpr std::array<QueueStyle, kQueues> kQueueStyles = {{
    {"nextTick queue", Phase::next_tick, "process.nextTick callbacks queued, not yet run"},
    {"microtask queue", Phase::microtask,
     "promise reactions, await continuations and queueMicrotask callbacks queued"},
    {"immediates", Phase::check, "setImmediate callbacks waiting for a check phase"},
    {"timers", Phase::timers, "timers armed and not yet fired"},
    {"I/O in flight", Phase::poll,
     "I/O whose callback is still to come: fs, threadpool completions, sockets"},
    {"close callbacks", Phase::close, "close callbacks waiting for the close phase"},
}};

std::optional<std::size_t> queue_of(Phase p) {
  switch (p) {
    case Phase::next_tick:
      return 0;
    case Phase::microtask:
      return 1;
    case Phase::check:
      return 2;
    case Phase::timers:
      return 3;
    case Phase::pending:
    case Phase::poll:
      return 4;
    case Phase::close:
      return 5;
    case Phase::main:
    case Phase::idle:
    case Phase::prepare:
      return std::nullopt;
  }
  return std::nullopt;
}

// Milliseconds to 0.1 us: enough for a 5 us callback, and short in the file.
double ms(Nanos t) {
  return std::round(runtime::to_ms(t) * 1e4) / 1e4;
}

std::string thousands(std::uint64_t n) {
  std::string s = std::to_string(n);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) {
    s.insert(static_cast<std::size_t>(i), ",");
  }
  return s;
}

std::string escape_html(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char ch : text) {
    switch (ch) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += ch;
    }
  }
  return out;
}

// JSON safe inside a <script> element: no '<' at all, so neither "</script" nor "<!--" can
// appear; '>' and '&' too, for good measure. Invalid UTF-8 in a log becomes U+FFFD.
std::string json_for_script(const json& j) {
  const std::string raw = j.dump(-1, ' ', false, json::error_handler_t::replace);
  std::string out;
  out.reserve(raw.size() + raw.size() / 64);
  for (const char ch : raw) {
    switch (ch) {
      case '<':
        out += "\\u003c";
        break;
      case '>':
        out += "\\u003e";
        break;
      case '&':
        out += "\\u0026";
        break;
      default:
        out += ch;
    }
  }
  return out;
}

int site_line(const script::Scenario* s, std::uint32_t site) {
  return s != nullptr && site > 0 && site < s->sites.size() && s->sites[site] ? s->sites[site]->line
                                                                              : 0;
}

// A value over time, as the points where it changes (a step function). Long series are
// reduced to the lowest and highest point of each time bucket, in time order.
class Series {
 public:
  void add(Nanos t, double v) {
    if (!v_.empty() && v == v_.back()) return;
    t_.push_back(t);
    v_.push_back(v);
  }
  bool empty() const { return v_.empty(); }
  double max() const { return v_.empty() ? 0 : *std::max_element(v_.begin(), v_.end()); }

  // {t, v}: the value from each t on. Past 2 x kTimeBuckets points, one entry per time bucket
  // with the lowest and highest value the bucket saw (lo, hi; "env": true) and its last (v).
  json to_json(Nanos end) const {
    std::vector<double> t;
    std::vector<double> v;
    if (t_.size() <= 2 * kTimeBuckets) {
      for (std::size_t i = 0; i < t_.size(); ++i) {
        t.push_back(ms(t_[i]));
        v.push_back(v_[i]);
      }
      return json{{"t", t}, {"v", v}};
    }
    std::vector<double> lo;
    std::vector<double> hi;
    const auto width = std::max<std::int64_t>(1, end.count() / std::int64_t{kTimeBuckets} + 1);
    double carry = v_.front();
    for (std::size_t i = 0; i < t_.size();) {
      const std::int64_t bucket = t_[i].count() / width;
      double low = i == 0 ? v_[0] : carry;
      double high = low;
      std::size_t j = i;
      for (; j < t_.size() && t_[j].count() / width == bucket; ++j) {
        low = std::min(low, v_[j]);
        high = std::max(high, v_[j]);
      }
      t.push_back(ms(t_[i]));
      lo.push_back(low);
      hi.push_back(high);
      v.push_back(v_[j - 1]);
      carry = v_[j - 1];
      i = j;
    }
    return json{{"t", t}, {"v", v}, {"lo", lo}, {"hi", hi}, {"env", true}};
  }

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

struct SpanBar {
  std::uint32_t lane = 0;
  std::uint32_t label = 0;
  std::uint32_t count = 0;
  Nanos queued{0};
  Nanos t0{0};
  Nanos t1{0};
  Nanos max_wait{0};
};

class PageBuilder {
 public:
  explicit PageBuilder(const RunReport& r) : r_(r), s_(r.scenario) {
    static const runtime::Recorder kEmpty({0, 0});
    rec_ = r.recorder != nullptr ? r.recorder : &kEmpty;
  }

  std::string build() {
    collect_lanes();
    find_end();
    build_steps();
    derive_queues();
    build_spans();
    json data = data_json();
    std::string out;
    out.reserve(1 << 16);
    write_head(out);
    write_body(out, data);
    return out;
  }

 private:
  // ---- the recording, reshaped ----

  void collect_lanes() {
    bool used[std::size(kPhaseLanes)] = {};
    for (const auto& c : rec_->callbacks()) {
      if (c.internal) continue;
      for (std::size_t i = 0; i < std::size(kPhaseLanes); ++i) {
        if (kPhaseLanes[i].phase == c.phase) used[i] = true;
      }
    }
    for (std::size_t i = 0; i < std::size(kPhaseLanes); ++i) {
      const Phase p = kPhaseLanes[i].phase;
      if ((p == Phase::idle || p == Phase::prepare) && !used[i]) continue;
      phase_lane_[static_cast<std::size_t>(p)] = static_cast<std::uint32_t>(lanes_.size());
      lanes_.push_back({std::string(runtime::phase_name(p)), "phase", kPhaseLanes[i].color});
    }
    std::uint32_t threads = 0, workers = 0;
    for (const auto& span : rec_->work_spans())
      (span.worker ? workers : threads) = std::max(span.worker ? workers : threads, span.thread);
    first_thread_lane_ = static_cast<std::uint32_t>(lanes_.size());
    for (std::uint32_t t = 1; t <= threads; ++t) {
      lanes_.push_back({fmt::format("threadpool #{}", t), "thread", kThreadpoolColor});
    }
    first_worker_lane_ = static_cast<std::uint32_t>(lanes_.size());
    for (std::uint32_t t = 1; t <= workers; ++t) {
      lanes_.push_back({fmt::format("worker #{}", t), "thread", kWorkerColor});
    }
  }

  void find_end() {
    Nanos end{0};
    for (const auto& c : rec_->callbacks())
      end = std::max({end, c.start, c.end});
    for (const auto& w : rec_->work_spans())
      end = std::max(end, w.finished);
    for (const auto& c : rec_->counters())
      end = std::max(end, c.t);
    for (const auto& l : rec_->logs())
      end = std::max(end, l.t);
    end_ = std::max(end, Nanos(1000));
  }

  std::uint32_t label_of(const CallbackRecord& c) {
    const std::uint64_t key = (static_cast<std::uint64_t>(c.kind) << 32) | c.site;
    auto it = label_index_.find(key);
    if (it != label_index_.end()) return it->second;
    const auto index = static_cast<std::uint32_t>(labels_.size());
    labels_.push_back(s_ != nullptr ? describe_callback(c, *s_)
                                    : std::string(runtime::kind_name(c.kind)));
    label_index_.emplace(key, index);
    return index;
  }

  std::uint32_t label_of(std::string text) {
    for (std::size_t i = 0; i < labels_.size(); ++i) {
      if (labels_[i] == text) return static_cast<std::uint32_t>(i);
    }
    labels_.push_back(std::move(text));
    return static_cast<std::uint32_t>(labels_.size() - 1);
  }

  void add_to(Step& st, const CallbackRecord& c) {
    if (st.count == 0) {
      st.first = c.id;
      st.t0 = c.start;
      st.iteration = c.iteration;
      st.parent_cb = c.parent;
      st.drained_by_cb = c.drained_by;
    }
    ++st.count;
    st.last = c.id;
    st.t0 = std::min(st.t0, c.start);
    st.t1 = std::max(st.t1, c.end);
    st.busy += c.end - c.start;
    if (c.due.count() >= 0) st.late_ms = std::max(st.late_ms, std::max(0.0, ms(c.start - c.due)));
  }

  void build_steps() {
    const auto& cbs = rec_->callbacks();
    step_of_.assign(cbs.size(), -1);
    std::size_t visible = 0;
    for (const auto& c : cbs) {
      if (c.internal) {
        ++internal_;
      } else {
        ++visible;
      }
    }
    if (visible <= kDetailLimit) {
      for (const auto& c : cbs) {
        if (c.internal) continue;
        Step st;
        st.lane = phase_lane_[static_cast<std::size_t>(c.phase)];
        st.label = label_of(c);
        add_to(st, c);
        step_of_[c.id] = static_cast<std::int64_t>(steps_.size());
        steps_.push_back(st);
      }
    } else {
      aggregated_ = true;
      // Group by lane, label and time bucket; halve the buckets until the bars fit.
      for (buckets_ = kTimeBuckets;; buckets_ /= 2) {
        steps_.clear();
        std::unordered_map<std::uint64_t, std::size_t> groups;
        const std::int64_t width = bucket_width(buckets_);
        for (const auto& c : cbs) {
          if (c.internal) continue;
          const std::uint32_t lane = phase_lane_[static_cast<std::size_t>(c.phase)];
          const std::uint32_t label = label_of(c);
          const auto bucket = static_cast<std::uint64_t>(std::max<std::int64_t>(
              0, std::min<std::int64_t>(static_cast<std::int64_t>(buckets_) - 1,
                                        c.start.count() / width)));
          const std::uint64_t key =
              (bucket << 32) | (static_cast<std::uint64_t>(lane) << 24) | (label & 0xffffffu);
          auto [it, inserted] = groups.emplace(key, steps_.size());
          if (inserted) {
            Step st;
            st.lane = lane;
            st.label = label;
            steps_.push_back(st);
          }
          add_to(steps_[it->second], c);
          step_of_[c.id] = static_cast<std::int64_t>(it->second);
        }
        if (steps_.size() <= kMaxGroups || buckets_ <= 16) break;
      }
    }
    // The slider walks the bars in time order (already so when each is one callback).
    std::vector<std::size_t> order(steps_.size());
    for (std::size_t i = 0; i < order.size(); ++i)
      order[i] = i;
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return steps_[a].t0 < steps_[b].t0; });
    std::vector<std::int64_t> new_index(steps_.size());
    std::vector<Step> sorted;
    sorted.reserve(steps_.size());
    for (std::size_t i = 0; i < order.size(); ++i) {
      new_index[order[i]] = static_cast<std::int64_t>(i);
      sorted.push_back(steps_[order[i]]);
    }
    steps_ = std::move(sorted);
    for (auto& s : step_of_) {
      if (s >= 0) s = new_index[static_cast<std::size_t>(s)];
    }
    // Drains: how many callbacks each bar's macrotasks drained, and until when.
    for (const auto& c : cbs) {
      if (c.internal || c.drained_by == runtime::kNoCallback) continue;
      const std::int64_t parent = step_at(c.drained_by);
      if (parent < 0) continue;
      Step& st = steps_[static_cast<std::size_t>(parent)];
      ++st.drain_n;
      st.drain_end = std::max(st.drain_end, c.end);
    }
  }

  std::int64_t bucket_width(std::size_t buckets) const {
    return std::max<std::int64_t>(1, end_.count() / static_cast<std::int64_t>(buckets) + 1);
  }

  // The bar holding callback `id`; an internal callback stands for the one that scheduled it.
  std::int64_t step_at(CallbackId id) const {
    for (int hops = 0; hops < 8 && id < step_of_.size(); ++hops) {
      if (step_of_[id] >= 0) return step_of_[id];
      id = rec_->callbacks()[id].parent;
    }
    return -1;
  }

  // Queue depths, from each callback's parent and the order callbacks ran in (see the
  // header comment). arrive[k][q]: callbacks of queue q that callback k scheduled.
  void derive_queues() {
    const auto& cbs = rec_->callbacks();
    std::vector<std::array<std::int32_t, kQueues>> arrive(cbs.size());
    std::vector<std::int8_t> leaves(cbs.size(), -1);
    std::map<std::pair<CallbackId, std::uint64_t>, CallbackId> last_repetition;
    for (const auto& c : cbs) {
      if (c.internal || c.parent == runtime::kNoCallback || c.parent >= c.id) continue;
      const auto q = queue_of(c.phase);
      if (!q) continue;
      CallbackId from = c.parent;
      if (c.kind == CallbackKind::interval) {
        const auto key = std::make_pair(c.parent, (static_cast<std::uint64_t>(c.site) << 8) |
                                                      static_cast<std::uint64_t>(c.kind));
        auto it = last_repetition.find(key);
        if (it != last_repetition.end()) {
          from = it->second;
          it->second = c.id;
        } else {
          last_repetition.emplace(key, c.id);
        }
      }
      ++arrive[from][*q];
      leaves[c.id] = static_cast<std::int8_t>(*q);
    }
    std::array<std::int32_t, kQueues> depth{};
    std::array<Series, kQueues> series;
    for (auto& s : series)
      s.add(Nanos(0), 0);
    for (const auto& c : cbs) {
      if (leaves[c.id] >= 0) {
        const auto q = static_cast<std::size_t>(leaves[c.id]);
        --depth[q];
        series[q].add(c.start, depth[q]);
      }
      for (std::size_t q = 0; q < kQueues; ++q) {
        if (arrive[c.id][q] == 0) continue;
        depth[q] += arrive[c.id][q];
        series[q].add(c.end, depth[q]);
      }
      if (!c.internal && step_of_[c.id] >= 0) {
        Step& st = steps_[static_cast<std::size_t>(step_of_[c.id])];
        if (st.last == c.id) st.queues_after = depth;
      }
    }
    for (std::size_t q = 0; q < kQueues; ++q) {
      queue_series_.push_back(series[q].to_json(end_));
      queue_max_[q] = series[q].max();
    }
    // The threadpool's own queue: submitted, not yet picked up by a thread.
    std::vector<std::pair<Nanos, int>> events;
    for (const auto& w : rec_->work_spans()) {
      if (w.worker) continue;
      events.emplace_back(w.queued, +1);
      events.emplace_back(w.started, -1);
    }
    std::sort(events.begin(), events.end());
    Series pool;
    pool.add(Nanos(0), 0);
    int waiting = 0;
    for (const auto& [t, d] : events) {
      waiting += d;
      pool.add(t, waiting);
    }
    pool_max_ = pool.max();
    pool_series_ = pool.to_json(end_);
  }

  void build_spans() {
    const auto& spans = rec_->work_spans();
    spans_aggregated_ = spans.size() > kDetailLimit;
    std::unordered_map<std::uint64_t, std::size_t> groups;
    const std::int64_t width = bucket_width(kTimeBuckets);
    for (const auto& w : spans) {
      const std::uint32_t lane =
          (w.worker ? first_worker_lane_ : first_thread_lane_) + (w.thread > 0 ? w.thread - 1 : 0);
      const std::uint32_t label = label_of(fmt::format(
          "{} task (line {})", w.worker ? "worker" : "threadpool", site_line(s_, w.site)));
      std::size_t index = span_bars_.size();
      if (spans_aggregated_) {
        const auto bucket = static_cast<std::uint64_t>(std::max<std::int64_t>(
            0, std::min<std::int64_t>(static_cast<std::int64_t>(kTimeBuckets) - 1,
                                      w.started.count() / width)));
        const std::uint64_t key = (bucket << 32) | lane;
        index = groups.emplace(key, span_bars_.size()).first->second;
      }
      if (index == span_bars_.size()) {
        span_bars_.push_back({lane, label, 0, w.queued, w.started, w.finished, Nanos(0)});
      }
      SpanBar& b = span_bars_[index];
      ++b.count;
      b.queued = std::min(b.queued, w.queued);
      b.t0 = std::min(b.t0, w.started);
      b.t1 = std::max(b.t1, w.finished);
      b.max_wait = std::max(b.max_wait, w.started - w.queued);
    }
  }

  // ---- the JSON the script draws from ----

  json data_json() {
    json d;
    d["format"] = 1;
    d["lab"] = r_.lab_id;
    d["scenario"] = {{"name", s_ ? s_->name : ""},
                     {"title", s_ ? s_->title : ""},
                     {"file", s_ ? s_->file : ""},
                     {"variant", s_ ? s_->variant : ""}};
    d["recording"] = {{"callbacks", rec_->callback_count()},
                      {"callbacks_kept", rec_->callbacks().size()},
                      {"internal", internal_},
                      {"logs", rec_->log_count()},
                      {"logs_kept", rec_->logs().size()},
                      {"logs_shown", std::min(rec_->logs().size(), kMaxLogs)},
                      {"work_spans", rec_->work_spans().size()},
                      {"counter_samples", rec_->counters().size()}};
    d["aggregated"] = aggregated_;
    if (aggregated_) {
      d["aggregation"] = {{"threshold", kDetailLimit},
                          {"buckets", buckets_},
                          {"bucket_ms", ms(Nanos(bucket_width(buckets_)))},
                          {"note", aggregation_note()}};
    }
    d["defaultAxis"] = default_axis();
    d["end_ms"] = ms(end_);

    json lanes = json::array();
    for (const auto& l : lanes_)
      lanes.push_back({{"name", l.name}, {"kind", l.kind}, {"color", l.color}});
    d["lanes"] = lanes;

    const std::size_t n = steps_.size();
    std::vector<std::uint32_t> id(n), count(n), lane(n), label(n), iter(n), drain_n(n);
    std::vector<double> t0(n), t1(n), busy(n), late(n), drain_end(n);
    std::vector<std::int64_t> parent(n), drained_by(n);
    std::array<std::vector<std::int32_t>, kQueues> after;
    for (auto& a : after)
      a.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
      const Step& st = steps_[i];
      id[i] = st.first;
      count[i] = st.count;
      lane[i] = st.lane;
      label[i] = st.label;
      iter[i] = st.iteration;
      t0[i] = ms(st.t0);
      t1[i] = ms(st.t1);
      busy[i] = ms(st.busy);
      late[i] = st.late_ms < 0 ? -1 : std::round(st.late_ms * 1e4) / 1e4;
      parent[i] = st.parent_cb == runtime::kNoCallback ? -1 : step_at(st.parent_cb);
      drained_by[i] = st.drained_by_cb == runtime::kNoCallback ? -1 : step_at(st.drained_by_cb);
      drain_n[i] = st.drain_n;
      drain_end[i] = st.drain_n > 0 ? ms(st.drain_end) : 0;
      for (std::size_t q = 0; q < kQueues; ++q)
        after[q][i] = st.queues_after[q];
    }
    d["steps"] = {{"id", id},
                  {"n", count},
                  {"lane", lane},
                  {"label", label},
                  {"iter", iter},
                  {"t0", t0},
                  {"t1", t1},
                  {"busy", busy},
                  {"late", late},
                  {"parent", parent},
                  {"drainedBy", drained_by},
                  {"drainN", drain_n},
                  {"drainEnd", drain_end}};
    json queue_names = json::array();
    json after_json = json::array();
    for (std::size_t q = 0; q < kQueues; ++q) {
      queue_names.push_back(kQueueStyles[q].name);
      after_json.push_back(after[q]);
    }
    d["queues"] = {{"names", queue_names}, {"after", after_json}};

    json series = json::array();
    for (std::size_t q = 0; q < kQueues; ++q) {
      json s = queue_series_[q];
      s["name"] = kQueueStyles[q].name;
      s["group"] = "queue";
      s["color"] = lane_color(kQueueStyles[q].phase);
      s["help"] = kQueueStyles[q].help;
      s["max"] = queue_max_[q];
      s["queue"] = q;
      series.push_back(std::move(s));
    }
    {
      json s = pool_series_;
      s["name"] = "threadpool queue";
      s["group"] = "queue";
      s["color"] = kThreadpoolColor;
      s["help"] = "tasks submitted to libuv's threadpool, not yet picked up by a thread";
      s["max"] = pool_max_;
      series.push_back(std::move(s));
    }
    // Lab counters, in the order they first appear.
    std::vector<std::string> names;
    std::unordered_map<std::string, Series> counters;
    for (const auto& c : rec_->counters()) {
      auto [it, inserted] = counters.try_emplace(c.name);
      if (inserted) names.push_back(c.name);
      it->second.add(c.t, c.value);
    }
    for (std::size_t i = 0; i < names.size(); ++i) {
      const Series& cs = counters.at(names[i]);
      json s = cs.to_json(end_);
      s["name"] = names[i];
      s["group"] = "counter";
      s["color"] = kCounterColors[i % std::size(kCounterColors)];
      s["help"] = "sampled by the lab";
      s["max"] = cs.max();
      series.push_back(std::move(s));
    }
    d["series"] = series;

    const std::size_t np = span_bars_.size();
    std::vector<std::uint32_t> sp_lane(np), sp_label(np), sp_n(np);
    std::vector<double> sp_queued(np), sp_t0(np), sp_t1(np), sp_wait(np);
    for (std::size_t i = 0; i < np; ++i) {
      const SpanBar& b = span_bars_[i];
      sp_lane[i] = b.lane;
      sp_label[i] = b.label;
      sp_n[i] = b.count;
      sp_queued[i] = ms(b.queued);
      sp_t0[i] = ms(b.t0);
      sp_t1[i] = ms(b.t1);
      sp_wait[i] = ms(b.max_wait);
    }
    d["spans"] = {{"lane", sp_lane}, {"label", sp_label}, {"n", sp_n},      {"queued", sp_queued},
                  {"t0", sp_t0},     {"t1", sp_t1},       {"wait", sp_wait}};
    d["spansAggregated"] = spans_aggregated_;

    // The first callback of each loop iteration (thinned to one per time bucket).
    std::vector<std::uint32_t> it_n;
    std::vector<double> it_t;
    {
      std::uint32_t iteration = 0;
      const std::int64_t width = bucket_width(kTimeBuckets);
      std::int64_t last_bucket = -1;
      const bool thin = rec_->callbacks().size() > kDetailLimit;
      for (const auto& c : rec_->callbacks()) {
        if (c.internal || c.iteration == iteration) continue;
        iteration = c.iteration;
        const std::int64_t bucket = c.start.count() / width;
        if (thin && bucket == last_bucket) continue;
        last_bucket = bucket;
        it_n.push_back(c.iteration);
        it_t.push_back(ms(c.start));
      }
    }
    d["iterations"] = {{"n", it_n}, {"t", it_t}};

    d["labels"] = labels_;

    json logs = json::array();
    const auto& rec_logs = rec_->logs();
    for (std::size_t i = 0; i < rec_logs.size() && i < kMaxLogs; ++i) {
      const auto& l = rec_logs[i];
      logs.push_back(json::array({step_at(l.callback), ms(l.t), l.text}));
    }
    d["logs"] = logs;

    json metrics = json::array();
    for (const auto& e : r_.metrics.entries()) {
      const metrics::MetricInfo* info = metric_info(e.path);
      json m = {{"path", e.path},
                {"text", format_metric(r_, e.path)},
                {"unit", info ? std::string(info->unit) : ""},
                {"help", info ? std::string(info->help) : ""}};
      m["value"] = e.value ? json(*e.value) : json(nullptr);
      metrics.push_back(std::move(m));
    }
    d["metrics"] = metrics;

    json diagnosis = json::array();
    for (const auto& f : r_.diagnosis) {
      diagnosis.push_back(
          {{"verdict", f.verdict}, {"evidence", f.evidence}, {"mitigation", f.mitigation}});
    }
    d["diagnosis"] = diagnosis;
    json results = json::array();
    bool all_ok = true;
    for (const auto& e : r_.expectations) {
      results.push_back({{"what", e.what}, {"ok", e.ok}, {"detail", e.detail}});
      all_ok = all_ok && e.ok;
    }
    d["expect"] = {{"checked", r_.expectations_checked},
                   {"ok", r_.expectations_checked && all_ok},
                   {"results", results}};
    d["outcome"] = {{"summary", describe_outcome(r_)}, {"exit_code", r_.exit_code}};
    json answer = json::array();
    if (s_ != nullptr) {
      for (const auto& part : s_->answer)
        answer.push_back({{"key", part.key}, {"text", fill_placeholders(r_, part.text)}});
    }
    d["answer"] = answer;
    return d;
  }

  // A small run opens on the step-order axis, where each bar is wide enough to read. Not when
  // a threadpool task waited a tenth of the run: that wait is the story, and only the time
  // axis shows its length.
  std::string_view default_axis() const {
    if (steps_.size() > kOrderAxisSteps) return "time";
    for (const auto& w : rec_->work_spans()) {
      if ((w.started - w.queued) * 10 >= end_) return "time";
    }
    return "order";
  }

  const metrics::MetricInfo* metric_info(std::string_view path) const {
    for (const auto& m : r_.metric_table) {
      if (m.path == path) return &m;
    }
    return nullptr;
  }

  std::string aggregation_note() const {
    return fmt::format(
        "Aggregated: {} callbacks are more than {} to draw one by one, so the callbacks of one "
        "lane and one label within each {:.3g} ms are drawn as one bar marked \xC3\x97N ({} "
        "bars); the slider steps through those bars, and the queue and counter graphs show "
        "each bucket's lowest and highest value.",
        thousands(rec_->callbacks().size() - internal_), thousands(kDetailLimit),
        ms(Nanos(bucket_width(buckets_))), thousands(steps_.size()));
  }

  // ---- the page ----

  std::string title() const {
    std::string t = "lab-" + r_.lab_id;
    if (s_ != nullptr) {
      t += " \xC2\xB7 " + s_->name;
      if (!s_->variant.empty()) t += " (variant " + s_->variant + ")";
    }
    return t;
  }

  void write_head(std::string& out) const {
    out += "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
    out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
    out +=
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; script-src "
        "'unsafe-inline'; style-src 'unsafe-inline'\">\n";
    out += "<meta name=\"generator\" content=\"nodelab --html\">\n";
    fmt::format_to(std::back_inserter(out), "<title>{}</title>\n", escape_html(title()));
    out += kErrorScript;
    out += "<style>";
    out += kCss;
    out += "</style>\n</head>\n";
  }

  void write_body(std::string& out, const json& data) const {
    out += "<body>\n<header>\n";
    fmt::format_to(std::back_inserter(out), "<h1>{}</h1>\n", escape_html(title()));
    if (s_ != nullptr && !s_->title.empty())
      fmt::format_to(std::back_inserter(out), "<p class=\"title\">{}</p>\n",
                     escape_html(s_->title));
    if (s_ != nullptr)
      fmt::format_to(std::back_inserter(out), "<p class=\"file\">{}</p>\n", escape_html(s_->file));
    write_verdict(out);
    out += "</header>\n<div id=\"errors\" hidden></div>\n";
    write_notices(out);
    out +=
        "<div id=\"controls\"><button id=\"prev\" title=\"previous step (\xE2\x86\x90)\">"
        "\xE2\x97\x80</button><input id=\"slider\" type=\"range\" min=\"0\" max=\"0\" value=\"0\" "
        "aria-label=\"step\"><button id=\"next\" title=\"next step (\xE2\x86\x92)\">"
        "\xE2\x96\xB6</button><span id=\"stepno\"></span><span class=\"sep\"></span>axis "
        "<button id=\"axis-order\" class=\"toggle\">step order</button><button "
        "id=\"axis-time\" class=\"toggle\">time (ms)</button><span class=\"sep\"></span>zoom "
        "<button id=\"zoom-fit\">fit</button><button id=\"zoom-in\">+</button><button "
        "id=\"zoom-out\">\xE2\x88\x92</button><span class=\"hint\">keys \xE2\x86\x90 "
        "\xE2\x86\x92 Home End; wheel zooms, drag pans, click a bar</span></div>\n";
    out += "<div id=\"stepinfo\">(the timeline needs JavaScript)</div>\n";
    out +=
        "<div id=\"wrap\"><canvas id=\"timeline\" height=\"0\"></canvas>"
        "<div id=\"tip\" hidden></div></div>\n";
    write_legend(out);
    out += "<div class=\"cols\">\n<section id=\"logs-sec\"><h2>logs</h2><div id=\"logs\"></div>\n";
    write_noscript_logs(out);
    out += "</section>\n";
    write_metrics(out);
    out += "</div>\n";
    write_diagnosis(out);
    write_expectations(out);
    write_outcome(out);
    write_answer(out);
    out += "<script type=\"application/json\" id=\"nodelab-data\">";
    out += json_for_script(data);
    out += "</script>\n<script>";
    out += kScript;
    out += "</script>\n</body>\n</html>\n";
  }

  void write_verdict(std::string& out) const {
    out += "<div class=\"verdict\">";
    const bool ok = r_.exit_code == 0;
    fmt::format_to(std::back_inserter(out), "<span class=\"badge {}\">{} (exit {})</span>",
                   ok ? "good" : "bad", escape_html(describe_outcome(r_)), r_.exit_code);
    if (r_.diagnosis.empty()) {
      out += "<span class=\"badge good\">\xE2\x9C\x93 the loop kept up</span>";
    }
    for (const auto& f : r_.diagnosis) {
      fmt::format_to(std::back_inserter(out), "<span class=\"badge bad\">\xE2\x9C\x97 {}</span>",
                     escape_html(f.verdict));
    }
    if (r_.expectations_checked && !r_.expectations.empty()) {
      const auto passed = std::count_if(r_.expectations.begin(), r_.expectations.end(),
                                        [](const script::ExpectResult& e) { return e.ok; });
      const bool all = static_cast<std::size_t>(passed) == r_.expectations.size();
      fmt::format_to(std::back_inserter(out), "<span class=\"badge {}\">expect {}/{}</span>",
                     all ? "good" : "bad", passed, r_.expectations.size());
    }
    out += "</div>\n";
  }

  void write_notices(std::string& out) const {
    out += "<div id=\"notices\">";
    if (aggregated_) {
      fmt::format_to(std::back_inserter(out), "<p class=\"notice\" id=\"aggregated\">{}</p>",
                     escape_html(aggregation_note()));
    }
    if (spans_aggregated_) {
      fmt::format_to(std::back_inserter(out),
                     "<p class=\"notice\">Threadpool: {} tasks, drawn per thread and time bucket "
                     "(\xC3\x97N).</p>",
                     thousands(rec_->work_spans().size()));
    }
    if (rec_->callbacks_truncated()) {
      fmt::format_to(std::back_inserter(out),
                     "<p class=\"notice\">The recording stopped after {} callbacks (of {}); the "
                     "metrics count them all.</p>",
                     thousands(rec_->callbacks().size()), thousands(rec_->callback_count()));
    }
    if (rec_->logs().size() > kMaxLogs || rec_->logs_truncated()) {
      fmt::format_to(std::back_inserter(out),
                     "<p class=\"notice\">Logs: the first {} of {} lines are shown.</p>",
                     thousands(std::min(rec_->logs().size(), kMaxLogs)),
                     thousands(rec_->log_count()));
    }
    if (rec_->callbacks().empty()) {
      out += "<p class=\"notice\">No callbacks were recorded in this run.</p>";
    }
    out += "</div>\n";
  }

  void write_legend(std::string& out) const {
    out += "<section id=\"legend\"><h2>legend</h2><p class=\"swatches\">";
    for (const auto& l : lanes_) {
      if (l.kind == "thread" && l.name != "threadpool #1" && l.name != "worker #1") continue;
      fmt::format_to(std::back_inserter(out), "<span><i style=\"background:{}\"></i>{}</span>",
                     l.color,
                     l.name == "threadpool #1" ? "threadpool threads"
                     : l.name == "worker #1"   ? "worker threads"
                                               : l.name);
    }
    out += "</p><ul>";
    out +=
        "<li><b>Lanes</b>: one per place a callback can run: the main script, Node's nextTick "
        "and microtask queues, libuv's phases in uv_run order, then one per threadpool thread "
        "and one per worker_thread. "
        "A bar spans a callback from its start to its end (at least one pixel wide).</li>";
    out +=
        "<li><b>Drains under their parent</b>: after each macrotask Node drains the nextTick "
        "queue, then the microtasks. Those callbacks are bars in the nextTick and microtask "
        "lanes; the macrotask that drained them has a dark tail in its own lane up to the end "
        "of its drain, and a thin grey line joins it to each drained bar.</li>";
    out +=
        "<li><b>Threadpool</b>: a thin line before a threadpool bar is the time the task waited "
        "in the pool's queue before that thread picked it up.</li>";
    out +=
        "<li><b>Queue depths</b>, after each step: callbacks already scheduled (the callback "
        "that scheduled them has finished) that have not started yet, by the queue they wait in. "
        "They are derived from the recording (each callback's parent and the order callbacks "
        "ran in), so only callbacks that ran are counted: a cleared timer is not. A setInterval "
        "counts as one armed timer between repetitions. The threadpool queue comes from the "
        "pool's own timestamps: tasks submitted and not yet picked up by a thread. Each row has "
        "its own scale; the number at the left is the value at the current step.</li>";
    if (!rec_->counters().empty()) {
      out +=
          "<li><b>Lab counters</b>: values the lab sampled during the run (its own scale per "
          "row).</li>";
    }
    out +=
        "<li><b>Slider</b>: step k selects the k-th callback (its bar outlined, the one that "
        "scheduled it dashed, its log lines highlighted; later lines greyed), and the queues "
        "as they stood right after it.</li>";
    if (internal_ > 0) {
      fmt::format_to(std::back_inserter(out),
                     "<li>{} internal fs request steps (open, stat, read, close on the loop) are "
                     "left out, as in the narration; --trace has them.</li>",
                     thousands(internal_));
    }
    out += "</ul></section>\n";
  }

  void write_noscript_logs(std::string& out) const {
    out += "<noscript><pre class=\"logs\">";
    const auto& logs = rec_->logs();
    for (std::size_t i = 0; i < logs.size() && i < kNoscriptLogs; ++i) {
      const auto* cb = rec_->find(logs[i].callback);
      fmt::format_to(std::back_inserter(out), "{:>10.3f} ms  {:<9}  {}\n",
                     runtime::to_ms(logs[i].t), runtime::phase_name(cb ? cb->phase : Phase::main),
                     escape_html(logs[i].text));
    }
    if (logs.size() > kNoscriptLogs) {
      fmt::format_to(std::back_inserter(out), "... {} more\n",
                     thousands(rec_->log_count() - kNoscriptLogs));
    }
    out += "</pre></noscript>";
  }

  void write_metrics(std::string& out) const {
    out += "<section id=\"metrics\"><h2>metrics</h2><table>";
    out += "<thead><tr><th>metric</th><th>value</th><th>what it is</th></tr></thead><tbody>";
    for (const auto& e : r_.metrics.entries()) {
      const metrics::MetricInfo* info = metric_info(e.path);
      std::string value = format_metric(r_, e.path);
      if (info != nullptr && info->unit == "ms" && value != "n/a") value += " ms";
      fmt::format_to(std::back_inserter(out),
                     "<tr><td class=\"path\">{}</td><td class=\"num\">{}</td><td>{}</td></tr>",
                     escape_html(e.path), escape_html(value),
                     info ? escape_html(info->help) : std::string());
    }
    out += "</tbody></table></section>\n";
  }

  void write_diagnosis(std::string& out) const {
    out += "<section id=\"diagnosis\"><h2>diagnosis</h2>";
    if (r_.diagnosis.empty()) {
      out += "<p class=\"good\">\xE2\x9C\x93 no blocking, no saturated pool: the loop kept up</p>";
    }
    for (const auto& f : r_.diagnosis) {
      fmt::format_to(std::back_inserter(out),
                     "<p><span class=\"bad\">\xE2\x9C\x97 <b>{}</b></span> \xE2\x80\x94 {}<br>"
                     "<span class=\"mitigation\">mitigation: {}</span></p>",
                     escape_html(f.verdict), escape_html(f.evidence), escape_html(f.mitigation));
    }
    out += "</section>\n";
  }

  void write_expectations(std::string& out) const {
    if (!r_.expectations_checked) {
      if (s_ != nullptr && !s_->expect.empty()) {
        out +=
            "<section id=\"expect\"><h2>expect</h2><p class=\"bad\">not checked: the run did "
            "not finish</p></section>\n";
      }
      return;
    }
    if (r_.expectations.empty()) return;
    out += "<section id=\"expect\"><h2>expect</h2><ul class=\"plain\">";
    for (const auto& e : r_.expectations) {
      fmt::format_to(std::back_inserter(out), "<li><span class=\"{}\">{}</span> {}{}</li>",
                     e.ok ? "good" : "bad", e.ok ? "\xE2\x9C\x93" : "\xE2\x9C\x97",
                     escape_html(e.what),
                     e.detail.empty() ? "" : " \xE2\x80\x94 " + escape_html(e.detail));
    }
    out += "</ul></section>\n";
  }

  void write_outcome(std::string& out) const {
    fmt::format_to(std::back_inserter(out),
                   "<section id=\"outcome\"><h2>outcome</h2><p class=\"{}\">{} (exit {})</p>"
                   "</section>\n",
                   r_.exit_code == 0 ? "good" : "bad", escape_html(describe_outcome(r_)),
                   r_.exit_code);
  }

  void write_answer(std::string& out) const {
    if (s_ == nullptr || s_->answer.empty()) return;
    out += "<section id=\"answer\"><h2>model answer</h2><dl>";
    for (const auto& part : s_->answer) {
      fmt::format_to(std::back_inserter(out), "<dt>{}</dt><dd>{}</dd>", escape_html(part.key),
                     escape_html(fill_placeholders(r_, part.text)));
    }
    out += "</dl></section>\n";
  }

  struct Lane {
    std::string name;
    std::string kind;  // "phase" or "thread"
    std::string_view color;
  };

  static const char* const kErrorScript;
  static const char* const kCss;
  static const char* const kScript;

  const RunReport& r_;
  const script::Scenario* s_;
  const runtime::Recorder* rec_ = nullptr;
  std::vector<Lane> lanes_;
  std::array<std::uint32_t, runtime::kPhaseNames.size()> phase_lane_{};
  std::uint32_t first_thread_lane_ = 0;
  std::uint32_t first_worker_lane_ = 0;
  Nanos end_{0};
  std::vector<std::string> labels_;
  std::unordered_map<std::uint64_t, std::uint32_t> label_index_;
  std::vector<Step> steps_;
  std::vector<std::int64_t> step_of_;  // callback id -> step (-1: internal)
  std::size_t internal_ = 0;
  bool aggregated_ = false;
  std::size_t buckets_ = kTimeBuckets;
  std::vector<json> queue_series_;
  std::array<double, kQueues> queue_max_{};
  json pool_series_;
  double pool_max_ = 0;
  std::vector<SpanBar> span_bars_;
  bool spans_aggregated_ = false;
};

// Runs first, in <head>: every later script error is recorded, shown and counted.
const char* const PageBuilder::kErrorScript = R"JS(<script>
window.nodelabErrors = [];
window.nodelabReport = function (msg) {
  window.nodelabErrors.push(String(msg));
  if (!document.body) return;
  document.body.dataset.errors = String(window.nodelabErrors.length);
  var box = document.getElementById('errors');
  if (box) { box.hidden = false; box.textContent = 'script errors: ' + window.nodelabErrors.join(' | '); }
};
window.onerror = function (msg, src, line, col) { window.nodelabReport(msg + ' (line ' + line + ':' + col + ')'); };
window.addEventListener('unhandledrejection', function (e) { window.nodelabReport('unhandled rejection: ' + e.reason); });
document.addEventListener('securitypolicyviolation', function (e) { window.nodelabReport('blocked by the page\'s Content-Security-Policy: ' + e.violatedDirective + ' ' + (e.blockedURI || 'inline')); });
</script>
)JS";

const char* const PageBuilder::kCss = R"CSS(
:root { --fg: #1d1d1f; --dim: #6e6e73; --line: #d9d9de; --good: #1e7e34; --bad: #b3261e; }
* { box-sizing: border-box; }
body { margin: 0; padding: 10px 16px 40px; font: 13px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: #fff; }
h1 { font-size: 17px; margin: 0; }
h2 { font-size: 14px; margin: 14px 0 6px; }
header .title { margin: 2px 0; }
header .file { margin: 0; color: var(--dim); font: 11px ui-monospace, monospace; }
.verdict { margin: 4px 0 2px; }
.badge { display: inline-block; margin: 2px 6px 2px 0; padding: 1px 8px; border-radius: 10px; font-size: 12px; border: 1px solid; }
.badge.good, .good { color: var(--good); }
.badge.bad, .bad { color: var(--bad); }
.notice { margin: 4px 0; padding: 4px 8px; background: #fff6d6; border: 1px solid #e6d089; border-radius: 4px; }
#errors { margin: 4px 0; padding: 4px 8px; background: #fde7e7; border: 1px solid var(--bad); color: var(--bad); }
#controls { display: flex; align-items: center; gap: 6px; margin: 6px 0 2px; flex-wrap: wrap; }
#controls button { font: inherit; padding: 1px 8px; border: 1px solid #bbb; background: #f6f6f8; border-radius: 4px; cursor: pointer; }
#controls button.on { background: #1d1d1f; color: #fff; border-color: #1d1d1f; }
#slider { flex: 1 1 320px; min-width: 200px; }
#stepno { font-variant-numeric: tabular-nums; min-width: 130px; }
.sep { width: 10px; }
.hint { color: var(--dim); font-size: 11px; }
#stepinfo { min-height: 56px; padding: 4px 8px; background: #f6f6f8; border-radius: 4px; font-size: 12px; }
#stepinfo .lane { font-weight: 600; }
#stepinfo .q { margin-right: 10px; white-space: nowrap; }
#stepinfo .log { font-family: ui-monospace, monospace; }
#wrap { position: relative; margin-top: 6px; }
#timeline { display: block; width: 100%; cursor: crosshair; }
#tip { position: absolute; pointer-events: none; background: rgba(29,29,31,.92); color: #fff; padding: 4px 8px; border-radius: 4px; font-size: 12px; white-space: pre; z-index: 2; }
#legend ul { margin: 4px 0; padding-left: 18px; color: #333; }
.swatches span { margin-right: 12px; white-space: nowrap; }
.swatches i { display: inline-block; width: 12px; height: 12px; margin-right: 4px; vertical-align: -2px; border-radius: 2px; }
.cols { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 16px; }
#logs { max-height: 360px; overflow: auto; border: 1px solid var(--line); border-radius: 4px; font: 12px/1.5 ui-monospace, monospace; }
#logs div { padding: 0 6px; white-space: pre-wrap; cursor: pointer; }
#logs div.future { color: #b0b0b5; }
#logs div.cur { background: #fff1b8; }
#logs .t { color: var(--dim); }
#logs .ph { display: inline-block; min-width: 72px; }
pre.logs { font-size: 12px; }
table { border-collapse: collapse; width: 100%; }
td, th { text-align: left; padding: 2px 6px; border-bottom: 1px solid #eee; vertical-align: top; }
td.path { font-family: ui-monospace, monospace; font-size: 12px; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.mitigation { color: #333; }
ul.plain { list-style: none; padding-left: 4px; margin: 4px 0; }
dl { margin: 4px 0; }
dt { font-weight: 600; margin-top: 6px; }
dd { margin-left: 16px; max-width: 110ch; }
@media (max-width: 900px) { .cols { grid-template-columns: 1fr; } }
)CSS";

// The timeline. Times in the data are ms; "domain" x is ms on the time axis and the step
// position (step k spans k+0.1 .. k+0.9) on the step-order axis.
const char* const PageBuilder::kScript = R"JS(
(function () {
  'use strict';
  var D = JSON.parse(document.getElementById('nodelab-data').textContent);
  var S = D.steps, NS = S.id.length, L = D.lanes, NL = L.length;
  var P = D.spans, NP = P.lane.length;
  var body = document.body;
  var cv = document.getElementById('timeline'), cx = cv.getContext('2d');
  var wrap = document.getElementById('wrap'), tip = document.getElementById('tip');
  var slider = document.getElementById('slider'), info = document.getElementById('stepinfo');
  var GUT = 168, RIGHT = 12, AXIS_H = 20, ITER_H = 16, LANE_H = 24, HEAD_H = 20, ROW_H = 30;
  var cur = 0, axis = D.defaultAxis, view = null, W = 0, H = 0, dpr = 1;
  var queueRows = D.series.filter(function (s) { return s.group === 'queue' && s.max > 0; });
  var emptyQueues = D.series.filter(function (s) { return s.group === 'queue' && !(s.max > 0); });
  var counterRows = D.series.filter(function (s) { return s.group === 'counter'; });
  var laneTop = AXIS_H + ITER_H;
  var queueTop = laneTop + NL * LANE_H + 6;
  var counterTop = queueTop + HEAD_H + Math.max(1, queueRows.length) * ROW_H;
  H = counterTop + (counterRows.length ? HEAD_H + counterRows.length * ROW_H : 0) + 6;
  var barsDrawn = [];

  // ---- indexes ----
  var laneSteps = [], laneSpans = [], drainKids = {}, logsOf = {};
  for (var i = 0; i < NL; i++) { laneSteps.push([]); laneSpans.push([]); }
  for (var k = 0; k < NS; k++) {
    laneSteps[S.lane[k]].push(k);
    var p = S.drainedBy[k];
    if (p >= 0) (drainKids[p] = drainKids[p] || []).push(k);
  }
  for (var j = 0; j < NP; j++) laneSpans[P.lane[j]].push(j);
  laneSpans.forEach(function (a) { a.sort(function (x, y) { return P.t0[x] - P.t0[y]; }); });
  D.logs.forEach(function (l, idx) { if (l[0] >= 0) (logsOf[l[0]] = logsOf[l[0]] || []).push(idx); });

  // Step-order axis: time -> position, piecewise linear through each step's start and end.
  var kt = [], kp = [];
  (function () {
    function push(t, p) { if (kt.length && t < kt[kt.length - 1]) return; kt.push(t); kp.push(p); }
    for (var k = 0; k < NS; k++) { push(S.t0[k], k + 0.1); push(S.t1[k], k + 0.9); }
  })();
  function pos(t) {
    if (axis === 'time') return t;
    var n = kt.length;
    if (!n) return 0;
    if (t <= kt[0]) return kt[0] > 0 ? kp[0] * Math.max(0, t) / kt[0] : kp[0];
    if (t >= kt[n - 1]) return Math.min(Math.max(NS, 1), kp[n - 1] + 0.1);
    var lo = 0, hi = n - 1;
    while (hi - lo > 1) { var m = (lo + hi) >> 1; if (kt[m] <= t) lo = m; else hi = m; }
    return kp[lo] + (kp[hi] - kp[lo]) * (t - kt[lo]) / (kt[hi] - kt[lo]);
  }
  function sx0(k) { return axis === 'time' ? S.t0[k] : k + 0.1; }
  function sx1(k) { return axis === 'time' ? S.t1[k] : k + 0.9; }
  function extent() {
    if (axis === 'time') { var e = Math.max(D.end_ms, 0.001); return [-e * 0.005, e * 1.01]; }
    return [0, Math.max(NS, 1)];
  }
  function PW() { return Math.max(10, W - GUT - RIGHT); }
  function px(x) { return GUT + (x - view[0]) / (view[1] - view[0]) * PW(); }
  function dom(X) { return view[0] + (X - GUT) / PW() * (view[1] - view[0]); }

  // ---- formatting ----
  function esc(s) { return String(s).replace(/[&<>"']/g, function (c) { return {'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'}[c]; }); }
  function fms(v) {
    var a = Math.abs(v);
    return a >= 100 ? v.toFixed(1) : a >= 1 ? v.toFixed(2) : a >= 0.01 ? v.toFixed(3) : v.toFixed(4);
  }
  function fnum(v, name) {
    if (/bytes/i.test(name || '')) {
      var u = ['B', 'KiB', 'MiB', 'GiB'], i = 0;
      while (Math.abs(v) >= 1024 && i < 3) { v /= 1024; i++; }
      return (i ? v.toFixed(1) : String(Math.round(v))) + ' ' + u[i];
    }
    return Math.round(v) === v ? v.toLocaleString('en-US') : v.toFixed(3);
  }
  function stepName(k) { return 'step ' + (k + 1); }
  function labelOf(k) { return D.labels[S.label[k]]; }
  // On a bar: what the scenario wrote ("nextTick (line 27)"), not the callback kind first.
  function shortLabel(text) { var i = text.indexOf(' \u00b7 '); return i >= 0 ? text.slice(i + 3) : text; }
  function valueAt(s, t) {
    var lo = -1, hi = s.t.length;
    while (hi - lo > 1) { var m = (lo + hi) >> 1; if (s.t[m] <= t) lo = m; else hi = m; }
    return lo < 0 ? 0 : s.v[lo];
  }
  function niceStep(raw) {
    var p = Math.pow(10, Math.floor(Math.log10(raw))), f = raw / p;
    return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * p;
  }

  // ---- drawing ----
  function resize() {
    dpr = window.devicePixelRatio || 1;
    W = Math.max(400, wrap.clientWidth);
    cv.width = Math.round(W * dpr); cv.height = Math.round(H * dpr);
    cv.style.width = W + 'px'; cv.style.height = H + 'px';
  }

  function drawAxis() {
    cx.fillStyle = '#6e6e73'; cx.strokeStyle = '#e4e4e8'; cx.font = '11px system-ui, sans-serif';
    cx.textBaseline = 'middle';
    var bottom = H - 4;
    if (axis === 'time') {
      var span = view[1] - view[0], st = niceStep(span / Math.max(1, PW() / 110));
      var dec = st >= 1 ? 0 : Math.min(6, Math.ceil(-Math.log10(st)));
      for (var t = Math.ceil(view[0] / st) * st; t <= view[1]; t += st) {
        var x = Math.round(px(t)) + 0.5;
        cx.beginPath(); cx.moveTo(x, AXIS_H - 4); cx.lineTo(x, bottom); cx.stroke();
        cx.fillText(t.toFixed(dec) + ' ms', x + 3, AXIS_H / 2);
      }
    } else {
      var st2 = Math.max(1, niceStep((view[1] - view[0]) / Math.max(1, PW() / 130)));
      for (var s = Math.ceil(view[0] / st2) * st2; s < view[1] && s < NS; s += st2) {
        var x2 = Math.round(px(s)) + 0.5;
        cx.beginPath(); cx.moveTo(x2, AXIS_H - 4); cx.lineTo(x2, bottom); cx.stroke();
        cx.fillText('#' + (s + 1) + ' +' + fms(S.t0[s]) + ' ms', x2 + 3, AXIS_H / 2);
      }
    }
    cx.fillStyle = '#1d1d1f'; cx.font = '600 11px system-ui, sans-serif';
    cx.fillText(axis === 'time' ? 'time (ms)' : 'step order', 6, AXIS_H / 2);
    cx.fillStyle = '#6e6e73'; cx.font = '11px system-ui, sans-serif';
    cx.fillText('loop iteration', 6, AXIS_H + ITER_H / 2);
    // Loop iterations: a dashed line where each one's first callback starts.
    // Through the lanes when they are few enough to read, else as ticks in their own row.
    var lastLine = -1e9, lastLabel = -1e9, it = D.iterations, xs = [];
    for (var i = 0; i < it.n.length; i++) {
      var xi = px(pos(it.t[i]) - (axis === 'time' ? 0 : 0.05));
      if (xi >= GUT && xi <= W - RIGHT) xs.push([xi, it.n[i]]);
    }
    var lineBottom = xs.length <= PW() / 12 ? queueTop - 2 : AXIS_H + ITER_H - 2;
    cx.strokeStyle = '#c8c8d0'; cx.setLineDash([3, 3]);
    for (var x_ = 0; x_ < xs.length; x_++) {
      var xi = xs[x_][0];
      if (xi - lastLine >= 3) {
        var xr = Math.round(xi) + 0.5;
        cx.beginPath(); cx.moveTo(xr, AXIS_H + 2); cx.lineTo(xr, lineBottom); cx.stroke();
        lastLine = xi;
      }
      var text = String(xs[x_][1]);
      if (xi - lastLabel >= cx.measureText(text).width + 8) {
        cx.fillText(text, xi + 2, AXIS_H + ITER_H / 2); lastLabel = xi;
      }
    }
    cx.setLineDash([]);
  }

  function drawLanes() {
    for (var i = 0; i < NL; i++) {
      var y = laneTop + i * LANE_H;
      cx.fillStyle = i % 2 ? '#f7f7f9' : '#fcfcfd';
      cx.fillRect(0, y, W, LANE_H);
      cx.fillStyle = L[i].color; cx.fillRect(4, y + 6, 4, LANE_H - 12);
      cx.fillStyle = '#1d1d1f'; cx.font = '600 12px system-ui, sans-serif'; cx.textBaseline = 'middle';
      cx.fillText(L[i].name, 12, y + LANE_H / 2);
    }
  }

  function clipX(x) { return Math.max(GUT, Math.min(W - RIGHT, x)); }

  function drawBars() {
    var v0 = view[0], v1 = view[1];
    barsDrawn = L.map(function () { return 0; });
    cx.save(); cx.beginPath(); cx.rect(GUT, 0, PW(), H); cx.clip();
    cx.font = '11px system-ui, sans-serif'; cx.textBaseline = 'middle';
    // Drain tails, under the bars.
    for (var k = 0; k < NS; k++) {
      if (!S.drainN[k]) continue;
      var a = sx1(k), b = pos(S.drainEnd[k]);
      if (b < v0 || a > v1) continue;
      var y = laneTop + S.lane[k] * LANE_H;
      var x0 = px(a), x1 = Math.max(x0 + 2, px(b));
      cx.fillStyle = 'rgba(29,29,31,0.55)'; cx.fillRect(x0, y + LANE_H - 7, x1 - x0, 3);
    }
    // Connectors from a macrotask to the callbacks it drained, under the bars (a one-pixel
    // bar must stay visible): all of them when few are in view.
    var kidsInView = 0;
    for (var k0 = 0; k0 < NS; k0++) {
      if (S.drainedBy[k0] >= 0 && sx1(k0) >= v0 && sx0(k0) <= v1) kidsInView++;
    }
    cx.strokeStyle = 'rgba(110,110,115,0.7)'; cx.lineWidth = 1;
    function connect(p, c) {
      var xa = px(sx1(p)), ya = laneTop + S.lane[p] * LANE_H + LANE_H - 5;
      var xb = px(sx0(c)), yb = laneTop + S.lane[c] * LANE_H + 4;
      cx.beginPath(); cx.moveTo(xa, ya); cx.lineTo(xb, yb); cx.stroke();
    }
    if (kidsInView <= 400) {
      for (var k3 = 0; k3 < NS; k3++) {
        var p3 = S.drainedBy[k3];
        if (p3 < 0 || sx1(k3) < v0 || sx0(p3) > v1) continue;
        connect(p3, k3);
      }
    }
    for (var k2 = 0; k2 < NS; k2++) {
      var a2 = sx0(k2), b2 = sx1(k2);
      if (b2 < v0 || a2 > v1) continue;
      var lane = S.lane[k2], y2 = laneTop + lane * LANE_H;
      // Whole pixels: a bar narrower than one would be anti-aliased into another colour.
      var X0 = Math.floor(px(a2)), X1 = Math.max(X0 + 1, Math.ceil(px(b2)));
      cx.globalAlpha = S.n[k2] > 1 ? 0.7 : 1;
      cx.fillStyle = L[lane].color; cx.fillRect(X0, y2 + 4, X1 - X0, LANE_H - 12);
      cx.globalAlpha = 1;
      barsDrawn[lane]++;
      var w = Math.min(X1, W - RIGHT) - Math.max(X0, GUT);
      if (w > 30) {
        var text = (S.n[k2] > 1 ? '\u00d7' + S.n[k2].toLocaleString('en-US') + ' ' : '') + shortLabel(labelOf(k2));
        var max = Math.floor((w - 6) / 6);
        if (text.length > max) text = text.slice(0, Math.max(1, max - 1)) + '\u2026';
        cx.fillStyle = '#fff'; cx.fillText(text, Math.max(X0, GUT) + 3, y2 + LANE_H / 2 - 2);
      }
    }
    // Threadpool threads: the wait in the pool's queue, then the run.
    for (var s = 0; s < NP; s++) {
      var q = pos(P.queued[s]), r0 = pos(P.t0[s]), r1 = pos(P.t1[s]);
      if (r1 < v0 || q > v1) continue;
      var ys = laneTop + P.lane[s] * LANE_H;
      var xq = px(q), xs = Math.floor(px(r0)), xe = Math.max(xs + 1, Math.ceil(px(r1)));
      cx.strokeStyle = '#9a9aa2'; cx.beginPath();
      cx.moveTo(xq, ys + LANE_H / 2 - 2); cx.lineTo(xs, ys + LANE_H / 2 - 2);
      cx.moveTo(Math.round(xq) + 0.5, ys + 7); cx.lineTo(Math.round(xq) + 0.5, ys + LANE_H - 11); cx.stroke();
      cx.globalAlpha = P.n[s] > 1 ? 0.7 : 1;
      cx.fillStyle = L[P.lane[s]].color; cx.fillRect(xs, ys + 4, xe - xs, LANE_H - 12);
      cx.globalAlpha = 1;
      barsDrawn[P.lane[s]]++;
      var ws = Math.min(xe, W - RIGHT) - Math.max(xs, GUT);
      if (ws > 30) {
        var st = (P.n[s] > 1 ? '\u00d7' + P.n[s] + ' ' : '') + D.labels[P.label[s]];
        var mx = Math.floor((ws - 6) / 6);
        if (st.length > mx) st = st.slice(0, Math.max(1, mx - 1)) + '\u2026';
        cx.fillStyle = '#fff'; cx.fillText(st, Math.max(xs, GUT) + 3, ys + LANE_H / 2 - 2);
      }
    }
    // The selected step: outlined; the one that scheduled it dashed; its drain joined.
    if (NS) {
      var y3 = laneTop + S.lane[cur] * LANE_H;
      var c0 = px(sx0(cur)), c1 = Math.max(c0 + 1, px(sx1(cur)));
      cx.strokeStyle = '#1d1d1f'; cx.lineWidth = 2;
      cx.strokeRect(c0 - 2, y3 + 2, c1 - c0 + 4, LANE_H - 8);
      var par = S.parent[cur];
      if (par >= 0 && par !== cur) {
        var yp = laneTop + S.lane[par] * LANE_H, p0 = px(sx0(par)), p1 = Math.max(p0 + 1, px(sx1(par)));
        cx.lineWidth = 1.5; cx.setLineDash([4, 3]);
        cx.strokeRect(p0 - 2, yp + 2, p1 - p0 + 4, LANE_H - 8); cx.setLineDash([]);
      }
      cx.lineWidth = 1.5; cx.strokeStyle = '#1d1d1f';
      if (S.drainedBy[cur] >= 0) connect(S.drainedBy[cur], cur);
      (drainKids[cur] || []).forEach(function (c) { connect(cur, c); });
      cx.lineWidth = 1;
    }
    cx.restore();
  }

  function drawRows(rows, top, title, isQueue) {
    cx.fillStyle = '#1d1d1f'; cx.font = '600 12px system-ui, sans-serif'; cx.textBaseline = 'middle';
    cx.fillText(title, 6, top + HEAD_H / 2);
    if (isQueue && !rows.length) {
      cx.fillStyle = '#6e6e73'; cx.font = '11px system-ui, sans-serif';
      cx.fillText('every queue stayed empty', GUT, top + HEAD_H + ROW_H / 2);
      return;
    }
    if (isQueue && emptyQueues.length) {
      cx.fillStyle = '#6e6e73'; cx.font = '11px system-ui, sans-serif';
      cx.fillText('(always empty: ' + emptyQueues.map(function (s) { return s.name; }).join(', ') + ')', GUT, top + HEAD_H / 2);
    }
    var tcur = NS ? S.t1[cur] : 0;
    rows.forEach(function (s, i) {
      var y = top + HEAD_H + i * ROW_H, base = y + ROW_H - 4, h = ROW_H - 8;
      cx.fillStyle = i % 2 ? '#f7f7f9' : '#fcfcfd'; cx.fillRect(0, y, W, ROW_H);
      var now = isQueue && s.queue !== undefined && NS ? D.queues.after[s.queue][cur] : valueAt(s, tcur);
      cx.fillStyle = s.color; cx.fillRect(4, y + 6, 4, ROW_H - 12);
      cx.fillStyle = '#1d1d1f'; cx.font = '12px system-ui, sans-serif';
      cx.fillText(s.name, 12, y + 10);
      cx.fillStyle = '#6e6e73'; cx.font = '11px system-ui, sans-serif';
      cx.fillText('now ' + fnum(now, s.name) + ' \u00b7 max ' + fnum(s.max, s.name), 12, y + 22);
      if (!s.t.length) return;
      var max = s.max > 0 ? s.max : 1;
      cx.save(); cx.beginPath(); cx.rect(GUT, y, PW(), ROW_H); cx.clip();
      if (s.env) {
        // One bucket per entry: light up to its highest value, darker up to its lowest.
        cx.fillStyle = s.color;
        for (var b = 0; b < s.t.length; b++) {
          var e0 = px(pos(s.t[b])), e1 = b + 1 < s.t.length ? px(pos(s.t[b + 1])) : W - RIGHT;
          if (e1 < GUT || e0 > W - RIGHT) continue;
          var ew = Math.max(1, e1 - e0), hh = Math.max(0, s.hi[b]) / max * h, lh = Math.max(0, s.lo[b]) / max * h;
          cx.globalAlpha = 0.35; cx.fillRect(e0, base - hh, ew, hh);
          cx.globalAlpha = 0.8; cx.fillRect(e0, base - lh, ew, Math.max(lh, 1));
        }
        cx.globalAlpha = 1; cx.restore();
        return;
      }
      cx.beginPath(); cx.moveTo(GUT, base);
      var prevY = base, started = false;
      for (var k = 0; k < s.t.length; k++) {
        var x = px(pos(s.t[k])), yv = base - Math.max(0, s.v[k]) / max * h;
        if (x < GUT) { prevY = yv; continue; }
        if (!started) { cx.lineTo(GUT, prevY); started = true; }
        if (x > W - RIGHT) break;
        cx.lineTo(x, prevY); cx.lineTo(x, yv); prevY = yv;
      }
      if (!started) cx.lineTo(GUT, prevY);
      cx.lineTo(W - RIGHT, prevY); cx.lineTo(W - RIGHT, base); cx.closePath();
      cx.globalAlpha = 0.35; cx.fillStyle = s.color; cx.fill(); cx.globalAlpha = 1;
      cx.strokeStyle = s.color; cx.lineWidth = 1.2; cx.stroke(); cx.lineWidth = 1;
      cx.restore();
    });
  }

  function drawCursor() {
    if (!NS) return;
    var x = Math.round(px(sx0(cur))) + 0.5;
    if (x < GUT || x > W - RIGHT) return;
    cx.strokeStyle = 'rgba(29,29,31,0.6)'; cx.setLineDash([2, 2]);
    cx.beginPath(); cx.moveTo(x, AXIS_H); cx.lineTo(x, H - 4); cx.stroke(); cx.setLineDash([]);
  }

  function draw() {
    cx.setTransform(dpr, 0, 0, dpr, 0, 0);
    cx.fillStyle = '#fff'; cx.fillRect(0, 0, W, H);
    drawLanes();
    drawAxis();
    drawBars();
    drawRows(queueRows, queueTop, 'queue depths', true);
    if (counterRows.length) drawRows(counterRows, counterTop, 'lab counters', false);
    drawCursor();
    cx.strokeStyle = '#d9d9de'; cx.beginPath(); cx.moveTo(GUT - 0.5, AXIS_H); cx.lineTo(GUT - 0.5, H); cx.stroke();
  }
  var pending = false;
  function redraw() {
    if (pending) return;
    pending = true;
    window.requestAnimationFrame(function () { pending = false; draw(); });
  }

  // ---- the step panel, the logs ----
  function queueText(k) {
    var out = [];
    D.queues.names.forEach(function (n, q) { out.push('<span class="q">' + esc(n) + ' <b>' + D.queues.after[q][k] + '</b></span>'); });
    var pool = D.series.filter(function (s) { return s.name === 'threadpool queue'; })[0];
    if (pool && pool.max > 0) out.push('<span class="q">threadpool queue <b>' + valueAt(pool, S.t1[k]) + '</b></span>');
    return out.join('');
  }
  function showStep() {
    document.getElementById('stepno').textContent = NS ? stepName(cur) + ' of ' + NS.toLocaleString('en-US') : 'no steps';
    if (!NS) { info.textContent = 'No callbacks were recorded.'; return; }
    var k = cur, lane = L[S.lane[k]], parts = [];
    var head = '<b>' + stepName(k) + '</b> \u00b7 iteration ' + S.iter[k] + ' \u00b7 <span class="lane" style="color:' + lane.color + '">' + esc(lane.name) + '</span> \u00b7 ' + esc(labelOf(k));
    if (S.n[k] > 1) head += ' \u00b7 <b>\u00d7' + S.n[k].toLocaleString('en-US') + '</b> callbacks (#' + S.id[k] + ' on), busy ' + fms(S.busy[k]) + ' ms';
    else head += ' \u00b7 callback #' + S.id[k];
    parts.push('started +' + fms(S.t0[k]) + ' ms, ' + (S.n[k] > 1 ? 'last ended +' + fms(S.t1[k]) + ' ms' : 'ran ' + fms(S.t1[k] - S.t0[k]) + ' ms'));
    if (S.late[k] >= 0) parts.push('<b>' + fms(S.late[k]) + ' ms late</b>');
    if (S.parent[k] >= 0 && S.parent[k] !== k) parts.push('scheduled by ' + stepName(S.parent[k]) + ' (' + esc(labelOf(S.parent[k])) + ')');
    if (S.drainedBy[k] >= 0) parts.push('drained after ' + stepName(S.drainedBy[k]) + ' (' + esc(labelOf(S.drainedBy[k])) + ')');
    if (S.drainN[k]) parts.push('then drained ' + S.drainN[k].toLocaleString('en-US') + ' nextTick/microtask callbacks until +' + fms(S.drainEnd[k]) + ' ms');
    var logs = (logsOf[k] || []).slice(0, 4).map(function (i) { return '<span class="log">&gt; ' + esc(D.logs[i][2]) + '</span>'; });
    if ((logsOf[k] || []).length > 4) logs.push('\u2026');
    info.innerHTML = head + '<br>' + parts.join(' \u00b7 ') + '<br>queues after it: ' + queueText(k) + (logs.length ? '<br>' + logs.join('<br>') : '');
  }
  var logBox = document.getElementById('logs'), logEls = [];
  function buildLogs() {
    var frag = document.createDocumentFragment();
    D.logs.forEach(function (l, idx) {
      var d = document.createElement('div'), st = l[0];
      var lane = st >= 0 ? L[S.lane[st]] : L[0];
      d.innerHTML = '<span class="t">' + ('+' + fms(l[1])).padStart(10) + ' ms</span> <span class="ph" style="color:' + lane.color + '">' + esc(lane.name) + '</span> ' + esc(l[2]);
      d.dataset.step = st;
      d.addEventListener('click', function () { if (st >= 0) setStep(st, true); });
      frag.appendChild(d); logEls.push(d);
    });
    if (!D.logs.length) { var e = document.createElement('div'); e.textContent = '(nothing was logged)'; frag.appendChild(e); }
    logBox.appendChild(frag);
  }
  function showLogs() {
    var first = null;
    for (var i = 0; i < logEls.length; i++) {
      var st = D.logs[i][0], el = logEls[i];
      var cls = st === cur ? 'cur' : st > cur ? 'future' : '';
      if (el.className !== cls) el.className = cls;
      if (st === cur && !first) first = el;
    }
    if (first) {
      var top = first.offsetTop - logBox.offsetTop;
      if (top < logBox.scrollTop || top > logBox.scrollTop + logBox.clientHeight - 20) logBox.scrollTop = Math.max(0, top - 40);
    }
  }

  function setStep(k, follow) {
    if (!NS) return;
    cur = Math.max(0, Math.min(NS - 1, k));
    if (String(slider.value) !== String(cur)) slider.value = cur;
    if (follow) {
      var a = sx0(cur), b = sx1(cur), w = view[1] - view[0];
      if (b < view[0] || a > view[1]) { view = [a - w / 2, a + w / 2]; clampView(); }
    }
    showStep(); showLogs(); redraw();
  }

  // ---- zoom, pan, axis ----
  function clampView() {
    var e = extent(), w = view[1] - view[0], full = e[1] - e[0];
    var minW = axis === 'time' ? Math.max(full * 1e-7, 1e-5) : 2;
    if (w > full) { view = e.slice(); return; }
    if (w < minW) { var c = (view[0] + view[1]) / 2; view = [c - minW / 2, c + minW / 2]; w = minW; }
    if (view[0] < e[0]) view = [e[0], e[0] + w];
    if (view[1] > e[1]) view = [e[1] - w, e[1]];
  }
  function zoom(f, at) {
    var c = at === undefined ? (NS ? (sx0(cur) + sx1(cur)) / 2 : (view[0] + view[1]) / 2) : at;
    view = [c - (c - view[0]) * f, c + (view[1] - c) * f];
    clampView(); redraw();
  }
  function setAxis(a) {
    if (NS && view) {
      // Keep the selected step in view across the switch.
      axis = a; view = extent();
    } else { axis = a; view = extent(); }
    document.getElementById('axis-order').className = 'toggle' + (axis === 'order' ? ' on' : '');
    document.getElementById('axis-time').className = 'toggle' + (axis === 'time' ? ' on' : '');
    redraw();
  }

  function hit(X, Y) {
    var lane = Math.floor((Y - laneTop) / LANE_H);
    if (X < GUT || lane < 0 || lane >= NL) return null;
    var xd = dom(X), tol = 3 * (view[1] - view[0]) / PW();
    function find(list, a, b) {
      var lo = -1, hi = list.length;
      while (hi - lo > 1) { var m = (lo + hi) >> 1; if (a(list[m]) <= xd + tol) lo = m; else hi = m; }
      for (var i = lo; i >= 0 && i > lo - 64; i--) if (b(list[i]) >= xd - tol) return list[i];
      return -1;
    }
    var k = find(laneSteps[lane], sx0, function (k) { return Math.max(sx1(k), sx0(k)); });
    if (k >= 0) return {step: k};
    var s = find(laneSpans[lane], function (s) { return pos(P.t0[s]); }, function (s) { return pos(P.t1[s]); });
    if (s >= 0) return {span: s};
    return null;
  }
  function tipText(h) {
    if (h.step !== undefined) {
      var k = h.step, t = stepName(k) + ': ' + labelOf(k) + '\n' + L[S.lane[k]].name + ' \u00b7 iteration ' + S.iter[k] + ' \u00b7 +' + fms(S.t0[k]) + ' ms';
      if (S.n[k] > 1) t += '\n\u00d7' + S.n[k].toLocaleString('en-US') + ' callbacks until +' + fms(S.t1[k]) + ' ms, busy ' + fms(S.busy[k]) + ' ms';
      else t += ', ran ' + fms(S.t1[k] - S.t0[k]) + ' ms';
      if (S.late[k] >= 0) t += '\n' + fms(S.late[k]) + ' ms late';
      if (S.drainN[k]) t += '\ndrained ' + S.drainN[k].toLocaleString('en-US') + ' callbacks after it';
      return t;
    }
    var s = h.span;
    return (P.n[s] > 1 ? '\u00d7' + P.n[s] + ' ' : '') + D.labels[P.label[s]] + '\n' + L[P.lane[s]].name + ' \u00b7 queued +' + fms(P.queued[s]) + ' ms, started +' + fms(P.t0[s]) + ' ms\n' + (P.n[s] > 1 ? 'longest wait ' : 'waited ') + fms(P.wait[s]) + ' ms, ran until +' + fms(P.t1[s]) + ' ms';
  }

  var drag = null;
  cv.addEventListener('mousedown', function (e) { drag = {x: e.clientX, view: view.slice(), moved: false}; });
  window.addEventListener('mouseup', function (e) {
    if (drag && !drag.moved) {
      var r = cv.getBoundingClientRect(), h = hit(e.clientX - r.left, e.clientY - r.top);
      if (h && h.step !== undefined && e.target === cv) setStep(h.step, false);
    }
    drag = null;
  });
  cv.addEventListener('mousemove', function (e) {
    var r = cv.getBoundingClientRect(), X = e.clientX - r.left, Y = e.clientY - r.top;
    if (drag && Math.abs(e.clientX - drag.x) > 3) {
      drag.moved = true;
      var d = (e.clientX - drag.x) / PW() * (drag.view[1] - drag.view[0]);
      view = [drag.view[0] - d, drag.view[1] - d]; clampView(); redraw();
      tip.hidden = true; return;
    }
    var h = hit(X, Y);
    if (!h) { tip.hidden = true; return; }
    tip.textContent = tipText(h); tip.hidden = false;
    var tx = X + 14, ty = Y + 14;
    if (tx + tip.offsetWidth > W) tx = Math.max(0, X - tip.offsetWidth - 10);
    tip.style.left = tx + 'px'; tip.style.top = ty + 'px';
  });
  cv.addEventListener('mouseleave', function () { tip.hidden = true; });
  cv.addEventListener('wheel', function (e) {
    var r = cv.getBoundingClientRect(), X = e.clientX - r.left;
    if (X < GUT) return;
    e.preventDefault();
    zoom(Math.pow(1.0015, e.deltaY), dom(X));
  }, {passive: false});
  cv.addEventListener('dblclick', function () { view = extent(); redraw(); });
  slider.addEventListener('input', function () { setStep(Number(slider.value), true); });
  document.getElementById('prev').addEventListener('click', function () { setStep(cur - 1, true); });
  document.getElementById('next').addEventListener('click', function () { setStep(cur + 1, true); });
  document.getElementById('axis-order').addEventListener('click', function () { setAxis('order'); });
  document.getElementById('axis-time').addEventListener('click', function () { setAxis('time'); });
  document.getElementById('zoom-fit').addEventListener('click', function () { view = extent(); redraw(); });
  document.getElementById('zoom-in').addEventListener('click', function () { zoom(0.5); });
  document.getElementById('zoom-out').addEventListener('click', function () { zoom(2); });
  document.addEventListener('keydown', function (e) {
    if (e.altKey || e.ctrlKey || e.metaKey) return;
    if (e.target === slider && /Arrow|Home|End|Page/.test(e.key)) return;  // the slider moves itself
    var step = e.shiftKey ? 10 : 1;
    if (e.key === 'ArrowRight') setStep(cur + step, true);
    else if (e.key === 'ArrowLeft') setStep(cur - step, true);
    else if (e.key === 'Home') setStep(0, true);
    else if (e.key === 'End') setStep(NS - 1, true);
    else if (e.key === '+' || e.key === '=') zoom(0.5);
    else if (e.key === '-') zoom(2);
    else if (e.key === '0') { view = extent(); redraw(); }
    else return;
    e.preventDefault();
  });
  window.addEventListener('resize', function () { resize(); redraw(); });

  // ---- first drawing ----
  slider.max = Math.max(0, NS - 1);
  slider.disabled = NS === 0;
  buildLogs();
  resize();
  setAxis(axis);
  setStep(0, false);
  if (!NS) showStep();
  draw();
  var r = cv.getBoundingClientRect();
  body.dataset.lanes = JSON.stringify(L.map(function (l, i) {
    return {name: l.name, left: Math.round(r.left + window.scrollX + GUT), right: Math.round(r.left + window.scrollX + W - RIGHT),
            top: Math.round(r.top + window.scrollY + laneTop + i * LANE_H), height: LANE_H, bars: barsDrawn[i], color: l.color};
  }));
  body.dataset.errors = String(window.nodelabErrors.length);
  body.dataset.rendered = '1';
})();
)JS";

}  // namespace

bool write_html(const std::string& path, const RunReport& r, std::string* error) {
  const std::string page = PageBuilder(r).build();
  std::FILE* out = std::fopen(path.c_str(), "wb");
  if (out == nullptr) {
    if (error) *error = fmt::format("cannot write {}", path);
    return false;
  }
  const bool ok = std::fwrite(page.data(), 1, page.size(), out) == page.size();
  if (std::fclose(out) != 0 || !ok) {
    if (error) *error = fmt::format("cannot write {}", path);
    return false;
  }
  return true;
}

}  // namespace nodelab::report
