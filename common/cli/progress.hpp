#pragma once
// A progress line on a terminal for runs longer than a second: "running NAME ... 2.4 s",
// redrawn in place on stderr and erased when the run ends. Nothing when stderr is not a
// terminal (CI logs, pipes).

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

namespace nodelab::cli {

class ProgressLine {
 public:
  explicit ProgressLine(std::string what);
  ~ProgressLine();
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;
};

}  // namespace nodelab::cli
