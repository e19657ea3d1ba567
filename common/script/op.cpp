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
  std::string literal;
  for (std::size_t i = 0; i < raw.size();) {
    if (raw.substr(i, kError.size()) == kError) {
      if (!literal.empty()) t.parts_.push_back({false, std::move(literal)});
      literal.clear();
      t.parts_.push_back({true, {}});
      i += kError.size();
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

std::string Text::render(const ErrorEnv& error) const {
  if (parts_.size() == 1 && !parts_[0].is_error) return parts_[0].literal;
  std::string out;
  for (const auto& p : parts_)
    out += p.is_error ? (error ? *error : std::string()) : p.literal;
  return out;
}

std::string Text::js() const {
  std::string out;
  for (const auto& p : parts_) {
    if (!out.empty()) out += " + ";
    out += p.is_error ? "e.message" : js_string(p.literal);
  }
  return out;
}

std::string js_string(std::string_view s) {
  return nlohmann::json(std::string(s)).dump();
}

}  // namespace nodelab::script
