#include "runtime/recorder.hpp"

#include <utility>

namespace nodelab::runtime {

void Recorder::enter_phase(Phase p) {
  if (!is_loop_phase(p)) return;  // the JS queues drain inside a phase; they do not move it
  const bool post_poll_pending = p == Phase::pending && last_phase_ == Phase::poll;
  if (!is_loop_phase(last_phase_) || (p < last_phase_ && !post_poll_pending)) ++iteration_;
  last_phase_ = post_poll_pending ? Phase::poll : p;
}

CallbackId Recorder::begin(CallbackRecord rec) {
  rec.id = next_id_++;
  rec.iteration = iteration_;
  if (callbacks_.size() < limits_.max_callbacks) callbacks_.push_back(rec);
  return rec.id;
}

void Recorder::end(CallbackId id, Nanos end) {
  if (id < callbacks_.size()) callbacks_[id].end = end;
}

void Recorder::add_log(std::string text, CallbackId cb, Nanos t) {
  ++log_count_;
  if (logs_.size() < limits_.max_logs) logs_.push_back(LogRecord{std::move(text), cb, t});
}

void Recorder::add_work_span(const WorkSpan& span) {
  if (work_spans_.size() < limits_.max_callbacks) work_spans_.push_back(span);
}

void Recorder::add_counter(std::string name, Nanos t, double value) {
  if (counters_.size() < limits_.max_logs) counters_.push_back({std::move(name), t, value});
}

}  // namespace nodelab::runtime
