#pragma once
// Running a child process with captured stdout/stderr, optional stdin, and a timeout (on
// nodelab::process::run, libuv's uv_spawn).

#include <chrono>
#include <string>
#include <vector>

namespace nodelab::testing {

struct ProcessResult {
  int exit_code = -1;  // -1 when killed by a signal or the timeout
  int signal = 0;
  bool timed_out = false;
  std::string out;
  std::string err;
  std::chrono::milliseconds elapsed{0};
};

ProcessResult run_process(const std::vector<std::string>& argv, const std::string& stdin_data = {},
                          std::chrono::milliseconds timeout = std::chrono::seconds(60),
                          const std::vector<std::string>& extra_env = {});

std::vector<std::string> split_lines(const std::string& text);

}  // namespace nodelab::testing
