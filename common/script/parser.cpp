#include "script/parser.hpp"

#include <algorithm>
#include <cmath>
#include <regex>
#include <set>

#include <fmt/format.h>

#include "runtime/js_number.hpp"
#include "script/scenario.hpp"

namespace nodelab::script {

namespace {

std::string join(std::initializer_list<std::string_view> items) {
  std::string out;
  for (auto s : items) {
    if (!out.empty()) out += ", ";
    out += s;
  }
  return out;
}

bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t len = c < 0x80             ? 1
                      : (c & 0xE0) == 0xC0 ? 2
                      : (c & 0xF0) == 0xE0 ? 3
                      : (c & 0xF8) == 0xF0 ? 4
                                           : 0;
    if (len == 0 || i + len > s.size()) return false;
    std::uint32_t cp = len == 1 ? c : len == 2 ? (c & 0x1Fu) : len == 3 ? (c & 0x0Fu) : (c & 0x07u);
    for (std::size_t k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3Fu);
    }
    static constexpr std::uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

}  // namespace

Parser::Parser(std::string file, const Limits& limits, const OpRegistry& registry,
               Scenario& scenario)
    : file_(std::move(file)), limits_(limits), registry_(registry), scenario_(scenario) {}

SourceLoc Parser::loc(const YAML::Node& n) const {
  if ((!n.IsDefined() || n.IsNull()) && !keys_.empty()) return loc_of(keys_.back(), file_);
  return loc_of(n, file_);
}

void Parser::fail(const YAML::Node& at, std::string_view message) const {
  throw ScenarioError(loc(at), std::string(message));
}

void Parser::visit(const YAML::Node& n) {
  if (++visits_ > limits_.max_yaml_nodes) {
    fail(n, fmt::format("more than {} YAML nodes once aliases are expanded (the limit)",
                        limits_.max_yaml_nodes));
  }
}

Body Parser::parse_body(const YAML::Node& seq, BodyKind kind, double multiplier) {
  Body body;
  if (!seq.IsDefined() || seq.IsNull()) return body;
  visit(seq);
  if (!seq.IsSequence()) {
    fail(seq, fmt::format("expected a list of ops, got {} (write `- op: ...` items or `[ ... ]`)",
                          node_kind_name(seq)));
  }
  if (++depth_ > limits_.max_op_depth) {
    fail(seq, fmt::format("ops nested more than {} levels deep (the limit)", limits_.max_op_depth));
  }
  const bool saved_async = in_async_;
  const bool saved_catch = in_catch_;
  const bool saved_value = in_value_;
  const double saved_multiplier = multiplier_;
  switch (kind) {
    case BodyKind::callback:
      in_async_ = false;
      break;
    case BodyKind::control:
      break;
    case BodyKind::handler:
      in_catch_ = true;
      break;
    case BodyKind::async_do:
      in_async_ = true;
      in_value_ = true;
      break;
    case BodyKind::reaction:
      in_async_ = false;
      in_value_ = true;
      break;
    case BodyKind::rejection:
      in_async_ = false;
      in_value_ = true;
      in_catch_ = true;
      break;
    case BodyKind::error_callback:
      in_async_ = false;
      in_catch_ = true;
      break;
  }
  multiplier_ *= multiplier;
  body.reserve(seq.size());
  for (const auto& item : seq)
    body.push_back(parse_op(item));
  in_async_ = saved_async;
  in_catch_ = saved_catch;
  in_value_ = saved_value;
  multiplier_ = saved_multiplier;
  --depth_;
  return body;
}

std::unique_ptr<Op> Parser::parse_op(const YAML::Node& item) {
  visit(item);
  if (!item.IsMap()) {
    fail(item, fmt::format("an op is a one-key mapping such as `log: text` or "
                           "`setTimeout: {{ms: 1, then: [...]}}`; got {}",
                           node_kind_name(item)));
  }
  if (item.size() != 1) {
    std::string keys;
    for (const auto& kv : item) {
      if (!keys.empty()) keys += ", ";
      keys += kv.first.IsScalar() ? kv.first.Scalar() : "?";
    }
    fail(item, fmt::format("an op is a one-key mapping; this one has {} keys ({}): put each op "
                           "in its own list item",
                           item.size(), keys));
  }
  const auto kv = *item.begin();
  const YAML::Node key = kv.first;
  const YAML::Node value = kv.second;
  if (!key.IsScalar()) fail(key, "an op name must be a plain word such as `log`");
  const std::string& name = key.Scalar();
  const OpDef* def = registry_.find(name);
  if (def == nullptr) {
    const std::string hint = registry_.suggest(name);
    fail(key, hint.empty() ? fmt::format("unknown op '{}' (lab-{} ops: see --help)", name,
                                         registry_.lab_id())
                           : fmt::format("unknown op '{}'; did you mean '{}'?", name, hint));
  }
  if (++ops_ > limits_.max_ops) {
    fail(key, fmt::format("more than {} ops in the file (the limit; an alias counts each time it "
                          "is used)",
                          limits_.max_ops));
  }
  add_expanded(1, key);
  keys_.push_back(key);
  std::unique_ptr<Op> op = def->parse(*this, value);
  keys_.pop_back();
  const SourceLoc l = loc(key);
  op->line = l.line;
  op->col = l.col;
  op->site = register_site(op.get());
  return op;
}

Fields Parser::fields(const YAML::Node& value, std::string_view op,
                      std::initializer_list<std::string_view> allowed) {
  visit(value);
  if (value.IsDefined() && !value.IsNull()) {
    if (!value.IsMap()) {
      fail(value, fmt::format("`{}` takes a mapping of fields ({}); got {}", op, join(allowed),
                              node_kind_name(value)));
    }
    std::set<std::string> seen;
    for (const auto& kv : value) {
      visit(kv.first);
      if (!kv.first.IsScalar()) fail(kv.first, fmt::format("a field of `{}` must be a word", op));
      const std::string& k = kv.first.Scalar();
      if (!seen.insert(k).second) fail(kv.first, fmt::format("duplicate key '{}' in `{}`", k, op));
      if (std::find(allowed.begin(), allowed.end(), k) == allowed.end()) {
        const std::string hint =
            closest_match(k, std::vector<std::string_view>(allowed.begin(), allowed.end()));
        fail(kv.first, fmt::format("unknown key '{}' in `{}` (allowed: {}){}", k, op,
                                   allowed.size() ? join(allowed) : "none",
                                   hint.empty() ? "" : fmt::format("; did you mean '{}'?", hint)));
      }
    }
  }
  return Fields(*this, value, op);
}

const Param* Parser::param(std::string_view name) const {
  if (params_ == nullptr) return nullptr;
  for (const auto& p : *params_) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

YAML::Node Parser::resolve(const YAML::Node& n) const {
  if (params_ == nullptr || params_->empty() || !n.IsScalar() || n.Tag() != "?") return n;
  const std::string& s = n.Scalar();
  static const std::regex kRef(R"(\$([A-Za-z_][A-Za-z0-9_]*))");
  std::smatch m;
  if (!std::regex_match(s, m, kRef)) return n;
  const Param* p = param(m[1].str());
  if (p == nullptr) {
    fail(n, fmt::format("unknown param '{}' (declare it under `params:`)", m[1].str()));
  }
  return p->value;
}

std::string Parser::string(const YAML::Node& raw, std::string_view what) {
  visit(raw);
  const YAML::Node n = resolve(raw);
  if (!n.IsScalar() || scalar_type(n) == ScalarType::null) {
    fail(raw, fmt::format("{} must be a text; got {}", what, node_kind_name(n)));
  }
  std::string s = n.Scalar();
  if (params_ != nullptr && !params_->empty() && s.find("${") != std::string::npos) {
    static const std::regex kInterp(R"(\$\{([A-Za-z_][A-Za-z0-9_]*)\})");
    std::string out;
    auto last = s.cbegin();
    for (std::sregex_iterator it(s.cbegin(), s.cend(), kInterp), end; it != end; ++it) {
      const Param* p = param((*it)[1].str());
      if (p == nullptr) fail(raw, fmt::format("unknown param '{}'", (*it)[1].str()));
      out.append(last, (*it)[0].first).append(p->value.get().Scalar());
      last = (*it)[0].second;
    }
    s = out.append(last, s.cend());
  }
  if (s.size() > limits_.max_text_bytes) {
    fail(raw,
         fmt::format("{} is {} bytes; the limit is {}", what, s.size(), limits_.max_text_bytes));
  }
  if (!valid_utf8(s)) fail(raw, fmt::format("{} is not valid UTF-8 (check its escapes)", what));
  return s;
}

Text Parser::text(const YAML::Node& n, std::string_view what) {
  Text t = Text::parse(string(n, what));
  if (t.uses_error() && !in_catch_) {
    fail(n, "`{error}` names the caught error: it may only appear inside a `catch` body");
  }
  if (t.uses_value()) {
    if (!in_value_) {
      fail(n,
           "`{value}` names the awaited value or a promise reaction's argument: it may only "
           "appear inside an `async` body or a reaction's body");
    }
    use_value();
  }
  return t;
}

std::string Parser::identifier(const YAML::Node& n, std::string_view what) {
  static const std::regex kIdent(R"([A-Za-z_$][A-Za-z0-9_$]*)");
  std::string s = string(n, what);
  if (!std::regex_match(s, kIdent)) {
    fail(n,
         fmt::format("{} '{}' must be a JavaScript identifier (letters, digits, _ or $)", what, s));
  }
  return s;
}

void Parser::add_expanded(double count, const YAML::Node& at) {
  expanded_ += count * multiplier_;
  if (expanded_ > limits_.max_expanded_ops) {
    fail(at, fmt::format("the scenario would execute more than {} ops once every `times` is "
                         "multiplied out (the limit); lower a `times`",
                         runtime::js_number_to_string(limits_.max_expanded_ops)));
  }
}

void Parser::add_busy_ms(double ms, const YAML::Node& at) {
  busy_ms_ += ms * multiplier_;
  if (busy_ms_ > limits_.max_busy_ms) {
    fail(at, fmt::format("the scenario would busy-wait more than {} ms in all once every `times` "
                         "is multiplied out (the limit)",
                         runtime::js_number_to_string(limits_.max_busy_ms)));
  }
}

runtime::Site Parser::register_site(const Op* op) {
  scenario_.sites.push_back(op);
  return static_cast<runtime::Site>(scenario_.sites.size() - 1);
}

void Parser::append_block_op(std::unique_ptr<Op> op, const YAML::Node& at) {
  const SourceLoc where = loc(at);
  op->line = where.line;
  op->col = where.col;
  op->site = register_site(op.get());
  scenario_.main.push_back(std::move(op));
}

// ---------------------------------------------------------------------------------------

Fields::Fields(Parser& p, YAML::Node map, std::string_view op)
    : p_(p), map_(std::move(map)), op_(op) {}

bool Fields::has(std::string_view key) const {
  return get(key).IsDefined();
}

YAML::Node Fields::get(std::string_view key) const {
  if (map_.IsMap()) {
    for (const auto& kv : map_) {
      if (kv.first.Scalar() == key) return kv.second;
    }
  }
  return YAML::Node(YAML::NodeType::Undefined);  // a default Node() would be a defined null
}

YAML::Node Fields::required(std::string_view key) const {
  YAML::Node n = get(key);
  if (!n.IsDefined()) {
    throw ScenarioError(p_.loc(map_), fmt::format("`{}` needs `{}`", op_, key));
  }
  return n;
}

YAML::Node Fields::key_of(std::string_view key) const {
  if (map_.IsMap()) {
    for (const auto& kv : map_) {
      if (kv.first.Scalar() == key) return kv.first;
    }
  }
  return YAML::Node(YAML::NodeType::Undefined);
}

Fields::KeyScope::KeyScope(Fields& f, std::string_view key) : p_(f.p_) {
  p_.keys_.push_back(f.key_of(key));
}
Fields::KeyScope::~KeyScope() {
  p_.keys_.pop_back();
}

double Fields::number(std::string_view key, std::optional<double> fallback) {
  if (!has(key) && fallback) return *fallback;
  const KeyScope scope(*this, key);
  const YAML::Node raw = required(key);
  p_.visit(raw);
  const YAML::Node n = p_.resolve(raw);
  const auto v = n.IsScalar() ? scalar_number(n) : std::nullopt;
  if (!v) {
    p_.fail(raw, fmt::format("`{}` of `{}` must be a number; got {}", key, op_, node_kind_name(n)));
  }
  return *v;
}

double Fields::number_in(std::string_view key, double min, double max,
                         std::optional<double> fallback) {
  if (!has(key) && fallback) return *fallback;
  const double v = number(key);
  const KeyScope scope(*this, key);
  if (!(v >= min && v <= max)) {
    p_.fail(get(key),
            fmt::format("`{}` of `{}` must be between {} and {}; got {}", key, op_,
                        runtime::js_number_to_string(min), runtime::js_number_to_string(max),
                        runtime::js_number_to_string(v)));
  }
  return v;
}

std::int64_t Fields::integer(std::string_view key, std::int64_t min, std::int64_t max,
                             std::optional<std::int64_t> fallback) {
  if (!has(key) && fallback) return *fallback;
  const double v = number(key);
  const KeyScope scope(*this, key);
  if (!std::isfinite(v) || v != std::trunc(v)) {
    p_.fail(get(key), fmt::format("`{}` of `{}` must be a whole number; got {}", key, op_,
                                  runtime::js_number_to_string(v)));
  }
  if (v < static_cast<double>(min) || v > static_cast<double>(max)) {
    p_.fail(get(key), fmt::format("`{}` of `{}` must be between {} and {}; got {}", key, op_, min,
                                  max, runtime::js_number_to_string(v)));
  }
  return static_cast<std::int64_t>(v);
}

std::string Fields::string(std::string_view key, std::optional<std::string> fallback) {
  if (!has(key) && fallback) return *fallback;
  const KeyScope scope(*this, key);
  return p_.string(required(key), fmt::format("`{}` of `{}`", key, op_));
}

bool Fields::boolean(std::string_view key, std::optional<bool> fallback) {
  if (!has(key) && fallback) return *fallback;
  const std::string v = string(key, std::nullopt);
  if (v == "true") return true;
  if (v == "false") return false;
  const KeyScope scope(*this, key);
  p_.fail(required(key), fmt::format("`{}` of `{}` must be true or false; got '{}'", key, op_, v));
}

std::string Fields::identifier(std::string_view key) {
  const KeyScope scope(*this, key);
  return p_.identifier(required(key), fmt::format("`{}` of `{}`", key, op_));
}

Text Fields::text(std::string_view key) {
  const KeyScope scope(*this, key);
  return p_.text(required(key), fmt::format("`{}` of `{}`", key, op_));
}

Body Fields::body(std::string_view key, BodyKind kind, double multiplier) {
  return p_.parse_body(get(key), kind, multiplier);
}

}  // namespace nodelab::script
