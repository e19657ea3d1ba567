#include "runtime/js_inspect.hpp"

#include <fmt/format.h>

#include <cstdint>
#include <utility>
#include <vector>

namespace nodelab::runtime {

namespace {

// util.inspect's `meta` table for the characters it escapes.
std::string escape_char(std::uint32_t c) {
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

// The code point of the UTF-8 sequence at s[i] and its length in bytes (1 for a stray byte).
std::pair<std::uint32_t, std::size_t> decode(std::string_view s, std::size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  const std::size_t len = c < 0x80             ? 1
                          : (c & 0xE0) == 0xC0 ? 2
                          : (c & 0xF0) == 0xE0 ? 3
                          : (c & 0xF8) == 0xF0 ? 4
                                               : 1;
  if (len == 1 || i + len > s.size()) return {c, 1};
  std::uint32_t cp = len == 2 ? (c & 0x1Fu) : len == 3 ? (c & 0x0Fu) : (c & 0x07u);
  for (std::size_t k = 1; k < len; ++k)
    cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3Fu);
  return {cp, len};
}

// The string's length as JavaScript counts it: UTF-16 code units.
std::size_t utf16_length(std::string_view s) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < s.size();) {
    const auto [cp, len] = decode(s, i);
    n += cp > 0xFFFF ? 2 : 1;
    i += len;
  }
  return n;
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
  for (std::size_t i = 0; i < s.size();) {
    const auto [cp, len] = decode(s, i);
    // strEscape escapes the quote, backslash, C0 controls, DEL and the C1 controls
    // U+0080..U+009F (as \xHH).
    if ((quote == '\'' && cp == '\'') || cp == '\\' || cp < 0x20 || (cp >= 0x7f && cp <= 0x9f)) {
      out += escape_char(cp);
    } else {
      out.append(s.substr(i, len));
    }
    i += len;
  }
  out += quote;
  return out;
}

}  // namespace

std::string js_inspect_string(std::string_view s) {
  // formatPrimitive: a long string (more than breakLength 80 - 4 columns) is split after each
  // newline into concatenated parts.
  if (utf16_length(s) > 76 && s.find('\n') != std::string_view::npos) {
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
