#include "emitter/world.hpp"

namespace nodelab::emitter {

EventEmitter& World::get(const std::string& name) {
  for (auto& [n, e] : emitters_) {
    if (n == name) return *e;
  }
  runtime::Runtime& rt = interp_.rt();
  auto e = std::make_unique<EventEmitter>(
      [this, &rt](std::string_view warning, const std::string& message) {
        if (current_request != 0 && !stats.first_warning_at)
          stats.first_warning_at = current_request;
        rt.emit_warning(warning, message);
      });
  emitters_.emplace_back(name, std::move(e));
  return *emitters_.back().second;
}

const std::vector<metrics::MetricInfo>& World::metric_table() {
  static const std::vector<metrics::MetricInfo> table = {
      {"requests.count", "", "requests the requests block completed"},
      {"requests.stoppedAt", "", "the request at which max_retained_bytes stopped them (0: none)"},
      {"listeners.final", "", "request listeners still attached at the end"},
      {"listeners.peak", "", "most request listeners attached at once"},
      {"retainedBytes.final", "bytes", "payload bytes still retained by attached listeners"},
      {"retainedBytes.peak", "bytes", "most payload bytes retained at once"},
      {"retainedBytes.per1kRequests", "bytes", "growth of retained bytes per 1000 requests"},
      {"warning.firstAtRequest", "", "the request whose listener triggered MaxListenersExceeded"},
      {"emit.count", "", "emits of the requests' event"},
      {"emit.perListener_ns", "", "median cost of one emit divided by its listeners, in ns"},
      {"emit.max_ms", "ms", "the slowest emit"},
  };
  return table;
}

void World::collect(metrics::MetricSet& out) const {
  if (!stats.ran) return;
  const auto retained = static_cast<double>(stats.live * stats.payload_bytes);
  out.set("requests.count", static_cast<double>(stats.requests));
  out.set("requests.stoppedAt", static_cast<double>(stats.stopped_at));
  out.set("listeners.final", static_cast<double>(stats.live));
  out.set("listeners.peak", static_cast<double>(stats.peak_live));
  out.set("retainedBytes.final", retained);
  out.set("retainedBytes.peak", static_cast<double>(stats.peak_live * stats.payload_bytes));
  out.set("retainedBytes.per1kRequests",
          stats.requests ? retained / (static_cast<double>(stats.requests) / 1000.0) : 0.0);
  out.set("warning.firstAtRequest",
          stats.first_warning_at
              ? std::optional<double>(static_cast<double>(*stats.first_warning_at))
              : std::nullopt);
  out.set("emit.count", static_cast<double>(stats.emits));
  out.set(
      "emit.perListener_ns",
      stats.emit_ns_per_listener.empty()
          ? std::nullopt
          : std::optional<double>(static_cast<double>(stats.emit_ns_per_listener.percentile(50))));
  out.set("emit.max_ms", stats.emits ? std::optional<double>(stats.max_emit_ms) : std::nullopt);
}

}  // namespace nodelab::emitter
