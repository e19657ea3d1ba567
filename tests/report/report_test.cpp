// The run report: metric formatting and {placeholder} filling, --json, and the Chrome trace.

#include "report/run_report.hpp"

#include <doctest/doctest.h>

#include <fstream>
#include <memory>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "report/compare.hpp"
#include "report/timeline.hpp"
#include "script/interpreter.hpp"
#include "script/shared_ops.hpp"
#include "support/scenario_runner.hpp"

using namespace nodelab;
using nlohmann::json;

namespace {

// A report with only metrics (what format_metric and fill_placeholders read).
report::RunReport metrics_report() {
  report::RunReport r;
  r.lab_id = "event-loop";
  r.metric_table = runtime::Runtime::metric_table();
  r.metrics.set("eventLoopUtilization.utilization", 0.67249);
  r.metrics.set("eventLoopDelay.p99_ms", 12.5);
  r.metrics.set("eventLoopDelay.max_ms", 105.0);
  r.metrics.set("timerDrift.max_ms", std::nullopt);
  r.metrics.set("callbacks.total", 1234567.0);
  r.metrics.set("memory.rss_bytes", 5.0 * 1024 * 1024);
  r.metrics.set("memory.rssPeak_bytes", 1536.0);
  r.metrics.set("threadpool.size", 4.0);
  return r;
}

// A scenario really run, with everything a RunReport points at kept alive.
struct RealRun {
  testing::TempFile file;
  script::OpRegistry registry = script::shared_registry("event-loop");
  script::Scenario scenario;
  runtime::Runtime rt;
  report::RunReport report;

  explicit RealRun(const std::string& yaml) : file(yaml) {
    scenario = script::load_scenario(file.path(), registry);
    script::Interpreter interp(scenario, rt);
    {
      runtime::Watchdog wd(std::chrono::seconds(20));
      report.result = interp.run();
    }
    report.lab_id = "event-loop";
    report.scenario = &scenario;
    report.recorder = &rt.recorder();
    report.metric_table = registry.metrics();
    rt.collect_metrics(report.metrics);
    report.expectations =
        script::check_expectations(scenario.expect, rt.recorder(), report.metrics);
    report.expectations_checked = true;
  }
};

const char* kScenario = R"(lab: event-loop
name: report-demo
title: A small run for the report
answer:
  mechanism: immediates run in the check phase
  evidence: "ELU was {eventLoopUtilization.utilization}; {callbacks.total} callbacks; {timerDrift.max_ms} ms late"
main:
  - log: start
  - threadpool: { ms: 5, then: [ { log: pool } ] }
  - setTimeout: { ms: 1, then: [ { log: timer } ] }
  - setImmediate: { then: [ { log: immediate }, { nextTick: { then: [ { log: tick } ] } } ] }
expect:
  phases: { start: main, pool: poll }
  metrics:
    callbacks.total: { gte: 5 }
)";

}  // namespace

TEST_CASE("report.format_metric_by_unit") {
  const auto r = metrics_report();
  // "ms": whole numbers without decimals, others with two.
  CHECK(report::format_metric(r, "eventLoopDelay.max_ms") == "105");
  CHECK(report::format_metric(r, "eventLoopDelay.p99_ms") == "12.50");
  // Ratios: three decimals; counts: thousands separators.
  CHECK(report::format_metric(r, "eventLoopUtilization.utilization") == "0.672");
  CHECK(report::format_metric(r, "callbacks.total") == "1,234,567");
  CHECK(report::format_metric(r, "threadpool.size") == "4");
  // Bytes: binary units.
  CHECK(report::format_metric(r, "memory.rss_bytes") == "5.0 MiB");
  CHECK(report::format_metric(r, "memory.rssPeak_bytes") == "1.5 KiB");
  // Not measured, or not a metric of this run.
  CHECK(report::format_metric(r, "timerDrift.max_ms") == "n/a");
  CHECK(report::format_metric(r, "no.such_metric") == "n/a");
}

// Regression: format_metric prints a negative whole unitless value without its sign
// (thousands(uint64(fabs(v)))): a lab metric of -3 prints as "3". Repro below.
TEST_CASE("report.format_metric_keeps_the_sign_of_counts") {
  report::RunReport r;
  r.metrics.set("lab.delta", -3.0);
  CHECK(report::format_metric(r, "lab.delta") == "-3");
}

TEST_CASE("report.fill_placeholders") {
  const auto r = metrics_report();
  CHECK(report::fill_placeholders(
            r, "ELU {eventLoopUtilization.utilization}, p99 {eventLoopDelay.p99_ms} ms") ==
        "ELU 0.672, p99 12.50 ms");
  // Missing values and unknown paths read "n/a"; every occurrence is replaced.
  CHECK(report::fill_placeholders(r, "{timerDrift.max_ms} / {timerDrift.max_ms} / {x.y}") ==
        "n/a / n/a / n/a");
  // Only dotted paths are placeholders: {error} and {plain} stay as written.
  CHECK(report::fill_placeholders(r, "{error} {plain} {callbacks.total}") ==
        "{error} {plain} 1,234,567");
  CHECK(report::fill_placeholders(r, "no placeholders") == "no placeholders");
}

TEST_CASE("report.to_json_has_every_section") {
  RealRun run(kScenario);
  const json j = report::to_json(run.report);
  for (const char* key : {"lab", "scenario", "logs", "callbacks", "recording", "metrics", "expect",
                          "outcome", "answer"}) {
    CAPTURE(key);
    CHECK(j.contains(key));
  }
  CHECK(j["lab"] == "event-loop");
  CHECK(j["scenario"]["name"] == "report-demo");

  // logs: text, the phase that logged it, iteration.
  REQUIRE(j["logs"].is_array());
  REQUIRE(j["logs"].size() == 5);
  CHECK(j["logs"][0]["text"] == "start");
  CHECK(j["logs"][0]["phase"] == "main");
  CHECK(j["logs"][0]["iteration"] == 0);
  std::set<std::string> texts;
  for (const auto& l : j["logs"])
    texts.insert(l["text"].get<std::string>());
  CHECK(texts == std::set<std::string>{"start", "pool", "timer", "immediate", "tick"});
  for (const auto& l : j["logs"]) {
    if (l["text"] == "tick") CHECK(l["phase"] == "nextTick");
    if (l["text"] == "immediate") CHECK(l["phase"] == "check");
  }

  // callbacks: every recorded callback, main first; the timer says how late it was.
  REQUIRE(j["callbacks"].size() == run.rt.recorder().callbacks().size());
  CHECK(j["callbacks"][0]["kind"] == "main script");
  CHECK(j["callbacks"][0]["phase"] == "main");
  bool saw_timer = false;
  for (const auto& c : j["callbacks"]) {
    if (c["kind"] == "setTimeout") {
      saw_timer = true;
      CHECK(c.contains("late_ms"));
      CHECK(c["line"] == 10);  // the setTimeout op's line in the scenario
    }
  }
  CHECK(saw_timer);
  CHECK(j["recording"]["callbacks"] == run.rt.recorder().callback_count());

  // metrics nest by dots; unmeasured ones are null.
  CHECK(j["metrics"]["callbacks"]["total"].get<double>() >= 5);
  CHECK(j["metrics"]["threadpool"]["tasks"] == 1.0);

  // expect: checked, all ok, one result per expectation.
  CHECK(j["expect"]["checked"] == true);
  CHECK(j["expect"]["ok"] == true);
  CHECK(j["expect"]["results"].size() == 3);

  CHECK(j["outcome"]["kind"] == "completed");
  CHECK(j["outcome"]["exit_code"] == 0);
  CHECK_FALSE(j["outcome"].contains("error"));

  // answer: the placeholders filled with this run's values.
  CHECK(j["answer"]["mechanism"] == "immediates run in the check phase");
  const std::string evidence = j["answer"]["evidence"];
  CHECK(evidence.find('{') == std::string::npos);
  CHECK(evidence.find("callbacks;") != std::string::npos);
  // ELU is a ratio printed with three decimals; a loaded machine can make it 1.000 (the
  // pool task and the timer are both due before the loop ever waits), so only its form is fixed.
  CAPTURE(evidence);
  CHECK(std::regex_search(evidence, std::regex(R"(^ELU was (0\.\d{3}|1\.000);)")));
  CHECK(run.rt.shutdown() == 0);
}

TEST_CASE("report.to_json_outcome_of_a_death") {
  RealRun run(R"(lab: event-loop
main:
  - setTimeout:
      then:
        - log: dying
        - throw: boom
)");
  run.report.exit_code = 1;
  const json j = report::to_json(run.report);
  CHECK(j["outcome"]["kind"] == "uncaught_exception");
  CHECK(j["outcome"]["exit_code"] == 1);
  CHECK(j["outcome"]["error"]["name"] == "Error");
  CHECK(j["outcome"]["error"]["message"] == "boom");
  CHECK(j["outcome"]["error"]["phase"] == "timers");
  CHECK(j["outcome"]["summary"] ==
        "the process died: uncaught Error: boom (in the timers phase) -- Node exits with 1");
  // No answer block in the scenario: an empty object, not null.
  CHECK(j["answer"].is_object());
  CHECK(j["answer"].empty());
  CHECK(run.rt.shutdown() == 0);
}

TEST_CASE("report.write_trace_is_chrome_trace_json") {
  RealRun run(kScenario);
  testing::TempFile out("", ".json");
  std::string error;
  REQUIRE(report::write_trace(out.path(), run.report, &error));
  CHECK(error.empty());

  std::ifstream in(out.path());
  std::stringstream ss;
  ss << in.rdbuf();
  const json trace = json::parse(ss.str());  // throws (fails the test) if not valid JSON
  REQUIRE(trace.contains("traceEvents"));
  REQUIRE(trace["traceEvents"].is_array());
  CHECK(trace["displayTimeUnit"] == "ms");

  std::set<std::string> lanes;
  std::size_t complete = 0;
  std::size_t pool_spans = 0;
  for (const auto& e : trace["traceEvents"]) {
    REQUIRE(e.contains("ph"));
    CHECK(e["pid"] == 1);
    if (e["ph"] == "M" && e["name"] == "thread_name") {
      lanes.insert(e["args"]["name"].get<std::string>());
    }
    if (e["ph"] == "X") {
      ++complete;
      // Complete events carry a start and a positive duration, in microseconds.
      CHECK(e.contains("ts"));
      CHECK(e["dur"].get<double>() > 0);
      CHECK(e.contains("name"));
      if (e["cat"] == "threadpool") ++pool_spans;
    }
  }
  // One named lane per phase and queue, plus one per pool thread used.
  for (const char* lane : {"main", "nextTick", "microtask", "timers", "poll", "check", "close"}) {
    CAPTURE(lane);
    CHECK(lanes.count(lane) == 1);
  }
  CHECK(lanes.count("threadpool #" + std::to_string(run.rt.recorder().work_spans()[0].thread)) ==
        1);
  // One "X" per recorded callback and per pool task.
  CHECK(complete == run.rt.recorder().callbacks().size() + run.rt.recorder().work_spans().size());
  CHECK(pool_spans == 1);
  // The run's metrics ride along in otherData (Perfetto's "Info and stats").
  CHECK(trace["otherData"]["metrics"] == run.report.metrics.to_json());
  CHECK(trace["otherData"]["metrics"].size() > 0);
  CHECK(run.rt.shutdown() == 0);
}

TEST_CASE("report.write_trace_reports_an_unwritable_path") {
  RealRun run("lab: event-loop\nmain:\n  - log: x\n");
  std::string error;
  CHECK_FALSE(report::write_trace("/nonexistent-dir/nodelab/trace.json", run.report, &error));
  CHECK(error == "cannot write /nonexistent-dir/nodelab/trace.json");
  CHECK(run.rt.shutdown() == 0);
}

TEST_CASE("report.timeline_lanes_follow_the_phase_map") {
  runtime::Recorder rec({16, 16});
  runtime::CallbackRecord idle;
  idle.phase = runtime::Phase::idle;
  idle.internal = true;
  rec.end(rec.begin(idle), runtime::Nanos(10));
  runtime::CallbackRecord check;
  check.phase = runtime::Phase::check;
  rec.end(rec.begin(check), runtime::Nanos(20));
  runtime::WorkSpan span;
  span.thread = 2;
  span.worker = true;
  rec.add_work_span(span);

  auto names = [](const report::timeline::Lanes& lanes) {
    std::vector<std::string> out;
    for (const auto& l : lanes.all())
      out.push_back(l.name);
    return out;
  };
  // The page leaves internal callbacks out, so no idle lane; the trace shows them.
  const report::timeline::Lanes page(rec, false);
  CHECK(names(page) == std::vector<std::string>{"main", "nextTick", "microtask", "timers",
                                                "pending", "poll", "check", "close", "worker #1",
                                                "worker #2"});
  const report::timeline::Lanes trace(rec, true);
  CHECK(names(trace) == std::vector<std::string>{"main", "nextTick", "microtask", "timers",
                                                 "pending", "idle", "poll", "check", "close",
                                                 "worker #1", "worker #2"});
  CHECK(trace[trace.of(runtime::Phase::idle)].tid == 6);
  CHECK(trace[trace.of(runtime::Phase::close)].tid == 9);
  CHECK(trace[trace.of(span)].tid == 202);
  CHECK(page[page.of(runtime::Phase::check)].color == "#2e9e44");
  CHECK(page[page.of(span)].color == report::timeline::kWorkerColor);
  CHECK(runtime::phase_look(runtime::Phase::pending).sgr == "91");
}

TEST_CASE("report.compare_json_and_table") {
  script::Scenario base;
  base.name = "demo";
  base.title = "two variants";
  base.answer = {
      {"evidence",
       {{"a: {a.eventLoopDelay.p99_ms}, plain: {eventLoopDelay.p99_ms}", {}, {}}},
       {{"a: {a.eventLoopDelay.p99_ms}", {}, {}},
        {"lower in b",
         script::AnswerCondition{"{b.eventLoopDelay.p99_ms}", "<", "{a.eventLoopDelay.p99_ms}"},
         "not lower in b"}}}};
  report::RunReport a = metrics_report();
  report::RunReport b = metrics_report();
  b.metrics.set("eventLoopDelay.p99_ms", 1.0);
  b.expectations = {{"p99 below 5", false, "was 1"}};
  b.expectations_checked = true;

  report::Comparison c;
  c.lab_id = "event-loop";
  c.scenario = &base;
  c.columns = {{"p99", "ms", "eventLoopDelay.p99_ms"},
               {"never", "ms", "no.such.metric"},
               {"ELU", "", "eventLoopUtilization.utilization"}};
  c.variants = {{"a", "first", false, &a, "completed"}, {"b", "", true, &b, "completed"}};
  c.exit_code = 1;

  const json j = report::compare_json(c);
  CHECK(j["lab"] == "event-loop");
  CHECK(j["scenario"]["name"] == "demo");
  CHECK(j["columns"] == json::array({"p99 (ms)", "ELU"}));  // only measured columns
  REQUIRE(j["variants"].size() == 2);
  CHECK(j["variants"][0]["name"] == "a");
  CHECK(j["variants"][0]["cells"] == json::array({"12.50", "0.672"}));
  CHECK(j["variants"][1]["child_process"] == true);
  CHECK(j["variants"][1]["expect"][0]["ok"] == false);
  // --compare prints the `compare` text: b's p99 (1.00) is below a's, so `then` is kept.
  CHECK(j["answer"]["evidence"] == "a: 12.50 lower in b");
  b.metrics.set("eventLoopDelay.p99_ms", 20.0);
  CHECK(report::compare_json(c)["answer"]["evidence"] == "a: 12.50 not lower in b");
  b.metrics.set("eventLoopDelay.p99_ms", 1.0);
  CHECK(j["exit_code"] == 1);

  char* buf = nullptr;
  std::size_t size = 0;
  std::FILE* mem = open_memstream(&buf, &size);
  report::print_compare(mem, c, report::Style::plain());
  std::fclose(mem);
  const std::string table(buf, size);
  std::free(buf);
  CHECK(table.find("lab-event-loop · demo · --compare (2 variants)\n") == 0);
  // Each column as wide as its widest entry, two spaces apart; the unmeasured one left out.
  CHECK(table.find("  variant    p99    ELU  expect  verdict\n") != std::string::npos);
  CHECK(table.find("failed expectations") != std::string::npos);
  CHECK(table.find("(b ran in a child process") != std::string::npos);
}
