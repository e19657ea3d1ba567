#include "net/abort.hpp"

#include <algorithm>

namespace nodelab::net {

const std::string& AbortSignal::reason() const {
  static const std::string none;
  return state_ ? state_->reason : none;
}

AbortSignal::ListenerId AbortSignal::add_listener(std::function<void()> fn) const {
  if (!state_) return 0;
  const ListenerId id = state_->next++;
  state_->listeners.emplace_back(id, std::move(fn));
  return id;
}

void AbortSignal::remove_listener(ListenerId id) const {
  if (!state_) return;
  auto& l = state_->listeners;
  l.erase(std::remove_if(l.begin(), l.end(), [id](const auto& p) { return p.first == id; }),
          l.end());
}

AbortController::AbortController() : state_(std::make_shared<AbortSignal::State>()) {}

void AbortController::abort(std::string reason) {
  if (state_->aborted) return;
  state_->aborted = true;
  state_->reason = std::move(reason);
  // {once: true}: each listener is removed before it runs; one added meanwhile does not run.
  auto listeners = std::move(state_->listeners);
  state_->listeners.clear();
  for (auto& [id, fn] : listeners)
    fn();
}

}  // namespace nodelab::net
