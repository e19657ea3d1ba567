#include "support/scenario_runner.hpp"
#include "event-loop/ops.hpp"

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>

#include "runtime/process.hpp"
#include "script/interpreter.hpp"
#include "script/scenario.hpp"
#include "script/shared_ops.hpp"
#include "script/twin.hpp"

namespace nodelab::testing {

namespace {
std::atomic<int> g_counter{0};
}

TempFile::TempFile(const std::string& content, const std::string& suffix) {
  path_ = (std::filesystem::temp_directory_path() / ("nodelab-test-" + std::to_string(getpid()) +
                                                     "-" + std::to_string(++g_counter) + suffix))
              .string();
  std::ofstream(path_, std::ios::binary) << content;
}

TempFile::~TempFile() {
  std::error_code ec;
  std::filesystem::remove(path_, ec);
}

RunOutput run_yaml(const std::string& yaml, std::chrono::milliseconds watchdog) {
  TempFile file(yaml);
  const auto registry = event_loop::registry();
  const script::Scenario s = script::load_scenario(file.path(), registry);
  RunOutput out;
  {
    runtime::Runtime rt;
    script::Interpreter interp(s, rt);
    {
      runtime::Watchdog wd(watchdog);
      out.result = interp.run();
    }
    rt.collect_metrics(out.metrics);
    out.logged = script::logged_lines(rt.recorder());
    for (const auto& l : out.logged)
      out.lines.push_back(l.text);
    out.expectations = script::check_expectations(s.expect, rt.recorder(), out.metrics);
    out.callbacks = rt.recorder().callbacks();
    out.loop_closed_cleanly = rt.shutdown() == 0;
  }
  runtime::clear_stop();
  return out;
}

std::string load_error(const std::string& yaml) {
  TempFile file(yaml);
  const auto registry = event_loop::registry();
  try {
    script::load_scenario(file.path(), registry);
  } catch (const script::ScenarioError& e) {
    std::string msg = e.what();
    if (msg.rfind(file.path(), 0) == 0) msg = "FILE" + msg.substr(file.path().size());
    return msg;
  }
  return "";
}

std::string twin_of(const std::string& yaml) {
  TempFile file(yaml);
  const auto registry = event_loop::registry();
  return script::emit_twin(script::load_scenario(file.path(), registry));
}

NodeRun run_node(const std::string& js) {
  TempFile file(js, ".js");
  process::Options o;
  o.err = process::Output::discard;
  const process::Result r = process::run({"node", file.path()}, o);
  NodeRun out;
  out.exit_code = r.exit_code;
  std::size_t start = 0;
  while (start < r.out.size()) {
    const std::size_t nl = r.out.find('\n', start);
    if (nl == std::string::npos) {
      out.lines.push_back(r.out.substr(start));
      break;
    }
    out.lines.push_back(r.out.substr(start, nl - start));
    start = nl + 1;
  }
  return out;
}

}  // namespace nodelab::testing
