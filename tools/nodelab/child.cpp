#include "nodelab/child.hpp"

#include <uv.h>

#include <filesystem>
#include <stdexcept>

#include "all_labs.hpp"
#include "runtime/process.hpp"

namespace nodelab::driver {

std::string unknown_lab(const std::string& id) {
  std::string known;
  for (const auto& lab : labs::all())
    known += (known.empty() ? "" : ", ") + lab.id;
  return "no lab '" + id + "' (labs: " + known + ")";
}

std::string lab_binary(const std::string& lab) {
  char buf[4096];
  size_t size = sizeof buf;
  if (uv_exepath(buf, &size) != 0) return {};
  const auto p = std::filesystem::path(std::string(buf, size)).parent_path() / ("lab-" + lab);
  std::error_code ec;
  return std::filesystem::exists(p, ec) ? p.string() : std::string();
}

ChildResult capture(const std::vector<std::string>& argv) {
  process::Options o;
  o.err = process::Output::inherit;
  const process::Result p = process::run(argv, o);
  ChildResult r;
  r.out = p.out;
  if (p.spawn_error != 0) {
    r.exit_code = 127;  // as a failed exec
  } else {
    r.exit_code = p.term_signal != 0 ? 128 + p.term_signal : p.exit_code;
  }
  return r;
}

nlohmann::json run_json(const std::vector<std::string>& argv) {
  const ChildResult r = capture(argv);
  try {
    return nlohmann::json::parse(r.out);
  } catch (const std::exception&) {
    throw std::runtime_error(argv[0] + " did not print a JSON document (exit " +
                             std::to_string(r.exit_code) + ")");
  }
}

}  // namespace nodelab::driver
