#include "nodelab/child.hpp"

#include <uv.h>

#include <algorithm>
#include <filesystem>
#include <stdexcept>

#include "all_labs.hpp"
#include "runtime/process.hpp"

namespace nodelab::driver {

std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j)
    row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

std::string did_you_mean(const std::string& word, const std::vector<std::string>& known) {
  // A typo: at most a third of the word's letters (and at most 3) away.
  const std::size_t limit = std::min<std::size_t>(3, std::max<std::size_t>(1, word.size() / 3));
  std::string best;
  std::size_t best_d = limit + 1;
  for (const auto& k : known) {
    const std::size_t d = edit_distance(word, k);
    if (d < best_d) {
      best_d = d;
      best = k;
    }
  }
  return best;
}

std::string unknown_lab(const std::string& id) {
  std::vector<std::string> ids;
  for (const auto& lab : labs::all())
    ids.push_back(lab.id);
  std::string known;
  for (const auto& k : ids)
    known += (known.empty() ? "" : ", ") + k;
  const std::string guess = did_you_mean(id, ids);
  return "no lab '" + id + "'" + (guess.empty() ? "" : "; did you mean " + guess + "?") +
         " (labs: " + known + ")";
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
