#include "report/compare.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>

#include <fmt/format.h>

namespace nodelab::report {

std::vector<CompareColumn> measured_columns(const Comparison& c) {
  std::vector<CompareColumn> columns;
  for (const auto& col : c.columns) {
    const bool measured = std::any_of(c.variants.begin(), c.variants.end(), [&](const auto& v) {
      return v.report->metrics.get(col.path).has_value();
    });
    if (measured) columns.push_back(col);
  }
  return columns;
}

namespace {

// The row a {variant.metric.path} names, and the metric's path in that variant's run.
std::pair<const RunReport*, std::string> row_of(const Comparison& c, const std::string& p) {
  for (const auto& v : c.variants) {
    if (p.rfind(v.name + ".", 0) == 0) return {v.report, p.substr(v.name.size() + 1)};
  }
  return {nullptr, {}};
}

}  // namespace

std::string compare_value(const Comparison& c, const std::string& p) {
  const auto [row, path] = row_of(c, p);
  return row != nullptr ? format_metric(*row, path) : "n/a";
}

std::string compare_cell(const RunReport& r, const std::string& path) {
  return r.metrics.get(path) ? format_metric(r, path) : "–";
}

std::string compare_answer_text(const Comparison& c, const script::AnswerPart& part) {
  auto number = [&](const std::string& p) -> std::optional<double> {
    const auto [row, path] = row_of(c, p);
    return row != nullptr ? row->metrics.get(path) : std::nullopt;
  };
  return render_answer(part.compare, number,
                       [&](const std::string& p) { return compare_value(c, p); });
}

nlohmann::json compare_json(const Comparison& c) {
  const auto& base = *c.scenario;
  const std::vector<CompareColumn> columns = measured_columns(c);
  nlohmann::json j;
  j["lab"] = c.lab_id;
  j["scenario"] = {{"name", base.name}, {"title", base.title}, {"file", base.file}};
  j["variants"] = nlohmann::json::array();
  j["columns"] = nlohmann::json::array();
  for (const auto& col : columns) {
    j["columns"].push_back(col.unit.empty() ? col.header : col.header + " (" + col.unit + ")");
  }
  for (const auto& v : c.variants) {
    const RunReport& r = *v.report;
    nlohmann::json expect = nlohmann::json::array();
    for (const auto& e : r.expectations) {
      expect.push_back({{"what", e.what}, {"ok", e.ok}, {"detail", e.detail}});
    }
    nlohmann::json diagnosis = nlohmann::json::array();
    for (const auto& f : r.diagnosis) {
      diagnosis.push_back(
          {{"verdict", f.verdict}, {"evidence", f.evidence}, {"mitigation", f.mitigation}});
    }
    nlohmann::json cells = nlohmann::json::array();
    for (const auto& col : columns) {
      cells.push_back(compare_cell(r, col.path));
    }
    j["variants"].push_back({{"name", v.name},
                             {"cells", cells},
                             {"title", v.title},
                             {"child_process", v.in_child},
                             {"metrics", r.metrics.to_json()},
                             {"expect", expect},
                             {"diagnosis", diagnosis},
                             {"outcome", v.outcome_summary},
                             {"exit_code", r.exit_code}});
  }
  nlohmann::json answer = nlohmann::json::object();
  for (const auto& part : base.answer)
    answer[part.key] = compare_answer_text(c, part);
  j["answer"] = answer;
  j["exit_code"] = c.exit_code;
  return j;
}

namespace {

// Right-aligned to `w` columns (fmt counts bytes; "µs" and "✓" are wider in bytes).
std::string pad_left(const std::string& text, std::size_t w) {
  const std::size_t n = display_width(text);
  return std::string(w > n ? w - n : 0, ' ') + text;
}
std::string pad_right(const std::string& text, std::size_t w) {
  const std::size_t n = display_width(text);
  return text + std::string(w > n ? w - n : 0, ' ');
}

bool all_ok(const RunReport& r) {
  bool ok = r.expectations_checked;
  for (const auto& e : r.expectations)
    ok = ok && e.ok;
  return ok;
}

std::string verdicts(const RunReport& r) {
  std::string verdict = r.diagnosis.empty() ? "ok" : r.diagnosis.front().verdict;
  for (std::size_t i = 1; i < r.diagnosis.size(); ++i)
    verdict += "; " + r.diagnosis[i].verdict;
  return verdict;
}

}  // namespace

void print_compare(std::FILE* out, const Comparison& c, const Style& st) {
  const auto& base = *c.scenario;
  const std::vector<CompareColumn> columns = measured_columns(c);
  const auto width = static_cast<std::size_t>(terminal_width(out));
  fmt::print(out, "{}\n",
             st.bold(fmt::format("lab-{} · {} · --compare ({} variants)", c.lab_id, base.name,
                                 c.variants.size())));
  if (!base.title.empty()) fmt::print(out, "{}\n", wrap_text(base.title, width, 0));
  fmt::print(out, "\n");

  // Each cell, and each column as wide as its widest entry plus a space between columns.
  std::size_t name_w = 7;  // "variant"
  for (const auto& v : c.variants)
    name_w = std::max(name_w, display_width(v.name));
  std::vector<std::vector<std::string>> cells(c.variants.size());
  std::vector<std::size_t> col_w;
  for (const auto& col : columns) {
    std::size_t w = std::max(display_width(col.header), display_width(col.unit));
    for (std::size_t i = 0; i < c.variants.size(); ++i) {
      cells[i].push_back(compare_cell(*c.variants[i].report, col.path));
      w = std::max(w, display_width(cells[i].back()));
    }
    col_w.push_back(w + 2);
  }
  std::size_t numbers_w = 2 + name_w;
  for (const auto w : col_w)
    numbers_w += w;
  constexpr std::size_t kExpectW = 8;  // "  expect"
  constexpr std::size_t kMinVerdictW = 30;

  if (numbers_w + kExpectW + 2 + kMinVerdictW <= width) {
    // One row per variant; the verdicts wrap in the room left at the right.
    const std::size_t verdict_at = numbers_w + kExpectW + 2;
    std::string header = "  " + pad_right("variant", name_w);
    std::string units = "  " + std::string(name_w, ' ');
    for (std::size_t k = 0; k < columns.size(); ++k) {
      header += pad_left(columns[k].header, col_w[k]);
      units += pad_left(columns[k].unit, col_w[k]);
    }
    fmt::print(out, "{}\n", st.bold(header + "  expect  verdict"));
    fmt::print(out, "{}\n", units);
    for (std::size_t i = 0; i < c.variants.size(); ++i) {
      const auto& r = *c.variants[i].report;
      std::string line = "  " + pad_right(c.variants[i].name, name_w);
      for (std::size_t k = 0; k < columns.size(); ++k)
        line += pad_left(cells[i][k], col_w[k]);
      const std::string verdict = wrap_text(verdicts(r), width - verdict_at, verdict_at);
      fmt::print(out, "{}  {}  {}\n", line, all_ok(r) ? st.good("✓     ") : st.bad("✗     "),
                 r.diagnosis.empty() ? st.good(verdict) : st.warn(verdict));
    }
  } else {
    // Too many figures for one row per variant: one row per figure, a column per variant.
    std::size_t label_w = 6;  // "figure"
    for (const auto& col : columns) {
      label_w = std::max(label_w, display_width(col.header) +
                                      (col.unit.empty() ? 0 : display_width(col.unit) + 3));
    }
    std::vector<std::size_t> var_w;
    for (std::size_t i = 0; i < c.variants.size(); ++i) {
      std::size_t w = std::max<std::size_t>(display_width(c.variants[i].name), 6);
      for (const auto& cell : cells[i])
        w = std::max(w, display_width(cell));
      var_w.push_back(w + 2);
    }
    std::string header = "  " + pad_right("figure", label_w);
    for (std::size_t i = 0; i < c.variants.size(); ++i)
      header += pad_left(c.variants[i].name, var_w[i]);
    fmt::print(out, "{}\n", st.bold(header));
    for (std::size_t k = 0; k < columns.size(); ++k) {
      const auto& col = columns[k];
      std::string line =
          "  " +
          pad_right(col.unit.empty() ? col.header : col.header + " (" + col.unit + ")", label_w);
      for (std::size_t i = 0; i < c.variants.size(); ++i)
        line += pad_left(cells[i][k], var_w[i]);
      fmt::print(out, "{}\n", line);
    }
    std::string expect = "  " + pad_right("expect", label_w);
    for (std::size_t i = 0; i < c.variants.size(); ++i)
      expect += pad_left(all_ok(*c.variants[i].report) ? "✓" : "✗", var_w[i]);
    fmt::print(out, "{}\n\n{}\n", expect, st.bold("  verdicts"));
    for (const auto& v : c.variants) {
      const std::string verdict = wrap_text(verdicts(*v.report), width - name_w - 5, name_w + 5);
      fmt::print(out, "  {}   {}\n", pad_right(v.name, name_w),
                 v.report->diagnosis.empty() ? st.good(verdict) : st.warn(verdict));
    }
  }
  fmt::print(out, "\n");
  for (const auto& v : c.variants) {
    if (!v.title.empty()) {
      fmt::print(out, "  {} {}\n", pad_right(v.name, 14),
                 wrap_text(v.title, width > 19 ? width - 19 : 40, 19));
    }
  }
  bool any_failed = false;
  for (const auto& v : c.variants) {
    for (const auto& e : v.report->expectations) {
      if (!e.ok) {
        if (!any_failed) fmt::print(out, "\n{}\n", st.bold("failed expectations"));
        any_failed = true;
        fmt::print(out, "  {} {}\n", st.bad("✗"),
                   wrap_text(fmt::format("{}: {} — {}", v.name, e.what, e.detail), width - 4, 4));
      }
    }
  }
  if (c.all_in_children) {
    fmt::print(out,
               "\n  (each variant ran in a child process of its own, so each RSS is its own)\n");
  } else {
    for (const auto& v : c.variants) {
      if (v.in_child) {
        fmt::print(out,
                   "\n  ({} ran in a child process: libuv reads UV_THREADPOOL_SIZE once per "
                   "process)\n",
                   v.name);
      }
    }
  }
  if (!base.answer.empty()) {
    fmt::print(out, "\n{}\n", st.bold("model answer"));
    for (const auto& part : base.answer) {
      fmt::print(
          out, "  {} {}\n", st.bold(fmt::format("{:<11}", part.key)),
          wrap_text(compare_answer_text(c, part), std::max<std::size_t>(40, width - 16), 14));
    }
  }
  fmt::print(out, "\n");
}

}  // namespace nodelab::report
