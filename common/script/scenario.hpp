#pragma once
// A scenario file, loaded and validated (docs/scenario-format.md). Loading either succeeds
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
#include "script/source.hpp"
#include "script/yaml_node.hpp"

namespace nodelab::script {

class OpRegistry;

// The five parts of a model answer, in the order they are printed.
inline constexpr std::string_view kAnswerKeys[] = {"mechanism", "failure", "mitigation", "evidence",
                                                   "tradeoff"};

// One piece of an answer's text. Plain text, or text kept only when a comparison of two
// figures holds in this run (`when: "{a.metric} < {b.metric}"`), with an `else:` text.
struct AnswerCondition {
  std::string left, op, right;  // each "{metric.path}" or a number; op: < <= > >=
};
struct AnswerPiece {
  std::string text;  // may cite {metric.path}
  std::optional<AnswerCondition> when;
  std::string otherwise;  // when `when` does not hold
};
using AnswerText = std::vector<AnswerPiece>;

// An answer part as a run prints it. The loader picks each text for the run it loads
// (docs/scenario-format.md, "answer"): `text` for this run (the params as written, or the
// loaded variant), `compare` for --compare. A single run cites its own figures ({metric});
// --compare cites each variant's ({variant.metric}). The loader refuses a text that cites
// figures its run does not have.
struct AnswerPart {
  std::string key;
  AnswerText text;
  AnswerText compare;
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

// A named set of parameter overrides (scenarios/event-loop/README.md, "variants"):
// `--variant NAME` runs one, `--compare` runs them all side by side.
struct Variant {
  std::string name;
  std::string title;
  std::vector<Param> params;                             // overrides
  std::vector<std::pair<std::string, std::string>> env;  // e.g. UV_THREADPOOL_SIZE=5
  std::optional<int> resolution_ms;                      // eventLoopDelay sampling interval
  // `process: {unhandledRejections: MODE}`: node's --unhandled-rejections for this variant.
  std::optional<runtime::UnhandledRejections> unhandled_rejections;
  Expect expect;  // added to the scenario's
  // Read once params are known: `expect` and `title` may use $name / ${name}.
  YamlNode expect_node;
  YamlNode title_node;
  YamlNode process_node;
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
  std::vector<Param> params;      // their values in this run (the variant's, if one is loaded)
  std::vector<Variant> variants;  // as declared
  std::string variant;            // the variant loaded ("" = the params as written)
  std::vector<std::pair<std::string, std::string>> env;  // the loaded variant's env
  std::optional<int> resolution_ms;  // eventLoopDelay resolution (`resolution:`), if set
  // `process: {unhandledRejections: MODE}` (the loaded variant's wins): the twin runs with
  // `node --unhandled-rejections=MODE`. Unset: Node's default, throw.
  std::optional<runtime::UnhandledRejections> unhandled_rejections;
  std::vector<const Op*> sites{nullptr};             // site id -> op; 0 = none
  std::unordered_map<std::string, std::any> blocks;  // lab-specific top-level blocks
};

// Loads the file; with `variant`, that variant's parameters and expectations apply.
Scenario load_scenario(const std::string& path, const OpRegistry& registry,
                       const Limits& limits = {}, const std::string& variant = {});

// The same from text already read (what the fuzzer and tools use): `path` names it in errors
// and is what `readFile` reads.
Scenario parse_scenario(const std::string& text, const std::string& path,
                        const OpRegistry& registry, const Limits& limits = {},
                        const std::string& variant = {});

// The variant names a file declares (without validating the rest); for tools.
std::vector<std::string> variant_names(const std::string& path);

// Metric paths cited as {placeholders} in a text.
std::vector<std::string> placeholders_in(std::string_view text);
// ... in every piece of an answer text (texts and conditions).
std::vector<std::string> placeholders_in(const AnswerText& text);

}  // namespace nodelab::script
