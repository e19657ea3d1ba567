#pragma once
// Node 20.20.2's module resolution on a Vfs, written from the algorithms of doc/api/esm.md
// (ESM_RESOLVE, PACKAGE_RESOLVE, PACKAGE_EXPORTS_RESOLVE, PACKAGE_IMPORTS_RESOLVE,
// ESM_FILE_FORMAT) and doc/api/modules.md (require(X) from module at path Y), with the details
// of lib/internal/modules/{cjs/loader,esm/resolve,esm/get_format}.js where the two differ.
// What is modelled, and what is not: docs/node-semantics.md, "Module resolution (modules lab)".

#include <string>
#include <string_view>

#include "modules/vfs.hpp"

namespace nodelab::modules {

struct Resolution {
  bool ok = false;
  // ok: the absolute path of the file, or the builtin's id as Node gives it back (require('fs')
  // -> "fs", require('node:fs') -> "node:fs", import 'fs' -> "node:fs").
  std::string path;
  // ok: commonjs, module, json, addon (a .node file, for require) or builtin: how the file is
  // loaded (for import: ESM_FILE_FORMAT; for require: the extension, and for .js the nearest
  // package.json "type", since require(esm) loads a module-typed .js as an ES module).
  std::string format;
  // !ok: Node's error code (its `name`, SyntaxError, when the error has no code) and message.
  std::string code;
  std::string message;
  // Resolution steps: stat probes of files and directories, and package.json files read
  // (each package.json once per resolution, as Node's cache does).
  int stats = 0;
  int package_reads = 0;
  int steps() const { return stats + package_reads; }
};

// require(SPECIFIER) from the CommonJS module at PARENT_PATH (absolute), as Module._load does:
// builtins, Module._resolveFilename (imports, self-reference, the node_modules walk with
// "exports", extensions, directories), then the format the file is loaded with.
Resolution resolve_require(const Vfs& vfs, std::string_view specifier,
                           std::string_view parent_path);

// import(SPECIFIER) from the ES module at PARENT (an absolute path or a file: URL): the default
// resolve (with its "Did you mean to import" hint), then the load's format check.
Resolution resolve_import(const Vfs& vfs, std::string_view specifier, std::string_view parent);

}  // namespace nodelab::modules
