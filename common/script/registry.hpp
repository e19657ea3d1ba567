#pragma once
// What one lab's scenario files may contain: the op names (the shared runtime's, plus the
// lab's own), lab-specific top-level blocks, and the metric paths that `expect.metrics` and
// the model answer's `{placeholders}` may cite. Each lab builds one at start-up.

#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "metrics/metric_set.hpp"
#include "script/op.hpp"

namespace YAML {
class Node;
}

namespace nodelab::script {

class Parser;
struct Scenario;

// Parses the value of an op's key (`{ms: 0, then: [...]}` for `setTimeout`).
using OpParser = std::function<std::unique_ptr<Op>(Parser& p, const YAML::Node& value)>;
// Parses a lab-specific top-level block into the scenario.
using BlockParser = std::function<void(Parser& p, const YAML::Node& value, Scenario& s)>;

struct OpDef {
  std::string name;
  OpParser parse;
  std::string summary;  // one line for --help and the docs
};

struct BlockDef {
  std::string key;
  BlockParser parse;
};

class OpRegistry {
 public:
  explicit OpRegistry(std::string lab_id) : lab_id_(std::move(lab_id)) {}

  const std::string& lab_id() const { return lab_id_; }
  void add(std::string name, OpParser parse, std::string summary);
  const OpDef* find(std::string_view name) const;
  const std::vector<OpDef>& ops() const { return ops_; }

  void add_block(std::string key, BlockParser parse);
  const BlockDef* find_block(std::string_view key) const;

  // A check run once the whole file is parsed (for what one op cannot see alone, such as an
  // `off` naming a listener id that no op ever adds).
  void add_check(std::function<void(Scenario& s)> check) { checks_.push_back(std::move(check)); }
  const std::vector<std::function<void(Scenario& s)>>& checks() const { return checks_; }

  void add_metrics(const std::vector<metrics::MetricInfo>& table);
  bool knows_metric(std::string_view path) const;
  const std::vector<metrics::MetricInfo>& metrics() const { return metrics_; }

  // The closest known op name to a misspelt one, if any is close.
  std::string suggest(std::string_view name) const;

 private:
  std::string lab_id_;
  std::vector<OpDef> ops_;
  std::vector<BlockDef> blocks_;
  std::vector<std::function<void(Scenario& s)>> checks_;
  std::vector<metrics::MetricInfo> metrics_;
};

// Closest candidate by edit distance (at most 2 edits, or a third of the word), or "".
std::string closest_match(std::string_view word, const std::vector<std::string_view>& candidates);

}  // namespace nodelab::script
