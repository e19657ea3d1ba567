// nodelab-html-shot-check DOM PNG [LANE...]: the checker behind html_in_chromium.sh.
//
// DOM is what `chromium --dump-dom` printed for a --html page, PNG a screenshot of the same
// page at the same window size. The page's own script leaves its findings on <body>
// (common/report/html.cpp): data-rendered="1" once the timeline is drawn, data-errors with
// the number of script errors, unhandled rejections and CSP violations, and data-lanes
// with each lane's name, colour, rectangle on the page and the number of bars it drew.
//
// It checks: the page rendered with no script error; every lane with bars shows them in
// the screenshot (pixels of the lane's colour inside the lane's rectangle, right of the
// lane names); every LANE named on the command line exists and drew bars. Exit 0 when all
// hold, 1 with the reasons otherwise, 2 on unusable input.

#include <png.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace {

std::string read_file(const char* path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string unescape(const std::string& s) {
  static const std::pair<const char*, const char*> kEntities[] = {
      {"&quot;", "\""}, {"&lt;", "<"}, {"&gt;", ">"}, {"&nbsp;", "\xC2\xA0"}, {"&#39;", "'"},
      {"&amp;", "&"}};
  std::string out;
  for (std::size_t i = 0; i < s.size();) {
    bool replaced = false;
    if (s[i] == '&') {
      for (const auto& [from, to] : kEntities) {
        if (s.compare(i, std::char_traits<char>::length(from), from) == 0) {
          out += to;
          i += std::char_traits<char>::length(from);
          replaced = true;
          break;
        }
      }
    }
    if (!replaced) out += s[i++];
  }
  return out;
}

// The attributes of the first <body ...> tag. Chromium's serializer writes each value in
// double quotes with '"' and '&' escaped, so a value ends at the next '"'.
std::map<std::string, std::string> body_attributes(const std::string& dom) {
  std::map<std::string, std::string> attrs;
  std::size_t i = dom.find("<body");
  if (i == std::string::npos) return attrs;
  i += 5;
  const auto space = [](char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r'; };
  while (i < dom.size()) {
    while (i < dom.size() && space(dom[i]))
      ++i;
    if (i >= dom.size() || dom[i] == '>' || dom[i] == '/') break;
    const std::size_t name_start = i;
    while (i < dom.size() && !space(dom[i]) && dom[i] != '=' && dom[i] != '>')
      ++i;
    const std::string name = dom.substr(name_start, i - name_start);
    std::string value;
    if (i < dom.size() && dom[i] == '=') {
      ++i;
      if (i < dom.size() && dom[i] == '"') {
        const std::size_t end = dom.find('"', i + 1);
        if (end == std::string::npos) break;
        value = unescape(dom.substr(i + 1, end - i - 1));
        i = end + 1;
      }
    }
    attrs[name] = value;
  }
  return attrs;
}

struct Rgb {
  double r = 0, g = 0, b = 0;
};

bool parse_color(const std::string& hex, Rgb& out) {
  if (hex.size() != 7 || hex[0] != '#') return false;
  unsigned v = 0;
  if (std::sscanf(hex.c_str() + 1, "%6x", &v) != 1) return false;
  out = {double((v >> 16) & 0xff), double((v >> 8) & 0xff), double(v & 0xff)};
  return true;
}

struct Image {
  png_uint_32 width = 0, height = 0;
  std::vector<png_byte> rgb;
  Rgb at(png_uint_32 x, png_uint_32 y) const {
    const png_byte* p = &rgb[(std::size_t(y) * width + x) * 3];
    return {double(p[0]), double(p[1]), double(p[2])};
  }
};

bool read_png(const char* path, Image& img, std::string& error) {
  png_image pi{};
  pi.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_file(&pi, path)) {
    error = pi.message;
    return false;
  }
  pi.format = PNG_FORMAT_RGB;
  img.width = pi.width;
  img.height = pi.height;
  img.rgb.resize(PNG_IMAGE_SIZE(pi));
  // Flatten any transparency onto white, as the page's background is.
  png_color white{255, 255, 255};
  if (!png_image_finish_read(&pi, &white, img.rgb.data(), 0, nullptr)) {
    error = pi.message;
    png_image_free(&pi);
    return false;
  }
  return true;
}

// A pixel painted with `color` over a light lane background, fully or partly (aggregated
// bars are drawn at 70 % opacity, and a bar's edges are anti-aliased): it lies on the line
// from the background to the colour, at least a third of the way.
bool ink_of(const Rgb& p, const Rgb& color) {
  const Rgb bg{250, 250, 251};
  const double dr = color.r - bg.r, dg = color.g - bg.g, db = color.b - bg.b;
  const double len2 = dr * dr + dg * dg + db * db;
  if (len2 < 1) return false;
  const double t = ((p.r - bg.r) * dr + (p.g - bg.g) * dg + (p.b - bg.b) * db) / len2;
  if (t < 0.33 || t > 1.08) return false;
  const double er = bg.r + t * dr - p.r, eg = bg.g + t * dg - p.g, eb = bg.b + t * db - p.b;
  return std::sqrt(er * er + eg * eg + eb * eb) <= 18;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s DOM PNG [LANE...]\n", argv[0]);
    return 2;
  }
  const std::string dom = read_file(argv[1]);
  Image img;
  std::string error;
  if (!read_png(argv[2], img, error)) {
    std::fprintf(stderr, "cannot read the screenshot %s: %s\n", argv[2], error.c_str());
    return 2;
  }
  std::vector<std::string> problems;
  auto attrs = body_attributes(dom);
  if (attrs.empty()) {
    std::fprintf(stderr, "no <body> in the dumped DOM %s (%zu bytes)\n", argv[1], dom.size());
    return 2;
  }
  if (attrs["data-errors"] != "0") {
    problems.push_back("the page reported script errors: data-errors=\"" + attrs["data-errors"] +
                       "\"");
    // The page shows them in <div id="errors">.
    const auto at = dom.find("id=\"errors\"");
    if (at != std::string::npos) {
      const auto start = dom.find('>', at) + 1;
      const auto end = std::min(dom.find("</div>", start), start + 600);
      problems.push_back("  " + unescape(dom.substr(start, end - start)));
    }
  }
  if (attrs["data-rendered"] != "1")
    problems.push_back("the page never finished its first drawing (no data-rendered=\"1\")");

  nlohmann::json lanes = nlohmann::json::array();
  if (attrs.count("data-lanes")) {
    lanes = nlohmann::json::parse(attrs["data-lanes"], nullptr, false);
    if (lanes.is_discarded() || !lanes.is_array()) {
      problems.push_back("data-lanes is not a JSON array");
      lanes = nlohmann::json::array();
    }
  } else if (attrs["data-rendered"] == "1") {
    problems.push_back("the page set no data-lanes");
  }

  std::printf("screenshot %ux%u, %zu lanes\n", unsigned(img.width), unsigned(img.height),
              lanes.size());
  std::map<std::string, long> ink_by_lane;
  std::map<std::string, int> bars_by_lane;
  long total_ink = 0;
  int lanes_with_bars = 0;
  for (const auto& lane : lanes) {
    const std::string name = lane.value("name", "?");
    const int bars = lane.value("bars", 0);
    const long left = lane.value("left", 0L), right = lane.value("right", 0L);
    const long top = lane.value("top", 0L), height = lane.value("height", 0L);
    Rgb color;
    if (!parse_color(lane.value("color", ""), color)) {
      problems.push_back("lane " + name + ": no colour in data-lanes");
      continue;
    }
    if (left < 0 || top < 0 || right > long(img.width) || top + height > long(img.height) ||
        right <= left || height <= 0) {
      problems.push_back("lane " + name + " is outside the screenshot (x " +
                         std::to_string(left) + ".." + std::to_string(right) + ", y " +
                         std::to_string(top) + ".." + std::to_string(top + height) +
                         "): make the window larger");
      continue;
    }
    long ink = 0;
    for (long y = top; y < top + height; ++y) {
      for (long x = left; x < right; ++x) {
        if (ink_of(img.at(png_uint_32(x), png_uint_32(y)), color)) ++ink;
      }
    }
    ink_by_lane[name] = ink;
    bars_by_lane[name] = bars;
    total_ink += ink;
    std::printf("  %-16s %4d bars  %6ld px of %s\n", name.c_str(), bars, ink,
                lane.value("color", "").c_str());
    if (bars > 0) {
      ++lanes_with_bars;
      // A bar is at least 1 px wide and 12 px high; allow for anti-aliasing at its edges.
      if (ink < 6)
        problems.push_back("lane " + name + " drew " + std::to_string(bars) +
                           " bars but the screenshot shows none of its colour there");
    }
  }
  if (!lanes.empty() && lanes_with_bars == 0) problems.push_back("no lane drew a bar");
  if (!lanes.empty() && total_ink == 0) problems.push_back("the lane area is blank");
  for (int i = 3; i < argc; ++i) {
    const std::string want = argv[i];
    if (!bars_by_lane.count(want)) {
      problems.push_back("no lane named '" + want + "'");
    } else if (bars_by_lane[want] == 0 || ink_by_lane[want] < 6) {
      problems.push_back("lane '" + want + "' shows no bars");
    }
  }

  if (problems.empty()) {
    std::printf("ok: rendered, no script errors, %d lanes with bars, %ld px of bars\n",
                lanes_with_bars, total_ink);
    return 0;
  }
  for (const auto& p : problems)
    std::printf("FAIL: %s\n", p.c_str());
  return 1;
}
