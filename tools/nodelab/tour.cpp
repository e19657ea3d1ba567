// `nodelab tour`: each lab's headline scenario, one screen each, ending with the figure to
// cite and the verdict.

#include "nodelab/tour.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>

#include <fmt/format.h>

#include "all_labs.hpp"
#include "nodelab/child.hpp"
#include "report/style.hpp"

namespace nodelab::driver {

namespace {

struct Stop {
  std::string lab;
  cli::TourStop stop;
};

// Every lab's screens, in the order of NODELAB_LABS.
std::vector<Stop> stops() {
  std::vector<Stop> s;
  for (const auto& lab : labs::all()) {
    for (const auto& t : lab.tour)
      s.push_back({lab.id, t});
  }
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
  const auto all = stops();
  int shown = 0;
  for (std::size_t i = 0; i < all.size(); ++i) {
    const std::string& lab = all[i].lab;
    const cli::TourStop& stop = all[i].stop;
    const std::string bin = lab_binary(lab);
    if (bin.empty()) {
      fmt::print(stderr, "nodelab tour: lab-{} is not next to nodelab (build it)\n", lab);
      return 1;
    }
    std::vector<std::string> argv{bin, stop.scenario, "--no-color"};
    argv.push_back(stop.compare ? "--compare" : "--json");
    if (stop.compare) argv.push_back("--json");
    std::fprintf(stderr, "running lab-%s %s%s ...\n", lab.c_str(), stop.scenario.c_str(),
                 stop.compare ? " --compare" : "");
    nlohmann::json j;
    try {
      j = run_json(argv);
    } catch (const std::exception& e) {
      fmt::print(stderr, "nodelab tour: {}\n", e.what());
      return 1;
    }
    ++shown;
    fmt::print("\n{}\n", st.bold(fmt::format("── {}/{} · lab-{} · {}{} ", i + 1, all.size(), lab,
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
