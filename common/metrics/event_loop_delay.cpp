#include "metrics/event_loop_delay.hpp"

namespace nodelab::metrics {

void EventLoopDelayMonitor::init(uv_loop_t* loop, std::chrono::milliseconds resolution) {
  resolution_ = resolution.count() < 1 ? std::chrono::milliseconds(1) : resolution;
  timer_ = uv::Handle<uv_timer_t>::make(loop);
  timer_->data = this;
  timer_.unref();
}

void EventLoopDelayMonitor::start() {
  const auto r = static_cast<std::uint64_t>(resolution_.count());
  uv::check(uv_timer_start(timer_.get(), on_timer, r, r), "uv_timer_start");
}

void EventLoopDelayMonitor::stop() {
  if (timer_) uv_timer_stop(timer_.get());
}

void EventLoopDelayMonitor::close() {
  timer_.close();
}

void EventLoopDelayMonitor::on_timer(uv_timer_t* t) {
  auto* self = static_cast<EventLoopDelayMonitor*>(t->data);
  const std::uint64_t now = uv_hrtime();
  if (self->prev_ns_ > 0) self->histogram_.record(now - self->prev_ns_);
  self->prev_ns_ = now;
  if (self->on_tick) self->on_tick();
}

}  // namespace nodelab::metrics
