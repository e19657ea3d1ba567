#include "script/twin.hpp"

#include <algorithm>

#include "script/scenario.hpp"

namespace nodelab::script {

void TwinWriter::line(std::string_view text) {
  out_.append(static_cast<std::size_t>(indent_) * 2, ' ');
  out_.append(text);
  out_ += '\n';
}

void TwinWriter::open(std::string_view header) {
  line(header);
  ++indent_;
}

void TwinWriter::close(std::string_view footer) {
  --indent_;
  line(footer);
}

void TwinWriter::middle(std::string_view text) {
  --indent_;
  line(text);
  ++indent_;
}

void TwinWriter::body(const Body& b) {
  for (const auto& op : b)
    op->emit_twin(*this);
}

void TwinWriter::function(std::string_view head, const Body& b, std::string_view tail) {
  if (b.empty()) {
    line(std::string(head) + "}" + std::string(tail));
    return;
  }
  open(head);
  body(b);
  close("}" + std::string(tail));
}

void TwinWriter::require(std::string_view name, std::string_view statement) {
  auto same = [&](const auto& r) { return r.first == name; };
  if (std::none_of(requires_.begin(), requires_.end(), same)) {
    requires_.emplace_back(name, statement);
  }
}

void TwinWriter::helper(std::string_view name, std::string_view code) {
  auto same = [&](const auto& h) { return h.first == name; };
  if (std::none_of(helpers_.begin(), helpers_.end(), same)) helpers_.emplace_back(name, code);
}

void TwinWriter::declare(std::string_view name, std::string_view statement) {
  auto same = [&](const auto& d) { return d.first == name; };
  if (std::none_of(declarations_.begin(), declarations_.end(), same)) {
    declarations_.emplace_back(name, statement);
  }
}

std::string TwinWriter::finish(const Scenario& s) {
  const std::string variant = s.variant.empty() ? "" : ", variant " + s.variant;
  const std::string flag = s.variant.empty() ? "" : " --variant " + s.variant;
  auto one_line = [](std::string t) {
    for (char& c : t) {
      if (c == '\n' || c == '\r') c = ' ';
    }
    return t;
  };
  // A mode of --unhandled-rejections is node's command line, not code: the first line says how
  // to run the twin (the parity test passes the same flags to node).
  const std::string node_flags =
      s.unhandled_rejections
          ? " --unhandled-rejections=" + std::string(runtime::mode_name(*s.unhandled_rejections))
          : "";
  std::string head;
  if (!node_flags.empty()) head += "// run: node" + node_flags + " FILE.js\n";
  head += "// Node.js twin of " + one_line(s.file) + " (lab " + s.lab + ", scenario " + s.name +
          variant + ").\n// Run it with: node" + node_flags + " FILE.js -- it prints what `lab-" +
          s.lab + flag + " --logs-only` prints.\n";
  // Set before anything uses the pool: libuv reads it once, at the first pool request.
  for (const auto& [key, value] : s.env) {
    head += "process.env." + key + " = " + js_string(value) + ";\n";
  }
  // fs first, then events, then the rest in order of first use (docs/scenario-format.md).
  auto rank = [](const std::string& n) { return n == "fs" ? 0 : n == "events" ? 1 : 2; };
  std::stable_sort(requires_.begin(), requires_.end(),
                   [&](const auto& a, const auto& b) { return rank(a.first) < rank(b.first); });
  for (const auto& r : requires_)
    head += r.second + "\n";
  if (s.unhandled_rejections == runtime::UnhandledRejections::warn ||
      s.unhandled_rejections == runtime::UnhandledRejections::warn_with_error_code) {
    // An UnhandledPromiseRejectionWarning's message is the reason's stack: its frames name
    // this file's path, so the handler prints the message without them (the lab does too).
    // One line: `nodelab drill` drops the handler by its first line.
    head +=
        "process.on('warning', w => console.log('warning: ' + w.name + ': ' + "
        "w.message.replace(/\\n {4}at .*/g, '')));\n";
  } else {
    head += "process.on('warning', w => console.log('warning: ' + w.name + ': ' + w.message));\n";
  }
  for (const auto& d : declarations_)
    head += d.second + "\n";
  for (const auto& h : helpers_)
    head += h.second + "\n";
  return head + "\n" + out_;
}

std::string emit_twin(const Scenario& s, std::string_view flavour) {
  TwinWriter w;
  w.set_flavour(flavour);
  w.body(s.main);
  return w.finish(s);
}

}  // namespace nodelab::script
