#pragma once
// --html FILE: one self-contained HTML page (no network, no external scripts or fonts) showing
// a run: one lane per phase and per threadpool thread, each callback a bar, nextTick and
// microtask drains under their parent, queue depths over time, the metrics, the verdict and
// the model answer, and a slider that moves forward and back through the recorded steps.

#include <string>

#include "report/run_report.hpp"

namespace nodelab::report {

// Writes the page; returns false (with a message) if the file cannot be written.
bool write_html(const std::string& path, const RunReport& r, std::string* error);

}  // namespace nodelab::report
