#include "report/style.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

namespace nodelab::report {

Style Style::detect(std::FILE* out, bool no_color_flag) {
  const char* no_color = std::getenv("NO_COLOR");
  const bool env_off = no_color != nullptr && *no_color != '\0';
  return Style(!no_color_flag && !env_off && ::isatty(::fileno(out)) == 1);
}

std::string Style::wrap(std::string_view sgr, std::string_view text) const {
  if (!color_) return std::string(text);
  std::string s = "\x1b[";
  s.append(sgr).append("m").append(text).append("\x1b[0m");
  return s;
}

// The colour is a column of runtime/phase.hpp's NODELAB_PHASE_MAP.
std::string Style::phase(runtime::Phase p, std::string_view text) const {
  return wrap(runtime::phase_look(p).sgr, text);
}

std::string Style::bold(std::string_view text) const {
  return wrap("1", text);
}
std::string Style::dim(std::string_view text) const {
  return wrap("2", text);
}
std::string Style::good(std::string_view text) const {
  return wrap("32", text);
}
std::string Style::bad(std::string_view text) const {
  return wrap("1;31", text);
}
std::string Style::warn(std::string_view text) const {
  return wrap("33", text);
}

std::size_t display_width(std::string_view text) {
  std::size_t n = 0;
  for (const char c : text)
    n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

int terminal_width(std::FILE* out) {
  int w = 100;
  if (const char* cols = std::getenv("COLUMNS")) {
    w = std::atoi(cols);
  } else {
    struct winsize ws {};
    if (::ioctl(::fileno(out), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) w = ws.ws_col;
  }
  return std::clamp(w, 60, 120);  // a projector's 120 columns at most
}

}  // namespace nodelab::report
