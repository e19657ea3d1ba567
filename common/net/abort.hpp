#pragma once
// AbortController / AbortSignal (lib/internal/abort_controller.js) as far as a request needs
// them: abort(reason) marks the signal aborted and runs its 'abort' listeners synchronously,
// in the order they were added, each once. A signal is a cheap handle to shared state; an
// empty AbortSignal (the default) is "no signal option".

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace nodelab::net {

class AbortSignal {
 public:
  AbortSignal() = default;
  explicit operator bool() const { return state_ != nullptr; }
  bool aborted() const { return state_ && state_->aborted; }
  const std::string& reason() const;

  using ListenerId = std::uint64_t;
  // signal.addEventListener('abort', fn, {once: true}); 0 for an empty signal.
  ListenerId add_listener(std::function<void()> fn) const;
  void remove_listener(ListenerId id) const;

 private:
  friend class AbortController;
  struct State {
    bool aborted = false;
    std::string reason;
    ListenerId next = 1;
    std::vector<std::pair<ListenerId, std::function<void()>>> listeners;
  };
  explicit AbortSignal(std::shared_ptr<State> s) : state_(std::move(s)) {}
  std::shared_ptr<State> state_;
};

class AbortController {
 public:
  AbortController();
  AbortSignal signal() const { return AbortSignal(state_); }
  // controller.abort(reason): a second call does nothing. JS context (listeners are JS).
  void abort(std::string reason = "AbortError: This operation was aborted");

 private:
  std::shared_ptr<AbortSignal::State> state_;
};

}  // namespace nodelab::net
