#include "cli/lab_main.hpp"

#include <uv.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "report/run_report.hpp"
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
        title = script::load_scenario(f.string(), registry).title;
      } catch (const script::ScenarioError& e) {
        title = "(invalid: " + e.message() + ")";
      }
      fmt::print("  {:<{}}  {}\n", f.stem().string(), width, title);
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
      "rejection) · 2 bad input · 3 an expectation failed · 124 time ceiling · 130 SIGINT · "
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

int run_lab(const LabSpec& spec, int argc, char** argv) {
  const script::OpRegistry registry = spec.make_registry();

  CLI::App app{fmt::format("lab-{}: {}", spec.id, spec.summary), "lab-" + spec.id};
  std::string scenario_arg;
  bool logs_only = false;
  bool json = false;
  bool emit_node = false;
  bool no_color = false;
  bool list = false;
  std::string trace_path;
  double timeout_s = 60;
  int resolution_ms = 10;
  app.add_option("scenario", scenario_arg,
                 "scenario file (path) or NAME from scenarios/" + spec.id);
  auto* o_logs = app.add_flag("--logs-only", logs_only,
                              "print only the logged lines, as `node` prints the twin");
  auto* o_json = app.add_flag("--json", json,
                              "one JSON document: logs, callbacks, metrics, "
                              "expectations, outcome, answer");
  app.add_option("--trace", trace_path,
                 "write a Chrome Trace Event file (open in Perfetto or chrome://tracing)");
  auto* o_emit = app.add_flag("--emit-node", emit_node, "print the Node.js twin and exit");
  app.add_flag("--no-color", no_color, "no colour (also: NO_COLOR, or output not a terminal)");
  app.add_flag("--list", list, "list this lab's scenarios with their titles");
  app.add_option("--timeout", timeout_s, "time ceiling in seconds; the run stops cleanly there")
      ->check(CLI::Range(0.1, 86400.0))
      ->capture_default_str();
  app.add_option("--resolution", resolution_ms,
                 "eventLoopDelay sampling interval in ms, as monitorEventLoopDelay({resolution})")
      ->check(CLI::Range(1, 10000))
      ->capture_default_str();
  o_logs->excludes(o_json);
  o_emit->excludes(o_logs)->excludes(o_json);
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

  if (list) return list_scenarios(spec, registry);
  if (scenario_arg.empty()) {
    fmt::print(stderr, "lab-{}: which scenario? Give a file or a NAME (--list shows them).\n",
               spec.id);
    return kExitBadInput;
  }
  const std::string path = resolve_scenario(spec.id, scenario_arg);
  if (path.empty()) {
    fmt::print(stderr, "lab-{}: no scenario named '{}' (--list shows them)\n", spec.id,
               scenario_arg);
    return kExitBadInput;
  }

  script::Scenario scenario;
  try {
    scenario = script::load_scenario(path, registry);
  } catch (const script::ScenarioError& e) {
    fmt::print(stderr, "{}\n", e.what());
    return kExitBadInput;
  }

  if (emit_node) {
    fmt::print("{}", script::emit_twin(scenario));
    return 0;
  }

  runtime::install_signal_handlers();
  static char stdout_buf[1 << 16];
  std::setvbuf(stdout, stdout_buf, _IOFBF, sizeof stdout_buf);

  runtime::RuntimeOptions options;
  options.eld_resolution = std::chrono::milliseconds(resolution_ms);
  // --logs-only prints no narration: the per-callback recording is needed only when the
  // scenario checks phases or a trace was asked for.
  options.record_callbacks = !logs_only || !scenario.expect.phases.empty() || !trace_path.empty();
  if (logs_only) {
    options.log_sink = [](std::string_view line) {
      std::fwrite(line.data(), 1, line.size(), stdout);
      std::fputc('\n', stdout);
    };
  }
  runtime::Runtime rt(std::move(options));
  script::Interpreter interp(scenario, rt);
  runtime::RunResult result;
  {
    runtime::Watchdog watchdog(
        std::chrono::milliseconds(static_cast<std::int64_t>(timeout_s * 1000)));
    result = interp.run();
  }

  report::RunReport r;
  r.lab_id = spec.id;
  r.scenario = &scenario;
  r.recorder = &rt.recorder();
  r.metric_table = registry.metrics();
  r.result = result;
  rt.collect_metrics(r.metrics);
  bool expectations_ok = true;
  if (result.outcome != runtime::Outcome::stopped) {
    r.expectations = script::check_expectations(scenario.expect, rt.recorder(), r.metrics);
    r.expectations_checked = true;
    for (const auto& e : r.expectations)
      expectations_ok = expectations_ok && e.ok;
  }
  if (result.outcome == runtime::Outcome::stopped) {
    r.exit_code = runtime::stop_exit_code(result.stop);
  } else if (!expectations_ok) {
    r.exit_code = kExitExpectationFailed;
  } else if (result.outcome != runtime::Outcome::completed) {
    r.exit_code = 1;
  }

  if (!trace_path.empty()) {
    std::string error;
    if (!report::write_trace(trace_path, r, &error)) {
      fmt::print(stderr, "lab-{}: {}\n", spec.id, error);
      return kExitBadInput;
    }
  }

  if (json) {
    report::write_json(stdout, r, true);
  } else if (logs_only) {
    std::fflush(stdout);
    if (r.exit_code != 0) fmt::print(stderr, "lab-{}: {}\n", spec.id, report::describe_outcome(r));
    for (const auto& e : r.expectations) {
      if (!e.ok)
        fmt::print(stderr, "lab-{}: expectation failed: {} — {}\n", spec.id, e.what, e.detail);
    }
  } else {
    const report::Style st = report::Style::detect(stdout, no_color);
    report::print_header(stdout, r, st);
    report::print_narration(stdout, r, st);
    report::print_metrics(stdout, r, st);
    report::print_expectations(stdout, r, st);
    report::print_outcome(stdout, r, st);
    report::print_answer(stdout, r, st);
  }
  if (!trace_path.empty() && !json) {
    fmt::print(stderr,
               "trace written to {} (open it in https://ui.perfetto.dev or "
               "chrome://tracing)\n",
               trace_path);
  }
  std::fflush(stdout);
  return r.exit_code;
}

}  // namespace nodelab::cli
