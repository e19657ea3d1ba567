#pragma once
// Terminal styling: colour by phase, honouring NO_COLOR, --no-color and non-terminals.

#include <cstdio>
#include <string>
#include <string_view>

#include "runtime/phase.hpp"

namespace nodelab::report {

class Style {
 public:
  // Colour only when `out` is a terminal, NO_COLOR is unset or empty, and not disabled.
  static Style detect(std::FILE* out, bool no_color_flag);
  static Style plain() { return Style(false); }

  bool color() const { return color_; }
  std::string phase(runtime::Phase p, std::string_view text) const;
  std::string bold(std::string_view text) const;
  std::string dim(std::string_view text) const;
  std::string good(std::string_view text) const;
  std::string bad(std::string_view text) const;
  std::string warn(std::string_view text) const;

 private:
  explicit Style(bool color) : color_(color) {}
  std::string wrap(std::string_view sgr, std::string_view text) const;
  bool color_;
};

// Terminal width for wrapping (COLUMNS, then the tty, else 100), clamped to [60, 160].
int terminal_width(std::FILE* out);
// Columns a UTF-8 text takes (one per code point: the report prints no wide characters).
std::size_t display_width(std::string_view text);

}  // namespace nodelab::report
