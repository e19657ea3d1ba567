#include "modules/vfs.hpp"

#include <vector>

namespace nodelab::modules {

void Vfs::add_file(const std::string& path, std::string contents) {
  files_[path] = std::move(contents);
  for (std::string dir = path_dirname(path); dir != "/"; dir = path_dirname(dir)) {
    directories_.insert(dir);
  }
}

void Vfs::add_directory(const std::string& path) {
  for (std::string dir = path; dir != "/"; dir = path_dirname(dir))
    directories_.insert(dir);
}

Vfs::Kind Vfs::stat(std::string_view path) const {
  ++counters_.stats;
  if (files_.find(path) != files_.end()) return Kind::file;
  if (directories_.find(path) != directories_.end()) return Kind::directory;
  return Kind::none;
}

const std::string* Vfs::read(std::string_view path) const {
  ++counters_.reads;
  const auto it = files_.find(path);
  return it == files_.end() ? nullptr : &it->second;
}

std::string path_dirname(std::string_view path) {
  const auto slash = path.rfind('/');
  if (slash == std::string_view::npos) return ".";
  if (slash == 0) return "/";
  return std::string(path.substr(0, slash));
}

std::string path_resolve(std::string_view base, std::string_view request) {
  std::string joined = request.starts_with('/') ? std::string(request)
                                                : std::string(base) + "/" + std::string(request);
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (start <= joined.size()) {
    auto end = joined.find('/', start);
    if (end == std::string::npos) end = joined.size();
    const std::string part = joined.substr(start, end - start);
    if (part == "..") {
      if (!parts.empty()) parts.pop_back();
    } else if (!part.empty() && part != ".") {
      parts.push_back(part);
    }
    start = end + 1;
  }
  std::string out;
  for (const auto& part : parts)
    out += "/" + part;
  return out.empty() ? "/" : out;
}

}  // namespace nodelab::modules
