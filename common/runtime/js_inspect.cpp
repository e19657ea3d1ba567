#include "runtime/js_inspect.hpp"

#include <fmt/format.h>

#include <vector>

namespace nodelab::runtime {

namespace {

// util.inspect's `meta` table for the characters it escapes.
std::string escape_char(unsigned char c) {
  switch (c) {
    case '\b':
      return "\\b";
    case '\t':
      return "\\t";
    case '\n':
      return "\\n";
    case '\f':
      return "\\f";
    case '\r':
      return "\\r";
    case '\\':
      return "\\\\";
    case '\'':
      return "\\'";
    default:
      return fmt::format("\\x{:02X}", c);
  }
}

std::string quote_one(std::string_view s) {
  // Prefer single quotes; double when the text holds a single quote; backticks when it holds
  // both (and no backtick or `${`).
  char quote = '\'';
  if (s.find('\'') != std::string_view::npos) {
    if (s.find('"') == std::string_view::npos) {
      quote = '"';
    } else if (s.find('`') == std::string_view::npos && s.find("${") == std::string_view::npos) {
      quote = '`';
    }
  }
  std::string out(1, quote);
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if ((quote == '\'' && c == '\'') || c == '\\' || c < 0x20 || c == 0x7f) {
      out += escape_char(c);
    } else {
      out += ch;
    }
  }
  out += quote;
  return out;
}

}  // namespace

std::string js_inspect_string(std::string_view s) {
  // formatPrimitive: a long string (more than breakLength 80 - 4 columns) is split after each
  // newline into concatenated parts.
  if (s.size() > 76 && s.find('\n') != std::string_view::npos) {
    std::vector<std::string_view> lines;
    std::size_t start = 0;
    while (start < s.size()) {
      const auto nl = s.find('\n', start);
      const std::size_t end = nl == std::string_view::npos ? s.size() : nl + 1;
      lines.push_back(s.substr(start, end - start));
      start = end;
    }
    std::string out;
    for (std::size_t i = 0; i < lines.size(); ++i) {
      if (i > 0) out += " +\n  ";
      out += quote_one(lines[i]);
    }
    return out;
  }
  return quote_one(s);
}

}  // namespace nodelab::runtime
