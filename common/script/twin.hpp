#pragma once
// The Node.js twin of a scenario (`--emit-node`): a standalone CommonJS program that does
// what the scenario does and, run with `node`, prints exactly the lines the lab prints with
// `--logs-only`. Its head follows docs/scenario-format.md: requires, the 'warning' handler,
// `const L = {}` and the emitters, then helpers, then the main script.

#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "script/op.hpp"

namespace nodelab::script {

struct Scenario;

class TwinWriter {
 public:
  void line(std::string_view text);
  void open(std::string_view header);   // a line, then indent
  void close(std::string_view footer);  // dedent, then a line
  void middle(std::string_view text);   // dedent, a line, indent: "} catch (e) {"
  void body(const Body& b);
  // `head BODY tail` as a function: "setTimeout(() => {" ... "}, 1);"; an empty body
  // stays on one line: "setTimeout(() => {}, 1);".
  void function(std::string_view head, const Body& b, std::string_view tail);

  // Head requirements, each emitted once.
  void require(std::string_view name, std::string_view statement);
  void helper(std::string_view name, std::string_view code);
  // A global the program declares after its requires and before its helpers, once
  // (a lab's objects: the emitter lab's `const bus = new EventEmitter();`).
  void declare(std::string_view name, std::string_view statement);

  // Which twin: "" (the default) or a flavour the lab lists (`--emit-node=piscina`).
  void set_flavour(std::string_view f) { flavour_ = f; }
  const std::string& flavour() const { return flavour_; }

  // The whole program for `s`.
  std::string finish(const Scenario& s);

 private:
  std::string out_;
  std::string flavour_;
  int indent_ = 0;
  std::vector<std::pair<std::string, std::string>> requires_;
  std::vector<std::pair<std::string, std::string>> helpers_;
  std::vector<std::pair<std::string, std::string>> declarations_;
};

std::string emit_twin(const Scenario& s, std::string_view flavour = {});

}  // namespace nodelab::script
