#include "metrics/event_loop_delay.hpp"

namespace nodelab::metrics {

void EventLoopDelayMonitor::init(uv_loop_t* loop, std::chrono::milliseconds resolution) {
  resolution_ = resolution.count() < 1 ? std::chrono::milliseconds(1) : resolution;
  uv_timer_init(loop, &timer_);
  timer_.data = this;
  uv_unref(reinterpret_cast<uv_handle_t*>(&timer_));
  initialised_ = true;
}

void EventLoopDelayMonitor::start() {
  const auto r = static_cast<std::uint64_t>(resolution_.count());
  uv_timer_start(&timer_, on_timer, r, r);
}

void EventLoopDelayMonitor::stop() {
  if (initialised_) uv_timer_stop(&timer_);
}

void EventLoopDelayMonitor::close() {
  if (!initialised_) return;
  initialised_ = false;
  uv_close(reinterpret_cast<uv_handle_t*>(&timer_), nullptr);
}

void EventLoopDelayMonitor::on_timer(uv_timer_t* t) {
  auto* self = static_cast<EventLoopDelayMonitor*>(t->data);
  const std::uint64_t now = uv_hrtime();
  if (self->prev_ns_ > 0) self->histogram_.record(now - self->prev_ns_);
  self->prev_ns_ = now;
  if (self->on_tick) self->on_tick();
}

}  // namespace nodelab::metrics
