// --json and --trace.

#include <fstream>

#include <fmt/format.h>

#include "report/run_report.hpp"

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

nlohmann::json to_json(const RunReport& r) {
  using nlohmann::json;
  const auto& s = *r.scenario;
  const auto& rec = *r.recorder;
  json j;
  j["lab"] = r.lab_id;
  j["scenario"] = {{"name", s.name}, {"title", s.title}, {"file", s.file}};

  json logs = json::array();
  for (const auto& l : rec.logs()) {
    const auto* cb = rec.find(l.callback);
    logs.push_back({{"text", l.text},
                    {"phase", cb ? runtime::phase_name(cb->phase) : "main"},
                    {"iteration", cb ? cb->iteration : 0},
                    {"t_ms", ms(l.t)},
                    {"callback", l.callback}});
  }
  j["logs"] = std::move(logs);

  json cbs = json::array();
  for (const auto& c : rec.callbacks()) {
    json e = {{"id", c.id},
              {"kind", runtime::kind_name(c.kind)},
              {"phase", runtime::phase_name(c.phase)},
              {"iteration", c.iteration},
              {"line", site_line(s, c.site)},
              {"scheduled_ms", ms(c.scheduled)},
              {"start_ms", ms(c.start)},
              {"end_ms", ms(c.end)}};
    if (c.parent != runtime::kNoCallback) e["parent"] = c.parent;
    if (c.drained_by != runtime::kNoCallback) e["drained_by"] = c.drained_by;
    if (c.due.count() >= 0) e["late_ms"] = std::max(0.0, ms(c.start - c.due));
    if (c.internal) e["internal"] = true;
    cbs.push_back(std::move(e));
  }
  j["callbacks"] = std::move(cbs);
  j["recording"] = {{"callbacks", rec.callback_count()},
                    {"callbacks_kept", rec.callbacks().size()},
                    {"logs", rec.log_count()},
                    {"logs_kept", rec.logs().size()}};
  j["metrics"] = r.metrics.to_json();

  json results = json::array();
  bool all_ok = true;
  for (const auto& e : r.expectations) {
    results.push_back({{"what", e.what}, {"ok", e.ok}, {"detail", e.detail}});
    all_ok = all_ok && e.ok;
  }
  j["expect"] = {{"checked", r.expectations_checked},
                 {"ok", r.expectations_checked && all_ok},
                 {"results", std::move(results)}};

  json outcome = {{"kind", outcome_name(r.result.outcome)},
                  {"exit_code", r.exit_code},
                  {"summary", describe_outcome(r)}};
  if (r.result.outcome == runtime::Outcome::uncaught_exception ||
      r.result.outcome == runtime::Outcome::unhandled_rejection) {
    outcome["error"] = {{"name", r.result.error.name},
                        {"message", r.result.error.message},
                        {"phase", runtime::phase_name(r.result.phase)}};
    if (!r.result.error.code.empty()) outcome["error"]["code"] = r.result.error.code;
  }
  if (r.result.outcome == runtime::Outcome::stopped) {
    outcome["stop"] = runtime::stop_reason_text(r.result.stop);
  }
  j["outcome"] = std::move(outcome);

  json answer = json::object();
  for (const auto& part : s.answer)
    answer[part.key] = fill_placeholders(r, part.text);
  j["answer"] = std::move(answer);
  return j;
}

bool write_trace(const std::string& path, const RunReport& r, std::string* error) {
  using nlohmann::json;
  const auto& s = *r.scenario;
  const auto& rec = *r.recorder;
  // One lane (tid) per phase and queue, then one per threadpool thread.
  constexpr Phase kLanes[] = {Phase::main,    Phase::next_tick, Phase::microtask, Phase::timers,
                              Phase::pending, Phase::poll,      Phase::check,     Phase::close};
  auto lane_of = [&](Phase p) {
    for (int i = 0; i < 8; ++i) {
      if (kLanes[i] == p) return i + 1;
    }
    return 9;
  };
  auto us = [](runtime::Nanos t) { return static_cast<double>(t.count()) / 1000.0; };

  json events = json::array();
  events.push_back({{"name", "process_name"},
                    {"ph", "M"},
                    {"pid", 1},
                    {"args", {{"name", fmt::format("lab-{}: {}", r.lab_id, s.name)}}}});
  for (int i = 0; i < 8; ++i) {
    events.push_back({{"name", "thread_name"},
                      {"ph", "M"},
                      {"pid", 1},
                      {"tid", i + 1},
                      {"args", {{"name", runtime::phase_name(kLanes[i])}}}});
    events.push_back({{"name", "thread_sort_index"},
                      {"ph", "M"},
                      {"pid", 1},
                      {"tid", i + 1},
                      {"args", {{"sort_index", i + 1}}}});
  }
  std::uint32_t pool_threads = 0;
  for (const auto& w : rec.work_spans())
    pool_threads = std::max(pool_threads, w.thread);
  for (std::uint32_t t = 1; t <= pool_threads; ++t) {
    events.push_back({{"name", "thread_name"},
                      {"ph", "M"},
                      {"pid", 1},
                      {"tid", 100 + t},
                      {"args", {{"name", fmt::format("threadpool #{}", t)}}}});
  }

  std::uint32_t iteration = 0;
  for (const auto& c : rec.callbacks()) {
    if (c.iteration != iteration && c.iteration > 0) {
      iteration = c.iteration;
      events.push_back({{"name", fmt::format("iteration {}", iteration)},
                        {"ph", "i"},
                        {"s", "p"},
                        {"ts", us(c.start)},
                        {"pid", 1},
                        {"tid", lane_of(c.phase)}});
    }
    json args = {{"iteration", c.iteration}, {"kind", runtime::kind_name(c.kind)}};
    if (c.parent != runtime::kNoCallback) args["scheduled_by"] = c.parent;
    if (c.due.count() >= 0) args["late_ms"] = std::max(0.0, ms(c.start - c.due));
    events.push_back({{"name", describe_callback(c, s)},
                      {"cat", runtime::phase_name(c.phase)},
                      {"ph", "X"},
                      {"ts", us(c.start)},
                      {"dur", std::max(0.001, us(c.end - c.start))},
                      {"pid", 1},
                      {"tid", lane_of(c.phase)},
                      {"args", std::move(args)}});
  }
  for (const auto& l : rec.logs()) {
    const auto* cb = rec.find(l.callback);
    events.push_back({{"name", "log: " + l.text},
                      {"ph", "i"},
                      {"s", "t"},
                      {"ts", us(l.t)},
                      {"pid", 1},
                      {"tid", lane_of(cb ? cb->phase : Phase::main)}});
  }
  for (const auto& w : rec.work_spans()) {
    const int line =
        w.site > 0 && w.site < s.sites.size() && s.sites[w.site] ? s.sites[w.site]->line : 0;
    events.push_back({{"name", fmt::format("threadpool task (line {})", line)},
                      {"cat", "threadpool"},
                      {"ph", "X"},
                      {"ts", us(w.started)},
                      {"dur", std::max(0.001, us(w.finished - w.started))},
                      {"pid", 1},
                      {"tid", 100 + w.thread},
                      {"args", {{"queue_wait_ms", ms(w.started - w.queued)}}}});
  }
  json trace = {{"traceEvents", std::move(events)},
                {"displayTimeUnit", "ms"},
                {"otherData", {{"lab", r.lab_id}, {"scenario", s.name}}}};
  std::ofstream f(path);
  if (!f) {
    if (error) *error = fmt::format("cannot write {}", path);
    return false;
  }
  f << trace.dump() << '\n';
  f.close();
  if (!f) {
    if (error) *error = fmt::format("cannot write {}", path);
    return false;
  }
  return true;
}

}  // namespace nodelab::report
