#pragma once
// The downstream service a modelled Node process calls: a real HTTP/1.1 server on loopback,
// OUTSIDE the modelled process, built on Boost.Asio (C++20 coroutines) and Boost.Beast. Each
// request is "worked" for a time drawn from a seeded latency distribution (a steady_timer, not
// CPU), under a capacity (requests worked at once) with a FIFO queue behind it, and may be
// answered 500 (error_rate), 503 (the fail_for window after a start or a reset; a full queue)
// or whatever the query string scripts (?ms=, ?status=, ?id=). While a request waits or works
// the server watches its socket: a client that disconnects gets its work cancelled
// (`cancelled`), or, with notice_disconnect=false, the work runs to its end and is `wasted`.
//
// Two ways to run it: in a thread of the calling process (Downstream::start() / stop()), or
// as the separate process `nodelab-downstream` (same options as flags; see
// docs/network.md#downstream-and-load-generator), which the Node twins of scenarios spawn.
//
// Thread safety: once start() returns, the server's thread owns every Asio object; stats()
// and port() may be called from any thread (the counters sit behind a mutex, so a snapshot is
// consistent). start(), stop() and reset() are for the owning thread; stop() joins, and the
// destructor stops.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace nodelab::peers {

// The time one request is worked, in milliseconds.
struct Latency {
  enum class Kind : std::uint8_t { fixed, uniform, exponential, lognormal };
  Kind kind = Kind::fixed;
  double a = 10;  // fixed: ms; uniform: lo; exponential: mean; lognormal: median
  double b = 0;   // uniform: hi; lognormal: p99

  static Latency fixed(double ms) { return {Kind::fixed, ms, 0}; }
  static Latency uniform(double lo, double hi) { return {Kind::uniform, lo, hi}; }
  static Latency exponential(double mean) { return {Kind::exponential, mean, 0}; }
  static Latency lognormal(double median, double p99) { return {Kind::lognormal, median, p99}; }

  // "fixed:MS", "uniform:LO:HI", "exponential:MEAN" (or "exp:MEAN"), "lognormal:MEDIAN:P99".
  // nullopt with `error` set when the text is not one of those (or its numbers are invalid).
  static std::optional<Latency> parse(std::string_view text, std::string& error);
  std::string to_string() const;  // the form parse() reads
};

// Draws work times from a Latency with a seeded generator: the same seed, the same sequence.
class LatencySampler {
 public:
  LatencySampler(Latency latency, std::uint64_t seed) : latency_(latency), rng_(seed) {}
  double next();  // milliseconds, in [0, 3600000]

 private:
  Latency latency_;
  std::mt19937_64 rng_;
};

struct DownstreamOptions {
  Latency latency = Latency::fixed(10);
  std::uint32_t capacity = 0;            // requests worked at once; 0: unlimited
  std::uint32_t queue_limit = 0;         // requests waiting for capacity; 0: unlimited; beyond: 503
  double error_rate = 0;                 // 0..1: the fraction answered 500 after their work
  std::uint32_t fail_for_ms = 0;         // requests arriving in the first N ms are answered 503
  std::uint32_t slow_start_ms = 0;       // capacity ramps linearly from 1 to `capacity` over N ms
  bool notice_disconnect = true;         // watch the socket while a request waits or works
  std::uint64_t seed = 1;                // the latency and error_rate draws
  std::uint32_t max_connections = 4096;  // open at once; more are accepted and closed
  std::uint32_t arrival_log = 100'000;   // arrival times kept (the first N requests)
};

// Every counter since start() or the last reset. `requests` counts the work requests (any path
// but /__stats and /__reset); once none is in flight or queued (and no reset came while some
// were), requests == completed + cancelled + wasted + rejected + invalid.
struct DownstreamStats {
  std::uint64_t connections = 0;          // accepted and served
  std::uint64_t connections_open = 0;     // open now
  std::uint64_t connections_refused = 0;  // closed at once: max_connections were open
  std::uint64_t requests = 0;
  std::uint64_t completed = 0;  // worked to the end and answered (any status)
  std::uint64_t status_2xx = 0, status_4xx = 0, status_5xx = 0, status_other = 0;  // completed
  std::uint64_t in_flight = 0, in_flight_peak = 0;                                 // being worked
  std::uint64_t queued = 0, queued_peak = 0;  // waiting for capacity
  std::uint64_t cancelled = 0;                // the client disconnected while it waited or worked
  std::uint64_t wasted = 0;                   // worked to the end for a client that had gone
  std::uint64_t rejected = 0;                 // the queue was full: answered 503 at once
  std::uint64_t invalid = 0;        // a query override that does not parse: answered 400 at once
  double uptime_ms = 0;             // since start() or the last reset
  std::vector<double> arrivals_ms;  // arrival times of the first `arrival_log` requests
};

class Downstream {
 public:
  explicit Downstream(DownstreamOptions options = {});
  ~Downstream();
  Downstream(const Downstream&) = delete;
  Downstream& operator=(const Downstream&) = delete;

  // Binds 127.0.0.1:0 and serves on a new thread; throws std::system_error when it cannot bind.
  void start();
  void stop();  // closes everything and joins; idempotent
  std::uint16_t port() const { return port_; }
  const DownstreamOptions& options() const { return options_; }

  DownstreamStats stats(bool with_arrivals = true) const;
  // What POST /__reset does: zero the counters (the live in_flight/queued stay, their peaks
  // restart from them) and restart the fail_for and slow_start windows. Thread-safe.
  void reset();

 private:
  struct Impl;
  DownstreamOptions options_;
  std::unique_ptr<Impl> impl_;
  std::uint16_t port_ = 0;
  std::thread thread_;
};

// The JSON of GET /__stats (camelCase names: requests, completed, inFlightPeak, ...), and back
// (a field the text lacks stays 0; throws nlohmann's parse error on text that is not JSON).
std::string stats_json(const DownstreamStats& s);
DownstreamStats stats_from_json(std::string_view text);

// GET /__stats of the service listening on 127.0.0.1:PORT (a Downstream in another thread or
// process), with a blocking Beast client: its counters. Throws std::runtime_error when the
// service cannot be reached or does not answer 200.
DownstreamStats fetch_stats(std::uint16_t port);

// The path of the `nodelab-downstream` executable: next to the running executable (every
// nodelab executable is built into the same bin/ directory).
std::string downstream_executable();

// Raises the soft RLIMIT_NOFILE to the hard limit (what `ulimit -n hard` does, and what Node
// does at start-up): a fan-out holds one socket per call in the client, and a service one per
// connection. Idempotent.
void raise_fd_limit();

}  // namespace nodelab::peers
