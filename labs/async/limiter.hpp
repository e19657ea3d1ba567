#pragma once
// A p-limit-style concurrency limiter (sindresorhus/p-limit): at most `concurrency` tasks run at
// once; the others wait in a FIFO queue; when a running task settles, the oldest waiting one
// starts. The tasks are started by the caller's `start` function and report their end with
// done(); nothing here knows about HTTP, so the unit tests drive it with plain functions.

#include <cstddef>
#include <deque>
#include <functional>
#include <limits>

namespace nodelab::async {

class Limiter {
 public:
  using Task = std::function<void()>;  // starts one task; the task calls done() when it settles
  explicit Limiter(std::size_t concurrency = std::numeric_limits<std::size_t>::max())
      : concurrency_(concurrency == 0 ? 1 : concurrency) {}

  // limit(fn): runs it now if fewer than `concurrency` run, else queues it.
  void add(Task t) {
    if (active_ < concurrency_) {
      start(std::move(t));
    } else {
      queue_.push_back(std::move(t));
      if (queue_.size() > queue_peak_) queue_peak_ = queue_.size();
    }
  }
  // A running task settled: the oldest queued one starts.
  void done() {
    --active_;
    if (!queue_.empty() && active_ < concurrency_) {
      Task t = std::move(queue_.front());
      queue_.pop_front();
      start(std::move(t));
    }
  }

  std::size_t active() const { return active_; }         // limit.activeCount
  std::size_t pending() const { return queue_.size(); }  // limit.pendingCount
  std::size_t active_peak() const { return active_peak_; }
  std::size_t queue_peak() const { return queue_peak_; }
  std::size_t concurrency() const { return concurrency_; }

 private:
  void start(Task t) {
    ++active_;
    if (active_ > active_peak_) active_peak_ = active_;
    t();
  }
  std::size_t concurrency_;
  std::size_t active_ = 0;
  std::size_t active_peak_ = 0;
  std::size_t queue_peak_ = 0;
  std::deque<Task> queue_;
};

}  // namespace nodelab::async
