#include "cli/progress.hpp"

#include <unistd.h>

#include <cstdio>

namespace nodelab::cli {

ProgressLine::ProgressLine(std::string what) {
  if (::isatty(STDERR_FILENO) == 0) return;
  thread_ = std::thread([this, what = std::move(what)] {
    const auto start = std::chrono::steady_clock::now();
    std::unique_lock lock(mutex_);
    if (cv_.wait_for(lock, std::chrono::seconds(1), [this] { return done_; })) return;
    bool drawn = false;
    while (!done_) {
      const std::chrono::duration<double> t = std::chrono::steady_clock::now() - start;
      std::fprintf(stderr, "\r\x1b[2K  running %s ... %.1f s", what.c_str(), t.count());
      std::fflush(stderr);
      drawn = true;
      cv_.wait_for(lock, std::chrono::milliseconds(200), [this] { return done_; });
    }
    if (drawn) std::fputs("\r\x1b[2K", stderr);
  });
}

ProgressLine::~ProgressLine() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard lock(mutex_);
    done_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

}  // namespace nodelab::cli
