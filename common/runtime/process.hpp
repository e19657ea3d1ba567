#pragma once
// Running a child process on libuv's uv_spawn (on a loop of its own, so any thread may call
// it): argv, stdout/stderr captured (or inherited, or discarded), optional stdin text, the
// exit code or terminating signal, an optional timeout (SIGKILL) and an optional signal sent
// after a delay. The one process spawner of the labs, the driver and the tests.

#include <chrono>
#include <string>
#include <vector>

namespace nodelab::process {

enum class Output : std::uint8_t { capture, inherit, discard };

struct Options {
  // Written to the child's stdin, which is then closed; stdin is inherited unless set.
  bool pipe_stdin = false;
  std::string stdin_text;
  Output out = Output::capture;
  Output err = Output::capture;
  // "NAME=VALUE" entries added to (or replacing in) this process's environment.
  std::vector<std::string> extra_env;
  // 0: none. Past it the child is killed with SIGKILL and timed_out is set.
  std::chrono::milliseconds timeout{0};
  // A signal (SIGINT, SIGTERM, ...) sent `signal_after` after the start; 0: none.
  int signal = 0;
  std::chrono::milliseconds signal_after{0};
};

struct Result {
  int exit_code = -1;   // -1 when the child was killed by a signal or did not start
  int term_signal = 0;  // the signal that ended it, or 0
  bool timed_out = false;
  int spawn_error = 0;  // libuv's error when the child could not be started (UV_ENOENT, ...)
  std::string out;
  std::string err;
  std::chrono::milliseconds elapsed{0};
  // From the signal sent by Options::signal to the child's exit (when one was sent).
  std::chrono::milliseconds signal_to_exit{-1};
};

// Runs argv[0] (searched on PATH when it has no slash) with argv.
Result run(const std::vector<std::string>& argv, const Options& options = {});

}  // namespace nodelab::process
