#include "process.hpp"

#include "runtime/process.hpp"

namespace nodelab::testing {

ProcessResult run_process(const std::vector<std::string>& argv, const std::string& stdin_data,
                          std::chrono::milliseconds timeout,
                          const std::vector<std::string>& extra_env) {
  process::Options o;
  o.pipe_stdin = true;  // fed `stdin_data`, then closed
  o.stdin_text = stdin_data;
  o.extra_env = extra_env;
  o.timeout = timeout;
  const process::Result p = process::run(argv, o);
  ProcessResult r;
  r.exit_code = p.spawn_error != 0 ? 127 : p.exit_code;  // as a failed exec did
  r.signal = p.term_signal;
  r.timed_out = p.timed_out;
  r.out = p.out;
  r.err = p.err;
  r.elapsed = p.elapsed;
  return r;
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    const auto nl = text.find('\n', start);
    if (nl == std::string::npos) {
      lines.push_back(text.substr(start));
      break;
    }
    lines.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  return lines;
}

}  // namespace nodelab::testing
