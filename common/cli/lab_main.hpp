#pragma once
// The command line every lab shares (scenario-format.md "Command line every lab accepts"):
//
//   lab-<id> SCENARIO.yaml|NAME [--logs-only] [--json] [--trace FILE.json] [--emit-node]
//            [--no-color] [--list] [--timeout SECONDS] [--resolution MS]
//
// A lab's main() builds its LabSpec (its op registry) and hands over to run_lab().

#include <functional>
#include <string>
#include <vector>

#include "script/registry.hpp"

namespace nodelab::cli {

struct LabSpec {
  std::string id;        // "event-loop": the binary is lab-<id>, scenarios/<id>/
  std::string summary;   // one line for --help
  std::string headline;  // the scenario the README's first command runs
  std::function<script::OpRegistry()> make_registry;
};

int run_lab(const LabSpec& spec, int argc, char** argv);

// Where scenarios/<lab>/ lives: $NODELAB_SCENARIOS, next to an installed binary
// (../share/nodelab/scenarios), the install prefix, then the source tree.
std::vector<std::string> scenario_dirs(const std::string& lab_id);
// A file path as given, or NAME resolved to <dir>/NAME.yaml; empty if not found.
std::string resolve_scenario(const std::string& lab_id, const std::string& arg);

}  // namespace nodelab::cli
