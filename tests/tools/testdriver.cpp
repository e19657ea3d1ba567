// nodelab-testdriver: the data-driven tests CTest registers per scenario and per bad input.
//
//   nodelab-testdriver scenario  LAB FILE        the scenario's expect holds (via --json)
//   nodelab-testdriver parity    LAB FILE NODE   --emit-node twin on real node == --logs-only
//   nodelab-testdriver projector LAB FILE        every run (variants, --compare) fits 120
//                                                columns and prints no "n/a"
//   nodelab-testdriver bad-input LAB FILE        exit 2 and the located error its header names
//   nodelab-testdriver hostile   LAB CASE DIR    a generated hostile file: exit 2, located, fast
//
// Exit 0 pass, 1 fail, 77 skipped (CTest SKIP_RETURN_CODE).

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <yaml-cpp/yaml.h>
#include <nlohmann/json.hpp>

#include "process.hpp"
#include "report/style.hpp"
#include "runtime/process.hpp"

namespace fs = std::filesystem;
using nodelab::testing::run_process;
using nodelab::testing::split_lines;

namespace {

constexpr int kPass = 0;
constexpr int kFail = 1;
constexpr int kSkip = 77;

int fail(const std::string& msg) {
  fmt::print(stderr, "FAIL: {}\n", msg);
  return kFail;
}

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

// ---- scenario ----

// The runs a scenario file asks for: "" (params as written) and each declared variant.
std::vector<std::string> runs_of(const std::string& file) {
  std::vector<std::string> runs{""};
  const YAML::Node root = YAML::LoadFile(file);
  if (root["variants"] && root["variants"].IsMap()) {
    for (const auto& kv : root["variants"])
      runs.push_back(kv.first.Scalar());
  }
  return runs;
}

std::vector<std::string> with_variant(std::vector<std::string> argv, const std::string& variant) {
  if (!variant.empty()) {
    argv.push_back("--variant");
    argv.push_back(variant);
  }
  return argv;
}

std::string label(const std::string& variant) {
  return variant.empty() ? "(params as written)" : "--variant " + variant;
}

int scenario_run(const std::string& lab, const std::string& file, const std::string& variant) {
  const auto r = run_process(with_variant({lab, file, "--json", "--no-color"}, variant), {},
                             std::chrono::seconds(180));
  if (r.timed_out) return fail(label(variant) + ": timed out");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(r.out);
  } catch (const std::exception& e) {
    return fail(fmt::format("{}: exit {}, output is not JSON ({}); stderr: {}", label(variant),
                            r.exit_code, e.what(), r.err));
  }
  int status = kPass;
  const auto& results = j["expect"]["results"];
  if (results.empty()) status = fail(label(variant) + ": the scenario has no `expect` block");
  for (const auto& e : results) {
    if (!e["ok"].get<bool>()) {
      status = fail(fmt::format("{}: expectation: {} — {}", label(variant),
                                e["what"].get<std::string>(), e["detail"].get<std::string>()));
    } else {
      fmt::print("ok {}: {}\n", label(variant), e["what"].get<std::string>());
    }
  }
  for (auto key : {"mechanism", "failure", "mitigation", "evidence", "tradeoff"}) {
    if (!j["answer"].contains(key)) status = fail(fmt::format("the answer has no `{}`", key));
  }
  const std::string kind = j["outcome"]["kind"];
  // A completed run exits with process.exitCode (warn-with-error-code sets it to 1).
  const int want_exit = kind == "completed" ? j["outcome"].value("process_exit_code", 0) : 1;
  if (status == kPass && r.exit_code != want_exit) {
    status =
        fail(fmt::format("{}: outcome {} but exit code {}", label(variant), kind, r.exit_code));
  }
  fmt::print("outcome {}: {}\n", label(variant), j["outcome"]["summary"].get<std::string>());
  return status;
}

int scenario_test(const std::string& lab, const std::string& file) {
  int status = kPass;
  for (const auto& variant : runs_of(file)) {
    if (scenario_run(lab, file, variant) != kPass) status = kFail;
  }
  return status;
}

// ---- parity ----

// The orders a run may take: its variant's `expect.orderAnyOf` when the variant sets an order
// (it replaces the top-level one, docs/scenario-format.md), else the top-level one.
std::vector<std::vector<std::string>> order_any_of(const std::string& file,
                                                   const std::string& variant) {
  std::vector<std::vector<std::string>> alts;
  const YAML::Node root = YAML::LoadFile(file);
  const YAML::Node own = variant.empty() ? YAML::Node() : root["variants"][variant]["expect"];
  const YAML::Node expect = own && (own["order"] || own["orderAnyOf"]) ? own : root["expect"];
  if (expect && expect["orderAnyOf"]) {
    for (const auto& alt : expect["orderAnyOf"]) {
      std::vector<std::string> lines;
      for (const auto& l : alt)
        lines.push_back(l.Scalar());
      alts.push_back(lines);
    }
  }
  return alts;
}

void print_lines(const char* who, const std::vector<std::string>& lines) {
  fmt::print(stderr, "--- {} ({} lines)\n", who, lines.size());
  for (std::size_t i = 0; i < lines.size() && i < 60; ++i)
    fmt::print(stderr, "  {}\n", lines[i]);
  if (lines.size() > 60) fmt::print(stderr, "  ...\n");
}

int parity_run(const std::string& lab, const std::string& file, const std::string& node,
               const std::string& variant) {
  const auto twin = run_process(with_variant({lab, file, "--emit-node"}, variant));
  if (twin.exit_code != 0) return fail(label(variant) + ": --emit-node failed: " + twin.err);

  const fs::path dir = fs::temp_directory_path() / fmt::format("nodelab-parity-{}", getpid());
  fs::create_directories(dir);
  const fs::path js = dir / (fs::path(file).stem().string() + ".js");
  std::ofstream(js) << twin.out;

  // node runs with the flags the twin's first line names (`// run: node --flag FILE.js`),
  // and only those: a scenario's `process:` key.
  std::vector<std::string> node_argv{node};
  static const std::regex kRunLine(R"(^// run: node((?: --[a-z-]+=[a-z-]+)+) FILE\.js\n)");
  std::smatch run_line;
  if (std::regex_search(twin.out, run_line, kRunLine)) {
    std::istringstream flags(run_line[1].str());
    for (std::string flag; flags >> flag;)
      node_argv.push_back(flag);
  }
  node_argv.push_back(js.string());
  const auto on_node = run_process(node_argv, {}, std::chrono::seconds(180));
  const auto on_lab =
      run_process(with_variant({lab, file, "--logs-only"}, variant), {}, std::chrono::seconds(180));
  fs::remove_all(dir);
  if (on_node.timed_out || on_lab.timed_out) return fail(label(variant) + ": timed out");

  const auto node_lines = split_lines(on_node.out);
  const auto lab_lines = split_lines(on_lab.out);
  int status = kPass;
  if (node_lines != lab_lines) {
    // Where Node itself is nondeterministic the scenario says so with orderAnyOf: then both
    // runs must be one of the listed orders.
    const auto alts = order_any_of(file, variant);
    auto allowed = [&](const std::vector<std::string>& l) {
      return std::find(alts.begin(), alts.end(), l) != alts.end();
    };
    if (alts.empty() || !allowed(node_lines) || !allowed(lab_lines)) {
      print_lines("node", node_lines);
      print_lines("lab --logs-only", lab_lines);
      status = fail(label(variant) + (alts.empty() ? ": stdout differs between node and the lab"
                                                   : ": an output is none of the orderAnyOf"));
    } else {
      fmt::print("{}: node and the lab took different orders, both listed in orderAnyOf\n",
                 label(variant));
    }
  }
  // The lab exits 1 exactly when Node would (uncaught exception, unhandled rejection).
  const int lab_exit = on_lab.exit_code == 3 ? -3 : on_lab.exit_code;
  if (lab_exit != on_node.exit_code) {
    status = fail(fmt::format("{}: exit codes differ: node {} lab {} (lab stderr: {})",
                              label(variant), on_node.exit_code, on_lab.exit_code, on_lab.err));
  }
  if (status == kPass) {
    fmt::print("parity {}: {} {} lines, exit {}\n", label(variant), lab_lines.size(),
               node_lines == lab_lines ? "identical" : "allowed", lab_exit);
  }
  return status;
}

int parity_test(const std::string& lab, const std::string& file, const std::string& node) {
  if (node.empty() || access(node.c_str(), X_OK) != 0) {
    fmt::print("SKIP: node is not installed (looked for '{}'); parity with Node.js not checked\n",
               node);
    return kSkip;
  }
  const auto version = run_process({node, "--version"});
  fmt::print("node {}", version.out);
  if (version.out.rfind("v20.", 0) != 0) {
    fmt::print("note: the twin targets Node 20; this is {}", version.out);
  }
  int status = kPass;
  for (const auto& variant : runs_of(file)) {
    if (parity_run(lab, file, node, variant) != kPass) status = kFail;
  }
  return status;
}

// ---- bad input ----

// The file's first line names the error: `# error: LINE:COL: text` (or `# error: text`).
int bad_input_test(const std::string& lab, const std::string& file) {
  const std::string text = read_file(file);
  const std::string tag = "# error: ";
  if (text.rfind(tag, 0) != 0) return fail("the file must start with `# error: LINE:COL: text`");
  const std::string want = text.substr(tag.size(), text.find('\n') - tag.size());
  const auto r = run_process({lab, file}, {}, std::chrono::seconds(10));
  if (r.timed_out) return fail("hung");
  if (r.exit_code != 2)
    return fail(fmt::format("exit {} (want 2); stderr: {}", r.exit_code, r.err));
  const std::string expected_prefix = file + ":";
  if (r.err.rfind(expected_prefix, 0) != 0)
    return fail("stderr does not start with FILE: " + r.err);
  // `want` is "LINE:COL: substring" or "substring".
  const std::string got = r.err.substr(expected_prefix.size());
  std::string loc, needle = want;
  if (const auto c1 = want.find(':'); c1 != std::string::npos && std::isdigit(want[0])) {
    const auto c2 = want.find(':', c1 + 1);
    loc = want.substr(0, c2);
    needle = want.substr(c2 + 2);
    if (got.rfind(loc + ":", 0) != 0) {
      return fail(fmt::format("location: want {} got {}", loc, got.substr(0, got.find(' '))));
    }
  }
  if (got.find(needle) == std::string::npos) {
    return fail(fmt::format("message: want '{}' in '{}'", needle, got));
  }
  fmt::print("ok ({} ms): {}", r.elapsed.count(), r.err);
  return kPass;
}

// ---- hostile input ----

struct Hostile {
  std::string what;
  std::function<std::string(const fs::path& dir)> make;  // returns the path to pass
  std::string needle;                                    // in stderr
};

std::string write(const fs::path& p, const std::string& content) {
  std::ofstream(p, std::ios::binary) << content;
  return p.string();
}

std::string repeat(std::string_view s, std::size_t n) {
  std::string out;
  out.reserve(s.size() * n);
  for (std::size_t i = 0; i < n; ++i)
    out += s;
  return out;
}

std::map<std::string, Hostile> hostile_cases() {
  std::map<std::string, Hostile> c;
  c["deep-flow"] = {"100k-deep flow nesting",
                    [](const fs::path& d) {
                      return write(d / "deep.yaml", "lab: event-loop\nmain: " +
                                                        repeat("[", 100000) + repeat("]", 100000));
                    },
                    "nested too deeply"};
  c["deep-block"] = {"100k-deep block nesting",
                     [](const fs::path& d) {
                       return write(d / "deep.yaml",
                                    "lab: event-loop\nmain:\n  " + repeat("- ", 100000) + "x\n");
                     },
                     "nested too deeply"};
  c["deep-ops"] = {"ops nested 100 deep (valid YAML)",
                   [](const fs::path& d) {
                     return write(d / "deep.yaml",
                                  "lab: event-loop\nmain: " + repeat("[{nextTick: {then: ", 100) +
                                      "[]" + repeat("}}]", 100) + "\n");
                   },
                   "nested more than"};
  c["billion-laughs"] = {"alias bomb over op lists",
                         [](const fs::path& d) {
                           std::string y = "lab: event-loop\nx0: &a0 [{log: lol}]\n";
                           for (int i = 1; i <= 30; ++i) {
                             y += fmt::format(
                                 "x{}: &a{} [{{repeat: {{times: 1, do: *a{}}}}}, "
                                 "{{repeat: {{times: 1, do: *a{}}}}}]\n",
                                 i, i, i - 1, i - 1);
                           }
                           y += "main: *a30\n";
                           return write(d / "bomb.yaml", y);
                         },
                         "unknown top-level key 'x0'"};
  c["alias-bomb-main"] = {
      "alias bomb inside main (each level 10x the last)",
      [](const fs::path& d) {
        std::string y = "lab: event-loop\nmain:\n  - repeat: {times: 1, do: &a0 [" +
                        repeat("{log: lol}, ", 9) + "{log: lol}]}\n";
        for (int i = 1; i <= 9; ++i) {
          const std::string item = fmt::format("{{repeat: {{times: 1, do: *a{}}}}}", i - 1);
          y += fmt::format("  - repeat: {{times: 1, do: &a{} [{}{}]}}\n", i, repeat(item + ", ", 9),
                           item);
        }
        return write(d / "bomb.yaml", y);
      },
      "ops in the file"};
  c["alias-times"] = {
      "aliases multiplying times",
      [](const fs::path& d) {
        std::string y =
            "lab: event-loop\nmain:\n  - repeat: {times: 1000000, do: &a0 [{log: x}]}\n";
        for (int i = 1; i <= 4; ++i) {
          y += fmt::format(
              "  - repeat: {{times: 1000000, do: &a{} [{{repeat: {{times: 1000000, do: "
              "*a{}}}}}]}}\n",
              i, i - 1);
        }
        return write(d / "times.yaml", y);
      },
      "once every `times` is multiplied out"};
  c["huge-times"] = {"times beyond the limit",
                     [](const fs::path& d) {
                       return write(d / "t.yaml",
                                    "lab: event-loop\nmain:\n  - repeat: {times: 1e300, do: []}\n");
                     },
                     "must be between 0 and 1000000"};
  c["huge-block"] = {"block beyond the limit",
                     [](const fs::path& d) {
                       return write(d / "t.yaml",
                                    "lab: event-loop\nmain:\n  - block: {ms: 1e12}\n");
                     },
                     "must be between 0 and 60000"};
  c["big-file"] = {"a 100 MB file",
                   [](const fs::path& d) {
                     const fs::path p = d / "big.yaml";
                     std::ofstream(p) << "lab: event-loop\n";
                     fs::resize_file(p, 100u * 1024 * 1024);  // sparse: instant, no disk used
                     return p.string();
                   },
                   "the limit is"};
  c["directory"] = {"a directory", [](const fs::path& d) { return d.string(); }, "is a directory"};
  c["dev-zero"] = {"/dev/zero", [](const fs::path&) { return std::string("/dev/zero"); },
                   "not a regular file"};
  c["fifo"] = {"a FIFO (opening it would block)",
               [](const fs::path& d) {
                 const fs::path p = d / "fifo.yaml";
                 mkfifo(p.c_str(), 0600);
                 return p.string();
               },
               "not a regular file"};
  c["missing"] = {"a missing file", [](const fs::path& d) { return (d / "nope.yaml").string(); },
                  "No such file"};
  c["non-utf8"] = {"invalid UTF-8",
                   [](const fs::path& d) {
                     return write(d / "bad.yaml", "lab: event-loop\nmain:\n  - log: caf\xe9\n");
                   },
                   ":3:13: invalid UTF-8"};
  c["nul-byte"] = {"a NUL byte",
                   [](const fs::path& d) {
                     return write(d / "nul.yaml",
                                  std::string("lab: event-loop\nmain: []\n\0\n", 28));
                   },
                   ":3:1: control character U+0000"};
  c["empty"] = {"an empty file", [](const fs::path& d) { return write(d / "e.yaml", ""); },
                ":1:1: empty scenario"};
  c["comments-only"] = {"comments only",
                        [](const fs::path& d) { return write(d / "c.yaml", "# nothing\n\n"); },
                        "empty scenario"};
  c["two-docs"] = {"two YAML documents",
                   [](const fs::path& d) {
                     return write(d / "two.yaml", "lab: event-loop\nmain: []\n---\nlab: x\n");
                   },
                   "one YAML document"};
  c["binary"] = {"random binary",
                 [](const fs::path& d) {
                   std::string s;
                   for (int i = 0; i < 4096; ++i)
                     s += static_cast<char>((i * 7919 + 13) % 256);
                   return write(d / "bin.yaml", s);
                 },
                 "bin.yaml:1:"};
  return c;
}

int hostile_test(const std::string& lab, const std::string& name, const std::string& workdir) {
  const auto cases = hostile_cases();
  const auto it = cases.find(name);
  if (it == cases.end()) return fail("unknown hostile case " + name);
  const fs::path dir = fs::path(workdir) / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string path = it->second.make(dir);
  const auto r = run_process({lab, path}, {}, std::chrono::seconds(10));
  fs::remove_all(dir);
  if (r.timed_out) return fail("hung (killed after 10 s)");
  if (r.signal) return fail(fmt::format("crashed with signal {}", r.signal));
  if (r.exit_code != 2)
    return fail(fmt::format("exit {} (want 2); stderr: {}", r.exit_code, r.err));
  if (r.err.rfind(path, 0) != 0) return fail("the message does not start with the file: " + r.err);
  if (r.err.find(it->second.needle) == std::string::npos) {
    return fail(fmt::format("want '{}' in: {}", it->second.needle, r.err));
  }
  fmt::print("ok ({}; {} ms): {}", it->second.what, r.elapsed.count(), r.err);
  return kPass;
}

// ---- command line ----

#if defined(__SANITIZE_THREAD__)
constexpr int kSanitizerSlowdown = 10;
#elif defined(__SANITIZE_ADDRESS__)
constexpr int kSanitizerSlowdown = 4;
#else
constexpr int kSanitizerSlowdown = 1;
#endif

// Runs ARGS; passes if the exit code is `want_exit` and stdout+stderr contain `needle`.
int cli_test(int want_exit, const std::string& needle, const std::vector<std::string>& args) {
  // The tour and the --compare runs take a few seconds; a sanitizer build is several times
  // slower (the testdriver is built with the same sanitizer as the labs it runs).
  const auto r = run_process(args, {}, std::chrono::seconds(30 * kSanitizerSlowdown));
  if (r.timed_out) return fail("hung");
  if (r.exit_code != want_exit) {
    return fail(fmt::format("exit {} (want {}); stdout: {}; stderr: {}", r.exit_code, want_exit,
                            r.out.substr(0, 2000), r.err));
  }
  if ((r.out + r.err).find(needle) == std::string::npos) {
    return fail(fmt::format("want '{}' in the output; stdout: {}; stderr: {}", needle,
                            r.out.substr(0, 2000), r.err));
  }
  fmt::print("ok: exit {} in {} ms\n", r.exit_code, r.elapsed.count());
  return kPass;
}

// Starts ARGS, sends `sig` after `after_ms`, and expects `want_exit` and `needle`.
int signal_test(int sig, int after_ms, int want_exit, const std::string& needle,
                const std::vector<std::string>& args) {
  nodelab::process::Options o;
  o.signal = sig;
  o.signal_after = std::chrono::milliseconds(after_ms);
  o.timeout = o.signal_after + std::chrono::seconds(10);  // then SIGKILL
  const nodelab::process::Result r = nodelab::process::run(args, o);
  const std::string out = r.out + r.err;
  if (r.spawn_error != 0) return fail("could not start: " + r.err);
  if (r.timed_out) return fail("did not stop within 10 s of the signal");
  if (r.exit_code != want_exit) {
    return fail(fmt::format("exit {} (signal {}; want exit {}); output: {}", r.exit_code,
                            r.term_signal, want_exit, out));
  }
  if (out.find(needle) == std::string::npos) return fail("want '" + needle + "' in: " + out);
  fmt::print("ok: stopped {} ms after the signal, exit {}\n", r.signal_to_exit.count(), want_exit);
  return kPass;
}

// ---- projector ----

// Columns a line takes on a terminal (escape sequences excluded).
std::size_t columns(const std::string& line) {
  static const std::regex kEscape("\x1b\\[[0-9;]*m");
  return nodelab::report::display_width(std::regex_replace(line, kEscape, ""));
}

// What an instructor projects: the run as the terminal shows it, at 120 columns. Every line
// fits, and nothing reads "n/a" (a placeholder with no figure, a sentence about a variant
// that did not run).
int projector_run(const std::string& lab, const std::string& file,
                  const std::vector<std::string>& mode) {
  std::vector<std::string> argv = {lab, file, "--no-color"};
  argv.insert(argv.end(), mode.begin(), mode.end());
  const std::string what =
      mode.empty() ? "(params as written)" : fmt::format("{}", fmt::join(mode, " "));
  const auto r = run_process(argv, {}, std::chrono::seconds(240), {"COLUMNS=120"});
  if (r.timed_out) return fail(what + ": timed out");
  int status = kPass;
  std::size_t n = 0;
  for (const auto& line : split_lines(r.out)) {
    ++n;
    if (columns(line) > 120) {
      status = fail(fmt::format("{}: line {} is {} columns (the limit is 120): {}", what, n,
                                columns(line), line));
    }
    if (line.find("n/a") != std::string::npos) {
      status = fail(fmt::format("{}: line {} prints \"n/a\": {}", what, n, line));
    }
  }
  if (status == kPass) fmt::print("ok {}: {} lines, none over 120 columns, no n/a\n", what, n);
  return status;
}

int projector_test(const std::string& lab, const std::string& file) {
  int status = kPass;
  const auto runs = runs_of(file);
  for (const auto& variant : runs) {
    if (projector_run(lab, file, with_variant({}, variant)) != kPass) status = kFail;
  }
  if (runs.size() > 1 && projector_run(lab, file, {"--compare"}) != kPass) status = kFail;
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> a(argv + 1, argv + argc);
  if (a.size() == 3 && a[0] == "scenario") return scenario_test(a[1], a[2]);
  if (a.size() == 4 && a[0] == "parity") return parity_test(a[1], a[2], a[3]);
  if (a.size() == 3 && a[0] == "projector") return projector_test(a[1], a[2]);
  if (a.size() == 3 && a[0] == "bad-input") return bad_input_test(a[1], a[2]);
  if (a.size() == 4 && a[0] == "hostile") return hostile_test(a[1], a[2], a[3]);
  if (a.size() >= 4 && a[0] == "cli") {
    return cli_test(std::stoi(a[1]), a[2], std::vector<std::string>(a.begin() + 3, a.end()));
  }
  if (a.size() >= 6 && a[0] == "signal") {
    return signal_test(a[1] == "INT" ? SIGINT : SIGTERM, std::stoi(a[2]), std::stoi(a[3]), a[4],
                       std::vector<std::string>(a.begin() + 5, a.end()));
  }
  if (a.size() == 1 && a[0] == "hostile-cases") {
    for (const auto& [name, c] : hostile_cases())
      fmt::print("{}\n", name);
    return 0;
  }
  fmt::print(stderr,
             "usage: nodelab-testdriver scenario LAB FILE | parity LAB FILE NODE | "
             "projector LAB FILE | "
             "bad-input LAB FILE | hostile LAB CASE DIR | hostile-cases | cli EXIT TEXT CMD... | "
             "signal INT|TERM AFTER_MS EXIT TEXT CMD...\n");
  return 2;
}
