#include "script/values.hpp"

#include <fmt/format.h>

#include <any>
#include <map>

#include "runtime/js_number.hpp"
#include "script/interpreter.hpp"
#include "script/scenario.hpp"
#include "script/twin.hpp"

namespace nodelab::script {

namespace {

struct PromiseNames {
  std::map<std::string, SourceLoc> given;
  std::vector<std::pair<std::string, SourceLoc>> used;
};

std::shared_ptr<PromiseNames> names_of(Parser& p) {
  auto& slot = p.scenario().blocks["promise.names"];
  if (!slot.has_value()) slot = std::make_shared<PromiseNames>();
  return std::any_cast<std::shared_ptr<PromiseNames>>(slot);
}

}  // namespace

runtime::JsValue ValueSpec::eval(Interpreter& interp) const {
  switch (kind) {
    case Kind::undefined:
      return {};
    case Kind::literal:
      return literal;
    case Kind::error:
      return runtime::JsValue::error("Error", text);
    case Kind::promise:
      return interp.named(text);
  }
  return {};
}

std::string ValueSpec::js() const {
  switch (kind) {
    case Kind::undefined:
      return "undefined";
    case Kind::literal:
      switch (literal.kind) {
        case runtime::JsValue::Kind::number:
          return runtime::js_number_to_string(literal.number);
        case runtime::JsValue::Kind::boolean:
          return literal.boolean ? "true" : "false";
        default:
          return js_string(literal.text);
      }
    case Kind::error:
      return "new Error(" + js_string(text) + ")";
    case Kind::promise:
      return promise_js(text);
  }
  return "undefined";
}

std::string ValueSpec::describe() const {
  switch (kind) {
    case Kind::literal:
      return literal.kind == runtime::JsValue::Kind::string ? "'" + literal.text + "'"
                                                            : runtime::show(literal);
    case Kind::error:
      return "Error: " + text;
    case Kind::promise:
      return promise_js(text);
    case Kind::undefined:
      break;
  }
  return "undefined";
}

runtime::JsValue parse_literal(Parser& p, const YAML::Node& raw, std::string_view what) {
  p.visit(raw);
  const YAML::Node n = p.resolve(raw);
  if (!n.IsScalar()) {
    p.fail(raw, fmt::format("{} must be a number, a string or true/false; got {}", what,
                            node_kind_name(n)));
  }
  switch (scalar_type(n)) {
    case ScalarType::integer:
    case ScalarType::floating:
      return runtime::JsValue::of_number(*scalar_number(n));
    case ScalarType::boolean:
      return runtime::JsValue::of_boolean(n.Scalar() == "true");
    default:
      return runtime::JsValue::of_string(p.string(raw, what));
  }
}

std::optional<ValueSpec> value_fields(Parser& p, Fields& f, std::string_view op) {
  std::optional<ValueSpec> out;
  const char* seen = nullptr;
  for (const char* key : {"value", "error", "promise"}) {
    if (!f.has(key)) continue;
    if (seen != nullptr) {
      p.fail(f.get(key), fmt::format("`{}` takes one of `value`, `error` and `promise`; got `{}` "
                                     "and `{}`",
                                     op, seen, key));
    }
    seen = key;
    ValueSpec v;
    const std::string k = key;
    if (k == "value") {
      v.kind = ValueSpec::Kind::literal;
      v.literal = parse_literal(p, f.get(key), fmt::format("`value` of `{}`", op));
    } else if (k == "error") {
      v.kind = ValueSpec::Kind::error;
      v.text = f.string("error");
    } else {
      v.kind = ValueSpec::Kind::promise;
      v.text = f.identifier("promise");
      use_promise_name(p, f.get("promise"), v.text);
    }
    out = std::move(v);
  }
  return out;
}

void give_promise_name(Parser& p, const YAML::Node& at, const std::string& name) {
  auto names = names_of(p);
  const SourceLoc here = p.loc(at);
  const auto [it, fresh] = names->given.emplace(name, here);
  if (!fresh) {
    p.fail(at,
           fmt::format("the promise name '{}' is already given at line {}", name, it->second.line));
  }
}

void use_promise_name(Parser& p, const YAML::Node& at, const std::string& name) {
  names_of(p)->used.emplace_back(name, p.loc(at));
}

void add_promise_name_check(OpRegistry& r) {
  r.add_check([](Scenario& s) {
    const auto it = s.blocks.find("promise.names");
    if (it == s.blocks.end()) return;
    const auto names = std::any_cast<std::shared_ptr<PromiseNames>>(it->second);
    for (const auto& [name, loc] : names->used) {
      if (names->given.count(name) == 0) {
        throw ScenarioError(loc,
                            fmt::format("no op gives the name '{}' (a promise's or a controller's "
                                        "`name:`)",
                                        name));
      }
    }
  });
}

void use_promises(TwinWriter& w) {
  // A table without a prototype: any identifier is an own property (`P.constructor` too).
  w.declare("(promises)", "const P = Object.create(null);");
}

void use_show(TwinWriter& w) {
  w.helper("__show", std::string(runtime::show_twin_helper()));
}

std::string promise_js(const std::string& name) {
  return "P." + name;
}

}  // namespace nodelab::script
