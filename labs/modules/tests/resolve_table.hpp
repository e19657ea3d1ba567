#pragma once
// labs/modules/tests/resolve_cases.yaml, the resolver's table of specifier -> result/error
// cases, as both its checkers read it: resolve_test.cpp (the C++ model) and node_check.cpp
// (the real node). The file's header describes the format.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "modules/vfs.hpp"

namespace nodelab::modules::table {

struct Case {
  int line = 0;      // of the case in the table
  std::string name;  // "LINE: require SPECIFIER from PARENT"
  // The tree: path under /app -> contents (nullopt: the default contents for its extension).
  // A path ending in '/' is an empty directory.
  std::map<std::string, std::optional<std::string>> files;
  std::string kind;       // require | import
  std::string from;       // the parent module, relative to /app
  std::string specifier;  // as written; absolute ones name /app
  bool ok = false;
  std::string path;  // ok: absolute (/app/...) or the builtin's id
  std::string format;
  std::string code;  // !ok
  std::string message;
  std::optional<int> steps;  // the model's count, when the case states it
};

// Throws std::runtime_error "FILE:LINE:COL: message" on a malformed table.
std::vector<Case> load(const std::string& file);

// What a file of the tree holds: its table contents, or by extension the default: JS that
// records the format it ran as (globalThis.__fmt), JSON that says json, a .node that is no
// addon.
std::string contents(const std::string& path, const std::optional<std::string>& given);

// The case's tree under /app.
Vfs make_vfs(const Case& c);

}  // namespace nodelab::modules::table
