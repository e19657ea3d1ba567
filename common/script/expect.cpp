#include "script/expect.hpp"

#include <cmath>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "runtime/js_number.hpp"

namespace nodelab::script {

std::vector<LoggedLine> logged_lines(const runtime::Recorder& rec) {
  std::vector<LoggedLine> out;
  out.reserve(rec.logs().size());
  for (const auto& log : rec.logs()) {
    const auto* cb = rec.find(log.callback);
    const runtime::Phase phase = cb ? cb->phase : runtime::Phase::main;
    std::size_t start = 0;
    for (;;) {
      const auto nl = log.text.find('\n', start);
      out.push_back({log.text.substr(start, nl - start), phase});
      if (nl == std::string::npos) break;
      start = nl + 1;
    }
  }
  return out;
}

namespace {

// Where two line lists first differ, for a readable failure.
std::string first_difference(const std::vector<std::string>& want,
                             const std::vector<std::string>& got) {
  if (want == got) return "the lines kept match, but not every line was kept";
  const std::size_t n = std::min(want.size(), got.size());
  for (std::size_t i = 0; i < n; ++i) {
    if (want[i] != got[i]) {
      return fmt::format("line {}: expected '{}', got '{}'", i + 1, want[i], got[i]);
    }
  }
  if (want.size() > got.size()) {
    return fmt::format("expected {} lines, got {}: missing '{}'", want.size(), got.size(),
                       want[got.size()]);
  }
  return fmt::format("expected {} lines, got {}: extra '{}'", want.size(), got.size(),
                     got[want.size()]);
}

bool scaled(const MetricBound& b) {
  const bool upper = b.op == "lt" || b.op == "lte";
  const std::string_view suffix = "_ms";
  return upper && b.path.size() > suffix.size() &&
         b.path.compare(b.path.size() - suffix.size(), suffix.size(), suffix) == 0;
}

double g_time_scale = 1.0;

bool holds(double v, const std::string& op, double bound) {
  if (op == "lt") return v < bound;
  if (op == "lte") return v <= bound;
  if (op == "gt") return v > bound;
  if (op == "gte") return v >= bound;
  return v == bound;
}

std::string_view op_symbol(const std::string& op) {
  if (op == "lt") return "<";
  if (op == "lte") return "<=";
  if (op == "gt") return ">";
  if (op == "gte") return ">=";
  return "==";
}

}  // namespace

void set_time_scale(double scale) {
  g_time_scale = scale;
}
double time_scale() {
  return g_time_scale;
}

std::vector<ExpectResult> check_expectations(const Expect& e, const runtime::Recorder& rec,
                                             const metrics::MetricSet& metrics) {
  std::vector<ExpectResult> results;
  const std::vector<LoggedLine> lines = logged_lines(rec);
  std::vector<std::string> texts;
  texts.reserve(lines.size());
  for (const auto& l : lines)
    texts.push_back(l.text);
  const std::string truncated =
      rec.logs_truncated() ? fmt::format(" (only the first {} logs were kept)", rec.logs().size())
                           : "";

  if (e.order) {
    const bool ok = texts == *e.order && !rec.logs_truncated();
    results.push_back({fmt::format("order ({} lines)", e.order->size()), ok,
                       ok ? "" : first_difference(*e.order, texts) + truncated});
  }
  if (!e.order_any_of.empty()) {
    std::size_t match = 0;
    for (std::size_t i = 0; i < e.order_any_of.size() && match == 0; ++i) {
      if (texts == e.order_any_of[i] && !rec.logs_truncated()) match = i + 1;
    }
    results.push_back(
        {fmt::format("orderAnyOf ({} alternatives)", e.order_any_of.size()), match != 0,
         match != 0 ? fmt::format("matched alternative {}", match)
                    : "no alternative matched; closest: " +
                          first_difference(e.order_any_of.front(), texts) + truncated});
  }
  for (const auto& [text, phase] : e.phases) {
    std::vector<std::string> seen;
    bool found = false;
    bool ok = true;
    for (const auto& l : lines) {
      if (l.text != text) continue;
      found = true;
      if (l.phase != phase) {
        ok = false;
        seen.emplace_back(runtime::phase_name(l.phase));
      }
    }
    std::string detail;
    if (!found) {
      ok = false;
      detail = "never logged";
    } else if (!ok) {
      detail = "logged from " + fmt::format("{}", fmt::join(seen, ", "));
    }
    results.push_back(
        {fmt::format("'{}' runs in {}", text, runtime::phase_name(phase)), ok, detail});
  }
  for (const auto& b : e.metrics) {
    const auto v = metrics.get(b.path);
    const double scale = scaled(b) ? time_scale() : 1.0;
    const double bound = b.value * scale;
    std::string what =
        fmt::format("{} {} {}", b.path, op_symbol(b.op), runtime::js_number_to_string(bound));
    if (scale != 1.0) {
      what += fmt::format(" ({} x NODELAB_TIME_SCALE {})", runtime::js_number_to_string(b.value),
                          runtime::js_number_to_string(scale));
    }
    if (!v) {
      results.push_back({what, false, "not measured in this run (no samples)"});
    } else {
      results.push_back(
          {what, holds(*v, b.op, bound),
           fmt::format("measured {}", runtime::js_number_to_string(std::round(*v * 1000) / 1000))});
    }
  }
  return results;
}

}  // namespace nodelab::script
