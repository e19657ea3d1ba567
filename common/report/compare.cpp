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

std::string compare_value(const Comparison& c, const std::string& p) {
  for (const auto& v : c.variants) {
    if (p.rfind(v.name + ".", 0) == 0) {
      return format_metric(*v.report, p.substr(v.name.size() + 1));
    }
  }
  return "n/a";
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
      cells.push_back(format_metric(r, col.path));
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
  auto value_of = [&](const std::string& p) { return compare_value(c, p); };
  for (const auto& part : base.answer)
    answer[part.key] = fill_placeholders(part.text, value_of);
  j["answer"] = answer;
  j["exit_code"] = c.exit_code;
  return j;
}

void print_compare(std::FILE* out, const Comparison& c, const Style& st) {
  const auto& base = *c.scenario;
  const std::vector<CompareColumn> columns = measured_columns(c);
  fmt::print(out, "{}\n",
             st.bold(fmt::format("lab-{} · {} · --compare ({} variants)", c.lab_id, base.name,
                                 c.variants.size())));
  if (!base.title.empty()) fmt::print(out, "{}\n", base.title);
  fmt::print(out, "\n");
  // Each column: a header (with its unit) and a metric path.
  std::string header = fmt::format("  {:<14}", "variant");
  std::string units = fmt::format("  {:<14}", "");
  for (const auto& col : columns) {
    const auto width = std::max<std::size_t>(8, col.header.size()) + 1;
    header += fmt::format("{:>{}}", col.header, width);
    units += fmt::format("{:>{}}", col.unit, width);
  }
  fmt::print(out, "{}\n", st.bold(header + "  expect  verdict"));
  fmt::print(out, "{}\n", units);
  for (const auto& v : c.variants) {
    const auto& r = *v.report;
    bool ok = r.expectations_checked;
    for (const auto& e : r.expectations)
      ok = ok && e.ok;
    std::string verdict = r.diagnosis.empty() ? "ok" : r.diagnosis.front().verdict;
    for (std::size_t i = 1; i < r.diagnosis.size(); ++i)
      verdict += "; " + r.diagnosis[i].verdict;
    std::string line = fmt::format("  {:<14}", v.name);
    for (const auto& col : columns) {
      const auto width = std::max<std::size_t>(8, col.header.size()) + 1;
      line += fmt::format("{:>{}}", format_metric(r, col.path), width);
    }
    fmt::print(out, "{}  {}  {}\n", line, ok ? st.good("✓     ") : st.bad("✗     "),
               r.diagnosis.empty() ? st.good(verdict) : st.warn(verdict));
  }
  fmt::print(out, "\n");
  for (const auto& v : c.variants) {
    if (!v.title.empty()) fmt::print(out, "  {:<14} {}\n", v.name, v.title);
  }
  bool any_failed = false;
  for (const auto& v : c.variants) {
    for (const auto& e : v.report->expectations) {
      if (!e.ok) {
        if (!any_failed) fmt::print(out, "\n{}\n", st.bold("failed expectations"));
        any_failed = true;
        fmt::print(out, "  {} {}: {} — {}\n", st.bad("✗"), v.name, e.what, e.detail);
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
    const int width = terminal_width(out);
    auto value_of = [&](const std::string& p) { return compare_value(c, p); };
    for (const auto& part : base.answer) {
      fmt::print(out, "  {} {}\n", st.bold(fmt::format("{:<11}", part.key)),
                 wrap_text(fill_placeholders(part.text, value_of),
                           static_cast<std::size_t>(std::max(40, width - 16)), 14));
    }
  }
  fmt::print(out, "\n");
}

}  // namespace nodelab::report
