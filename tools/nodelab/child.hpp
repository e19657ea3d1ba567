#pragma once
// Running the lab executables that sit next to `nodelab`.

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace nodelab::driver {

// "no lab 'ID'; did you mean event-loop? (labs: event-loop, emitter, ...)": the labs this build
// has, in order, and the nearest one when ID looks like a typo of it.
std::string unknown_lab(const std::string& id);
// Levenshtein distance (insertions, deletions, substitutions).
std::size_t edit_distance(const std::string& a, const std::string& b);
// The entry of `known` nearest to `word` when it is close enough to be a typo; else "".
std::string did_you_mean(const std::string& word, const std::vector<std::string>& known);
std::string lab_binary(const std::string& lab);  // <dir of nodelab>/lab-<lab>, or ""

struct ChildResult {
  int exit_code = -1;
  std::string out;
};
// Runs `argv` with stdout captured (stderr passes through).
ChildResult capture(const std::vector<std::string>& argv);
// Runs a lab with --json (or --json-brief) and parses the document; throws on failure.
nlohmann::json run_json(const std::vector<std::string>& argv);

}  // namespace nodelab::driver
