// --json and --trace, written as streams: a million callbacks never sit in memory twice.

#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstdlib>

#include <fmt/format.h>

#include "report/json_writer.hpp"
#include "report/run_report.hpp"
#include "report/timeline.hpp"

namespace nodelab::report {

using runtime::Phase;

namespace {
double ms(runtime::Nanos t) {
  return runtime::to_ms(t);
}

std::string_view outcome_name(runtime::Outcome o) {
  switch (o) {
    case runtime::Outcome::completed:
      return "completed";
    case runtime::Outcome::uncaught_exception:
      return "uncaught_exception";
    case runtime::Outcome::unhandled_rejection:
      return "unhandled_rejection";
    case runtime::Outcome::stopped:
      return "stopped";
  }
  return "?";
}

int site_line(const script::Scenario& s, std::uint32_t site) {
  return site > 0 && site < s.sites.size() && s.sites[site] ? s.sites[site]->line : 0;
}
}  // namespace

void write_json(std::FILE* out, const RunReport& r, bool pretty) {
  const auto& s = *r.scenario;
  const auto& rec = *r.recorder;
  JsonWriter w(out, pretty);
  w.begin_object();
  w.field("lab", r.lab_id);
  w.key("scenario").begin_object();
  w.field("name", s.name).field("title", s.title).field("file", s.file);
  if (s.unhandled_rejections) {
    w.key("process").begin_object();
    w.field("unhandledRejections", runtime::mode_name(*s.unhandled_rejections));
    w.end_object();
  }
  w.end_object();

  if (r.scenario != nullptr && !s.variant.empty()) w.field("variant", s.variant);
  if (!r.brief) {
    w.key("logs").begin_array();
    for (const auto& l : rec.logs()) {
      const auto* cb = rec.find(l.callback);
      w.begin_object();
      w.field("text", l.text);
      w.field("phase", runtime::phase_name(cb ? cb->phase : Phase::main));
      w.field("iteration", cb ? cb->iteration : 0u);
      w.field("t_ms", ms(l.t));
      w.field("callback", l.callback);
      w.end_object();
    }
    w.end_array();

    w.key("callbacks").begin_array();
    for (const auto& c : rec.callbacks()) {
      w.begin_object();
      w.field("id", c.id);
      w.field("kind", runtime::kind_name(c.kind));
      w.field("phase", runtime::phase_name(c.phase));
      w.field("iteration", c.iteration);
      w.field("line", site_line(s, c.site));
      if (c.scheduled.count() >= 0) w.field("scheduled_ms", ms(c.scheduled));
      w.field("start_ms", ms(c.start));
      w.field("end_ms", ms(c.end));
      if (c.parent != runtime::kNoCallback) w.field("parent", c.parent);
      if (c.drained_by != runtime::kNoCallback) w.field("drained_by", c.drained_by);
      if (c.due.count() >= 0) w.field("late_ms", std::max(0.0, ms(c.start - c.due)));
      if (c.internal) w.field("internal", true);
      w.end_object();
    }
    w.end_array();

    w.key("counters").begin_array();
    for (const auto& c : rec.counters()) {
      w.begin_object().field("name", c.name).field("t_ms", ms(c.t)).field("value", c.value);
      w.end_object();
    }
    w.end_array();
  }

  w.key("recording").begin_object();
  w.field("callbacks", rec.callback_count());
  w.field("callbacks_kept", static_cast<std::uint64_t>(rec.callbacks().size()));
  w.field("logs", rec.log_count());
  w.field("logs_kept", static_cast<std::uint64_t>(rec.logs().size()));
  w.end_object();

  w.key("metrics").value(r.metrics.to_json());
  w.key("diagnosis").begin_array();
  for (const auto& f : r.diagnosis) {
    w.begin_object().field("verdict", f.verdict).field("evidence", f.evidence);
    w.field("mitigation", f.mitigation).end_object();
  }
  w.end_array();

  bool all_ok = true;
  for (const auto& e : r.expectations)
    all_ok = all_ok && e.ok;
  w.key("expect").begin_object();
  w.field("checked", r.expectations_checked);
  w.field("ok", r.expectations_checked && all_ok);
  w.key("results").begin_array();
  for (const auto& e : r.expectations) {
    w.begin_object().field("what", e.what).field("ok", e.ok).field("detail", e.detail).end_object();
  }
  w.end_array();
  w.end_object();

  w.key("outcome").begin_object();
  w.field("kind", outcome_name(r.result.outcome));
  w.field("exit_code", r.exit_code);
  // process.exitCode, which a completed run exits with (warn-with-error-code sets it).
  if (r.result.outcome == runtime::Outcome::completed) {
    w.field("process_exit_code", r.result.exit_code);
  }
  w.field("summary", describe_outcome(r));
  if (r.result.outcome == runtime::Outcome::uncaught_exception ||
      r.result.outcome == runtime::Outcome::unhandled_rejection) {
    w.key("error").begin_object();
    w.field("name", r.result.error.name).field("message", r.result.error.message);
    w.field("phase", runtime::phase_name(r.result.phase));
    if (!r.result.error.code.empty()) w.field("code", r.result.error.code);
    w.end_object();
  }
  if (r.result.outcome == runtime::Outcome::stopped) {
    w.field("stop", runtime::stop_reason_text(r.result.stop));
  }
  w.end_object();

  w.key("answer").begin_object();
  for (const auto& part : s.answer)
    w.field(part.key, answer_text(r, part));
  w.end_object();
  w.end_object();
}

nlohmann::json to_json(const RunReport& r) {
  char* buf = nullptr;
  std::size_t size = 0;
  std::FILE* mem = open_memstream(&buf, &size);
  write_json(mem, r, false);
  std::fclose(mem);
  nlohmann::json j = nlohmann::json::parse(std::string_view(buf, size));
  std::free(buf);
  return j;
}

bool write_trace(const std::string& path, const RunReport& r, std::string* error) {
  const auto& s = *r.scenario;
  const auto& rec = *r.recorder;
  std::FILE* out = std::fopen(path.c_str(), "w");
  if (out == nullptr) {
    if (error) *error = fmt::format("cannot write {}", path);
    return false;
  }
  // The timeline's lanes (report/timeline.hpp), each a tid: the phases and queues, then
  // threadpool threads (101..) and worker_threads (201..).
  const timeline::Lanes lanes(rec, true);
  auto lane_of = [&](Phase p) { return lanes[lanes.of(p)].tid; };
  auto us = [](runtime::Nanos t) { return static_cast<double>(t.count()) / 1000.0; };

  JsonWriter w(out);
  w.begin_object();
  w.key("traceEvents").begin_array();
  auto metadata = [&](std::string_view name, int tid, std::string_view key, auto value) {
    w.begin_object().field("name", name).field("ph", "M").field("pid", 1);
    if (tid > 0) w.field("tid", tid);
    w.key("args").begin_object().field(key, value).end_object();
    w.end_object();
  };
  metadata("process_name", 0, "name", fmt::format("lab-{}: {}", r.lab_id, s.name));
  for (const auto& lane : lanes.all()) {
    metadata("thread_name", lane.tid, "name", lane.name);
    if (lane.kind == timeline::LaneKind::phase)
      metadata("thread_sort_index", lane.tid, "sort_index", lane.tid);
  }

  std::uint32_t iteration = 0;
  for (const auto& c : rec.callbacks()) {
    if (c.iteration != iteration && c.iteration > 0) {
      iteration = c.iteration;
      w.begin_object().field("name", fmt::format("iteration {}", iteration)).field("ph", "i");
      w.field("s", "p").field("ts", us(c.start)).field("pid", 1).field("tid", lane_of(c.phase));
      w.end_object();
    }
    w.begin_object();
    w.field("name", describe_callback(c, s)).field("cat", runtime::phase_name(c.phase));
    w.field("ph", "X").field("ts", us(c.start)).field("dur", std::max(0.001, us(c.end - c.start)));
    w.field("pid", 1).field("tid", lane_of(c.phase));
    w.key("args").begin_object();
    w.field("iteration", c.iteration).field("kind", runtime::kind_name(c.kind));
    if (c.parent != runtime::kNoCallback) w.field("scheduled_by", c.parent);
    if (c.due.count() >= 0) w.field("late_ms", std::max(0.0, ms(c.start - c.due)));
    w.end_object();
    w.end_object();
  }
  for (const auto& l : rec.logs()) {
    const auto* cb = rec.find(l.callback);
    w.begin_object().field("name", "log: " + l.text).field("ph", "i").field("s", "t");
    w.field("ts", us(l.t)).field("pid", 1).field("tid", lane_of(cb ? cb->phase : Phase::main));
    w.end_object();
  }
  for (const auto& span : rec.work_spans()) {
    w.begin_object();
    const char* what = span.worker ? "worker" : "threadpool";
    w.field("name", fmt::format("{} task (line {})", what, site_line(s, span.site)));
    w.field("cat", what).field("ph", "X").field("ts", us(span.started));
    w.field("dur", std::max(0.001, us(span.finished - span.started)));
    w.field("pid", 1).field("tid", lanes[lanes.of(span)].tid);
    w.key("args").begin_object().field("queue_wait_ms", ms(span.started - span.queued));
    w.end_object().end_object();
  }
  for (const auto& c : rec.counters()) {
    w.begin_object().field("name", c.name).field("ph", "C").field("ts", us(c.t)).field("pid", 1);
    w.key("args").begin_object().field(c.name, c.value).end_object();
    w.end_object();
  }
  w.end_array();
  w.field("displayTimeUnit", "ms");
  // Perfetto shows otherData on its "Info and stats" page: the run's metrics go there, so the
  // trace carries every figure the narration and --json cite.
  w.key("otherData").begin_object().field("lab", r.lab_id).field("scenario", s.name);
  w.key("metrics").value(r.metrics.to_json()).end_object();
  w.end_object();
  std::fputc('\n', out);
  const bool ok = std::ferror(out) == 0;
  if (std::fclose(out) != 0 || !ok) {
    if (error) *error = fmt::format("cannot write {}", path);
    return false;
  }
  return true;
}

}  // namespace nodelab::report
