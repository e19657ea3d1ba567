#include "script/scenario.hpp"

#include <filesystem>
#include <map>
#include <regex>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "script/parser.hpp"

namespace nodelab::script {

namespace {

constexpr std::string_view kTopKeys[] = {"lab",    "name",   "title",    "answer",     "main",
                                         "expect", "params", "variants", "resolution", "process"};

// `process:` is the process's configuration, what node takes on its command line:
// {unhandledRejections: throw | strict | warn | warn-with-error-code | none}.
std::optional<runtime::UnhandledRejections> parse_process(Parser& p, const YAML::Node& n) {
  p.visit(n);
  if (!n.IsMap()) {
    p.fail(n, fmt::format("`process` is a mapping of node's process options, e.g. "
                          "{{unhandledRejections: warn}}; got {}",
                          node_kind_name(n)));
  }
  Fields f = p.fields(n, "process", {"unhandledRejections"});
  if (!f.has("unhandledRejections")) return std::nullopt;
  const std::string mode = f.string("unhandledRejections");
  const auto parsed = runtime::parse_unhandled_rejections(mode);
  if (!parsed) {
    p.fail(
        f.get("unhandledRejections"),
        fmt::format("`unhandledRejections` is node's --unhandled-rejections mode: throw, strict, "
                    "warn, warn-with-error-code or none; got '{}'",
                    mode));
  }
  return parsed;
}

// Names that may be cited as {path}: a metric, or <variant>.<metric> (filled in --compare).
bool known_placeholder(const std::string& path, const OpRegistry& registry, const Scenario& s) {
  if (registry.knows_metric(path)) return true;
  const auto dot = path.find('.');
  if (dot == std::string::npos) return false;
  const std::string head = path.substr(0, dot);
  return std::any_of(s.variants.begin(), s.variants.end(),
                     [&](const Variant& v) { return v.name == head; }) &&
         registry.knows_metric(path.substr(dot + 1));
}

std::string trimmed_text(Parser& p, const YAML::Node& n, const std::string& what) {
  std::string text = p.string(n, what);  // folded scalars (>) end in a newline
  while (!text.empty() && (text.back() == '\n' || text.back() == ' '))
    text.pop_back();
  return text;
}

// `when: "{a.metric} < {b.metric}"` (either side may be a number).
AnswerCondition parse_condition(Parser& p, const YAML::Node& n, const std::string& what) {
  static const std::regex kCondition(
      R"(^\s*(\{[^{}]+\}|-?[0-9]+(?:\.[0-9]+)?)\s*(<=|>=|<|>)\s*(\{[^{}]+\}|-?[0-9]+(?:\.[0-9]+)?)\s*$)");
  const std::string text = p.string(n, what);
  std::smatch m;
  if (!std::regex_match(text, m, kCondition)) {
    p.fail(n, fmt::format("{} compares two figures: \"{{a.metric}} < {{b.metric}}\" (or a number; "
                          "operators < <= > >=); got \"{}\"",
                          what, text));
  }
  return {m[1].str(), m[2].str(), m[3].str()};
}

// A text: a scalar, or a list of scalars and {when, then, else} pieces, joined with spaces.
AnswerText parse_answer_text(Parser& p, const YAML::Node& n, const std::string& what) {
  p.visit(n);
  if (n.IsScalar()) return {AnswerPiece{trimmed_text(p, n, what), {}, {}}};
  if (!n.IsSequence()) {
    p.fail(n,
           fmt::format("{} is a text, or a list of texts and {{when, then, else}} pieces; got {}",
                       what, node_kind_name(n)));
  }
  AnswerText out;
  for (const auto& item : n) {
    p.visit(item);
    if (item.IsScalar()) {
      out.push_back({trimmed_text(p, item, what), {}, {}});
      continue;
    }
    if (!item.IsMap() || !item["when"] || !item["then"]) {
      p.fail(item,
             fmt::format("a piece of {} is a text or {{when: \"{{a.metric}} < {{b.metric}}\", "
                         "then: TEXT, else: TEXT}}",
                         what));
    }
    for (const auto& kv : item) {
      p.visit(kv.first);
      const std::string k = kv.first.IsScalar() ? kv.first.Scalar() : "?";
      if (k != "when" && k != "then" && k != "else") {
        p.fail(
            kv.first,
            fmt::format("unknown key '{}' in a piece of {} (allowed: when, then, else)", k, what));
      }
    }
    AnswerPiece piece;
    piece.when = parse_condition(p, item["when"], what + " `when`");
    piece.text = trimmed_text(p, item["then"], what + " `then`");
    if (item["else"]) piece.otherwise = trimmed_text(p, item["else"], what + " `else`");
    out.push_back(std::move(piece));
  }
  return out;
}

const Variant* variant_named(const Scenario& s, std::string_view name) {
  for (const auto& v : s.variants) {
    if (v.name == name) return &v;
  }
  return nullptr;
}

// The figures a run has: a single run (the params as written: variant "", or one variant) has
// its own; --compare has each variant's, never a single one.
void check_answer_text(Parser& p, const YAML::Node& at, const AnswerText& text,
                       const OpRegistry& registry, const Scenario& s, const std::string& what,
                       bool compare, const std::string& variant, bool per_run_form) {
  for (const auto& path : placeholders_in(text)) {
    if (!known_placeholder(path, registry, s)) {
      std::vector<std::string_view> known;
      for (const auto& m : registry.metrics())
        known.push_back(m.path);
      const std::string hint = closest_match(path, known);
      p.fail(at, fmt::format("`{{{}}}` is not a metric of lab-{}{}", path, registry.lab_id(),
                             hint.empty() ? " (see --help for the list)"
                                          : "; did you mean '{" + hint + "}'?"));
    }
    const auto dot = path.find('.');
    const bool qualified =
        !registry.knows_metric(path) && variant_named(s, path.substr(0, dot)) != nullptr;
    if (compare && !qualified) {
      p.fail(at, fmt::format(
                     "{} cites `{{{}}}`, which has no single value in --compare (one per variant): "
                     "cite `{{<variant>.{}}}`{}",
                     what, path, path,
                     per_run_form ? " in `compare:`"
                                  : ", and write the text per run: `{ run: ..., compare: ... }`"));
    }
    if (!compare && qualified && path.substr(0, dot) != variant) {
      p.fail(at, fmt::format(
                     "{} cites `{{{}}}`, a figure of variant '{}', but a run of {} has only its "
                     "own figures (`{{{}}}`); --compare has every variant's: write the text per "
                     "run, `{{ run: ..., compare: ... }}`",
                     what, path, path.substr(0, dot),
                     variant.empty() ? "the params as written" : "variant '" + variant + "'",
                     path.substr(dot + 1)));
    }
  }
}

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
  }
  // Printed in the canonical order whatever order the file uses.
  for (auto key : kAnswerKeys) {
    const YAML::Node v = n[std::string(key)];
    if (!v) continue;
    const std::string what = fmt::format("`answer.{}`", key);
    AnswerPart part{std::string(key), {}, {}};
    // Per run: { run: TEXT, compare: TEXT, <variant>: TEXT }; else one text for every run.
    std::map<std::string, std::pair<YAML::Node, AnswerText>> per_run;
    const bool per_run_form = v.IsMap();
    if (per_run_form) {
      p.visit(v);
      for (const auto& kv : v) {
        p.visit(kv.first);
        const std::string k = kv.first.IsScalar() ? kv.first.Scalar() : std::string("?");
        if (k != "run" && k != "compare" && variant_named(s, k) == nullptr) {
          std::vector<std::string> allowed{"run", "compare"};
          for (const auto& var : s.variants)
            allowed.push_back(var.name);
          p.fail(kv.first, fmt::format("unknown key '{}' in {} (allowed: run, a variant's name, "
                                       "compare; this scenario's: {})",
                                       k, what, fmt::join(allowed, ", ")));
        }
        if (k == "compare" && s.variants.empty()) {
          p.fail(kv.first, fmt::format("{} has a `compare:` text, but this scenario declares no "
                                       "variants to compare",
                                       what));
        }
        per_run[k] = {kv.second,
                      parse_answer_text(p, kv.second, fmt::format("`answer.{}.{}`", key, k))};
      }
      if (!per_run.count("run")) {
        p.fail(v, fmt::format("{} written per run needs `run:`, the text of a run of the params "
                              "as written",
                              what));
      }
    } else {
      per_run["run"] = {v, parse_answer_text(p, v, what)};
    }
    // The text each run would print, checked for every run (not only the one loaded).
    auto text_of = [&](const std::string& run) -> const std::pair<YAML::Node, AnswerText>& {
      const auto it = per_run.find(run);
      return it != per_run.end() ? it->second : per_run.at("run");
    };
    auto run_what = [&](const std::string& run) {
      if (!per_run_form) return what;
      return fmt::format("`answer.{}.{}`", key, per_run.count(run) ? run : "run");
    };
    const auto& base = text_of("run");
    check_answer_text(p, base.first, base.second, registry, s, run_what("run"), false, "",
                      per_run_form);
    for (const auto& var : s.variants) {
      const auto& t = text_of(var.name);
      check_answer_text(p, t.first, t.second, registry, s, run_what(var.name), false, var.name,
                        per_run_form);
    }
    if (!s.variants.empty()) {
      const auto& t = text_of("compare");
      check_answer_text(p, t.first, t.second, registry, s, run_what("compare"), true, "",
                        per_run_form);
      part.compare = t.second;
    }
    part.text = text_of(s.variant.empty() ? "run" : s.variant).second;
    s.answer.push_back(std::move(part));
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

void parse_params(Parser& p, const YAML::Node& n, Scenario& s) {
  p.visit(n);
  if (!n.IsMap()) p.fail(n, "`params` maps a parameter name to a value, e.g. {strategy: sync}");
  for (const auto& kv : n) {
    const std::string name = p.identifier(kv.first, "a param name");
    if (std::any_of(s.params.begin(), s.params.end(),
                    [&](const Param& q) { return q.name == name; })) {
      p.fail(kv.first, fmt::format("duplicate param '{}'", name));
    }
    p.visit(kv.second);
    if (!kv.second.IsScalar()) {
      p.fail(kv.second, "a param value must be a scalar (a number or a text)");
    }
    s.params.push_back({name, kv.second});
  }
}

void parse_variants(Parser& p, const YAML::Node& n, Scenario& s) {
  p.visit(n);
  if (!n.IsMap() || n.size() == 0) {
    p.fail(n, "`variants` maps a variant name to {title, params, env, expect}");
  }
  for (const auto& kv : n) {
    Variant v;
    v.name = p.identifier(kv.first, "a variant name");
    if (std::any_of(s.variants.begin(), s.variants.end(),
                    [&](const Variant& w) { return w.name == v.name; })) {
      p.fail(kv.first, fmt::format("duplicate variant '{}'", v.name));
    }
    Fields f = p.fields(kv.second, "a variant",
                        {"title", "params", "env", "resolution", "process", "expect"});
    if (f.has("process")) v.process_node = f.get("process");
    if (f.has("title")) v.title_node = f.get("title");
    if (f.has("resolution")) {
      v.resolution_ms = static_cast<int>(f.integer("resolution", 1, 10000));
    }
    if (f.has("params")) {
      const YAML::Node ps = f.get("params");
      p.visit(ps);
      if (!ps.IsMap()) p.fail(ps, "a variant's `params` maps declared params to values");
      for (const auto& pv : ps) {
        const std::string name = p.string(pv.first, "a param name");
        if (std::any_of(v.params.begin(), v.params.end(),
                        [&](const Param& q) { return q.name == name; })) {
          p.fail(pv.first, fmt::format("duplicate param '{}'", name));
        }
        if (!std::any_of(s.params.begin(), s.params.end(),
                         [&](const Param& q) { return q.name == name; })) {
          p.fail(pv.first,
                 fmt::format("variant '{}' sets '{}', which is not under `params:`", v.name, name));
        }
        p.visit(pv.second);
        if (!pv.second.IsScalar()) p.fail(pv.second, "a param value must be a scalar");
        v.params.push_back({name, pv.second});
      }
    }
    if (f.has("env")) {
      Fields env = p.fields(f.get("env"), "a variant's env", {"UV_THREADPOOL_SIZE"});
      if (env.has("UV_THREADPOOL_SIZE")) {
        // libuv's own range (src/threadpool.c): 1..1024 threads.
        const auto size = env.integer("UV_THREADPOOL_SIZE", 1, 1024);
        v.env.emplace_back("UV_THREADPOOL_SIZE", std::to_string(size));
      }
    }
    if (f.has("expect")) v.expect_node = f.get("expect");
    s.variants.push_back(std::move(v));
  }
}

// A variant's `expect` adds to the scenario's: its order replaces, its phases and metric
// bounds add up.
void merge_expect(Expect& base, const Expect& extra) {
  if (extra.order || !extra.order_any_of.empty()) {
    base.order = extra.order;
    base.order_any_of = extra.order_any_of;
  }
  base.phases.insert(base.phases.end(), extra.phases.begin(), extra.phases.end());
  base.metrics.insert(base.metrics.end(), extra.metrics.begin(), extra.metrics.end());
}

}  // namespace

std::vector<std::string> variant_names(const std::string& path) {
  std::vector<std::string> names;
  const YAML::Node root = YAML::LoadFile(path);
  if (root.IsMap() && root["variants"] && root["variants"].IsMap()) {
    for (const auto& kv : root["variants"])
      names.push_back(kv.first.Scalar());
  }
  return names;
}

std::vector<std::string> placeholders_in(const AnswerText& text) {
  std::vector<std::string> out;
  auto add = [&](std::string_view t) {
    for (auto& path : placeholders_in(t))
      out.push_back(std::move(path));
  };
  for (const auto& piece : text) {
    add(piece.text);
    add(piece.otherwise);
    if (piece.when) {
      add(piece.when->left);
      add(piece.when->right);
    }
  }
  return out;
}

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

Scenario load_scenario(const std::string& path, const OpRegistry& registry, const Limits& limits,
                       const std::string& variant) {
  return parse_scenario(read_scenario_text(path, limits), path, registry, limits, variant);
}

Scenario parse_scenario(const std::string& text, const std::string& path,
                        const OpRegistry& registry, const Limits& limits,
                        const std::string& variant) {
  Scenario s;
  s.file = path;
  std::error_code ec;
  s.path = std::filesystem::absolute(path, ec).string();
  if (ec) s.path = path;
  if (text.size() > limits.max_file_bytes) {
    throw ScenarioError(
        {path}, fmt::format("file is larger than the limit of {} bytes", limits.max_file_bytes));
  }
  check_scenario_text(text, path);
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

  if (!root["main"]) p.fail(root, "missing `main:` (the ops of the main script)");

  if (root["resolution"]) {
    const YAML::Node n = root["resolution"];
    const auto v = n.IsScalar() ? scalar_integer(n) : std::nullopt;
    if (!v || *v < 1 || *v > 10000) {
      p.fail(n, "`resolution` is the eventLoopDelay sampling interval in whole ms, 1 to 10000");
    }
    s.resolution_ms = static_cast<int>(*v);
  }
  // Parameters, then the chosen variant's overrides, before any op reads them.
  if (root["params"]) parse_params(p, root["params"], s);
  if (root["variants"]) parse_variants(p, root["variants"], s);
  const Variant* chosen = nullptr;
  if (!variant.empty()) {
    for (const auto& v : s.variants) {
      if (v.name == variant) chosen = &v;
    }
    if (chosen == nullptr) {
      std::vector<std::string> names;
      for (const auto& v : s.variants)
        names.push_back(v.name);
      throw ScenarioError(
          {path},
          names.empty()
              ? fmt::format("no variant '{}': this scenario declares none", variant)
              : fmt::format("no variant '{}' (variants: {})", variant, fmt::join(names, ", ")));
    }
    s.variant = chosen->name;
    s.env = chosen->env;
    if (chosen->resolution_ms) s.resolution_ms = chosen->resolution_ms;
  }
  // The params as written, and as this run sees them. (Built anew: assigning a YAML::Node
  // that already refers to a node rewrites the shared node itself, i.e. the document.)
  const std::vector<Param> written = s.params;
  auto with_overrides = [&written](const std::vector<Param>& overrides) {
    std::vector<Param> out;
    for (const auto& q : written) {
      const auto o = std::find_if(overrides.begin(), overrides.end(),
                                  [&](const Param& x) { return x.name == q.name; });
      out.push_back(Param{q.name, o != overrides.end() ? o->value : q.value});
    }
    return out;
  };
  if (chosen != nullptr) s.params = with_overrides(chosen->params);
  p.set_params(&s.params);
  if (root["title"]) s.title = p.string(root["title"], "`title`");
  // `process:` may name a param (`unhandledRejections: $mode`); a variant's own wins.
  if (root["process"]) s.unhandled_rejections = parse_process(p, root["process"]);

  // Each variant's title and expect are read with that variant's params (and checked even when
  // another variant runs).
  for (auto& v : s.variants) {
    const std::vector<Param> own = with_overrides(v.params);
    p.set_params(&own);
    if (v.title_node.get().IsDefined()) v.title = p.string(v.title_node, "a variant's `title`");
    if (v.expect_node.get().IsDefined()) parse_expect(p, v.expect_node, registry, v.expect);
    if (v.process_node.get().IsDefined()) {
      v.unhandled_rejections = parse_process(p, v.process_node);
    }
    p.set_params(&s.params);
  }
  if (chosen != nullptr && chosen->unhandled_rejections) {
    s.unhandled_rejections = chosen->unhandled_rejections;
  }
  if (chosen != nullptr && !chosen->title.empty()) {
    s.title = s.title.empty() ? chosen->title : s.title + " [" + chosen->title + "]";
  }

  s.main = p.parse_body(root["main"], BodyKind::callback);
  if (root["answer"]) parse_answer(p, root["answer"], registry, s);
  if (root["expect"]) parse_expect(p, root["expect"], registry, s.expect);
  if (chosen != nullptr) merge_expect(s.expect, chosen->expect);

  for (const auto& kv : root) {
    if (const BlockDef* b = registry.find_block(kv.first.Scalar())) b->parse(p, kv.second, s);
  }
  for (const auto& check : registry.checks())
    check(s);
  return s;
}

}  // namespace nodelab::script
