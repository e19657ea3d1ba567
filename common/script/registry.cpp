#include "script/registry.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <numeric>

namespace nodelab::script {

void OpRegistry::add(std::string name, OpParser parse, std::string summary) {
  auto it = std::find_if(ops_.begin(), ops_.end(), [&](const OpDef& d) { return d.name == name; });
  if (it != ops_.end()) {
    *it = OpDef{std::move(name), std::move(parse), std::move(summary)};
  } else {
    ops_.push_back(OpDef{std::move(name), std::move(parse), std::move(summary)});
  }
}

const OpDef* OpRegistry::find(std::string_view name) const {
  for (const auto& d : ops_) {
    if (d.name == name) return &d;
  }
  return nullptr;
}

void OpRegistry::add_block(std::string key, BlockParser parse) {
  blocks_.push_back(BlockDef{std::move(key), std::move(parse)});
}

const BlockDef* OpRegistry::find_block(std::string_view key) const {
  for (const auto& b : blocks_) {
    if (b.key == key) return &b;
  }
  return nullptr;
}

void OpRegistry::add_metrics(const std::vector<metrics::MetricInfo>& table) {
  metrics_.insert(metrics_.end(), table.begin(), table.end());
}

bool OpRegistry::knows_metric(std::string_view path) const {
  return std::any_of(metrics_.begin(), metrics_.end(),
                     [&](const metrics::MetricInfo& m) { return m.path == path; });
}

std::string OpRegistry::suggest(std::string_view name) const {
  std::vector<std::string_view> names;
  names.reserve(ops_.size());
  for (const auto& d : ops_)
    names.push_back(d.name);
  return closest_match(name, names);
}

std::string closest_match(std::string_view word, const std::vector<std::string_view>& candidates) {
  auto distance = [](std::string_view a, std::string_view b) {
    std::vector<std::size_t> row(b.size() + 1);
    std::iota(row.begin(), row.end(), std::size_t{0});
    for (std::size_t i = 1; i <= a.size(); ++i) {
      std::size_t diag = row[0];
      row[0] = i;
      for (std::size_t j = 1; j <= b.size(); ++j) {
        const std::size_t up = row[j];
        const bool same = std::tolower(static_cast<unsigned char>(a[i - 1])) ==
                          std::tolower(static_cast<unsigned char>(b[j - 1]));
        row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (same ? 0 : 1)});
        diag = up;
      }
    }
    return row[b.size()];
  };
  std::string best;
  std::size_t best_d = std::max<std::size_t>(2, word.size() / 3) + 1;
  for (auto c : candidates) {
    const std::size_t d = distance(word, c);
    if (d < best_d) {
      best_d = d;
      best = std::string(c);
    }
  }
  return best;
}

}  // namespace nodelab::script
