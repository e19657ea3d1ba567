#pragma once
// Turning YAML nodes into ops, with every check an op parser needs: known keys, types,
// ranges, the nesting and expansion limits, and where `await` and `{error}` may appear.

#include <yaml-cpp/yaml.h>

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "script/limits.hpp"
#include "script/op.hpp"
#include "script/registry.hpp"
#include "script/source.hpp"
#include "script/yaml_node.hpp"

namespace nodelab::script {

struct Scenario;

// How a nested op list relates to its parent, which decides what may appear in it.
enum class BodyKind : std::uint8_t {
  callback,        // `then` of a callback: a new JS function (no `await` unless it is async)
  control,         // `do` of repeat/try: the same function as the parent
  handler,         // `catch` of try: the same function, with `{error}` bound
  async_do,        // `do` of async: an async function, where `await` may stand
  reaction,        // a promise reaction's function (v) => {...}: `{value}` is its argument
  rejection,       // an onRejected reaction (v) => { const e = v; ... }: `{value}` and `{error}`
  error_callback,  // `then` of a listener given an error (process 'unhandledRejection'): a
                   // new JS function with `{error}` bound to its first argument's message
};

class Fields;

// A scenario parameter and its value in the run being loaded (the `params` block, with the
// chosen variant's overrides applied).
class Parser {
 public:
  Parser(std::string file, const Limits& limits, const OpRegistry& registry, Scenario& scenario);

  const std::string& file() const { return file_; }
  const Limits& limits() const { return limits_; }
  const OpRegistry& registry() const { return registry_; }
  Scenario& scenario() { return scenario_; }

  [[noreturn]] void fail(const YAML::Node& at, std::string_view message) const;
  // Where `n` is; a null or missing value is reported at the key it belongs to (yaml-cpp
  // places an empty value at the start of the next token, often the next line).
  SourceLoc loc(const YAML::Node& n) const;
  // Charges the visit budget (alias expansion makes a DAG look like a huge tree).
  void visit(const YAML::Node& n);

  // A list of ops. `multiplier` is how many times each op in it runs per run of the parent
  // (repeat's and setInterval's `times`).
  Body parse_body(const YAML::Node& seq, BodyKind kind, double multiplier = 1);

  // The fields map of an op, checked against the keys it allows.
  Fields fields(const YAML::Node& value, std::string_view op,
                std::initializer_list<std::string_view> allowed);

  // A scalar rendered as text (log: 42 logs "42"); `{error}` only inside a catch body.
  Text text(const YAML::Node& n, std::string_view what);
  std::string string(const YAML::Node& n, std::string_view what);
  // A name a scenario gives (emitter, listener id, stream, param, variant): a JavaScript
  // identifier, [A-Za-z_$][A-Za-z0-9_$]*. Any is allowed: twins use these names only as
  // property names of their own tables (`L.id`, `E.bus`, `S.name`), never as variables.
  std::string identifier(const YAML::Node& n, std::string_view what);

  bool in_async() const { return in_async_; }
  bool in_catch() const { return in_catch_; }
  // Inside an async function or a promise reaction (or a callback they create), where `v`
  // is bound: `{value}` may appear.
  bool in_value() const { return in_value_; }
  // The function being parsed reads or assigns its `v` (its twin then declares `let v;`).
  void use_value() { value_used_ = true; }
  // A function binding its own `v` begins: returns the enclosing one's flag for
  // end_value_scope(), which returns whether this function used `v`.
  bool begin_value_scope() { return std::exchange(value_used_, false); }
  bool end_value_scope(bool saved) { return std::exchange(value_used_, saved); }
  double multiplier() const { return multiplier_; }
  // Accounts ops that will execute `count` times (per run of the enclosing body).
  void add_expanded(double count, const YAML::Node& at);
  void add_busy_ms(double ms, const YAML::Node& at);

  // Registers an op's site (for narration and traces); returns its id.
  runtime::Site register_site(const Op* op);
  // A lab block (`requests:`, `workload:`...) that runs as the main script's last op: placed
  // at `at`, given a site, appended to the scenario's main script.
  void append_block_op(std::unique_ptr<Op> op, const YAML::Node& at);

  // Parameters: a scalar that is exactly `$name` stands for the parameter's value, and
  // `${name}` inside a text is replaced by it. Only scenarios that declare `params` have any.
  void set_params(const std::vector<Param>* params) { params_ = params; }
  const Param* param(std::string_view name) const;
  YAML::Node resolve(const YAML::Node& n) const;

 private:
  std::unique_ptr<Op> parse_op(const YAML::Node& item);
  friend class Fields;

  std::string file_;
  const Limits& limits_;
  const OpRegistry& registry_;
  Scenario& scenario_;
  std::size_t visits_ = 0;
  std::size_t ops_ = 0;
  int depth_ = 0;
  bool in_async_ = false;
  bool in_catch_ = false;
  bool in_value_ = false;
  bool value_used_ = false;
  double multiplier_ = 1;
  double expanded_ = 0;
  double busy_ms_ = 0;
  std::vector<YAML::Node> keys_;  // the op (and field) keys being parsed, innermost last
  const std::vector<Param>* params_ = nullptr;
};

// The fields of one op: each lookup marks the key used; unknown keys were already
// rejected when the Fields was made.
class Fields {
 public:
  Fields(Parser& p, YAML::Node map, std::string_view op);

  bool has(std::string_view key) const;
  const YAML::Node& node() const { return map_; }
  YAML::Node get(std::string_view key) const;  // null node if absent

  // Any YAML number, including .inf and .nan (values Node accepts do what Node does).
  double number(std::string_view key, std::optional<double> fallback = std::nullopt);
  // A number within [min, max].
  double number_in(std::string_view key, double min, double max,
                   std::optional<double> fallback = std::nullopt);
  // A whole number within [min, max].
  std::int64_t integer(std::string_view key, std::int64_t min, std::int64_t max,
                       std::optional<std::int64_t> fallback = std::nullopt);
  std::string string(std::string_view key, std::optional<std::string> fallback = std::nullopt);
  // true or false.
  bool boolean(std::string_view key, std::optional<bool> fallback = std::nullopt);
  std::string identifier(std::string_view key);
  Text text(std::string_view key);
  Body body(std::string_view key, BodyKind kind, double multiplier = 1);

 private:
  // While a field is read, errors about an empty value point at the field's key.
  class KeyScope {
   public:
    KeyScope(Fields& f, std::string_view key);
    ~KeyScope();
    KeyScope(const KeyScope&) = delete;
    KeyScope& operator=(const KeyScope&) = delete;

   private:
    Parser& p_;
  };
  YAML::Node required(std::string_view key) const;
  YAML::Node key_of(std::string_view key) const;

  Parser& p_;
  YAML::Node map_;
  std::string op_;
};

}  // namespace nodelab::script
