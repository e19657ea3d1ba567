#pragma once
// The measured figures of one run, by dotted path (`eventLoopDelay.p99_ms`). The same
// paths are used by --json, by `expect.metrics` bounds and by `{placeholders}` in the
// model answer, so a candidate cites exactly what the JSON shows.

#include <nlohmann/json_fwd.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace nodelab::metrics {

// One documented metric: its path, its unit and what it means. Labs publish a table of
// these so scenario files can be checked against it before anything runs.
struct MetricInfo {
  std::string_view path;
  std::string_view unit;  // "ms", "bytes", "" for counts and ratios
  std::string_view help;
};

class MetricSet {
 public:
  struct Entry {
    std::string path;
    std::optional<double> value;  // nullopt: not measurable in this run (no samples)
  };

  // Adds or overwrites a metric. Throws std::logic_error if the path clashes with another
  // (one is a dotted prefix of the other): a lab's metric table would be wrong.
  void set(std::string_view path, std::optional<double> value);
  std::optional<double> get(std::string_view path) const;
  bool has(std::string_view path) const;
  const std::vector<Entry>& entries() const { return entries_; }

  // Nested object: {"eventLoopDelay": {"p99_ms": 12.3, ...}, ...}; missing values are null.
  nlohmann::json to_json() const;

 private:
  std::vector<Entry> entries_;
};

}  // namespace nodelab::metrics
