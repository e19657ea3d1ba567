#include "report/json_writer.hpp"

#include <nlohmann/json.hpp>

#include <cmath>

#include <fmt/format.h>

namespace nodelab::report {

void JsonWriter::newline() {
  if (!pretty_) return;
  std::fputc('\n', out_);
  for (std::size_t i = 0; i < stack_.size(); ++i)
    std::fputs("  ", out_);
}

void JsonWriter::before_value() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (stack_.empty()) return;
  if (!stack_.back().empty) std::fputc(',', out_);
  stack_.back().empty = false;
  newline();
}

JsonWriter& JsonWriter::begin_object() {
  before_value();
  std::fputc('{', out_);
  stack_.push_back({true, true});
  return *this;
}

JsonWriter& JsonWriter::end_object() {
  const bool empty = stack_.back().empty;
  stack_.pop_back();
  if (!empty) newline();
  std::fputc('}', out_);
  if (stack_.empty() && pretty_) std::fputc('\n', out_);
  return *this;
}

JsonWriter& JsonWriter::begin_array() {
  before_value();
  std::fputc('[', out_);
  stack_.push_back({false, true});
  return *this;
}

JsonWriter& JsonWriter::end_array() {
  const bool empty = stack_.back().empty;
  stack_.pop_back();
  if (!empty) newline();
  std::fputc(']', out_);
  return *this;
}

JsonWriter& JsonWriter::key(std::string_view k) {
  before_value();
  const std::string quoted = nlohmann::json(std::string(k)).dump();
  std::fputs(quoted.c_str(), out_);
  std::fputs(pretty_ ? ": " : ":", out_);
  after_key_ = true;
  return *this;
}

JsonWriter& JsonWriter::value(std::string_view s) {
  before_value();
  const std::string quoted =
      nlohmann::json(std::string(s)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  std::fwrite(quoted.data(), 1, quoted.size(), out_);
  return *this;
}

JsonWriter& JsonWriter::value(double v) {
  if (!std::isfinite(v)) return null();
  before_value();
  fmt::print(out_, "{}", v);
  return *this;
}

JsonWriter& JsonWriter::value(std::int64_t v) {
  before_value();
  fmt::print(out_, "{}", v);
  return *this;
}

JsonWriter& JsonWriter::value(std::uint64_t v) {
  before_value();
  fmt::print(out_, "{}", v);
  return *this;
}

JsonWriter& JsonWriter::value(bool v) {
  before_value();
  std::fputs(v ? "true" : "false", out_);
  return *this;
}

JsonWriter& JsonWriter::null() {
  before_value();
  std::fputs("null", out_);
  return *this;
}

JsonWriter& JsonWriter::value(const nlohmann::json& j) {
  before_value();
  const std::string s = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  std::fwrite(s.data(), 1, s.size(), out_);
  return *this;
}

}  // namespace nodelab::report
