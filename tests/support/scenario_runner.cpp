#include "support/scenario_runner.hpp"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
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

const script::OpRegistry& shared_ops() {
  static const script::OpRegistry registry = script::shared_registry("event-loop");
  return registry;
}

RunOutput run_yaml(const std::string& yaml, const script::OpRegistry& registry,
                   const RunOptions& options) {
  TempFile file(yaml);
  const script::Scenario s = script::load_scenario(file.path(), registry, {}, options.variant);
  RunOutput out;
  {
    runtime::RuntimeOptions ro;
    if (s.unhandled_rejections) ro.unhandled_rejections = *s.unhandled_rejections;
    runtime::Runtime rt(ro);
    script::Interpreter interp(s, rt);
    {
      runtime::Watchdog wd(options.watchdog);
      out.result = interp.run();
    }
    rt.collect_metrics(out.metrics);
    if (options.inspect) options.inspect(interp, rt, out);
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

std::string load_error(const std::string& yaml, const script::OpRegistry& registry,
                       const std::string& variant) {
  TempFile file(yaml);
  try {
    script::load_scenario(file.path(), registry, {}, variant);
  } catch (const script::ScenarioError& e) {
    std::string msg = e.what();
    if (msg.rfind(file.path(), 0) == 0) msg = "FILE" + msg.substr(file.path().size());
    return msg;
  }
  return "";
}

std::string twin_of(const std::string& yaml, const script::OpRegistry& registry,
                    const std::string& variant) {
  TempFile file(yaml);
  return script::emit_twin(script::load_scenario(file.path(), registry, {}, variant));
}

NodeRun run_node(const std::string& js, const std::vector<std::string>& flags) {
  TempFile file(js, ".js");
  process::Options o;
  o.err = process::Output::discard;
  std::vector<std::string> argv{"node"};
  argv.insert(argv.end(), flags.begin(), flags.end());
  argv.push_back(file.path());
  const process::Result r = process::run(argv, o);
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

bool node_available() {
  static const bool available = std::system("node --version >/dev/null 2>&1") == 0;
  return available;
}

}  // namespace nodelab::testing
