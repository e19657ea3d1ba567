#include "report/html.hpp"

#include <fstream>

namespace nodelab::report {

bool write_html(const std::string& path, const RunReport& r, std::string* error) {
  std::ofstream out(path);
  if (!out) {
    if (error) *error = "cannot write " + path;
    return false;
  }
  out << "<!doctype html><title>" << r.lab_id << "</title><p>timeline: not yet</p>\n";
  return static_cast<bool>(out);
}

}  // namespace nodelab::report
