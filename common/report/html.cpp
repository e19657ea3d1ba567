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
//   3. One inline script, vanilla JS (report/assets/page.js, after assets/errors.js in the
//      <head>; the stylesheet is assets/page.css, all three embedded at build time by
//      cmake/Embed.cmake), that draws the timeline on a <canvas> and runs the step slider.
//      It sets window.nodelabErrors (every script error, unhandled rejection and
//      Content-Security-Policy violation lands there and in <body data-errors>), and when
//      the first drawing is done <body data-lanes> (each lane's name, colour, page rectangle
//      and bars drawn) and <body data-rendered="1">. Those markers are what
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
// What the page shows, and how it stays honest (the model is report/timeline.hpp, the same
// lanes --trace writes):
// - Lanes: main, nextTick, microtask, then libuv's phases in uv_run order (timers, pending,
//   poll, check, close; idle and prepare only when used), then one lane per threadpool
//   thread and per worker_thread from the work spans. Each callback is a bar from its start
//   to its end, coloured by phase (runtime/phase.hpp's NODELAB_PHASE_MAP, whose terminal
//   colours report/style.cpp uses). The fs request steps the runtime records for
//   bookkeeping (internal) are left out, as the narration leaves them out.
// - Drains under their parent: nextTick and microtask bars sit in their own lanes; a dark
//   tail after the macrotask that drained them (in its lane, up to the end of the drain)
//   and a thin connector to each drained bar tie them to it.
// - Queue depths after each step are derived from the recording (timeline.hpp says how).
// - Large runs: above timeline::kDetailLimit callbacks, callbacks of one lane and one label
//   within a time bucket are drawn as one bar "xN"; the page says so, and the slider steps
//   through those bars. Long series are reduced to a min/max envelope per time bucket. A run
//   of 200 000 callbacks makes a page of a few hundred KB that draws in milliseconds.

#include "report/html.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <iterator>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "embed/report_assets.hpp"
#include "report/timeline.hpp"

namespace nodelab::report {

namespace {

using nlohmann::json;
using runtime::Nanos;
using runtime::Phase;
using timeline::kDetailLimit;
using timeline::kQueueInfo;
using timeline::kQueues;
using timeline::LaneKind;

constexpr std::size_t kMaxLogs = 5'000;
constexpr std::size_t kNoscriptLogs = 200;
// Small runs open on the step-order axis (see default_axis).
constexpr std::size_t kOrderAxisSteps = 150;
// A run that blocked the loop opens on the time axis: one callback ran this long, or a timer
// ran this late (Clinic Doctor's "max delay" bar for a blocked loop, as in diagnosis.cpp).
constexpr Nanos kBlockedNs = std::chrono::milliseconds(100);

constexpr std::string_view kCounterColors[] = {"#7a4fbf", "#c2185b", "#00897b",
                                               "#f57c00", "#5d4037", "#1565c0"};

double ms(Nanos t) {
  return timeline::round_ms(t);
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

class PageBuilder {
 public:
  explicit PageBuilder(const RunReport& r)
      : r_(r), s_(r.scenario), rec_(r.recorder != nullptr ? r.recorder : &empty()), t_(*rec_, s_) {}

  std::string build() {
    json data = data_json();
    std::string out;
    out.reserve(1 << 16);
    write_head(out);
    write_body(out, data);
    return out;
  }

 private:
  static const runtime::Recorder& empty() {
    static const runtime::Recorder kEmpty({0, 0});
    return kEmpty;
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
                      {"internal", t_.internal()},
                      {"logs", rec_->log_count()},
                      {"logs_kept", rec_->logs().size()},
                      {"logs_shown", std::min(rec_->logs().size(), kMaxLogs)},
                      {"work_spans", rec_->work_spans().size()},
                      {"counter_samples", rec_->counters().size()}};
    d["aggregated"] = t_.aggregated();
    if (t_.aggregated()) {
      d["aggregation"] = {{"threshold", kDetailLimit},
                          {"buckets", t_.buckets()},
                          {"bucket_ms", ms(Nanos(t_.bucket_width(t_.buckets())))},
                          {"note", aggregation_note()}};
    }
    d["defaultAxis"] = default_axis();
    d["end_ms"] = ms(t_.end());

    json lanes = json::array();
    for (const auto& l : t_.lanes().all()) {
      lanes.push_back({{"name", l.name},
                       {"kind", l.kind == LaneKind::phase ? "phase" : "thread"},
                       {"color", l.color}});
    }
    d["lanes"] = lanes;

    const auto& steps = t_.steps();
    const std::size_t n = steps.size();
    std::vector<std::uint32_t> id(n), count(n), lane(n), label(n), iter(n), drain_n(n);
    std::vector<double> t0(n), t1(n), busy(n), late(n), drain_end(n);
    std::vector<std::int64_t> parent(n), drained_by(n);
    std::array<std::vector<std::int32_t>, kQueues> after;
    for (auto& a : after)
      a.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
      const timeline::Step& st = steps[i];
      id[i] = st.first;
      count[i] = st.count;
      lane[i] = st.lane;
      label[i] = st.label;
      iter[i] = st.iteration;
      t0[i] = ms(st.t0);
      t1[i] = ms(st.t1);
      busy[i] = ms(st.busy);
      late[i] = st.late_ms < 0 ? -1 : std::round(st.late_ms * 1e4) / 1e4;
      parent[i] = st.parent_cb == runtime::kNoCallback ? -1 : t_.step_at(st.parent_cb);
      drained_by[i] = st.drained_by_cb == runtime::kNoCallback ? -1 : t_.step_at(st.drained_by_cb);
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
      queue_names.push_back(kQueueInfo[q].name);
      after_json.push_back(after[q]);
    }
    d["queues"] = {{"names", queue_names}, {"after", after_json}};

    json series = json::array();
    for (std::size_t q = 0; q < kQueues; ++q) {
      const timeline::Series& qs = t_.queues()[q];
      json s = qs.to_json(t_.end());
      s["name"] = kQueueInfo[q].name;
      s["group"] = "queue";
      s["color"] = runtime::phase_look(kQueueInfo[q].phase).colour;
      s["help"] = kQueueInfo[q].help;
      s["max"] = qs.max();
      s["queue"] = q;
      series.push_back(std::move(s));
    }
    {
      json s = t_.pool_queue().to_json(t_.end());
      s["name"] = "threadpool queue";
      s["group"] = "queue";
      s["color"] = timeline::kThreadpoolColor;
      s["help"] = "tasks submitted to libuv's threadpool, not yet picked up by a thread";
      s["max"] = t_.pool_queue().max();
      series.push_back(std::move(s));
    }
    // Lab counters, in the order they first appear.
    const auto& counters = t_.counters();
    for (std::size_t i = 0; i < counters.size(); ++i) {
      const timeline::Series& cs = counters[i].series;
      json s = cs.to_json(t_.end());
      s["name"] = counters[i].name;
      s["group"] = "counter";
      s["color"] = kCounterColors[i % std::size(kCounterColors)];
      s["help"] = "sampled by the lab";
      s["max"] = cs.max();
      series.push_back(std::move(s));
    }
    d["series"] = series;

    const auto& bars = t_.span_bars();
    const std::size_t np = bars.size();
    std::vector<std::uint32_t> sp_lane(np), sp_label(np), sp_n(np);
    std::vector<double> sp_queued(np), sp_t0(np), sp_t1(np), sp_wait(np);
    for (std::size_t i = 0; i < np; ++i) {
      const timeline::SpanBar& b = bars[i];
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
    d["spansAggregated"] = t_.spans_aggregated();

    // The first callback of each loop iteration (thinned to one per time bucket).
    std::vector<double> it_t;
    for (const Nanos t : t_.iteration_starts())
      it_t.push_back(ms(t));
    d["iterations"] = {{"n", t_.iteration_numbers()}, {"t", it_t}};

    d["labels"] = t_.labels();

    json logs = json::array();
    const auto& rec_logs = rec_->logs();
    for (std::size_t i = 0; i < rec_logs.size() && i < kMaxLogs; ++i) {
      const auto& l = rec_logs[i];
      logs.push_back(json::array({t_.step_at(l.callback), ms(l.t), l.text}));
    }
    d["logs"] = logs;

    json metrics = json::array();
    for (const auto& e : r_.metrics.entries()) {
      const metrics::MetricInfo* info = metric_info(e.path);
      json m = {{"path", e.path},
                {"text", e.value ? format_metric(r_, e.path) : "not measured"},
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
        answer.push_back({{"key", part.key}, {"text", answer_text(r_, part)}});
    }
    d["answer"] = answer;
    return d;
  }

  // A small run opens on the step-order axis, where each bar is wide enough to read. It opens
  // on the time axis when a length is the story, which only that axis shows:
  // - more than kOrderAxisSteps steps (too many to read one by one);
  // - a threadpool or worker task waited a tenth of the run for a thread;
  // - the run blocked the loop: a callback ran kBlockedNs or longer, or a timer ran kBlockedNs
  //   or more after it was due (a long callback or a drain that starved it); not in a stepped
  //   run (--step), whose pauses are not the program's time.
  // docs/scenario-format.md ("--html") says the same.
  std::string_view default_axis() const {
    if (t_.steps().size() > kOrderAxisSteps) return "time";
    for (const auto& w : rec_->work_spans()) {
      if ((w.started - w.queued) * 10 >= t_.end()) return "time";
    }
    if (r_.stepped) return "order";  // its pauses are the presenter's, not the program's
    for (const auto& c : rec_->callbacks()) {
      if (c.end - c.start >= kBlockedNs) return "time";
      if (c.due.count() >= 0 && c.start - c.due >= kBlockedNs) return "time";
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
        thousands(rec_->callbacks().size() - t_.internal()), thousands(kDetailLimit),
        ms(Nanos(t_.bucket_width(t_.buckets()))), thousands(t_.steps().size()));
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
    out += "<script>\n";
    out += embed::report_assets::errors_js;
    out += "\n</script>\n<style>\n";
    out += embed::report_assets::page_css;
    out += "\n</style>\n</head>\n";
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
    out += "</script>\n<script>\n";
    out += embed::report_assets::page_js;
    out += "\n</script>\n</body>\n</html>\n";
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
    if (t_.aggregated()) {
      fmt::format_to(std::back_inserter(out), "<p class=\"notice\" id=\"aggregated\">{}</p>",
                     escape_html(aggregation_note()));
    }
    if (t_.spans_aggregated()) {
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
    for (const auto& l : t_.lanes().all()) {
      if (l.kind != LaneKind::phase && l.name != "threadpool #1" && l.name != "worker #1") continue;
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
    if (t_.internal() > 0) {
      fmt::format_to(std::back_inserter(out),
                     "<li>{} internal fs request steps (open, stat, read, close on the loop) are "
                     "left out, as in the narration; --trace has them.</li>",
                     thousands(t_.internal()));
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
      // A figure with nothing to measure this run (a timer lateness where no timer ran) says
      // so, rather than "n/a".
      const bool measured = e.value.has_value();
      std::string value = measured ? format_metric(r_, e.path) : "not measured";
      if (measured && info != nullptr && info->unit == "ms") value += " ms";
      fmt::format_to(std::back_inserter(out),
                     "<tr><td class=\"path\">{}</td><td class=\"num\">{}</td><td>{}</td></tr>",
                     escape_html(e.path), escape_html(value),
                     info ? escape_html(info->help) : std::string());
    }
    out += "</tbody></table></section>\n";
  }

  void write_diagnosis(std::string& out) const {
    out += "<section id=\"diagnosis\"><h2>diagnosis</h2>";
    if (r_.stepped) {
      out += "<p>no timing verdicts: a stepped run's pauses are not the program's time</p>";
    }
    if (r_.diagnosis.empty()) {
      out += fmt::format("<p class=\"good\">\xE2\x9C\x93 {}</p>",
                         r_.stepped ? "nothing this lab watches for" : kNoVerdict);
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
                     escape_html(answer_text(r_, part)));
    }
    out += "</dl></section>\n";
  }

  const RunReport& r_;
  const script::Scenario* s_;
  const runtime::Recorder* rec_;
  const timeline::Timeline t_;
};

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
