#include "worker-pool/task.hpp"

namespace nodelab::worker_pool {

void settle_later(runtime::Runtime& rt, runtime::Site site, const Strategy::Settle& settle,
                  TaskRecord& t) {
  TaskRecord* rec = &t;
  rt.enqueue_microtask([settle, rec] { settle(*rec); }, site, runtime::CallbackKind::promise);
}

std::optional<double> ms_percentile(const metrics::Histogram& h, double p) {
  if (h.empty()) return std::nullopt;
  return static_cast<double>(h.percentile(p)) / 1e6;
}

std::optional<double> ms_max(const metrics::Histogram& h) {
  if (h.empty()) return std::nullopt;
  return static_cast<double>(h.max()) / 1e6;
}

}  // namespace nodelab::worker_pool
