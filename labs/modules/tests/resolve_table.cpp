#include "resolve_table.hpp"

#include <yaml-cpp/yaml.h>

#include <stdexcept>

namespace nodelab::modules::table {
namespace {

[[noreturn]] void bad(const std::string& file, const YAML::Node& node, const std::string& what) {
  throw std::runtime_error(file + ":" + std::to_string(node.Mark().line + 1) + ":" +
                           std::to_string(node.Mark().column + 1) + ": " + what);
}

void read_files(const std::string& file, const YAML::Node& map,
                std::map<std::string, std::optional<std::string>>& out) {
  if (!map.IsMap()) bad(file, map, "a tree is a map of path: contents");
  for (const auto& entry : map) {
    const auto path = entry.first.as<std::string>();
    if (path.empty() || path[0] == '/') bad(file, entry.first, "tree paths are relative to /app");
    if (entry.second.IsNull()) {
      out[path] = std::nullopt;
    } else if (entry.second.IsScalar()) {
      out[path] = entry.second.as<std::string>();
    } else {
      bad(file, entry.second, "contents are a string, or ~ for the default");
    }
  }
}

}  // namespace

std::string contents(const std::string& path, const std::optional<std::string>& given) {
  if (given) return *given;
  if (path.ends_with(".json")) return "{\"__fmt\":\"json\"}\n";
  if (path.ends_with(".node")) return "not an addon\n";
  return "globalThis.__fmt = this === undefined ? 'module' : 'commonjs';\n";
}

Vfs make_vfs(const Case& c) {
  Vfs vfs;
  for (const auto& [path, given] : c.files) {
    if (path.ends_with("/")) {
      vfs.add_directory("/app/" + path.substr(0, path.size() - 1));
    } else {
      vfs.add_file("/app/" + path, contents(path, given));
    }
  }
  vfs.add_directory("/app");
  return vfs;
}

std::vector<Case> load(const std::string& file) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(file);
  } catch (const YAML::Exception& e) {
    throw std::runtime_error(file + ":" + std::to_string(e.mark.line + 1) + ":" +
                             std::to_string(e.mark.column + 1) + ": " + e.msg);
  }
  std::map<std::string, std::map<std::string, std::optional<std::string>>> trees;
  if (root["trees"]) {
    for (const auto& tree : root["trees"])
      read_files(file, tree.second, trees[tree.first.as<std::string>()]);
  }
  if (!root["cases"] || !root["cases"].IsSequence()) bad(file, root, "no `cases:` list");
  std::vector<Case> cases;
  for (const auto& node : root["cases"]) {
    Case c;
    c.line = node.Mark().line + 1;
    if (node["tree"]) {
      const auto name = node["tree"].as<std::string>();
      if (!trees.contains(name)) bad(file, node["tree"], "no tree named '" + name + "'");
      c.files = trees[name];
    }
    if (node["files"]) read_files(file, node["files"], c.files);
    if (!node["from"]) bad(file, node, "a case names its parent module (`from:`)");
    c.from = node["from"].as<std::string>();
    if (node["require"]) {
      c.kind = "require";
      c.specifier = node["require"].as<std::string>();
    } else if (node["import"]) {
      c.kind = "import";
      c.specifier = node["import"].as<std::string>();
    } else {
      bad(file, node, "a case has `require:` or `import:`");
    }
    if (node["ok"]) {
      c.ok = true;
      const auto text = node["ok"].as<std::string>();
      const auto space = text.rfind(' ');
      if (space == std::string::npos) bad(file, node["ok"], "`ok:` is 'PATH FORMAT'");
      c.format = text.substr(space + 1);
      const auto path = text.substr(0, space);
      c.path = c.format == "builtin" ? path : "/app/" + path;
    } else if (node["error"]) {
      c.code = node["error"].as<std::string>();
      if (!node["message"]) bad(file, node, "an `error:` case gives its `message:`");
      c.message = node["message"].as<std::string>();
    } else {
      bad(file, node, "a case expects `ok:` or `error:`");
    }
    if (node["steps"]) c.steps = node["steps"].as<int>();
    c.name = std::to_string(c.line) + ": " + c.kind + " '" + c.specifier + "' from " + c.from;
    cases.push_back(std::move(c));
  }
  return cases;
}

}  // namespace nodelab::modules::table
