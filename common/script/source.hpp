#pragma once
// Reading a scenario file safely, and the located errors every loader reports.
//
// Hostile input never reaches yaml-cpp unchecked: the file must be a regular file under
// the size limit, valid UTF-8 without control characters; yaml-cpp then parses on a big
// stack. Every problem becomes a ScenarioError, printed as `FILE:LINE:COL: message`.

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "script/limits.hpp"

namespace YAML {
class Node;
}

namespace nodelab::script {

struct SourceLoc {
  std::string file;
  int line = 0;  // 1-based; 0 = the file as a whole
  int col = 0;
};

class ScenarioError : public std::runtime_error {
 public:
  ScenarioError(SourceLoc loc, std::string message);
  const SourceLoc& loc() const { return loc_; }
  const std::string& message() const { return message_; }

 private:
  SourceLoc loc_;
  std::string message_;
};

// "FILE:LINE:COL: message" (or "FILE: message" without a location).
std::string format_error(const SourceLoc& loc, std::string_view message);

// Reads the file: it must exist, be a regular file and be at most `limits.max_file_bytes`
// (check_scenario_text then checks what it holds).
std::string read_scenario_text(const std::string& path, const Limits& limits);
// The text checks of read_scenario_text alone: UTF-8, no control characters, not empty.
void check_scenario_text(std::string_view text, const std::string& path);

// Parses exactly one YAML document; yaml-cpp's errors come back located. yaml-cpp's parser
// recurses once per nesting level and stops at 2000 levels (DepthGuard); it runs here on a
// thread with a large stack, so even a sanitizer build's frames cannot overflow it.
YAML::Node parse_yaml(const std::string& text, const std::string& file);

SourceLoc loc_of(const YAML::Node& n, const std::string& file);

// YAML 1.2 core schema resolution of a scalar (yaml-cpp applies YAML 1.1 rules, in which
// `on`/`off`/`yes`/`no` are booleans; here they are strings). Quoted scalars are strings.
enum class ScalarType : std::uint8_t { null, boolean, integer, floating, string };
ScalarType scalar_type(const YAML::Node& n);
std::string_view scalar_type_name(ScalarType t);
std::optional<double> scalar_number(const YAML::Node& n);  // integer or float
std::optional<std::int64_t> scalar_integer(const YAML::Node& n);
std::string_view node_kind_name(const YAML::Node& n);  // "a mapping", "a sequence", "a number"...

}  // namespace nodelab::script
