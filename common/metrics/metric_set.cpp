#include "metrics/metric_set.hpp"

#include <algorithm>

namespace nodelab::metrics {

void MetricSet::set(std::string_view path, std::optional<double> value) {
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
