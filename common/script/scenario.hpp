#pragma once
// A scenario file, loaded and validated (scenario-format.md). Loading either succeeds
// completely or throws a located ScenarioError; nothing runs from a file that failed.

#include <any>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "runtime/phase.hpp"
#include "script/limits.hpp"
#include "script/op.hpp"
#include "script/registry.hpp"
#include "script/source.hpp"

namespace nodelab::script {

// The five parts of a model answer, in the order they are printed.
inline constexpr std::string_view kAnswerKeys[] = {"mechanism", "failure", "mitigation", "evidence",
                                                   "tradeoff"};

struct AnswerPart {
  std::string key;
  std::string text;  // may cite {metric.path}
};

struct MetricBound {
  std::string path;
  std::string op;  // lt, lte, gt, gte, eq
  double value = 0;
  int line = 0;
};

struct Expect {
  std::optional<std::vector<std::string>> order;
  std::vector<std::vector<std::string>> order_any_of;
  std::vector<std::pair<std::string, runtime::Phase>> phases;
  std::vector<MetricBound> metrics;
  bool empty() const { return !order && order_any_of.empty() && phases.empty() && metrics.empty(); }
};

struct Scenario {
  std::string file;  // as given
  std::string path;  // absolute; what `readFile` reads (the twin reads its own __filename)
  std::string lab;
  std::string name;
  std::string title;
  std::vector<AnswerPart> answer;
  Body main;
  Expect expect;
  std::vector<const Op*> sites{nullptr};             // site id -> op; 0 = none
  std::unordered_map<std::string, std::any> blocks;  // lab-specific top-level blocks
};

Scenario load_scenario(const std::string& path, const OpRegistry& registry,
                       const Limits& limits = {});

// Metric paths cited as {placeholders} in a text.
std::vector<std::string> placeholders_in(std::string_view text);

}  // namespace nodelab::script
