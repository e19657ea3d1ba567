// nodelab: the labs from one place.
//
//   nodelab list [LAB] [--markdown]        every lab and its scenarios, with titles
//   nodelab run LAB SCENARIO [options]     runs lab-LAB (all its options pass through)
//   nodelab tour [--no-pause]              each lab's headline, one screen each, Enter between
//   nodelab drill [LAB...] [--seed N]      "what does this print?" practice, scored

#include <unistd.h>

#include <iostream>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "all_labs.hpp"
#include "nodelab/child.hpp"
#include "nodelab/drill.hpp"
#include "nodelab/tour.hpp"
#include "report/style.hpp"

using namespace nodelab::driver;

int main(int argc, char** argv) {
  CLI::App app{"nodelab: Node.js runtime labs on a real libuv loop", "nodelab"};
  app.require_subcommand(1);
  app.fallthrough();  // --no-color works before or after the subcommand
  bool no_color = false;
  app.add_flag("--no-color", no_color, "no colour (also: NO_COLOR, or output not a terminal)");
  app.footer(
      "\nExamples:\n"
      "  nodelab list\n"
      "  nodelab run event-loop nexttick-starvation\n"
      "  nodelab run emitter leak-vs-mitigations --compare\n"
      "  nodelab tour\n"
      "  nodelab drill event-loop --count 5\n"
      "Each lab is also its own program: build/bin/lab-<lab> --help.");

  auto* list = app.add_subcommand("list", "every lab and its scenarios, with titles");
  std::string list_lab;
  bool list_markdown = false;
  list->add_option("lab", list_lab, "only this lab");
  list->add_flag("--markdown", list_markdown,
                 "the labs as the README's Markdown table (a test checks that they agree)");

  auto* run = app.add_subcommand("run", "run a lab's scenario (lab options pass through)");
  std::string run_lab;
  run->add_option("lab", run_lab,
                  "the lab (event-loop, emitter, ...); then its scenario and "
                  "options, e.g. NAME --compare")
      ->required();
  run->fallthrough(false);
  run->prefix_command();  // everything after LAB goes to the lab untouched

  auto* tour = app.add_subcommand(
      "tour", "each lab's headline scenario, one screen each (Enter for the next on a terminal)");
  bool no_pause = false;
  tour->add_flag("--no-pause", no_pause,
                 "do not wait for Enter between screens (never waits when stdin or stdout is "
                 "not a terminal)");

  auto* drill = app.add_subcommand("drill", "\"what does this print?\" practice, scored");
  DrillOptions d;
  std::uint32_t seed = 0;
  drill->add_option("labs", d.labs, "only these labs");
  auto* o_seed = drill->add_option("--seed", seed, "pick the questions reproducibly");
  auto* o_count = drill->add_option("--count", d.count, "how many questions (default 3)")
                      ->check(CLI::Range(1, 100));
  drill->add_option("--scenario", d.scenarios, "ask these (NAME or LAB/NAME), in order")
      ->excludes(o_seed)
      ->excludes(o_count);
  drill->add_flag("--plan", d.plan, "print the questions a seed picks, and exit");
  drill->footer(
      "\nThe program shown is the scenario's Node.js twin; type the lines it prints, one per "
      "line, and an empty line\n(arrow keys, backspace and Up edit a line on a terminal). "
      "Answers can be piped in: nodelab drill --seed 7 < answers.txt");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  const auto st = nodelab::report::Style::detect(stdout, no_color);

  if (*list) {
    if (!list_lab.empty() && nodelab::labs::find(list_lab) == nullptr) {
      fmt::print(stderr, "nodelab: {}\n", unknown_lab(list_lab));
      return 2;
    }
    if (list_markdown) {
      fmt::print("| lab | what it shows | scenarios |\n|---|---|---|\n");
      for (const auto& lab : nodelab::labs::all()) {
        if (!list_lab.empty() && lab.id != list_lab) continue;
        fmt::print("| `lab-{0}` | {1} | [scenarios/{0}/](scenarios/{0}/) |\n", lab.id, lab.summary);
      }
      return 0;
    }
    int rc = 0;
    for (const auto& spec : nodelab::labs::all()) {
      const std::string& lab = spec.id;
      if (!list_lab.empty() && lab != list_lab) continue;
      const std::string bin = lab_binary(lab);
      if (bin.empty()) continue;
      const ChildResult r = capture({bin, "--list"});
      std::fputs(r.out.c_str(), stdout);
      std::fputc('\n', stdout);
      rc = rc ? rc : r.exit_code;
    }
    return rc;
  }
  if (*run) {
    const std::string bin = lab_binary(run_lab);
    if (bin.empty()) {
      fmt::print(stderr, "nodelab: {}\n", unknown_lab(run_lab));
      return 2;
    }
    std::vector<std::string> args{bin};
    for (const auto& extra : run->remaining())
      args.push_back(extra);
    std::vector<char*> cargs;
    for (auto& a : args)
      cargs.push_back(a.data());
    cargs.push_back(nullptr);
    std::fflush(stdout);
    ::execv(cargs[0], cargs.data());
    fmt::print(stderr, "nodelab: cannot run {}\n", bin);
    return 2;
  }
  if (*tour) return nodelab::driver::tour(st, no_pause);
  if (*drill) {
    if (o_seed->count() > 0) d.seed = seed;
    return nodelab::driver::drill(d, std::cin, st);
  }
  return 2;
}
