// --html, checked without a browser: the file is one self-contained page (no network), its
// embedded JSON holds what the recorder holds, text from the scenario cannot end a script
// element, and a 200 000-callback run is aggregated into a page of bounded size that says so.
// tests/report/html_in_chromium.sh checks the same pages in a real browser.

#include "report/html.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <set>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "report/diagnosis.hpp"
#include "script/interpreter.hpp"
#include "script/shared_ops.hpp"
#include "support/scenario_runner.hpp"

using namespace nodelab;
using nlohmann::json;

namespace {

// A scenario really run, with everything its RunReport points at kept alive (as
// cli/lab_main.cpp's run_scenario builds it).
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
      runtime::Watchdog wd(std::chrono::seconds(60));
      report.result = interp.run();
    }
    report.lab_id = "event-loop";
    report.scenario = &scenario;
    report.recorder = &rt.recorder();
    report.metric_table = registry.metrics();
    rt.collect_metrics(report.metrics);
    report.diagnosis = report::diagnose(report.metrics);
    report.expectations =
        script::check_expectations(scenario.expect, rt.recorder(), report.metrics);
    report.expectations_checked = true;
  }
};

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::size_t count_of(const std::string& hay, const std::string& needle) {
  std::size_t n = 0;
  for (auto pos = hay.find(needle); pos != std::string::npos; pos = hay.find(needle, pos + 1))
    ++n;
  return n;
}

struct Page {
  std::string html;
  json data;
};

// Writes the page and parses the JSON in <script type="application/json" id="nodelab-data">.
Page write_page(const report::RunReport& r) {
  testing::TempFile out("", ".html");
  std::string error;
  REQUIRE(report::write_html(out.path(), r, &error));
  CHECK(error.empty());
  Page p;
  p.html = read_file(out.path());
  const std::string open = "<script type=\"application/json\" id=\"nodelab-data\">";
  const auto begin = p.html.find(open);
  REQUIRE(begin != std::string::npos);
  const auto end = p.html.find("</script>", begin);
  REQUIRE(end != std::string::npos);
  p.data = json::parse(p.html.substr(begin + open.size(), end - begin - open.size()));
  return p;
}

std::string escaped(std::string_view text) {
  std::string out;
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

const char* kHostileLog = "</script><script>window.pwned = 1</script><!-- & </SCRIPT >";

const char* kSmall = R"(lab: event-loop
name: html-demo
title: "A small run for the timeline: <b>not bold</b>"
answer:
  mechanism: immediates run in the check phase, nextTicks drain after each callback
  evidence: "{callbacks.total} callbacks; ELU {eventLoopUtilization.utilization}"
main:
  - log: start
  - log: "</script><script>window.pwned = 1</script><!-- & </SCRIPT >"
  - threadpool: { ms: 5, then: [ { log: pool } ] }
  - setTimeout: { ms: 1, then: [ { log: timer } ] }
  - setImmediate: { then: [ { log: immediate }, { nextTick: { then: [ { log: tick } ] } } ] }
expect:
  phases: { start: main, pool: poll, tick: nextTick }
)";

std::size_t visible_callbacks(const runtime::Recorder& rec) {
  return static_cast<std::size_t>(std::count_if(rec.callbacks().begin(), rec.callbacks().end(),
                                                [](const auto& c) { return !c.internal; }));
}

// The step holding the callback that logged `text`.
std::int64_t step_of_log(const json& data, const std::string& text) {
  for (const auto& l : data["logs"]) {
    if (l[2] == text) return l[0].get<std::int64_t>();
  }
  return -1;
}

}  // namespace

TEST_CASE("html.self_contained_page") {
  RealRun run(kSmall);
  const Page p = write_page(run.report);
  const std::string html = lower(p.html);
  CHECK(p.html.rfind("<!doctype html>", 0) == 0);
  CHECK(html.find("</html>") != std::string::npos);
  // Nothing fetched: no URL, no external script, stylesheet, font or image.
  CHECK(html.find("http://") == std::string::npos);
  CHECK(html.find("https://") == std::string::npos);
  CHECK(html.find("//cdn") == std::string::npos);
  CHECK(html.find(" src=") == std::string::npos);
  CHECK(html.find(" href=") == std::string::npos);
  CHECK(html.find("<link") == std::string::npos);
  CHECK(html.find("@import") == std::string::npos);
  CHECK(html.find("url(") == std::string::npos);
  CHECK(html.find("default-src 'none'") != std::string::npos);
  // The hooks the browser test reads.
  CHECK(p.html.find("window.nodelabErrors = []") != std::string::npos);
  CHECK(p.html.find("window.onerror") != std::string::npos);
  CHECK(p.html.find("dataset.rendered = '1'") != std::string::npos);
  CHECK(p.html.find("'securitypolicyviolation'") != std::string::npos);
  CHECK(p.html.find("body.dataset.lanes = ") != std::string::npos);
  CHECK(p.html.find("bars: barsDrawn[i], color: l.color") != std::string::npos);
  CHECK(p.html.find("<canvas id=\"timeline\"") != std::string::npos);
  CHECK(p.html.find("<noscript>") != std::string::npos);
  CHECK(run.rt.shutdown() == 0);
}

TEST_CASE("html.unmeasured_metric_says_so") {
  // No timer runs: timerDrift has no sample; its rows say "not measured", never "n/a".
  RealRun run("lab: event-loop\nmain:\n  - log: only\n");
  const Page p = write_page(run.report);
  CHECK_FALSE(run.report.metrics.get("timerDrift.max_ms").has_value());
  CHECK(p.html.find(">not measured<") != std::string::npos);
  CHECK(p.html.find("n/a") == std::string::npos);
  CHECK(run.rt.shutdown() == 0);
}

TEST_CASE("html.text_cannot_end_a_script") {
  RealRun run(kSmall);
  const Page p = write_page(run.report);
  // Three scripts (error hook, data, timeline), each closed once: the log's "</script>"
  // did not close one early, and its "<!--" did not open a comment in one.
  CHECK(count_of(lower(p.html), "<script") == 3);
  CHECK(count_of(lower(p.html), "</script") == 3);
  CHECK(p.html.find("window.pwned") != std::string::npos);          // the text is there...
  CHECK(p.html.find("<script>window.pwned") == std::string::npos);  // ...but not as markup
  CHECK(p.html.find("<!--") == std::string::npos);
  // The JSON gives the text back exactly.
  CHECK(step_of_log(p.data, kHostileLog) >= 0);
  // In the static HTML (title, noscript logs) it is escaped.
  CHECK(p.html.find("A small run for the timeline: &lt;b&gt;not bold&lt;/b&gt;") !=
        std::string::npos);
  CHECK(p.html.find(escaped(kHostileLog)) != std::string::npos);
  CHECK(run.rt.shutdown() == 0);
}

TEST_CASE("html.data_matches_the_recording") {
  RealRun run(kSmall);
  const auto& rec = run.rt.recorder();
  const Page p = write_page(run.report);
  const json& d = p.data;

  CHECK(d["lab"] == "event-loop");
  CHECK(d["scenario"]["name"] == "html-demo");
  CHECK(d["aggregated"] == false);
  CHECK(d["recording"]["callbacks"] == rec.callback_count());

  // Lanes: main, the two JS queues, the five phases callbacks run in, then one lane per pool
  // thread the work spans name.
  std::vector<std::string> lanes;
  for (const auto& l : d["lanes"])
    lanes.push_back(l["name"]);
  const std::vector<std::string> phases = {"main",    "nextTick", "microtask", "timers",
                                           "pending", "poll",     "check",     "close"};
  REQUIRE(lanes.size() >= phases.size());
  CHECK(std::equal(phases.begin(), phases.end(), lanes.begin()));
  std::uint32_t threads = 0;
  for (const auto& w : rec.work_spans())
    threads = std::max(threads, w.thread);
  CHECK(lanes.size() == phases.size() + threads);
  CHECK(lanes.back() == "threadpool #" + std::to_string(threads));

  // Steps: one per callback (the internal fs steps left out, as in the narration), in order.
  const json& s = d["steps"];
  REQUIRE(s["id"].size() == visible_callbacks(rec));
  CHECK(d["recording"]["internal"] == rec.callbacks().size() - visible_callbacks(rec));
  for (const char* col : {"n", "lane", "label", "iter", "t0", "t1", "busy", "late", "parent",
                          "drainedBy", "drainN", "drainEnd"}) {
    CAPTURE(col);
    CHECK(s[col].size() == s["id"].size());
  }
  for (std::size_t k = 0; k < s["id"].size(); ++k) {
    const auto& c = rec.callbacks()[s["id"][k].get<std::size_t>()];
    CHECK(s["n"][k] == 1);
    CHECK(lanes[s["lane"][k].get<std::size_t>()] == runtime::phase_name(c.phase));
    CHECK(d["labels"][s["label"][k].get<std::size_t>()] ==
          report::describe_callback(c, run.scenario));
    if (k > 0) CHECK(s["t0"][k].get<double>() >= s["t0"][k - 1].get<double>());
  }
  CHECK(d["spans"]["lane"].size() == rec.work_spans().size());

  // Logs: every line, with the step that logged it.
  REQUIRE(d["logs"].size() == rec.logs().size());
  for (std::size_t i = 0; i < rec.logs().size(); ++i) {
    CHECK(d["logs"][i][2] == rec.logs()[i].text);
    const auto step = d["logs"][i][0].get<std::int64_t>();
    REQUIRE(step >= 0);
    CHECK(s["id"][static_cast<std::size_t>(step)] == rec.logs()[i].callback);
  }

  // The nextTick queued by the immediate is drained after it: linked both ways.
  const auto tick = step_of_log(d, "tick");
  const auto immediate = step_of_log(d, "immediate");
  REQUIRE(tick >= 0);
  REQUIRE(immediate >= 0);
  CHECK(s["drainedBy"][static_cast<std::size_t>(tick)] == immediate);
  CHECK(s["parent"][static_cast<std::size_t>(tick)] == immediate);
  CHECK(s["drainN"][static_cast<std::size_t>(immediate)] == 1);

  // Queue depths after a step: what it scheduled and what still waits. After the main
  // script: the timer armed, the immediate queued, the pool task in flight.
  const json& names = d["queues"]["names"];
  const json& after = d["queues"]["after"];
  auto depth = [&](const std::string& queue, std::int64_t step) {
    for (std::size_t q = 0; q < names.size(); ++q) {
      if (names[q] == queue) return after[q][static_cast<std::size_t>(step)].get<int>();
    }
    FAIL("no queue " << queue);
    return -1;
  };
  CHECK(depth("timers", 0) == 1);
  CHECK(depth("immediates", 0) == 1);
  CHECK(depth("I/O in flight", 0) == 1);
  CHECK(depth("nextTick queue", 0) == 0);
  // The immediate queued one nextTick; it leaves the queue when it runs.
  CHECK(depth("nextTick queue", immediate) == 1);
  CHECK(depth("immediates", immediate) == 0);
  CHECK(depth("nextTick queue", tick) == 0);
  // After the last step every queue is empty: the loop ran out of work.
  const auto last = static_cast<std::int64_t>(s["id"].size()) - 1;
  for (const auto& q : names) {
    CAPTURE(q);
    CHECK(depth(q, last) == 0);
  }

  // Metrics: every entry, formatted as the terminal formats it ("not measured" without a value).
  REQUIRE(d["metrics"].size() == run.report.metrics.entries().size());
  for (const auto& m : d["metrics"]) {
    const std::string path = m["path"].get<std::string>();
    CHECK(m["text"] == (m["value"].is_null() ? std::string("not measured")
                                             : report::format_metric(run.report, path)));
  }
  // Verdict, expectations, outcome, model answer (filled), in the JSON and in the page.
  CHECK(d["diagnosis"].size() == run.report.diagnosis.size());
  CHECK(d["expect"]["checked"] == true);
  CHECK(d["expect"]["results"].size() == run.report.expectations.size());
  CHECK(d["expect"]["ok"] == true);
  CHECK(d["outcome"]["summary"] == report::describe_outcome(run.report));
  REQUIRE(d["answer"].size() == 2);
  const std::string evidence = d["answer"][1]["text"];
  CHECK(evidence == report::answer_text(run.report, run.scenario.answer[1]));
  CHECK(evidence.find('{') == std::string::npos);
  CHECK(p.html.find(escaped(evidence)) != std::string::npos);
  CHECK(p.html.find("immediates run in the check phase, nextTicks drain after each callback") !=
        std::string::npos);
  CHECK(p.html.find(escaped(report::describe_outcome(run.report))) != std::string::npos);
  // The verdict depends on the machine (a loaded sanitizer run can see a late timer): the page
  // shows whichever this run reached.
  if (run.report.diagnosis.empty()) {
    CHECK(p.html.find("no blocking, no saturated pool") != std::string::npos);
  }
  for (const auto& f : run.report.diagnosis)
    CHECK(p.html.find(escaped(f.verdict)) != std::string::npos);
  CHECK(run.rt.shutdown() == 0);
}

TEST_CASE("html.diagnosis_appears") {
  // A 120 ms synchronous block: the loop is reported blocked.
  RealRun run(R"(lab: event-loop
main:
  - setTimeout: { ms: 1, then: [ { block: { ms: 120 } } ] }
  - setTimeout: { ms: 2, then: [ { log: late } ] }
)");
  REQUIRE_FALSE(run.report.diagnosis.empty());
  const Page p = write_page(run.report);
  for (const auto& f : run.report.diagnosis) {
    CHECK(p.html.find(escaped(f.verdict)) != std::string::npos);
    CHECK(p.html.find(escaped(f.evidence)) != std::string::npos);
    CHECK(p.html.find(escaped(f.mitigation)) != std::string::npos);
  }
  CHECK(p.data["diagnosis"][0]["verdict"] == run.report.diagnosis[0].verdict);
  // The late timer says how late it was.
  const auto late = step_of_log(p.data, "late");
  REQUIRE(late >= 0);
  CHECK(p.data["steps"]["late"][static_cast<std::size_t>(late)].get<double>() > 50);
  CHECK(run.rt.shutdown() == 0);
}

TEST_CASE("html.aggregates_a_200k_callback_run") {
  RealRun run(R"(lab: event-loop
main:
  - setTimeout:
      ms: 1
      then:
        - log: chain starts
        - recurse: { via: nextTick, times: 200000, then: [ { log: chain done } ] }
  - setTimeout: { ms: 2, then: [ { log: starved timer } ] }
)");
  const auto& rec = run.rt.recorder();
  REQUIRE(visible_callbacks(rec) > 200'000);
  testing::TempFile out("", ".html");
  const auto t0 = std::chrono::steady_clock::now();
  REQUIRE(report::write_html(out.path(), run.report, nullptr));
  const auto took = std::chrono::steady_clock::now() - t0;
  MESSAGE("200k callbacks: " << std::filesystem::file_size(out.path()) << " bytes in "
                             << std::chrono::duration_cast<std::chrono::milliseconds>(took).count()
                             << " ms");
  // A page a browser opens at once: well under 2 MB (the un-aggregated JSON would be ~40).
  CHECK(std::filesystem::file_size(out.path()) < 2'000'000);
  const Page p = write_page(run.report);
  CHECK(p.data["aggregated"] == true);
  CHECK(p.html.find("id=\"aggregated\">Aggregated: 200,") != std::string::npos);
  const json& s = p.data["steps"];
  CHECK(s["id"].size() <= 30'000);
  // Every callback is in exactly one bar.
  std::size_t total = 0;
  for (const auto& n : s["n"])
    total += n.get<std::size_t>();
  CHECK(total == visible_callbacks(rec));
  // The chain is drained by the first timer: its bars point at that timer's step, which
  // reports the whole drain.
  const auto timer = step_of_log(p.data, "chain starts");
  REQUIRE(timer >= 0);
  CHECK(s["drainN"][static_cast<std::size_t>(timer)].get<std::size_t>() >= 200'000);
  // The long series are cut to an envelope per time bucket.
  for (const auto& series : p.data["series"]) {
    CAPTURE(series["name"]);
    CHECK(series["t"].size() <= 2 * 2'000 + 1);
  }
  CHECK(run.rt.shutdown() == 0);
}

TEST_CASE("html.counters_spans_and_empty_runs") {
  // A hand-made recording: many pool spans on two threads and a counter sampled 50 000 times.
  runtime::Recorder rec({100'000, 100'000});
  runtime::CallbackRecord main_cb;
  main_cb.start = runtime::Nanos(0);
  rec.begin(main_cb);
  rec.end(0, runtime::Nanos(1'000));
  for (std::uint32_t i = 0; i < 30'000; ++i) {
    const runtime::Nanos t(static_cast<std::int64_t>(i) * 10'000);
    rec.add_work_span({0, 0, 1 + i % 2, t, t + runtime::Nanos(1'000), t + runtime::Nanos(9'000)});
  }
  for (int i = 0; i < 50'000; ++i) {
    rec.add_counter("retainedBytes", runtime::Nanos(i * 6'000), 4096.0 * i);
  }
  script::Scenario scenario;
  scenario.name = "synthetic";
  report::RunReport r;
  r.lab_id = "emitter";
  r.scenario = &scenario;
  r.recorder = &rec;
  const Page p = write_page(r);
  CHECK(p.data["spansAggregated"] == true);
  std::size_t spans = 0;
  for (const auto& n : p.data["spans"]["n"])
    spans += n.get<std::size_t>();
  CHECK(spans == 30'000);
  CHECK(p.data["lanes"].back()["name"] == "threadpool #2");
  bool saw_counter = false;
  for (const auto& s : p.data["series"]) {
    if (s["name"] != "retainedBytes") continue;
    saw_counter = true;
    CHECK(s["group"] == "counter");
    CHECK(s["max"] == 4096.0 * 49'999);
    CHECK(s["env"] == true);
    CHECK(s["hi"].back() == 4096.0 * 49'999);
  }
  CHECK(saw_counter);

  // No callbacks at all (the run stopped before the main script): still a page.
  runtime::Recorder empty({10, 10});
  r.recorder = &empty;
  const Page e = write_page(r);
  CHECK(e.data["steps"]["id"].empty());
  CHECK(e.html.find("No callbacks were recorded") != std::string::npos);
}

TEST_CASE("html.reports_an_unwritable_path") {
  report::RunReport r;
  r.lab_id = "event-loop";
  std::string error;
  CHECK_FALSE(report::write_html("/nonexistent-dir/nodelab/page.html", r, &error));
  CHECK(error == "cannot write /nonexistent-dir/nodelab/page.html");
}

TEST_CASE("html.a_blocked_loop_opens_on_the_time_axis") {
  // Hand-made recordings (no clock): the main script, then one timer callback that was due at
  // 1 ms. The page opens on step order unless a callback ran 100 ms or longer or a timer ran
  // 100 ms or more late (html.cpp, default_axis).
  auto axis_of = [](std::int64_t timer_start_ms, std::int64_t timer_ms, bool stepped = false) {
    runtime::Recorder rec({100, 100});
    runtime::CallbackRecord main_cb;
    main_cb.start = runtime::Nanos(0);
    rec.end(rec.begin(main_cb), runtime::Nanos(std::chrono::milliseconds(1)));
    runtime::CallbackRecord timer;
    timer.phase = runtime::Phase::timers;
    timer.kind = runtime::CallbackKind::timeout;
    timer.iteration = 1;
    timer.scheduled = runtime::Nanos(0);
    timer.due = std::chrono::milliseconds(1);
    timer.start = std::chrono::milliseconds(timer_start_ms);
    rec.end(rec.begin(timer), std::chrono::milliseconds(timer_start_ms + timer_ms));
    script::Scenario scenario;
    scenario.name = "synthetic";
    report::RunReport r;
    r.lab_id = "event-loop";
    r.scenario = &scenario;
    r.recorder = &rec;
    r.stepped = stepped;
    return write_page(r).data["defaultAxis"].get<std::string>();
  };
  CHECK(axis_of(1, 0) == "order");          // on time, short
  CHECK(axis_of(1, 99) == "order");         // long, but under the bar
  CHECK(axis_of(1, 100) == "time");         // blocked the loop for 100 ms
  CHECK(axis_of(1, 2500) == "time");        // cpu-work-strategies' sync strategy
  CHECK(axis_of(100, 0) == "order");        // 99 ms late
  CHECK(axis_of(101, 0) == "time");         // 100 ms late: something blocked the loop
  CHECK(axis_of(101, 0, true) == "order");  // --step: the pauses were the presenter's
}

TEST_CASE("html.cpu_work_strategies_opens_on_the_time_axis") {
  // A real run that blocks the loop (the shape of scenarios/event-loop/cpu-work-strategies):
  // a 150 ms busy-wait in a timer callback. A run that never blocks opens on step order.
  RealRun blocked(R"(lab: event-loop
name: blocked
title: blocked
main:
  - setTimeout: { ms: 1, then: [ { block: { ms: 150 } }, { log: blocked } ] }
)");
  CHECK(write_page(blocked.report).data["defaultAxis"] == "time");
  RealRun quick(R"(lab: event-loop
name: quick
title: quick
main:
  - setTimeout: { ms: 1, then: [ { log: timer } ] }
  - setImmediate: { then: [ { log: immediate } ] }
)");
  CHECK(write_page(quick.report).data["defaultAxis"] == "order");
}
