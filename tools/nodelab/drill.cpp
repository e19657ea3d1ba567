#include "nodelab/drill.hpp"

#include <nlohmann/json.hpp>

#include <yaml-cpp/yaml.h>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <random>

#include <editline/readline.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "all_labs.hpp"
#include "cli/lab_main.hpp"
#include "nodelab/child.hpp"
#include "report/run_report.hpp"
#include "report/style.hpp"

namespace nodelab::driver {

namespace {

struct Question {
  std::string lab;
  std::string name;
  std::string path;
};

// A scenario makes a fair question when Node's order is fixed (expect.order, no orderAnyOf),
// short (2 to 12 lines) and needs no lab-specific machinery (no variants, params, nor a lab's
// own top-level block).
// Returns why it does not, or "" when it does.
std::string why_not_drillable(const YAML::Node& root) {
  if (!root.IsMap()) return "it is not a scenario";
  if (root["variants"]) return "it has variants (each prints its own lines)";
  if (root["params"]) return "it has params";
  // A lab's own block (emitter's requests, worker-pool's workload, streams' flow) makes a
  // twin of that lab's machinery, not a program to read in a minute.
  for (const auto& kv : root) {
    const std::string key = kv.first.Scalar();
    if (key != "lab" && key != "name" && key != "title" && key != "answer" && key != "main" &&
        key != "expect" && key != "resolution") {
      return "it has a `" + key + ":` block (the lab's own machinery, not a short program)";
    }
  }
  const YAML::Node expect = root["expect"];
  if (!expect || !expect["order"]) return "it declares no expect.order";
  if (expect["orderAnyOf"]) return "Node's order is not fixed (expect.orderAnyOf)";
  const auto n = expect["order"].size();
  if (n < 2 || n > 12) return fmt::format("its order has {} lines (a drill asks 2 to 12)", n);
  return {};
}

// The lab's scenario files, sorted (the first scenario directory that exists is the lab's).
std::vector<std::filesystem::path> scenario_files(const std::string& lab) {
  std::vector<std::filesystem::path> files;
  for (const auto& dir : cli::scenario_dirs(lab)) {
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec)) continue;
    for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
      if (e.path().extension() == ".yaml") files.push_back(e.path());
    }
    std::sort(files.begin(), files.end());
    break;
  }
  return files;
}

std::vector<Question> candidates(const std::vector<std::string>& labs) {
  std::vector<Question> out;
  for (const auto& lab : labs) {
    for (const auto& f : scenario_files(lab)) {
      try {
        if (why_not_drillable(YAML::LoadFile(f.string())).empty()) {
          out.push_back({lab, f.stem().string(), f.string()});
        }
      } catch (const std::exception&) {
        // A file that does not even parse is no question.
      }
    }
  }
  return out;
}

// Why `want` (NAME or LAB/NAME) is not among the drill questions of `labs`: no such scenario
// (with the nearest name), a lab that asks none, a lab left out, or what the scenario lacks.
std::string why_not_a_question(const std::string& want, const std::vector<std::string>& labs,
                               const std::vector<Question>& pool) {
  const auto slash = want.find('/');
  const std::string want_lab = slash == std::string::npos ? "" : want.substr(0, slash);
  const std::string want_name = slash == std::string::npos ? want : want.substr(slash + 1);
  if (!want_lab.empty() && labs::find(want_lab) == nullptr) return unknown_lab(want_lab);
  for (const auto& lab : labs::all()) {
    if (!want_lab.empty() && lab.id != want_lab) continue;
    for (const auto& f : scenario_files(lab.id)) {
      if (f.stem().string() != want_name) continue;
      const std::string which = lab.id + "/" + want_name;
      if (!lab.drill) {
        return fmt::format(
            "'{}' is not a drill question: lab '{}' asks none (its orders depend "
            "on more than Node)",
            which, lab.id);
      }
      if (std::find(labs.begin(), labs.end(), lab.id) == labs.end()) {
        return fmt::format("'{}' is lab {}'s, and the labs named are {}", which, lab.id,
                           fmt::join(labs, ", "));
      }
      std::string why;
      try {
        why = why_not_drillable(YAML::LoadFile(f.string()));
      } catch (const std::exception& e) {
        why = std::string("it does not parse: ") + e.what();
      }
      return fmt::format("'{}' is not a drill question: {}", which, why);
    }
  }
  std::vector<std::string> names;
  for (const auto& q : pool)
    names.push_back(q.name);
  const std::string guess = did_you_mean(want_name, names);
  return fmt::format("no scenario '{}'{}{}", want, want_lab.empty() ? "" : " in lab " + want_lab,
                     guess.empty() ? "" : "; did you mean " + guess + "?");
}

// The answer's lines, one per line until an empty one. On a terminal, libedit's readline()
// edits each line (arrow keys, history of this session's lines); piped input is read as is.
class AnswerReader {
 public:
  explicit AnswerReader(std::istream& in)
      : in_(in),
        tty_(&in == &std::cin && ::isatty(STDIN_FILENO) != 0 && ::isatty(STDOUT_FILENO) != 0) {
    if (tty_) {
      rl_readline_name = "nodelab";
      rl_bind_key('\t', rl_insert);  // a Tab is a Tab, not a file name completion
    }
  }
  // False at the end of the input.
  bool line(std::string& out) {
    if (!tty_) {
      if (!std::getline(in_, out)) return false;
      if (!out.empty() && out.back() == '\r') out.pop_back();
      return true;
    }
    char* l = ::readline("> ");
    if (l == nullptr) return false;
    out = l;
    std::free(l);
    if (!out.empty()) ::add_history(out.c_str());
    return true;
  }

 private:
  std::istream& in_;
  bool tty_;
};

// Longest common subsequence, to say which predicted lines were right and in order.
std::vector<std::pair<int, int>> lcs(const std::vector<std::string>& a,
                                     const std::vector<std::string>& b) {
  const std::size_t n = a.size(), m = b.size();
  std::vector<std::vector<int>> t(n + 1, std::vector<int>(m + 1, 0));
  for (std::size_t i = n; i-- > 0;) {
    for (std::size_t j = m; j-- > 0;) {
      t[i][j] = a[i] == b[j] ? t[i + 1][j + 1] + 1 : std::max(t[i + 1][j], t[i][j + 1]);
    }
  }
  std::vector<std::pair<int, int>> pairs;
  std::size_t i = 0, j = 0;
  while (i < n && j < m) {
    if (a[i] == b[j]) {
      pairs.emplace_back(static_cast<int>(i++), static_cast<int>(j++));
    } else if (t[i + 1][j] >= t[i][j + 1]) {
      ++i;
    } else {
      ++j;
    }
  }
  return pairs;
}

// The program a candidate is handed: the twin without its header comments, and without the
// 'warning' handler unless the answer involves a process warning.
std::string twin_body(const std::string& twin, bool keep_warning_handler) {
  std::string out;
  std::size_t pos = 0;
  while (pos < twin.size()) {
    const auto nl = twin.find('\n', pos);
    const std::string line =
        twin.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    const bool header = out.empty() && line.rfind("//", 0) == 0;
    const bool handler = !keep_warning_handler && line.rfind("process.on('warning'", 0) == 0;
    if (!header && !handler) out += line + "\n";
    if (nl == std::string::npos) break;
    pos = nl + 1;
  }
  return out;
}

}  // namespace

int drill(const DrillOptions& o, std::istream& in, const report::Style& st) {
  std::vector<std::string> lab_ids;
  for (const auto& id : o.labs) {
    const cli::LabSpec* lab = labs::find(id);
    if (lab == nullptr) {
      fmt::print(stderr, "nodelab drill: {}\n", unknown_lab(id));
      return 2;
    }
    if (!lab->drill) {
      fmt::print(stderr,
                 "nodelab drill: lab '{}' asks no drill questions (its orders depend on "
                 "more than Node)\n",
                 id);
      return 2;
    }
    lab_ids.push_back(id);
  }
  if (lab_ids.empty()) {
    for (const auto& lab : labs::all()) {
      if (lab.drill) lab_ids.push_back(lab.id);
    }
  }
  std::vector<Question> pool = candidates(lab_ids);
  std::vector<Question> picks;
  const std::uint32_t seed = o.seed.value_or(static_cast<std::uint32_t>(
      std::chrono::steady_clock::now().time_since_epoch().count() & 0x7fffffff));
  // The command that asks exactly these questions again.
  std::string again = "nodelab drill";
  if (!o.scenarios.empty()) {
    for (const auto& want : o.scenarios) {
      const auto it = std::find_if(pool.begin(), pool.end(), [&](const Question& q) {
        return q.name == want || q.lab + "/" + q.name == want;
      });
      if (it == pool.end()) {
        fmt::print(stderr, "nodelab drill: {}\n", why_not_a_question(want, lab_ids, pool));
        return 2;
      }
      picks.push_back(*it);
      again += " --scenario " + it->lab + "/" + it->name;
    }
  } else {
    if (pool.empty()) {
      fmt::print(stderr, "nodelab drill: no drill scenarios found in {}\n",
                 fmt::join(lab_ids, ", "));
      return 2;
    }
    std::mt19937 rng(seed);
    std::shuffle(pool.begin(), pool.end(), rng);
    for (int i = 0; i < o.count && i < static_cast<int>(pool.size()); ++i)
      picks.push_back(pool[i]);
    for (const auto& id : o.labs)
      again += " " + id;
    again += fmt::format(" --seed {}", seed);
    if (o.count != DrillOptions{}.count) again += fmt::format(" --count {}", o.count);
  }
  if (o.plan) {
    if (o.scenarios.empty()) fmt::print("seed {}\n", seed);
    for (const auto& q : picks)
      fmt::print("{}/{}\n", q.lab, q.name);
    return 0;
  }

  fmt::print("{}\n", st.bold(fmt::format("nodelab drill: {} question{} (`{}` repeats this session)",
                                         picks.size(), picks.size() == 1 ? "" : "s", again)));
  AnswerReader reader(in);
  int exact = 0;
  double partial = 0;
  for (std::size_t k = 0; k < picks.size(); ++k) {
    const Question& q = picks[k];
    const std::string bin = lab_binary(q.lab);
    const ChildResult twin = capture({bin, q.path, "--emit-node"});
    fmt::print("\n{}\n", st.bold(fmt::format("── question {}/{} · {}/{}", k + 1, picks.size(),
                                             q.lab, q.name)));
    fmt::print("What does `node program.js` print?\n\n");
    bool warns = false;
    for (const auto& line : YAML::LoadFile(q.path)["expect"]["order"]) {
      warns = warns || line.Scalar().rfind("warning:", 0) == 0;
    }
    std::string code = twin_body(twin.out, warns);
    std::string indented;
    for (std::size_t pos = 0; pos < code.size();) {
      const auto nl = code.find('\n', pos);
      indented += "    " + code.substr(pos, nl - pos + 1);
      pos = nl == std::string::npos ? code.size() : nl + 1;
    }
    fmt::print("{}\n", indented);
    fmt::print("Type the printed lines in order, one per line; an empty line ends your answer.\n");
    std::cout.flush();
    std::vector<std::string> predicted;
    for (std::string line; reader.line(line);) {
      if (line.empty()) break;
      predicted.push_back(line);
    }

    nlohmann::json run;
    try {
      run = run_json({bin, q.path, "--json", "--no-color"});
    } catch (const std::exception& e) {
      fmt::print(stderr, "nodelab drill: {}\n", e.what());
      return 1;
    }
    std::vector<std::string> actual;
    std::vector<std::string> where;
    const auto& callbacks = run["callbacks"];
    for (const auto& l : run["logs"]) {
      // A logged text with newlines prints several lines, all from the same callback.
      const std::string text = l.value("text", "");
      const auto id = l.value("callback", 0u);
      std::string kind = id < callbacks.size() ? callbacks[id].value("kind", "") : "";
      const std::string origin = fmt::format("{} ({})", l.value("phase", ""), kind);
      std::size_t pos = 0;
      for (;;) {
        const auto nl = text.find('\n', pos);
        actual.push_back(text.substr(pos, nl - pos));
        where.push_back(origin);
        if (nl == std::string::npos) break;
        pos = nl + 1;
      }
    }
    const auto pairs = lcs(predicted, actual);
    const bool ok = predicted == actual;
    const double ratio = actual.empty()
                             ? 1.0
                             : static_cast<double>(pairs.size()) /
                                   static_cast<double>(std::max(actual.size(), predicted.size()));
    exact += ok ? 1 : 0;
    partial += ratio;
    fmt::print("\n{}\n", ok ? st.good("✓ exactly right")
                            : st.bad(fmt::format("✗ {} of {} lines in the right order",
                                                 pairs.size(), actual.size())));
    // What ran, line by line, marking the ones the prediction had in order.
    std::vector<bool> matched_actual(actual.size(), false);
    std::vector<bool> matched_pred(predicted.size(), false);
    for (const auto& [pi, ai] : pairs) {
      matched_pred[static_cast<std::size_t>(pi)] = true;
      matched_actual[static_cast<std::size_t>(ai)] = true;
    }
    fmt::print("{}\n", st.bold("what node prints, and where each line came from"));
    for (std::size_t i = 0; i < actual.size(); ++i) {
      fmt::print("  {} {:<44} {}\n", matched_actual[i] ? st.good("✓") : st.bad("✗"), actual[i],
                 st.dim(where[i]));
    }
    for (std::size_t i = 0; i < predicted.size(); ++i) {
      if (!matched_pred[i])
        fmt::print("  {} {}\n", st.warn("predicted, out of place or extra:"), predicted[i]);
    }
    const std::string mechanism = run["answer"].value("mechanism", "");
    if (!mechanism.empty()) {
      const auto room = static_cast<std::size_t>(report::terminal_width(stdout)) - 5;
      fmt::print("\n{} {}\n", st.bold("why:"), report::wrap_text(mechanism, room, 5));
    }
  }
  fmt::print("\n{}\n",
             st.bold(fmt::format(
                 "score: {}/{} exactly right ({:.0f}% of lines in "
                 "order)",
                 exact, picks.size(),
                 picks.empty() ? 0.0 : 100.0 * partial / static_cast<double>(picks.size()))));
  return 0;
}

}  // namespace nodelab::driver
