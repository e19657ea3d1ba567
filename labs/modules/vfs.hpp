#pragma once
// The modules lab's virtual file tree: absolute '/'-separated paths (the lab's trees live under
// /app), files with contents, directories implied by the files under them (or added empty).
// The resolver reaches it only through stat() and read(), which count what they do: the lab's
// metric "resolution steps per specifier" is these counts (docs/node-semantics.md).

#include <map>
#include <set>
#include <string>
#include <string_view>

namespace nodelab::modules {

class Vfs {
 public:
  enum class Kind { none, file, directory };

  // PATH absolute and normalized ('/a/b', no '.', '..', '//' or trailing '/'). Adding a file
  // implies every directory above it.
  void add_file(const std::string& path, std::string contents);
  void add_directory(const std::string& path);

  // Counted: one probe each (Node's internalModuleStat / fs.statSync).
  Kind stat(std::string_view path) const;
  // Counted: one read each. nullptr when PATH is not a file.
  const std::string* read(std::string_view path) const;

  struct Counters {
    int stats = 0;
    int reads = 0;
  };
  const Counters& counters() const { return counters_; }
  void reset_counters() const { counters_ = {}; }

  // Not counted (for writing the tree out, listing it).
  const std::map<std::string, std::string, std::less<>>& files() const { return files_; }
  const std::set<std::string, std::less<>>& directories() const { return directories_; }

 private:
  std::map<std::string, std::string, std::less<>> files_;
  std::set<std::string, std::less<>> directories_{"/"};
  mutable Counters counters_;
};

// Path helpers on '/'-separated absolute paths (node's path.posix).
std::string path_dirname(std::string_view path);
// path.posix.resolve(BASE, REQUEST) for an absolute BASE: joins, then removes '.', '..' and
// repeated '/'; no trailing '/' (except the root).
std::string path_resolve(std::string_view base, std::string_view request);

}  // namespace nodelab::modules
