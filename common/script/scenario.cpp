#include "script/scenario.hpp"

#include <filesystem>
#include <regex>
#include <set>

#include <fmt/format.h>

#include "script/parser.hpp"

namespace nodelab::script {

namespace {

constexpr std::string_view kTopKeys[] = {"lab", "name", "title", "answer", "main", "expect"};

void parse_answer(Parser& p, const YAML::Node& n, const OpRegistry& registry, Scenario& s) {
  p.visit(n);
  if (!n.IsMap()) {
    p.fail(n, fmt::format("`answer` is a mapping of mechanism, failure, mitigation, evidence, "
                          "tradeoff; got {}",
                          node_kind_name(n)));
  }
  std::vector<std::string_view> keys(std::begin(kAnswerKeys), std::end(kAnswerKeys));
  std::set<std::string> seen;
  for (const auto& kv : n) {
    p.visit(kv.first);
    const std::string key = kv.first.IsScalar() ? kv.first.Scalar() : std::string();
    if (std::find(keys.begin(), keys.end(), key) == keys.end()) {
      const std::string hint = closest_match(key, keys);
      p.fail(kv.first, fmt::format("unknown key '{}' in `answer` (allowed: mechanism, failure, "
                                   "mitigation, evidence, tradeoff){}",
                                   key, hint.empty() ? "" : "; did you mean '" + hint + "'?"));
    }
    if (!seen.insert(key).second) p.fail(kv.first, fmt::format("duplicate key '{}'", key));
    std::string text = p.string(kv.second, fmt::format("`answer.{}`", key));
    for (const auto& path : placeholders_in(text)) {
      if (!registry.knows_metric(path)) {
        std::vector<std::string_view> known;
        for (const auto& m : registry.metrics())
          known.push_back(m.path);
        const std::string hint = closest_match(path, known);
        p.fail(kv.second,
               fmt::format("`{{{}}}` is not a metric of lab-{}{}", path, registry.lab_id(),
                           hint.empty() ? " (see --help for the list)"
                                        : "; did you mean '{" + hint + "}'?"));
      }
    }
  }
  // Printed in the canonical order whatever order the file uses.
  for (auto key : kAnswerKeys) {
    for (const auto& kv : n) {
      if (kv.first.Scalar() != key) continue;
      std::string text = kv.second.Scalar();  // folded scalars (>) end in a newline
      while (!text.empty() && (text.back() == '\n' || text.back() == ' '))
        text.pop_back();
      s.answer.push_back({std::string(key), std::move(text)});
    }
  }
}

std::vector<std::string> parse_lines(Parser& p, const YAML::Node& n, std::string_view what) {
  p.visit(n);
  if (!n.IsSequence()) {
    p.fail(n, fmt::format("{} is a list of logged lines; got {}", what, node_kind_name(n)));
  }
  std::vector<std::string> lines;
  lines.reserve(n.size());
  for (const auto& item : n)
    lines.push_back(p.string(item, fmt::format("a line of {}", what)));
  return lines;
}

void parse_expect(Parser& p, const YAML::Node& n, const OpRegistry& registry, Expect& e) {
  p.visit(n);
  if (!n.IsMap()) {
    p.fail(n, fmt::format("`expect` is a mapping (order, orderAnyOf, phases, metrics); got {}",
                          node_kind_name(n)));
  }
  Fields f = p.fields(n, "expect", {"order", "orderAnyOf", "phases", "metrics"});
  if (f.has("order")) e.order = parse_lines(p, f.get("order"), "`expect.order`");
  if (f.has("orderAnyOf")) {
    const YAML::Node any = f.get("orderAnyOf");
    p.visit(any);
    if (!any.IsSequence() || any.size() == 0) {
      p.fail(any, "`expect.orderAnyOf` is a non-empty list of line lists");
    }
    for (const auto& alt : any)
      e.order_any_of.push_back(parse_lines(p, alt, "`orderAnyOf`"));
    if (e.order) p.fail(any, "use either `order` or `orderAnyOf`, not both");
  }
  if (f.has("phases")) {
    const YAML::Node ph = f.get("phases");
    p.visit(ph);
    if (!ph.IsMap()) p.fail(ph, "`expect.phases` maps a logged line to a phase name");
    std::set<std::string> seen;
    for (const auto& kv : ph) {
      const std::string text = p.string(kv.first, "a line in `expect.phases`");
      if (!seen.insert(text).second) p.fail(kv.first, fmt::format("duplicate key '{}'", text));
      const std::string name = p.string(kv.second, "a phase in `expect.phases`");
      const auto phase = runtime::parse_phase(name);
      if (!phase) {
        p.fail(kv.second, fmt::format("unknown phase '{}' (main, nextTick, microtask, timers, "
                                      "pending, idle, prepare, poll, check, close)",
                                      name));
      }
      e.phases.emplace_back(text, *phase);
    }
  }
  if (f.has("metrics")) {
    const YAML::Node ms = f.get("metrics");
    p.visit(ms);
    if (!ms.IsMap()) p.fail(ms, "`expect.metrics` maps a metric path to bounds like {gte: 10}");
    std::vector<std::string_view> known;
    for (const auto& m : registry.metrics())
      known.push_back(m.path);
    std::set<std::string> seen;
    for (const auto& kv : ms) {
      const std::string path = p.string(kv.first, "a metric path");
      if (!seen.insert(path).second) p.fail(kv.first, fmt::format("duplicate key '{}'", path));
      if (!registry.knows_metric(path)) {
        const std::string hint = closest_match(path, known);
        p.fail(kv.first, fmt::format("unknown metric '{}' for lab-{}{}", path, registry.lab_id(),
                                     hint.empty() ? " (see --help for the list)"
                                                  : "; did you mean '" + hint + "'?"));
      }
      Fields bounds = p.fields(kv.second, "a metric bound", {"lt", "lte", "gt", "gte", "eq"});
      if (!kv.second.IsMap() || kv.second.size() == 0) {
        p.fail(kv.second, "a metric bound needs at least one of lt, lte, gt, gte, eq");
      }
      for (const auto& b : kv.second) {
        const std::string op = b.first.Scalar();
        const double v = bounds.number(op);
        if (std::isnan(v)) p.fail(b.second, "a metric bound cannot be NaN");
        e.metrics.push_back(MetricBound{path, op, v, p.loc(b.first).line});
      }
    }
  }
}

}  // namespace

std::vector<std::string> placeholders_in(std::string_view text) {
  static const std::regex kPlaceholder(R"(\{([A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)+)\})");
  std::vector<std::string> out;
  const std::string s(text);
  for (auto it = std::sregex_iterator(s.begin(), s.end(), kPlaceholder);
       it != std::sregex_iterator(); ++it) {
    out.push_back((*it)[1].str());
  }
  return out;
}

Scenario load_scenario(const std::string& path, const OpRegistry& registry, const Limits& limits) {
  Scenario s;
  s.file = path;
  std::error_code ec;
  s.path = std::filesystem::absolute(path, ec).string();
  if (ec) s.path = path;

  const std::string text = read_scenario_text(path, limits);
  const YAML::Node root = parse_yaml(text, path);
  Parser p(path, limits, registry, s);
  p.visit(root);
  if (!root.IsMap()) {
    p.fail(root, fmt::format("a scenario is a mapping with `lab`, `main` and optional `name`, "
                             "`title`, `answer`, `expect`; got {}",
                             node_kind_name(root)));
  }

  // Keys first: unknown and duplicate keys, and which lab the file is for.
  std::vector<std::string_view> allowed(std::begin(kTopKeys), std::end(kTopKeys));
  std::set<std::string> seen;
  for (const auto& kv : root) {
    p.visit(kv.first);
    const std::string key = kv.first.IsScalar() ? kv.first.Scalar() : std::string("?");
    if (!seen.insert(key).second) p.fail(kv.first, fmt::format("duplicate key '{}'", key));
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end() &&
        registry.find_block(key) == nullptr) {
      const std::string hint = closest_match(key, allowed);
      p.fail(kv.first, fmt::format("unknown top-level key '{}'{}", key,
                                   hint.empty() ? "" : "; did you mean '" + hint + "'?"));
    }
  }
  if (!root["lab"]) p.fail(root, "missing `lab:` (which lab runs this scenario)");
  s.lab = p.string(root["lab"], "`lab`");
  if (s.lab != registry.lab_id()) {
    p.fail(root["lab"], fmt::format("this scenario is for lab '{}', not '{}' (run it with lab-{})",
                                    s.lab, registry.lab_id(), s.lab));
  }
  s.name =
      root["name"] ? p.string(root["name"], "`name`") : std::filesystem::path(path).stem().string();
  if (root["title"]) s.title = p.string(root["title"], "`title`");
  if (!root["main"]) p.fail(root, "missing `main:` (the ops of the main script)");
  s.main = p.parse_body(root["main"], BodyKind::callback);
  if (root["answer"]) parse_answer(p, root["answer"], registry, s);
  if (root["expect"]) parse_expect(p, root["expect"], registry, s.expect);
  for (const auto& kv : root) {
    if (const BlockDef* b = registry.find_block(kv.first.Scalar())) b->parse(p, kv.second, s);
  }
  return s;
}

}  // namespace nodelab::script
