// `nodelab tour`: each lab's headline scenario, one screen each, ending with the figure to
// cite and the verdict.

#include "nodelab/tour.hpp"

#include <algorithm>
#include <cstdio>

#include <fmt/format.h>

#include "nodelab/child.hpp"
#include "report/style.hpp"

namespace nodelab::driver {

namespace {

struct Stop {
  std::string lab;
  std::string scenario;
  bool compare = false;
  std::string look_at;
};

const std::vector<Stop>& stops() {
  static const std::vector<Stop> s = {
      {"event-loop", "nexttick-starvation", false,
       "the timer due 50 ms after the chain started fires about a second late, and the finished "
       "read waits too: a nextTick chain never lets the loop move"},
      {"event-loop", "cpu-work-strategies", true,
       "the same 200 ms of CPU work four ways: only setImmediate chunks and the threadpool keep "
       "the timer on time; nextTick 'chunking' is no better than one block"},
      {"worker-pool", "strategies-side-by-side", true,
       "the same CPU tasks four ways: on the loop the loop's delay is the task time; the pool "
       "keeps the loop free, and a worker per task pays a start-up on every task"},
      {"streams", "ignore-backpressure", false,
       "a producer that ignores write()'s false over a real TCP socket: the bytes pile up in the "
       "Writable's buffer far past its 16 KiB highWaterMark, until a ceiling stops it"},
      {"streams", "honor-backpressure", true,
       "the same producer waiting for 'drain': every stage stays at its highWaterMark, over TCP, "
       "a pipe or memory, and the peer's read rate sets the pace"},
      {"emitter", "leak-vs-mitigations", true,
       "a listener per request on a long-lived emitter: only the leak retains memory; once() "
       "cleans up but makes each emit walk the array"},
  };
  return s;
}

std::string verdict_line(const nlohmann::json& diagnosis, const report::Style& st) {
  if (diagnosis.empty()) return st.good("no blocking, no saturated pool");
  std::string out;
  for (const auto& f : diagnosis) {
    if (!out.empty()) out += "; ";
    out += st.warn(f.at("verdict").get<std::string>()) + " -> " +
           f.at("mitigation").get<std::string>();
  }
  return out;
}

}  // namespace

int tour(const report::Style& st) {
  const auto& all = stops();
  int shown = 0;
  for (std::size_t i = 0; i < all.size(); ++i) {
    const Stop& stop = all[i];
    const std::string bin = lab_binary(stop.lab);
    if (bin.empty()) continue;  // a lab this build does not have
    std::vector<std::string> argv{bin, stop.scenario, "--no-color"};
    argv.push_back(stop.compare ? "--compare" : "--json");
    if (stop.compare) argv.push_back("--json");
    std::fprintf(stderr, "running lab-%s %s%s ...\n", stop.lab.c_str(), stop.scenario.c_str(),
                 stop.compare ? " --compare" : "");
    nlohmann::json j;
    try {
      j = run_json(argv);
    } catch (const std::exception& e) {
      fmt::print(stderr, "nodelab tour: {}\n", e.what());
      return 1;
    }
    ++shown;
    fmt::print("\n{}\n",
               st.bold(fmt::format("── {}/{} · lab-{} · {}{} ", i + 1, all.size(), stop.lab,
                                   stop.scenario, stop.compare ? " --compare" : "")));
    fmt::print("{}\n\n", j["scenario"].value("title", ""));
    if (!stop.compare) {
      fmt::print("{}\n", st.bold("what it printed"));
      const auto& logs = j["logs"];
      for (std::size_t k = 0; k < logs.size() && k < 8; ++k) {
        fmt::print("  {}  {}\n", st.dim(fmt::format("{:<9}", logs[k].value("phase", ""))),
                   logs[k].value("text", ""));
      }
      if (logs.size() > 8) fmt::print("  ... {} more lines\n", logs.size() - 8);
      fmt::print("\n{} {}\n", st.bold("verdict:"), verdict_line(j["diagnosis"], st));
    } else {
      // Each column as wide as its header or its widest cell.
      const auto& cols = j["columns"];
      std::vector<std::size_t> width;
      for (std::size_t c = 0; c < cols.size(); ++c) {
        std::size_t w = cols[c].get<std::string>().size();
        for (const auto& v : j["variants"]) {
          w = std::max(w, v["cells"][c].get<std::string>().size());
        }
        width.push_back(w + 2);
      }
      std::string header = fmt::format("  {:<12}", "variant");
      for (std::size_t c = 0; c < cols.size(); ++c) {
        header += fmt::format("{:>{}}", cols[c].get<std::string>(), width[c]);
      }
      fmt::print("{}\n", st.bold(header));
      for (const auto& v : j["variants"]) {
        std::string line = fmt::format("  {:<12}", v.value("name", ""));
        for (std::size_t c = 0; c < cols.size(); ++c) {
          line += fmt::format("{:>{}}", v["cells"][c].get<std::string>(), width[c]);
        }
        fmt::print("{}\n", line);
      }
      fmt::print("\n{}\n", st.bold("verdicts"));
      for (const auto& v : j["variants"]) {
        fmt::print("  {:<12} {}\n", v.value("name", ""), verdict_line(v["diagnosis"], st));
      }
    }
    fmt::print("\n{} {}\n", st.bold("look at:"), stop.look_at);
    fmt::print("{} {}\n", st.bold("cite:"), j["answer"].value("evidence", "(no evidence)"));
  }
  fmt::print("\n{}\n", st.bold(fmt::format(
                           "tour done: {} screens. Run one yourself: nodelab run LAB SCENARIO "
                           "(nodelab list shows them), --step to walk a run phase by phase.",
                           shown)));
  return 0;
}

}  // namespace nodelab::driver
