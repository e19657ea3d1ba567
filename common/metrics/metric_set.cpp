#include "metrics/metric_set.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <stdexcept>

namespace nodelab::metrics {

namespace {
// "a" and "a.b" cannot both be JSON paths: one would have to be a number and an object.
bool clashes(std::string_view a, std::string_view b) {
  const auto& shorter = a.size() < b.size() ? a : b;
  const auto& longer = a.size() < b.size() ? b : a;
  return shorter.size() < longer.size() && longer.substr(0, shorter.size()) == shorter &&
         longer[shorter.size()] == '.';
}
}  // namespace

void MetricSet::set(std::string_view path, std::optional<double> value) {
  for (const auto& e : entries_) {
    if (clashes(e.path, path)) {
      throw std::logic_error("metric path '" + std::string(path) + "' clashes with '" + e.path +
                             "': a metric cannot also be a group");
    }
  }
  auto it = std::find_if(entries_.begin(), entries_.end(),
                         [&](const Entry& e) { return e.path == path; });
  if (it != entries_.end()) {
    it->value = value;
  } else {
    entries_.push_back(Entry{std::string(path), value});
  }
}

std::optional<double> MetricSet::get(std::string_view path) const {
  for (const auto& e : entries_) {
    if (e.path == path) return e.value;
  }
  return std::nullopt;
}

bool MetricSet::has(std::string_view path) const {
  return std::any_of(entries_.begin(), entries_.end(),
                     [&](const Entry& e) { return e.path == path; });
}

nlohmann::json MetricSet::to_json() const {
  nlohmann::json root = nlohmann::json::object();
  for (const auto& e : entries_) {
    nlohmann::json* node = &root;
    std::string_view rest = e.path;
    for (auto dot = rest.find('.'); dot != std::string_view::npos; dot = rest.find('.')) {
      node = &(*node)[std::string(rest.substr(0, dot))];
      rest.remove_prefix(dot + 1);
    }
    (*node)[std::string(rest)] = e.value ? nlohmann::json(*e.value) : nlohmann::json(nullptr);
  }
  return root;
}

}  // namespace nodelab::metrics
