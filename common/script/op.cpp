#include "script/op.hpp"

#include <nlohmann/json.hpp>

#include "script/interpreter.hpp"

namespace nodelab::script {

runtime::Task Exec::callback(const Body& body) const {
  return interp.callback(body, error);
}

Text Text::parse(std::string_view raw) {
  Text t;
  t.raw_ = std::string(raw);
  constexpr std::string_view kError = "{error}";
  constexpr std::string_view kValue = "{value}";
  std::string literal;
  for (std::size_t i = 0; i < raw.size();) {
    if (raw.substr(i, kError.size()) == kError) {
      if (!literal.empty()) t.parts_.push_back({false, std::move(literal)});
      literal.clear();
      t.parts_.push_back({true, {}});
      i += kError.size();
    } else if (raw.substr(i, kValue.size()) == kValue) {
      if (!literal.empty()) t.parts_.push_back({false, std::move(literal)});
      literal.clear();
      t.parts_.push_back({false, {}, true});
      i += kValue.size();
    } else {
      literal += raw[i++];
    }
  }
  if (!literal.empty() || t.parts_.empty()) t.parts_.push_back({false, std::move(literal)});
  return t;
}

bool Text::uses_error() const {
  for (const auto& p : parts_) {
    if (p.is_error) return true;
  }
  return false;
}

bool Text::uses_value() const {
  for (const auto& p : parts_) {
    if (p.is_value) return true;
  }
  return false;
}

std::string Text::render(const ErrorEnv& error, const ValueEnv& value) const {
  if (parts_.size() == 1 && !parts_[0].is_error && !parts_[0].is_value) return parts_[0].literal;
  std::string out;
  for (const auto& p : parts_) {
    if (p.is_error) {
      out += error ? *error : std::string();
    } else if (p.is_value) {
      out += value ? value->shown : std::string("undefined");
    } else {
      out += p.literal;
    }
  }
  return out;
}

std::string Text::js() const {
  std::string out;
  for (const auto& p : parts_) {
    if (!out.empty()) out += " + ";
    out += p.is_error ? "e.message" : p.is_value ? "__show(v)" : js_string(p.literal);
  }
  return out;
}

std::string js_string(std::string_view s) {
  return nlohmann::json(std::string(s)).dump();
}

}  // namespace nodelab::script
