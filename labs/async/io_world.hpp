#pragma once
// The async lab's I/O world for one run: the downstream services the `downstream:` block
// declares (peers::Downstream in a thread of this process, or the `nodelab-downstream` process
// the twin spawns too), the http.globalAgent the calls share, and what the calls measured.
//
// A call is one http.get (lib/_http_client.js) through an Agent (lib/_http_agent.js), on the
// runtime's loop (common/net): it fulfills with the status when the response ends with a
// status below 400, and rejects with Error('HTTP <status>') otherwise, or with the request's
// error (ECONNRESET, an AbortError from its signal). docs/node-semantics.md, "HTTP calls".

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "metrics/histogram.hpp"
#include "metrics/metric_set.hpp"
#include "net/http_client.hpp"
#include "peers/downstream.hpp"
#include "runtime/runtime.hpp"
#include "script/interpreter.hpp"
#include "script/twin.hpp"

namespace nodelab::async {

// One service of the `downstream:` block.
struct ServiceSpec {
  std::string name;
  peers::DownstreamOptions options;
  bool process = false;  // run as the nodelab-downstream process (else a thread of this one)
};
struct ServiceSpecs {
  std::vector<ServiceSpec> services;
};

// A running service: its port, its counters, and when it started (the fail_for window's t0).
class Service {
 public:
  explicit Service(const ServiceSpec& spec);
  ~Service();
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;

  const ServiceSpec& spec() const { return spec_; }
  std::uint16_t port() const { return port_; }
  runtime::Nanos started() const { return started_; }
  // Its counters now (a thread's directly; a process's from GET /__stats).
  peers::DownstreamStats stats(bool with_arrivals = true) const;
  void stop();

 private:
  ServiceSpec spec_;
  std::unique_ptr<peers::Downstream> thread_;
  int pid_ = -1;
  int stdin_fd_ = -1;
  std::uint16_t port_ = 0;
  runtime::Nanos started_{0};
};

// The nodelab-downstream command line for a service (the twin spawns it with these flags).
std::vector<std::string> downstream_args(const peers::DownstreamOptions& o);

// What the calls measured, over every `calls` op of the run.
struct IoStats {
  bool ran = false;
  std::uint64_t calls = 0, fulfilled = 0, rejected = 0;
  std::uint64_t requests = 0;  // HTTP requests sent (retries included)
  std::uint64_t in_flight = 0, in_flight_peak = 0;
  std::uint64_t late = 0;             // responses completed after their caller had given up
  std::uint64_t held_at_give_up = 0;  // requests still running when a caller gave up
  std::uint64_t retries = 0;
  metrics::Histogram latency_us;     // per call, from its intended start
  metrics::Histogram agent_wait_us;  // per request: http.request() to 'socket'
  metrics::Histogram retry_delay_us;
  double total_ms = 0;  // the calls ops' durations, summed
  std::optional<double> recovery_ms;
  std::uint64_t limiter_queue_peak = 0;

  // A request was sent / closed: the count is sampled for --trace and --html (a counter track,
  // `requests in flight`).
  void request_started(runtime::Runtime& rt) {
    ++in_flight;
    in_flight_peak = std::max(in_flight_peak, in_flight);
    rt.sample("requests in flight", static_cast<double>(in_flight));
  }
  void request_closed(runtime::Runtime& rt) {
    --in_flight;
    rt.sample("requests in flight", static_cast<double>(in_flight));
  }
};

// What the asioCalls ops measured (asio_calls.cpp).
struct AsioStats {
  bool ran = false;
  std::uint64_t ok = 0, failed = 0, cancelled = 0;  // children, by how they ended
  std::uint64_t caller_failed = 0;                  // runs whose co_await threw
  std::uint64_t failure_hidden = 0;  // ... with a sibling's cancellation, not the failure
  double elapsed_ms = 0;             // summed over runs (each waits for its children)
};

class IoWorld {
 public:
  explicit IoWorld(script::Interpreter& interp);
  ~IoWorld();
  IoWorld(const IoWorld&) = delete;
  IoWorld& operator=(const IoWorld&) = delete;

  runtime::Runtime& rt() { return interp_.rt(); }
  Service& service(const std::string& name);
  bool has_services() const { return !services_.empty(); }
  net::Agent& global_agent();
  // An agent of a calls op's own (`agent:`): lives as long as the run.
  net::Agent& own_agent(const net::AgentOptions& o);

  IoStats stats;
  AsioStats asio;

  void collect(metrics::MetricSet& out);
  static const std::vector<metrics::MetricInfo>& metric_table();

 private:
  script::Interpreter& interp_;
  std::vector<std::unique_ptr<Service>> services_;
  std::unique_ptr<net::Agent> global_agent_;
  std::vector<std::unique_ptr<net::Agent>> agents_;
};

// The twin's table of services (`const DS = Object.create(null)`) and its helpers
// (labs/async/twin/io.js), declared once.
void use_io_twin(script::TwinWriter& w);

}  // namespace nodelab::async
