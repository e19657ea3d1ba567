// The terminal report: header, narration, metrics, expectations, outcome, model answer.

#include <algorithm>
#include <cmath>
#include <regex>

#include <fmt/format.h>

#include "report/run_report.hpp"
#include "runtime/js_number.hpp"

namespace nodelab::report {

using runtime::CallbackKind;
using runtime::CallbackRecord;
using runtime::Phase;

namespace {

double ms(runtime::Nanos t) {
  return runtime::to_ms(t);
}

}  // namespace

std::string thousands(std::uint64_t n) {
  std::string s = std::to_string(n);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) {
    s.insert(static_cast<std::size_t>(i), ",");
  }
  return s;
}

std::string format_bytes(double b) {
  if (b >= 1024.0 * 1024 * 1024) return fmt::format("{:.2f} GiB", b / (1024.0 * 1024 * 1024));
  if (b >= 1024.0 * 1024) return fmt::format("{:.1f} MiB", b / (1024.0 * 1024));
  if (b >= 1024.0) return fmt::format("{:.1f} KiB", b / 1024.0);
  return fmt::format("{:.0f} B", b);
}

std::string wrap_text(std::string_view text, std::size_t width, std::size_t indent) {
  std::string out;
  std::size_t col = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && text[i] == ' ')
      ++i;
    std::size_t j = text.find_first_of(" \n", i);
    if (j == std::string_view::npos) j = text.size();
    const std::string_view word = text.substr(i, j - i);
    const std::size_t word_width = display_width(word);
    if (col > 0 && col + 1 + word_width > width) {
      out += "\n" + std::string(indent, ' ');
      col = 0;
    } else if (col > 0) {
      out += ' ';
      ++col;
    }
    out.append(word);
    col += word_width;
    i = j;
    if (i < text.size() && text[i] == '\n') {
      out += "\n" + std::string(indent, ' ');
      col = 0;
      ++i;
    }
  }
  return out;
}

namespace {

const metrics::MetricInfo* info_of(const RunReport& r, std::string_view path) {
  for (const auto& m : r.metric_table) {
    if (m.path == path) return &m;
  }
  return nullptr;
}

}  // namespace

std::string describe_callback(const CallbackRecord& rec, const script::Scenario& s) {
  if (rec.kind == CallbackKind::main) return "main script";
  std::string label = std::string(runtime::kind_name(rec.kind));
  // "setTimeout callback", "process 'warning' listener"; "I/O callback" as it is.
  if (rec.kind == CallbackKind::warning || rec.kind == CallbackKind::message ||
      rec.kind == CallbackKind::process_event) {
    label += " listener";
  } else if (!label.ends_with("callback")) {
    label += " callback";
  }
  if (rec.site > 0 && rec.site < s.sites.size() && s.sites[rec.site] != nullptr) {
    const script::Op* op = s.sites[rec.site];
    label += fmt::format(" · {} (line {})", op->describe(), op->line);
  }
  return label;
}

std::string format_metric(const RunReport& r, std::string_view path) {
  const auto v = r.metrics.get(path);
  if (!v) return "n/a";
  const auto* info = info_of(r, path);
  const std::string_view unit = info ? info->unit : "";
  if (unit == "ms") {
    return *v == std::trunc(*v) ? fmt::format("{:.0f}", *v) : fmt::format("{:.2f}", *v);
  }
  if (unit == "bytes") return format_bytes(*v);
  if (unit == "ratio") return fmt::format("{:.3f}", *v);
  if (*v == std::trunc(*v) && std::fabs(*v) < 1e15) {
    return (*v < 0 ? "-" : "") + thousands(static_cast<std::uint64_t>(std::fabs(*v)));
  }
  return fmt::format("{:.3f}", *v);
}

std::string fill_placeholders(std::string_view text,
                              const std::function<std::string(const std::string&)>& value_of) {
  std::string out(text);
  for (const auto& path : script::placeholders_in(text)) {
    const std::string key = "{" + path + "}";
    const std::string v = value_of(path);
    for (auto pos = out.find(key); pos != std::string::npos; pos = out.find(key, pos)) {
      out.replace(pos, key.size(), v);
      pos += v.size();
    }
  }
  return out;
}

namespace {

// A cited path as this run holds it: in a run of variant V, {V.metric} is its own {metric}.
std::string own_path(const RunReport& r, const std::string& path) {
  if (r.scenario == nullptr || r.scenario->variant.empty()) return path;
  const std::string prefix = r.scenario->variant + ".";
  return path.rfind(prefix, 0) == 0 && !r.metrics.get(path) ? path.substr(prefix.size()) : path;
}

}  // namespace

std::string fill_placeholders(const RunReport& r, std::string_view text) {
  return fill_placeholders(
      text, [&](const std::string& path) { return format_metric(r, own_path(r, path)); });
}

std::string render_answer(const script::AnswerText& text,
                          const std::function<std::optional<double>(const std::string&)>& number,
                          const std::function<std::string(const std::string&)>& value_of) {
  // A side of a condition: "{path}" or a number.
  auto side = [&](const std::string& s) -> std::optional<double> {
    if (s.size() > 2 && s.front() == '{') return number(s.substr(1, s.size() - 2));
    return std::stod(s);
  };
  std::string out;
  for (const auto& piece : text) {
    std::string t = piece.text;
    if (piece.when) {
      const auto a = side(piece.when->left);
      const auto b = side(piece.when->right);
      if (!a || !b) {
        t = fmt::format("[n/a: \"{} {} {}\" needs a figure this run did not measure]",
                        piece.when->left, piece.when->op, piece.when->right);
      } else {
        const std::string& op = piece.when->op;
        const bool holds = op == "<"    ? *a < *b
                           : op == "<=" ? *a <= *b
                           : op == ">"  ? *a > *b
                                        : *a >= *b;
        if (!holds) t = piece.otherwise;
      }
    }
    t = fill_placeholders(t, value_of);
    if (t.empty()) continue;
    if (!out.empty()) out += ' ';
    out += t;
  }
  return out;
}

std::string answer_text(const RunReport& r, const script::AnswerPart& part) {
  return render_answer(
      part.text, [&](const std::string& path) { return r.metrics.get(own_path(r, path)); },
      [&](const std::string& path) { return format_metric(r, own_path(r, path)); });
}

std::string describe_outcome(const RunReport& r) {
  const auto& res = r.result;
  switch (res.outcome) {
    case runtime::Outcome::completed:
      if (res.exit_code != 0) {
        return fmt::format(
            "completed: the loop ran out of work; an unhandled rejection set process.exitCode "
            "= {} (--unhandled-rejections=warn-with-error-code), so Node exits with {}",
            res.exit_code, res.exit_code);
      }
      return "completed: the loop ran out of work";
    case runtime::Outcome::uncaught_exception:
      return fmt::format("the process died: uncaught {} (in the {} phase) -- Node exits with 1",
                         res.error.headline(), runtime::phase_name(res.phase));
    case runtime::Outcome::unhandled_rejection:
      return fmt::format(
          "the process died: unhandled promise rejection, {} -- Node 15+ (mode '{}') exits "
          "with 1 after the queues drain",
          res.error.headline(),
          r.scenario != nullptr && r.scenario->unhandled_rejections
              ? runtime::mode_name(*r.scenario->unhandled_rejections)
              : "throw");
    case runtime::Outcome::stopped:
      return fmt::format("stopped: {}; the figures are partial", stop_reason_text(res.stop));
  }
  return "?";
}

void print_header(std::FILE* out, const RunReport& r, const Style& st) {
  const auto& s = *r.scenario;
  fmt::print(out, "{}\n", st.bold(fmt::format("lab-{} · {}", r.lab_id, s.name)));
  if (!s.title.empty()) {
    fmt::print(out, "{}\n", wrap_text(s.title, static_cast<std::size_t>(terminal_width(out)), 0));
  }
  if (s.unhandled_rejections) {
    fmt::print(out, "{}\n",
               fmt::format("process: node --unhandled-rejections={}",
                           runtime::mode_name(*s.unhandled_rejections)));
  }
  fmt::print(out, "{}\n\n", st.dim(s.file));
}

void print_narration(std::FILE* out, const RunReport& r, const Style& st, NarrationOptions opts) {
  const auto& rec = *r.recorder;
  const auto& s = *r.scenario;
  const auto& cbs = rec.callbacks();
  const auto& logs = rec.logs();

  const int width = terminal_width(out);
  fmt::print(out, "{}\n", st.bold("  iter  phase           +ms  callback"));
  std::size_t log_i = 0;
  std::size_t printed = 0;
  // Consecutive look-alike callbacks (a recursion, a burst) are folded into one line.
  std::size_t folded = 0;
  const CallbackRecord* fold_last = nullptr;
  auto flush_fold = [&] {
    if (folded == 0) return;
    const std::string where =
        fold_last->iteration == 0
            ? fmt::format("through +{:.3f} ms, before the loop started", ms(fold_last->start))
            : fmt::format("through +{:.3f} ms, iteration {}", ms(fold_last->start),
                          fold_last->iteration);
    fmt::print(out, "{}\n",
               st.dim(fmt::format("  {:>4}  {:<9} {:>9}  ... {} more like it ({})", "", "", "",
                                  thousands(folded), where)));
    folded = 0;
    fold_last = nullptr;
  };

  const CallbackRecord* prev = nullptr;
  for (const CallbackRecord& c : cbs) {
    if (c.internal) continue;
    const bool has_logs = log_i < logs.size() && logs[log_i].callback == c.id;
    const bool like_prev = prev != nullptr && !has_logs && prev->kind == c.kind &&
                           prev->site == c.site && prev->phase == c.phase;
    prev = &c;
    if (like_prev) {
      fold_last = &c;
      ++folded;
      continue;
    }
    flush_fold();
    if (printed >= opts.max_lines) {
      const std::uint64_t rest = rec.callback_count() - c.id;
      fmt::print(out, "{}\n",
                 st.dim(fmt::format("  ... {} more callbacks not shown (--json and "
                                    "--trace hold every one)",
                                    thousands(rest))));
      break;
    }
    ++printed;
    const bool queue = c.phase == Phase::next_tick || c.phase == Phase::microtask;
    const std::string iter = c.iteration == 0 ? "main" : std::to_string(c.iteration);
    std::string label = describe_callback(c, s);
    if (c.due.count() >= 0) {
      label += fmt::format(", {:.2f} ms late", std::max(0.0, ms(c.start - c.due)));
    }
    const std::string phase_col = fmt::format("{:<9}", runtime::phase_name(c.phase));
    // Long labels and logged lines wrap under themselves (the projector's 120 columns).
    const std::size_t indent = 29 + (queue ? 2 : 0);
    const std::size_t room = static_cast<std::size_t>(width) - indent;
    fmt::print(out, "  {:>4}  {} {:>9.3f}  {}{}\n", iter, st.phase(c.phase, phase_col), ms(c.start),
               queue ? "  " : "", st.phase(c.phase, wrap_text(label, room, indent)));
    while (log_i < logs.size() && logs[log_i].callback <= c.id) {
      if (logs[log_i].callback == c.id) {
        fmt::print(out, "  {:>4}  {:<9} {:>9}  {}  > {}\n", "", "", "", queue ? "  " : "",
                   wrap_text(logs[log_i].text, room - 4, indent + 4));
      }
      ++log_i;
    }
  }
  flush_fold();
  if (rec.callbacks_truncated()) {
    fmt::print(out, "{}\n",
               st.warn(fmt::format("  recording stopped after {} callbacks (of {}); metrics "
                                   "count them all",
                                   thousands(cbs.size()), thousands(rec.callback_count()))));
  }
  fmt::print(out, "\n");
}

void print_metrics(std::FILE* out, const RunReport& r, const Style& st) {
  const auto& m = r.metrics;
  auto f = [&](std::string_view p) { return format_metric(r, p); };
  auto v = [&](std::string_view p) { return m.get(p).value_or(0); };
  fmt::print(out, "{}\n", st.bold("metrics"));
  const auto room = static_cast<std::size_t>(terminal_width(out) - 31);
  auto row = [&](std::string_view name, const std::string& value) {
    fmt::print(out, "  {:<28} {}\n", name, wrap_text(value, room, 31));
  };
  if (v("eventLoopDelay.count") > 0) {
    row("eventLoopDelay",
        fmt::format("p50 {} ms · p99 {} ms · max {} ms · mean {} ms ({} samples, resolution {} ms)",
                    f("eventLoopDelay.p50_ms"), f("eventLoopDelay.p99_ms"),
                    f("eventLoopDelay.max_ms"), f("eventLoopDelay.mean_ms"),
                    f("eventLoopDelay.count"), f("eventLoopDelay.resolution_ms")));
  } else {
    row("eventLoopDelay",
        fmt::format("no samples: the {} ms sampling timer did not fire twice (a short run, or a "
                    "loop blocked from the start)",
                    f("eventLoopDelay.resolution_ms")));
  }
  row("eventLoopUtilization",
      fmt::format("{} (active {} ms, idle {} ms)", f("eventLoopUtilization.utilization"),
                  f("eventLoopUtilization.active_ms"), f("eventLoopUtilization.idle_ms")));
  if (v("timerDrift.count") > 0) {
    row("timerDrift", fmt::format("max {} ms · p99 {} ms · p50 {} ms ({} timer callbacks)",
                                  f("timerDrift.max_ms"), f("timerDrift.p99_ms"),
                                  f("timerDrift.p50_ms"), f("timerDrift.count")));
  }
  row("drain", fmt::format("longest nextTick+microtask drain: {} callbacks, {} ms",
                           f("drain.maxCallbacks"), f("drain.max_ms")));
  row("loop", fmt::format("{} iterations · {} ms in all · main script {} ms", f("loop.iterations"),
                          f("loop.total_ms"), f("loop.main_ms")));
  row("callbacks",
      fmt::format("{}: timers {} · immediates {} · nextTicks {} · microtasks {} · I/O {} · "
                  "close {}",
                  f("callbacks.total"), f("callbacks.timers"), f("callbacks.immediates"),
                  f("callbacks.nextTicks"), f("callbacks.microtasks"), f("callbacks.io"),
                  f("callbacks.close")));
  if (v("threadpool.tasks") > 0) {
    row("threadpool",
        fmt::format("size {} · {} tasks · queue wait p50 {} / max {} ms · run max "
                    "{} ms",
                    f("threadpool.size"), f("threadpool.tasks"), f("threadpool.queueWait.p50_ms"),
                    f("threadpool.queueWait.max_ms"), f("threadpool.runTime.max_ms")));
  }
  if (v("readFile.count") > 0) {
    row("readFile", fmt::format("{} · latency p50 {} ms · max {} ms", f("readFile.count"),
                                f("readFile.p50_ms"), f("readFile.max_ms")));
  }
  row("memory", fmt::format("rss {} (peak {})", f("memory.rss_bytes"), f("memory.rssPeak_bytes")));
  // Lab-specific metrics: every path not shown above.
  for (const auto& e : m.entries()) {
    const bool shared = std::any_of(runtime::Runtime::metric_table().begin(),
                                    runtime::Runtime::metric_table().end(),
                                    [&](const metrics::MetricInfo& i) { return i.path == e.path; });
    if (!shared) row(e.path, m.get(e.path) ? f(e.path) : "– (nothing to measure in this run)");
  }
  fmt::print(out, "\n");
}

void print_expectations(std::FILE* out, const RunReport& r, const Style& st) {
  if (!r.expectations_checked) {
    if (!r.scenario->expect.empty()) {
      fmt::print(out, "{}\n  {}\n\n", st.bold("expect"),
                 st.warn("not checked: the run did not finish"));
    }
    return;
  }
  if (r.expectations.empty()) return;
  fmt::print(out, "{}\n", st.bold("expect"));
  const auto width = static_cast<std::size_t>(terminal_width(out));
  for (const auto& e : r.expectations) {
    const std::string text =
        wrap_text(e.detail.empty() ? e.what : e.what + " — " + e.detail, width - 4, 4);
    fmt::print(out, "  {} {}\n", e.ok ? st.good("✓") : st.bad("✗"), text);
  }
  fmt::print(out, "\n");
}

void print_diagnosis(std::FILE* out, const RunReport& r, const Style& st) {
  fmt::print(out, "{}\n", st.bold("diagnosis"));
  if (r.stepped) {
    fmt::print(out, "  no timing verdicts: a stepped run's pauses are not the program's time\n");
  }
  if (r.diagnosis.empty()) {
    fmt::print(out, "  {} {}\n\n", st.good("✓"),
               !r.stepped ? kNoVerdict : "nothing this lab watches for");
    return;
  }
  const auto width = static_cast<std::size_t>(terminal_width(out));
  for (const auto& f : r.diagnosis) {
    // "✗ verdict — evidence", wrapped; the verdict (bold) is the first words of the first line.
    const std::string line = wrap_text(f.verdict + " — " + f.evidence, width - 4, 4);
    fmt::print(out, "  {} {}{}\n", st.bad("✗"), st.bold(f.verdict), line.substr(f.verdict.size()));
    fmt::print(out, "    mitigation: {}\n", wrap_text(f.mitigation, width - 16, 16));
  }
  fmt::print(out, "\n");
}

void print_outcome(std::FILE* out, const RunReport& r, const Style& st) {
  const bool ok = r.exit_code == 0;
  const std::string text = wrap_text(fmt::format("{} (exit {})", describe_outcome(r), r.exit_code),
                                     static_cast<std::size_t>(terminal_width(out)) - 8, 8);
  fmt::print(out, "{} {}\n\n", st.bold("outcome"), ok ? text : st.warn(text));
}

void print_answer(std::FILE* out, const RunReport& r, const Style& st) {
  if (r.scenario->answer.empty()) return;
  const int width = terminal_width(out);
  fmt::print(out, "{}\n", st.bold("model answer"));
  for (const auto& part : r.scenario->answer) {
    const std::string text = answer_text(r, part);
    fmt::print(out, "  {} {}\n", st.bold(fmt::format("{:<11}", part.key)),
               wrap_text(text, static_cast<std::size_t>(std::max(40, width - 16)), 14));
  }
  fmt::print(out, "\n");
}

}  // namespace nodelab::report
