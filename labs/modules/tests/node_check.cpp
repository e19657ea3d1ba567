// nodelab-modules-node-check TABLE PROBE NODE: every case of the resolver's table
// (resolve_cases.yaml) on the real node. Each case's tree is written to a fresh temporary
// directory, and node runs PROBE (resolve_probe.mjs) there: the real require() / import() from
// the case's parent, printing the resolved path and the format the file ran as, or the error's
// code and message, with the directory written as /app. Any difference from the table fails
// (exit 1). Exit 77 (skipped) when NODE is empty or is not the node the table is written for.

#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>

#include "resolve_table.hpp"
#include "tools/process.hpp"

namespace fs = std::filesystem;
using nodelab::modules::table::Case;

namespace {

constexpr const char* kNodeVersion = "v20.20.2";

// An import case's parent: import() and import.meta.resolve run from the parent's own URL.
constexpr const char* kProbeParent =
    "globalThis.__probe = { resolve: (s) => import.meta.resolve(s), load: (s, o) => import(s, o) "
    "};\n";

void write_tree(const Case& c, const fs::path& root) {
  for (const auto& [path, given] : c.files) {
    const fs::path target = root / path;
    if (path.ends_with("/")) {
      fs::create_directories(target);
      continue;
    }
    fs::create_directories(target.parent_path());
    std::ofstream out(target, std::ios::binary);
    out << (c.kind == "import" && path == c.from ? kProbeParent
                                                 : nodelab::modules::table::contents(path, given));
  }
  if (c.kind == "import" && !c.files.contains(c.from)) {
    fs::create_directories((root / c.from).parent_path());
    std::ofstream(root / c.from) << kProbeParent;
  }
}

std::string describe(const Case& c) {
  return c.ok ? c.path + " (" + c.format + ")" : c.code + ": " + c.message;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::cerr << "usage: nodelab-modules-node-check TABLE PROBE NODE\n";
    return 2;
  }
  const std::string table = argv[1];
  const std::string probe = argv[2];
  const std::string node = argv[3];
  if (node.empty()) {
    std::cout << "skipped: node is not installed\n";
    return 77;
  }
  const auto version = nodelab::testing::run_process({node, "--version"});
  const std::string seen = version.out.substr(0, version.out.find('\n'));
  if (version.exit_code != 0 || seen != kNodeVersion) {
    std::cout << "skipped: the table is node " << kNodeVersion << "'s, this node is '" << seen
              << "'\n";
    return 77;
  }
  std::vector<Case> cases;
  try {
    cases = nodelab::modules::table::load(table);
  } catch (const std::exception& e) {
    std::cerr << e.what() << "\n";
    return 2;
  }
  int differ = 0;
  for (const Case& c : cases) {
    std::string pattern = (fs::temp_directory_path() / "nodelab-modules-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) {
      std::perror("mkdtemp");
      return 2;
    }
    const fs::path root = fs::canonical(pattern);
    write_tree(c, root);
    const auto run =
        nodelab::testing::run_process({node, probe, root.string(), c.kind, c.from, c.specifier});
    fs::remove_all(root);
    std::string got;
    bool same = false;
    try {
      const auto line = run.out.substr(0, run.out.find('\n'));
      const auto j = nlohmann::json::parse(line);
      if (j.contains("path")) {
        const std::string format = j["format"].is_string() ? j["format"].get<std::string>() : "?";
        got = j["path"].get<std::string>() + " (" + format + ")";
        same = c.ok && j["path"] == c.path && format == c.format;
      } else {
        got = j["code"].get<std::string>() + ": " + j["message"].get<std::string>();
        same = !c.ok && j["code"] == c.code && j["message"] == c.message;
      }
    } catch (const std::exception&) {
      got = "no answer (exit " + std::to_string(run.exit_code) + "): " + run.out + run.err;
    }
    if (!same) {
      ++differ;
      std::cout << "DIFFERS " << c.name << "\n  table: " << describe(c) << "\n  node:  " << got
                << "\n";
    }
  }
  std::cout << cases.size() << " cases on node " << kNodeVersion << ": " << differ
            << " differ from the table\n";
  return differ == 0 ? 0 : 1;
}
