// `nodelab tour`: each lab's headline scenario, one screen each, ending with the figure to
// cite and the verdict.

#include "nodelab/tour.hpp"

#include <nlohmann/json.hpp>

#include <unistd.h>
#include <algorithm>

#include <cstdio>
#include <iostream>
#include <string_view>

#include <fmt/format.h>

#include "all_labs.hpp"
#include "nodelab/child.hpp"
#include "report/diagnosis.hpp"
#include "report/run_report.hpp"
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

// Every line of the tour fits this many columns: free text wraps at word boundaries.
constexpr std::size_t kWidth = 120;

// `label` (printed as is: it may carry colour codes; `label_cols` columns wide), then `text`
// wrapped to the tour's width, continuation lines indented by `label_cols`.
std::string wrapped(const std::string& label, std::size_t label_cols, std::string_view text) {
  return label + report::wrap_text(text, kWidth - label_cols, label_cols);
}

// A column header "listeners (final)" as two rows, "listeners" over "(final)", so the table
// stays narrow.
std::pair<std::string, std::string> header_rows(const std::string& h) {
  const auto paren = h.rfind(" (");
  if (paren == std::string::npos || h.back() != ')') return {h, ""};
  return {h.substr(0, paren), h.substr(paren + 1)};
}

// Waits for Enter before the next screen; false when the reader asked to stop (q, or the
// end of the input).
bool wait_for_enter(std::size_t next, std::size_t total, const std::string& what,
                    const report::Style& st) {
  fmt::print("\n{}", st.dim(fmt::format("Enter: screen {}/{} ({}) · q Enter: stop the tour ", next,
                                        total, what)));
  std::fflush(stdout);
  std::string line;
  if (!std::getline(std::cin, line)) return false;
  return line.empty() || (line[0] != 'q' && line[0] != 'Q');
}

// The run's verdicts after `label` (label_cols wide), one finding a line: the verdict, then
// its mitigation wrapped under it.
std::string verdict_lines(const nlohmann::json& diagnosis, const report::Style& st,
                          const std::string& label, std::size_t label_cols) {
  if (diagnosis.empty()) return label + st.good(report::kNoVerdict);
  std::string out;
  for (const auto& f : diagnosis) {
    const std::string verdict = f.at("verdict").get<std::string>();
    // "verdict -> mitigation" wrapped; the verdict (coloured) is the first words of it.
    const std::string text =
        report::wrap_text(verdict + " -> " + f.at("mitigation").get<std::string>(),
                          kWidth - label_cols - 2, label_cols + 2);
    out += (out.empty() ? label : "\n" + std::string(label_cols, ' ')) + st.warn(verdict) +
           text.substr(verdict.size());
  }
  return out;
}

}  // namespace

int tour(const report::Style& st, bool no_pause) {
  const auto all = stops();
  // Screens wait for Enter when a person is reading: stdin and stdout are a terminal.
  const bool pause = !no_pause && ::isatty(STDIN_FILENO) != 0 && ::isatty(STDOUT_FILENO) != 0;
  int shown = 0;
  for (std::size_t i = 0; i < all.size(); ++i) {
    const std::string& lab = all[i].lab;
    const cli::TourStop& stop = all[i].stop;
    const std::string what =
        fmt::format("lab-{} {}{}", lab, stop.scenario, stop.compare ? " --compare" : "");
    if (pause && i > 0 && !wait_for_enter(i + 1, all.size(), what, st)) {
      fmt::print("\n{}\n",
                 st.bold(fmt::format("tour stopped after {} of {} screens.", shown, all.size())));
      return 0;
    }
    const std::string bin = lab_binary(lab);
    if (bin.empty()) {
      fmt::print(stderr, "nodelab tour: lab-{} is not next to nodelab (build it)\n", lab);
      return 1;
    }
    std::vector<std::string> argv{bin, stop.scenario, "--no-color"};
    argv.push_back(stop.compare ? "--compare" : "--json");
    if (stop.compare) argv.push_back("--json");
    std::fprintf(stderr, "running %s ...\n", what.c_str());
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
    fmt::print("{}\n\n", wrapped("", 0, j["scenario"].value("title", "")));
    if (!stop.compare) {
      fmt::print("{}\n", st.bold("what it printed"));
      const auto& logs = j["logs"];
      for (std::size_t k = 0; k < logs.size() && k < 8; ++k) {
        fmt::print("{}\n", wrapped("  " + st.dim(fmt::format("{:<9}", logs[k].value("phase", ""))),
                                   13, logs[k].value("text", "")));
      }
      if (logs.size() > 8) fmt::print("  ... {} more lines\n", logs.size() - 8);
      fmt::print("\n{}\n", verdict_lines(j["diagnosis"], st, st.bold("verdict:") + " ", 9));
    } else {
      // Each column as wide as its header's wider row or its widest cell.
      const auto& cols = j["columns"];
      std::vector<std::pair<std::string, std::string>> heads;
      std::vector<std::size_t> width;
      for (std::size_t c = 0; c < cols.size(); ++c) {
        heads.push_back(header_rows(cols[c].get<std::string>()));
        std::size_t w = std::max(heads[c].first.size(), heads[c].second.size());
        for (const auto& v : j["variants"]) {
          w = std::max(w, v["cells"][c].get<std::string>().size());
        }
        width.push_back(w + 2);
      }
      std::size_t total = 14;
      for (std::size_t w : width)
        total += w;
      if (total <= kWidth) {
        std::string top = fmt::format("  {:<12}", "variant");
        std::string bottom = fmt::format("  {:<12}", "");
        for (std::size_t c = 0; c < cols.size(); ++c) {
          top += fmt::format("{:>{}}", heads[c].first, width[c]);
          bottom += fmt::format("{:>{}}", heads[c].second, width[c]);
        }
        fmt::print("{}\n", st.bold(top));
        if (bottom.find_first_not_of(' ') != std::string::npos) fmt::print("{}\n", st.bold(bottom));
        for (const auto& v : j["variants"]) {
          std::string line = fmt::format("  {:<12}", v.value("name", ""));
          for (std::size_t c = 0; c < cols.size(); ++c) {
            line += fmt::format("{:>{}}", v["cells"][c].get<std::string>(), width[c]);
          }
          fmt::print("{}\n", line);
        }
      } else {
        // Too wide: transposed, as --compare itself prints it (a row per figure, a column per
        // variant).
        std::size_t label_w = 0;
        for (const auto& col : cols) {
          label_w = std::max(label_w, report::display_width(col.get<std::string>()));
        }
        std::vector<std::size_t> vw;
        std::string top = fmt::format("  {:<{}}", "", label_w);
        for (const auto& v : j["variants"]) {
          std::size_t w = report::display_width(v.value("name", ""));
          for (const auto& cell : v["cells"]) {
            w = std::max(w, report::display_width(cell.get<std::string>()));
          }
          vw.push_back(w + 2);
          top += fmt::format("{:>{}}", v.value("name", ""), vw.back());
        }
        fmt::print("{}\n", st.bold(top));
        for (std::size_t c = 0; c < cols.size(); ++c) {
          std::string line = fmt::format("  {:<{}}", cols[c].get<std::string>(), label_w);
          std::size_t k = 0;
          for (const auto& v : j["variants"]) {
            const std::string cell = v["cells"][c].get<std::string>();
            line += std::string(vw[k] - std::min(vw[k], report::display_width(cell)), ' ') + cell;
            ++k;
          }
          fmt::print("{}\n", line);
        }
      }
      fmt::print("\n{}\n", st.bold("verdicts"));
      for (const auto& v : j["variants"]) {
        fmt::print("{}\n", verdict_lines(v["diagnosis"], st,
                                         fmt::format("  {:<12} ", v.value("name", "")), 15));
      }
    }
    fmt::print("\n{}\n", wrapped(st.bold("look at:") + " ", 9, stop.look_at));
    fmt::print("{}\n",
               wrapped(st.bold("cite:") + " ", 6, j["answer"].value("evidence", "(no evidence)")));
  }
  fmt::print("\n{}\n", st.bold(fmt::format("tour done: {} screens.", shown)));
  fmt::print(
      "Run one yourself: nodelab run LAB SCENARIO (nodelab list shows them); add --step to "
      "walk a run phase by phase.\n");
  return 0;
}

}  // namespace nodelab::driver
