#pragma once
// Everything one run produced, and every way of presenting it: the terminal report
// (narration, metrics, expectations, outcome, model answer), --json and --trace.

#include <cstdio>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "metrics/metric_set.hpp"
#include "report/diagnosis.hpp"
#include "report/style.hpp"
#include "runtime/recorder.hpp"
#include "runtime/runtime.hpp"
#include "script/expect.hpp"
#include "script/scenario.hpp"

namespace nodelab::report {

struct RunReport {
  std::string lab_id;
  const script::Scenario* scenario = nullptr;
  const runtime::Recorder* recorder = nullptr;
  metrics::MetricSet metrics;
  std::vector<metrics::MetricInfo> metric_table;
  std::vector<script::ExpectResult> expectations;  // empty when not checked
  bool expectations_checked = false;
  std::vector<Finding> diagnosis;
  runtime::RunResult result;
  int exit_code = 0;
  bool brief = false;  // --json without the logs and callbacks arrays (--compare's children)
  // A --step run: its pauses sit inside loop phases, so eventLoopDelay, utilization, timer
  // drift and pool waits count the time a person looked at the screen. No timing verdicts.
  bool stepped = false;
};

// "setTimeout callback · setTimeout 10 ms (line 12)"
std::string describe_callback(const runtime::CallbackRecord& rec, const script::Scenario& s);
std::string describe_outcome(const RunReport& r);

// 1234567 -> "1,234,567"; 12582912 -> "12.0 MiB".
std::string thousands(std::uint64_t n);
std::string format_bytes(double b);

// A metric as a candidate would quote it: "12.34" for ms, "0.672" for ratios, "3" for
// counts, "12.0 MiB" for bytes; "n/a" when not measured.
std::string format_metric(const RunReport& r, std::string_view path);
// Text with each {path} replaced by value_of(path) (placeholders_in finds them).
std::string fill_placeholders(std::string_view text,
                              const std::function<std::string(const std::string&)>& value_of);
// The model answer text with each {metric.path} replaced by its value in this run; a
// {variant.metric.path} is filled when this run is that variant, else "n/a".
std::string fill_placeholders(const RunReport& r, std::string_view text);

// An answer part's text for this run: its `when:` pieces decided on this run's figures, its
// {placeholders} filled. A figure this run did not measure prints as "n/a" (the projector
// tests fail on it: a shipped scenario's answer cites only what its runs measure).
std::string answer_text(const RunReport& r, const script::AnswerPart& part);
// The same for any source of figures (--compare reads each variant's row).
std::string render_answer(const script::AnswerText& text,
                          const std::function<std::optional<double>(const std::string&)>& number,
                          const std::function<std::string(const std::string&)>& value_of);

struct NarrationOptions {
  std::size_t max_lines = 300;  // callback lines before the narration stops and says so
};

// Word-wraps `text` to `width` columns; continuation lines are indented by `indent`.
std::string wrap_text(std::string_view text, std::size_t width, std::size_t indent);

void print_header(std::FILE* out, const RunReport& r, const Style& st);
void print_narration(std::FILE* out, const RunReport& r, const Style& st,
                     NarrationOptions opts = {});
void print_metrics(std::FILE* out, const RunReport& r, const Style& st);
void print_expectations(std::FILE* out, const RunReport& r, const Style& st);
void print_diagnosis(std::FILE* out, const RunReport& r, const Style& st);
void print_outcome(std::FILE* out, const RunReport& r, const Style& st);
void print_answer(std::FILE* out, const RunReport& r, const Style& st);

// --json, streamed (bounded memory however many callbacks were recorded).
void write_json(std::FILE* out, const RunReport& r, bool pretty);
// The same document as a tree (tests, small runs).
nlohmann::json to_json(const RunReport& r);
// Chrome Trace Event Format (Perfetto, chrome://tracing). Returns false if unwritable.
bool write_trace(const std::string& path, const RunReport& r, std::string* error);

}  // namespace nodelab::report
