#include "report/timeline.hpp"

#include <algorithm>
#include <map>
#include <utility>

#include <fmt/format.h>

#include "report/run_report.hpp"

namespace nodelab::report::timeline {

using nlohmann::json;
using runtime::CallbackKind;
using runtime::CallbackRecord;

namespace {

int site_line(const script::Scenario* s, std::uint32_t site) {
  return s != nullptr && site > 0 && site < s->sites.size() && s->sites[site] ? s->sites[site]->line
                                                                              : 0;
}

}  // namespace

// ---- lanes ----

Lanes::Lanes(const runtime::Recorder& rec, bool count_internal) {
  std::array<bool, runtime::kPhaseNames.size()> used{};
  for (const auto& c : rec.callbacks()) {
    if (c.internal && !count_internal) continue;
    used[static_cast<std::size_t>(c.phase)] = true;
  }
  for (std::size_t i = 0; i < runtime::kPhaseNames.size(); ++i) {
    const auto p = static_cast<Phase>(i);
    const runtime::PhaseLook& look = runtime::phase_look(p);
    if (look.lane == runtime::LaneShown::if_used && !used[i]) continue;
    phase_lane_[i] = static_cast<std::uint32_t>(lanes_.size());
    lanes_.push_back({std::string(runtime::phase_name(p)), LaneKind::phase, look.colour, p, 0,
                      static_cast<int>(lanes_.size() + 1)});
  }
  std::uint32_t threads = 0, workers = 0;
  for (const auto& span : rec.work_spans()) {
    auto& n = span.worker ? workers : threads;
    n = std::max(n, span.thread);
  }
  first_thread_lane_ = static_cast<std::uint32_t>(lanes_.size());
  for (std::uint32_t t = 1; t <= threads; ++t) {
    lanes_.push_back({fmt::format("threadpool #{}", t), LaneKind::threadpool, kThreadpoolColor,
                      Phase::main, t, static_cast<int>(100 + t)});
  }
  first_worker_lane_ = static_cast<std::uint32_t>(lanes_.size());
  for (std::uint32_t t = 1; t <= workers; ++t) {
    lanes_.push_back({fmt::format("worker #{}", t), LaneKind::worker, kWorkerColor, Phase::main, t,
                      static_cast<int>(200 + t)});
  }
}

std::uint32_t Lanes::of(const runtime::WorkSpan& s) const {
  return (s.worker ? first_worker_lane_ : first_thread_lane_) + (s.thread > 0 ? s.thread - 1 : 0);
}

// ---- queues ----

const std::array<QueueInfo, kQueues> kQueueInfo = {{
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

// ---- series ----

void Series::add(Nanos t, double v) {
  if (!v_.empty() && v == v_.back()) return;
  t_.push_back(t);
  v_.push_back(v);
}

double Series::max() const {
  return v_.empty() ? 0 : *std::max_element(v_.begin(), v_.end());
}

json Series::to_json(Nanos end) const {
  std::vector<double> t;
  std::vector<double> v;
  if (t_.size() <= 2 * kTimeBuckets) {
    for (std::size_t i = 0; i < t_.size(); ++i) {
      t.push_back(round_ms(t_[i]));
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
    t.push_back(round_ms(t_[i]));
    lo.push_back(low);
    hi.push_back(high);
    v.push_back(v_[j - 1]);
    carry = v_[j - 1];
    i = j;
  }
  return json{{"t", t}, {"v", v}, {"lo", lo}, {"hi", hi}, {"env", true}};
}

// ---- the timeline ----

Timeline::Timeline(const runtime::Recorder& rec, const script::Scenario* s)
    : rec_(rec), s_(s), lanes_(rec, false) {
  find_end();
  build_steps();
  derive_queues();
  build_spans();
  collect_counters();
  find_iterations();
}

void Timeline::find_end() {
  Nanos end{0};
  for (const auto& c : rec_.callbacks())
    end = std::max({end, c.start, c.end});
  for (const auto& w : rec_.work_spans())
    end = std::max(end, w.finished);
  for (const auto& c : rec_.counters())
    end = std::max(end, c.t);
  for (const auto& l : rec_.logs())
    end = std::max(end, l.t);
  end_ = std::max(end, Nanos(1000));
}

std::uint32_t Timeline::label_of(const CallbackRecord& c) {
  const std::uint64_t key = (static_cast<std::uint64_t>(c.kind) << 32) | c.site;
  auto it = label_index_.find(key);
  if (it != label_index_.end()) return it->second;
  const auto index = static_cast<std::uint32_t>(labels_.size());
  labels_.push_back(s_ != nullptr ? describe_callback(c, *s_)
                                  : std::string(runtime::kind_name(c.kind)));
  label_index_.emplace(key, index);
  return index;
}

std::uint32_t Timeline::label_of(std::string text) {
  for (std::size_t i = 0; i < labels_.size(); ++i) {
    if (labels_[i] == text) return static_cast<std::uint32_t>(i);
  }
  labels_.push_back(std::move(text));
  return static_cast<std::uint32_t>(labels_.size() - 1);
}

void Timeline::add_to(Step& st, const CallbackRecord& c) const {
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
  if (c.due.count() >= 0) {
    st.late_ms = std::max(st.late_ms, std::max(0.0, round_ms(c.start - c.due)));
  }
}

void Timeline::build_steps() {
  const auto& cbs = rec_.callbacks();
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
      st.lane = lanes_.of(c.phase);
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
        const std::uint32_t lane = lanes_.of(c.phase);
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

std::int64_t Timeline::bucket_width(std::size_t buckets) const {
  return std::max<std::int64_t>(1, end_.count() / static_cast<std::int64_t>(buckets) + 1);
}

std::int64_t Timeline::step_at(CallbackId id) const {
  for (int hops = 0; hops < 8 && id < step_of_.size(); ++hops) {
    if (step_of_[id] >= 0) return step_of_[id];
    id = rec_.callbacks()[id].parent;
  }
  return -1;
}

// Queue depths, from each callback's parent and the order callbacks ran in (see the header
// comment). arrive[k][q]: callbacks of queue q that callback k scheduled.
void Timeline::derive_queues() {
  const auto& cbs = rec_.callbacks();
  std::vector<std::array<std::int32_t, kQueues>> arrive(cbs.size());
  std::vector<std::int8_t> leaves(cbs.size(), -1);
  std::map<std::pair<CallbackId, std::uint64_t>, CallbackId> last_repetition;
  for (const auto& c : cbs) {
    if (c.internal || c.parent == runtime::kNoCallback || c.parent >= c.id) continue;
    const auto q = queue_of(c.phase);
    if (!q) continue;
    CallbackId from = c.parent;
    if (c.kind == CallbackKind::interval) {
      const auto key = std::make_pair(
          c.parent, (static_cast<std::uint64_t>(c.site) << 8) | static_cast<std::uint64_t>(c.kind));
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
  for (auto& s : queues_)
    s.add(Nanos(0), 0);
  for (const auto& c : cbs) {
    if (leaves[c.id] >= 0) {
      const auto q = static_cast<std::size_t>(leaves[c.id]);
      --depth[q];
      queues_[q].add(c.start, depth[q]);
    }
    for (std::size_t q = 0; q < kQueues; ++q) {
      if (arrive[c.id][q] == 0) continue;
      depth[q] += arrive[c.id][q];
      queues_[q].add(c.end, depth[q]);
    }
    if (!c.internal && step_of_[c.id] >= 0) {
      Step& st = steps_[static_cast<std::size_t>(step_of_[c.id])];
      if (st.last == c.id) st.queues_after = depth;
    }
  }
  // The threadpool's own queue: submitted, not yet picked up by a thread.
  std::vector<std::pair<Nanos, int>> events;
  for (const auto& w : rec_.work_spans()) {
    if (w.worker) continue;
    events.emplace_back(w.queued, +1);
    events.emplace_back(w.started, -1);
  }
  std::sort(events.begin(), events.end());
  pool_.add(Nanos(0), 0);
  int waiting = 0;
  for (const auto& [t, d] : events) {
    waiting += d;
    pool_.add(t, waiting);
  }
}

void Timeline::build_spans() {
  const auto& spans = rec_.work_spans();
  spans_aggregated_ = spans.size() > kDetailLimit;
  std::unordered_map<std::uint64_t, std::size_t> groups;
  const std::int64_t width = bucket_width(kTimeBuckets);
  for (const auto& w : spans) {
    const std::uint32_t lane = lanes_.of(w);
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

void Timeline::collect_counters() {
  std::unordered_map<std::string, std::size_t> index;
  for (const auto& c : rec_.counters()) {
    auto [it, inserted] = index.try_emplace(c.name, counters_.size());
    if (inserted) counters_.push_back({c.name, Series()});
    counters_[it->second].series.add(c.t, c.value);
  }
}

void Timeline::find_iterations() {
  std::uint32_t iteration = 0;
  const std::int64_t width = bucket_width(kTimeBuckets);
  std::int64_t last_bucket = -1;
  const bool thin = rec_.callbacks().size() > kDetailLimit;
  for (const auto& c : rec_.callbacks()) {
    if (c.internal || c.iteration == iteration) continue;
    iteration = c.iteration;
    const std::int64_t bucket = c.start.count() / width;
    if (thin && bucket == last_bucket) continue;
    last_bucket = bucket;
    it_n_.push_back(c.iteration);
    it_t_.push_back(c.start);
  }
}

}  // namespace nodelab::report::timeline
