#include "cli/lab_main.hpp"

#include <nlohmann/json.hpp>

#include <unistd.h>
#include <uv.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "cli/progress.hpp"
#include "cli/step.hpp"
#include "report/compare.hpp"
#include "report/html.hpp"
#include "report/run_report.hpp"
#include "runtime/process.hpp"
#include "runtime/runtime.hpp"
#include "runtime/stop.hpp"
#include "script/expect.hpp"
#include "script/interpreter.hpp"
#include "script/scenario.hpp"
#include "script/twin.hpp"

namespace nodelab::cli {

namespace fs = std::filesystem;

namespace {

constexpr int kExitBadInput = 2;

// Sanitizer builds carry shadow memory (TSan: several times the application's; ASan: about
// twice) that is not the demo's: scale the default memory ceiling so the same scenarios run.
#if defined(__SANITIZE_THREAD__)
constexpr std::uint64_t kSanitizerMemoryFactor = 8;
#elif defined(__SANITIZE_ADDRESS__)
constexpr std::uint64_t kSanitizerMemoryFactor = 3;
#else
constexpr std::uint64_t kSanitizerMemoryFactor = 1;
#endif
constexpr int kExitExpectationFailed = 3;

std::string exe_dir() {
  char buf[4096];
  size_t size = sizeof buf;
  if (uv_exepath(buf, &size) != 0) return {};
  return fs::path(std::string(buf, size)).parent_path().string();
}

bool looks_like_path(const std::string& arg) {
  return arg.find('/') != std::string::npos || arg.ends_with(".yaml") || arg.ends_with(".yml");
}

int list_scenarios(const LabSpec& spec, const script::OpRegistry& registry) {
  for (const auto& dir : scenario_dirs(spec.id)) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) continue;
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
      if (entry.path().extension() == ".yaml") files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    std::size_t width = 0;
    for (const auto& f : files)
      width = std::max(width, f.stem().string().size());
    fmt::print("lab-{} scenarios ({}):\n", spec.id, dir);
    for (const auto& f : files) {
      std::string title;
      try {
        const auto s = script::load_scenario(f.string(), registry);
        title = s.title;
        if (!s.variants.empty()) {
          std::vector<std::string> names;
          for (const auto& v : s.variants)
            names.push_back(v.name);
          title += fmt::format(" (variants: {})", fmt::join(names, ", "));
        }
      } catch (const script::ScenarioError& e) {
        title = "(invalid: " + e.message() + ")";
      }
      // Titles wrap under themselves within the projector's 120 columns.
      const auto indent = width + 4;
      const auto room = static_cast<std::size_t>(report::terminal_width(stdout)) - indent;
      fmt::print("  {:<{}}  {}\n", f.stem().string(), width,
                 report::wrap_text(title, room, indent));
    }
    return 0;
  }
  fmt::print(stderr, "lab-{}: no scenarios directory found (looked in: {})\n", spec.id,
             fmt::join(scenario_dirs(spec.id), ", "));
  return kExitBadInput;
}

std::string help_footer(const LabSpec& spec, const script::OpRegistry& registry) {
  std::string s = fmt::format(
      "\nExamples:\n"
      "  lab-{0} {1}                 run a scenario by name, with narration and metrics\n"
      "  lab-{0} {1} --logs-only     just the logged lines (what node prints)\n"
      "  lab-{0} {1} --emit-node | node   the same scenario on real Node.js\n"
      "  lab-{0} my.yaml --json | jq .metrics\n"
      "  lab-{0} {1} --trace t.json  then open t.json in https://ui.perfetto.dev\n"
      "\nExit codes: 0 ok · 1 the simulated process died (uncaught exception, unhandled "
      "rejection) · 2 bad input\n"
      "  · 3 an expectation failed · 124 time ceiling · 125 memory ceiling · 130 SIGINT · "
      "143 SIGTERM\n"
      "\nOps ({2} of them; scenario format: scenarios/README.md):\n",
      spec.id, spec.headline, registry.ops().size());
  for (const auto& op : registry.ops())
    s += fmt::format("  {:<16} {}\n", op.name, op.summary);
  s += "\nMetrics (for expect.metrics and {placeholders} in answers):\n";
  for (const auto& m : registry.metrics()) {
    s += fmt::format("  {:<34} {}{}\n", m.path, m.help,
                     m.unit.empty() ? "" : " [" + std::string(m.unit) + "]");
  }
  return s;
}

}  // namespace

std::vector<std::string> scenario_dirs(const std::string& lab_id) {
  std::vector<std::string> dirs;
  if (const char* env = std::getenv("NODELAB_SCENARIOS"); env && *env) {
    dirs.push_back((fs::path(env) / lab_id).string());
  }
  if (const std::string exe = exe_dir(); !exe.empty()) {
    dirs.push_back((fs::path(exe) / ".." / "share" / "nodelab" / "scenarios" / lab_id)
                       .lexically_normal()
                       .string());
  }
  dirs.push_back((fs::path(NODELAB_INSTALLED_SCENARIO_DIR) / lab_id).string());
  dirs.push_back((fs::path(NODELAB_SOURCE_SCENARIO_DIR) / lab_id).string());
  return dirs;
}

std::string resolve_scenario(const std::string& lab_id, const std::string& arg) {
  std::error_code ec;
  if (looks_like_path(arg) || fs::exists(arg, ec)) return arg;
  for (const auto& dir : scenario_dirs(lab_id)) {
    const fs::path p = fs::path(dir) / (arg + ".yaml");
    if (fs::is_regular_file(p, ec)) return p.string();
  }
  return {};
}

namespace {

struct Options {
  std::string scenario_arg;
  bool logs_only = false;
  bool json = false;
  bool json_brief = false;
  std::string emit_node;  // "node" (the default twin) or one of spec.twin_flavours
  bool no_color = false;
  bool list = false;
  bool compare = false;
  bool step = false;
  std::string variant;
  std::string trace_path;
  std::string html_path;
  double timeout_s = 60;
  int resolution_ms = 10;
  bool resolution_given = false;  // --resolution on the command line beats the scenario's
  bool timeout_given = false;
  std::uint64_t max_memory_mib = 0;
};

// Runs one loaded scenario on `rt` and fills a report (metrics, expectations, diagnosis,
// exit code). The report points into `s` and `rt`, which must outlive it.
report::RunReport run_scenario(const LabSpec& spec, const script::OpRegistry& registry,
                               const script::Scenario& s, runtime::Runtime& rt, const Options& o) {
  script::Interpreter interp(s, rt);
  report::RunReport r;
  r.lab_id = spec.id;
  r.scenario = &s;
  r.recorder = &rt.recorder();
  r.metric_table = registry.metrics();
  {
    runtime::Watchdog watchdog(
        std::chrono::milliseconds(static_cast<std::int64_t>(o.timeout_s * 1000)));
    std::unique_ptr<runtime::MemoryWatchdog> memory;
    if (o.max_memory_mib > 0) {
      memory = std::make_unique<runtime::MemoryWatchdog>(o.max_memory_mib << 20);
    }
    // Not under --step (the stepper owns the screen) nor --logs-only (output is the logs).
    std::unique_ptr<ProgressLine> progress;
    if (!o.step && !o.logs_only) {
      progress = std::make_unique<ProgressLine>(
          s.variant.empty() ? s.name : s.name + " --variant " + s.variant);
    }
    r.result = interp.run();
  }
  rt.collect_metrics(r.metrics);
  if (spec.collect_metrics) spec.collect_metrics(interp, r.metrics);
  // A stepped run's pauses are wall-clock time inside loop phases, not the program's: no
  // verdicts read from elapsed time (print_diagnosis says why); the lab's others still hold.
  r.stepped = o.step;
  r.diagnosis = report::diagnose(r.metrics, spec.diagnose, !r.stepped, spec.driver_keeps_loop_busy);
  bool expectations_ok = true;
  if (r.result.outcome != runtime::Outcome::stopped) {
    r.expectations = script::check_expectations(s.expect, rt.recorder(), r.metrics);
    r.expectations_checked = true;
    for (const auto& e : r.expectations)
      expectations_ok = expectations_ok && e.ok;
  }
  if (r.result.outcome == runtime::Outcome::stopped) {
    r.exit_code = runtime::stop_exit_code(r.result.stop);
  } else if (!expectations_ok) {
    r.exit_code = kExitExpectationFailed;
  } else if (r.result.outcome != runtime::Outcome::completed) {
    r.exit_code = 1;
  } else {
    r.exit_code = r.result.exit_code;  // process.exitCode
  }
  return r;
}

runtime::RuntimeOptions runtime_options(const Options& o, const script::Scenario& s) {
  runtime::RuntimeOptions options;
  if (s.unhandled_rejections) options.unhandled_rejections = *s.unhandled_rejections;
  options.eld_resolution = std::chrono::milliseconds(
      o.resolution_given || !s.resolution_ms ? o.resolution_ms : *s.resolution_ms);
  // --logs-only prints no narration: the per-callback recording is needed only when the
  // scenario checks phases or a trace was asked for.
  options.record_callbacks =
      !o.logs_only || !s.expect.phases.empty() || !o.trace_path.empty() || !o.html_path.empty();
  if (o.logs_only) {
    options.log_sink = [](std::string_view line) {
      std::fwrite(line.data(), 1, line.size(), stdout);
      std::fputc('\n', stdout);
    };
  }
  return options;
}

int run_single(const LabSpec& spec, const script::OpRegistry& registry, const script::Scenario& s,
               const Options& o) {
  // A variant's environment (UV_THREADPOOL_SIZE) must be set before libuv starts its pool,
  // which it does at the first pool request of the process: nothing has used it yet.
  for (const auto& [key, value] : s.env)
    ::setenv(key.c_str(), value.c_str(), 1);
  runtime::Runtime rt(runtime_options(o, s));
  std::unique_ptr<Stepper> stepper;
  if (o.step) {
    stepper = std::make_unique<Stepper>(rt, s, report::Style::detect(stdout, o.no_color));
  }
  report::RunReport r = run_scenario(spec, registry, s, rt, o);
  if (stepper) {
    const std::size_t steps = stepper->steps();
    const std::size_t folded = stepper->folded();
    stepper.reset();  // the terminal back to normal before the report
    fmt::print("\n--step: {} screen{} shown, {} look-alike stop{} folded\n\n", steps,
               steps == 1 ? "" : "s", folded, folded == 1 ? "" : "s");
  }
  r.brief = o.json_brief;

  if (!o.trace_path.empty()) {
    std::string error;
    if (!report::write_trace(o.trace_path, r, &error)) {
      fmt::print(stderr, "lab-{}: {}\n", spec.id, error);
      return kExitBadInput;
    }
  }
  if (!o.html_path.empty()) {
    std::string error;
    if (!report::write_html(o.html_path, r, &error)) {
      fmt::print(stderr, "lab-{}: {}\n", spec.id, error);
      return kExitBadInput;
    }
    if (!o.json)
      fmt::print(stderr, "timeline written to {} (open it in any browser)\n", o.html_path);
  }
  if (o.json) {
    report::write_json(stdout, r, true);
  } else if (o.logs_only) {
    std::fflush(stdout);
    if (r.exit_code != 0) fmt::print(stderr, "lab-{}: {}\n", spec.id, report::describe_outcome(r));
    for (const auto& e : r.expectations) {
      if (!e.ok) {
        fmt::print(stderr, "lab-{}: expectation failed: {} — {}\n", spec.id, e.what, e.detail);
      }
    }
  } else {
    const report::Style st = report::Style::detect(stdout, o.no_color);
    report::print_header(stdout, r, st);
    report::print_narration(stdout, r, st);
    report::print_metrics(stdout, r, st);
    report::print_diagnosis(stdout, r, st);
    report::print_expectations(stdout, r, st);
    report::print_outcome(stdout, r, st);
    report::print_answer(stdout, r, st);
  }
  if (!o.trace_path.empty() && !o.json) {
    fmt::print(stderr,
               "trace written to {} (open it in https://ui.perfetto.dev or "
               "chrome://tracing)\n",
               o.trace_path);
  }
  std::fflush(stdout);
  return r.exit_code;
}

// ---- --compare ----

struct CompareRow {
  std::string name;
  std::string title;
  bool in_child = false;
  std::unique_ptr<script::Scenario> scenario;  // in-process runs
  report::RunReport report;                    // metrics, expectations, outcome
  std::string outcome_summary;
};

void flatten(const nlohmann::json& j, const std::string& prefix, metrics::MetricSet& out) {
  for (const auto& [key, value] : j.items()) {
    const std::string path = prefix.empty() ? key : prefix + "." + key;
    if (value.is_object()) {
      flatten(value, path, out);
    } else {
      out.set(path, value.is_number() ? std::optional<double>(value.get<double>()) : std::nullopt);
    }
  }
}

// A variant that changes the environment libuv reads once per process (UV_THREADPOOL_SIZE)
// runs in a child process of this same binary: `--variant NAME --json-brief`.
bool run_in_child(const std::string& path, const std::string& variant, const Options& o,
                  CompareRow& row) {
  char exe[4096];
  size_t size = sizeof exe;
  if (uv_exepath(exe, &size) != 0) return false;
  std::vector<std::string> argv = {std::string(exe, size),
                                   path,
                                   "--variant",
                                   variant,
                                   "--json-brief",
                                   "--no-color",
                                   "--timeout",
                                   fmt::format("{}", o.timeout_s),
                                   "--max-memory",
                                   fmt::format("{}", o.max_memory_mib)};
  if (o.resolution_given) {
    argv.insert(argv.end(), {"--resolution", fmt::format("{}", o.resolution_ms)});
  }
  process::Options po;
  po.err = process::Output::inherit;
  const std::string out = process::run(argv, po).out;
  try {
    const auto j = nlohmann::json::parse(out);
    flatten(j.at("metrics"), "", row.report.metrics);
    for (const auto& e : j.at("expect").at("results")) {
      row.report.expectations.push_back({e.at("what").get<std::string>(), e.at("ok").get<bool>(),
                                         e.at("detail").get<std::string>()});
    }
    row.report.expectations_checked = j.at("expect").at("checked").get<bool>();
    row.report.exit_code = j.at("outcome").at("exit_code").get<int>();
    row.outcome_summary = j.at("outcome").at("summary").get<std::string>();
    // The child's verdicts, as it gave them (its lab's and the loop's).
    for (const auto& f : j.at("diagnosis")) {
      row.report.diagnosis.push_back({f.at("verdict").get<std::string>(),
                                      f.at("evidence").get<std::string>(),
                                      f.at("mitigation").get<std::string>()});
    }
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

int run_compare(const LabSpec& spec, const script::OpRegistry& registry, const std::string& path,
                const script::Scenario& base, const Options& o) {
  if (base.variants.empty()) {
    fmt::print(stderr, "lab-{}: {} declares no `variants:` to compare\n", spec.id, base.file);
    return kExitBadInput;
  }
  std::vector<CompareRow> rows;
  Options quiet = o;
  quiet.logs_only = false;
  quiet.trace_path.clear();
  for (const auto& v : base.variants) {
    if (runtime::stop_requested() != runtime::StopReason::none) break;
    CompareRow row;
    row.name = v.name;
    row.title = v.title;
    row.report.lab_id = spec.id;
    row.report.metric_table = registry.metrics();
    if (!o.json) std::fprintf(stderr, "running %s...\n", v.name.c_str());
    if (!v.env.empty() || spec.compare_in_children) {
      row.in_child = true;
      if (!run_in_child(path, v.name, o, row)) {
        fmt::print(stderr, "lab-{}: variant {} failed to run in a child process\n", spec.id,
                   v.name);
        return 1;
      }
    } else {
      row.scenario =
          std::make_unique<script::Scenario>(script::load_scenario(path, registry, {}, v.name));
      runtime::RuntimeOptions options = runtime_options(quiet, *row.scenario);
      // The table needs the metrics, not the narration: record only to check phases.
      options.record_callbacks = !row.scenario->expect.phases.empty();
      runtime::Runtime rt(std::move(options));
      row.report = run_scenario(spec, registry, *row.scenario, rt, quiet);
      row.report.recorder = nullptr;
      row.report.scenario = row.scenario.get();
      row.outcome_summary = report::describe_outcome(row.report);
    }
    rows.push_back(std::move(row));
  }

  int exit_code = 0;
  for (const auto& row : rows) {
    if (row.report.result.outcome == runtime::Outcome::stopped) {
      exit_code = runtime::stop_exit_code(row.report.result.stop);
    }
    for (const auto& e : row.report.expectations) {
      if (!e.ok && exit_code == 0) exit_code = kExitExpectationFailed;
    }
  }
  if (rows.size() < base.variants.size() && exit_code == 0) {
    exit_code = runtime::stop_exit_code(runtime::stop_requested());
  }

  report::Comparison cmp;
  cmp.lab_id = spec.id;
  cmp.scenario = &base;
  cmp.columns = spec.compare_columns;
  for (const auto& row : rows)
    cmp.variants.push_back({row.name, row.title, row.in_child, &row.report, row.outcome_summary});
  cmp.all_in_children = spec.compare_in_children;
  cmp.exit_code = exit_code;
  if (o.json) {
    fmt::print("{}\n", report::compare_json(cmp).dump(2));
  } else {
    report::print_compare(stdout, cmp, report::Style::detect(stdout, o.no_color));
  }
  return exit_code;
}

}  // namespace

int run_lab(const LabSpec& spec, int argc, char** argv) {
  const script::OpRegistry registry = spec.make_registry();
  // NODELAB_TIME_SCALE: the sanitizer test presets run the labs slower than the clock.
  if (const char* env = std::getenv("NODELAB_TIME_SCALE"); env != nullptr && *env != '\0') {
    char* end = nullptr;
    const double scale = std::strtod(env, &end);
    if (end == env || *end != '\0' || !(scale >= 1 && scale <= 1000)) {
      fmt::print(stderr, "lab-{}: NODELAB_TIME_SCALE must be a number from 1 to 1000; got '{}'\n",
                 spec.id, env);
      return 2;
    }
    script::set_time_scale(scale);
  }

  CLI::App app{fmt::format("lab-{}: {}", spec.id, spec.summary), "lab-" + spec.id};
  Options o;
  app.add_option("scenario", o.scenario_arg,
                 "scenario file (path) or NAME from scenarios/" + spec.id);
  auto* o_logs = app.add_flag("--logs-only", o.logs_only,
                              "print only the logged lines, as `node` prints the twin");
  auto* o_json = app.add_flag("--json", o.json,
                              "one JSON document: logs, callbacks, metrics, "
                              "diagnosis, expectations, outcome, answer");
  auto* o_brief =
      app.add_flag("--json-brief", o.json_brief, "--json without the logs and callbacks arrays");
  app.add_option("--trace", o.trace_path,
                 "write a Chrome Trace Event file (open in Perfetto or chrome://tracing)");
  app.add_option("--html", o.html_path,
                 "write the run as one self-contained HTML timeline (no network needed)");
  std::string emit_help = "print the Node.js twin and exit";
  for (const auto& f : spec.twin_flavours)
    emit_help += " (--emit-node=" + f + ": the twin on the real " + f + ")";
  auto* o_emit = app.add_flag("--emit-node{node}", o.emit_node, emit_help);
  app.add_flag("--no-color", o.no_color, "no colour (also: NO_COLOR, or output not a terminal)");
  app.add_flag("--list", o.list, "list this lab's scenarios with their titles");
  app.add_option("--variant", o.variant,
                 "run one of the scenario's variants (its params, env and expect)");
  auto* o_compare = app.add_flag("--compare", o.compare,
                                 "run every variant, one after another, and print one table");
  auto* o_step = app.add_flag("--step", o.step,
                              "show the state at each phase boundary (Enter next, b back, q "
                              "quit); needs a terminal");
  auto* o_timeout = app.add_option("--timeout", o.timeout_s,
                                   "time ceiling in seconds (none with --step unless given); the "
                                   "run stops cleanly there")
                        ->check(CLI::Range(0.1, 86400.0))
                        ->capture_default_str();
  o.max_memory_mib = spec.default_max_memory_mib * kSanitizerMemoryFactor;
  app.add_option("--max-memory", o.max_memory_mib,
                 "memory ceiling in MiB (resident set); the run stops cleanly there, exit 125 "
                 "(0: none)")
      ->check(CLI::Range(std::uint64_t{0}, std::uint64_t{1} << 20))
      ->capture_default_str();
  auto* o_resolution =
      app.add_option(
             "--resolution", o.resolution_ms,
             "eventLoopDelay sampling interval in ms, as monitorEventLoopDelay({resolution})")
          ->check(CLI::Range(1, 10000))
          ->capture_default_str();
  o_logs->excludes(o_json);
  o_emit->excludes(o_logs)->excludes(o_json)->excludes(o_compare);
  o_compare->excludes(o_logs);
  o_brief->excludes(o_logs);
  o_step->excludes(o_logs)->excludes(o_json)->excludes(o_compare)->excludes(o_emit)->excludes(
      o_brief);
  app.footer(help_footer(spec, registry));

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    fmt::print(stderr, "lab-{}: {}\nRun with --help for usage.\n", spec.id, e.what());
    return kExitBadInput;
  }
  if (o.json_brief) o.json = true;
  o.resolution_given = o_resolution->count() > 0;
  o.timeout_given = o_timeout->count() > 0;
  // An instructor may pause on a step for as long as the explanation takes.
  if (o.step && !o.timeout_given) o.timeout_s = 86400;

  if (o.list) return list_scenarios(spec, registry);
  if (o.scenario_arg.empty()) {
    fmt::print(stderr, "lab-{}: which scenario? Give a file or a NAME (--list shows them).\n",
               spec.id);
    return kExitBadInput;
  }
  const std::string path = resolve_scenario(spec.id, o.scenario_arg);
  if (path.empty()) {
    fmt::print(stderr, "lab-{}: no scenario named '{}' (--list shows them)\n", spec.id,
               o.scenario_arg);
    return kExitBadInput;
  }
  if (o.step) {
    std::string why;
    if (!Stepper::usable(&why)) {
      fmt::print(stderr, "lab-{}: {}\n", spec.id, why);
      return kExitBadInput;
    }
  }
  if (o.compare && !o.variant.empty()) {
    fmt::print(stderr, "lab-{}: --compare runs every variant; drop --variant\n", spec.id);
    return kExitBadInput;
  }

  script::Scenario scenario;
  try {
    scenario = script::load_scenario(path, registry, {}, o.variant);
  } catch (const script::ScenarioError& e) {
    fmt::print(stderr, "{}\n", e.what());
    return kExitBadInput;
  }

  if (!o.emit_node.empty()) {
    std::string twins = "node";
    for (const auto& f : spec.twin_flavours)
      twins += ", " + f;
    if (o.emit_node != "node" && std::find(spec.twin_flavours.begin(), spec.twin_flavours.end(),
                                           o.emit_node) == spec.twin_flavours.end()) {
      fmt::print(stderr, "lab-{}: --emit-node={}: this lab's twins are {}\n", spec.id, o.emit_node,
                 twins);
      return kExitBadInput;
    }
    fmt::print("{}", script::emit_twin(scenario, o.emit_node == "node" ? "" : o.emit_node));
    return 0;
  }

  runtime::install_signal_handlers();
  if (::isatty(::fileno(stdout)) == 0) {
    static char stdout_buf[1 << 16];
    std::setvbuf(stdout, stdout_buf, _IOFBF, sizeof stdout_buf);
  }
  if (o.compare) return run_compare(spec, registry, path, scenario, o);
  return run_single(spec, registry, scenario, o);
}

}  // namespace nodelab::cli
