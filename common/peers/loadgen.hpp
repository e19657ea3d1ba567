#pragma once
// An open-loop HTTP load generator in the manner of wrk2: requests are due at a constant rate
// (request i at start + i / rate) whatever the server does, and each one's latency is measured
// from the time it was DUE, not from the time it could be sent. A request that waits for a
// free keep-alive connection (all `connections` busy) carries that wait in its latency, so a
// server that stalls cannot hide its queue behind a slowed-down client (coordinated omission).
// The time from the actual send is kept too (service time), to show the difference.
//
// It runs on a thread of its own (Boost.Asio, C++20 coroutines, Boost.Beast), outside the
// modelled Node process: a lab starts it, polls progress() or waits for the result.
//
// Thread safety: start(), stop() and wait() are for the owning thread; progress() and done()
// may be called from any thread (atomics). The result is read after wait() joined.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "metrics/histogram.hpp"

namespace nodelab::peers {

struct LoadGenOptions {
  std::string host = "127.0.0.1";  // a numeric address (no name lookup)
  std::uint16_t port = 0;
  std::string path = "/";
  double rate = 100;                         // requests per second, > 0
  std::chrono::milliseconds duration{1000};  // requests = rate * duration ...
  std::uint64_t requests = 0;                // ... unless set here
  std::uint32_t connections = 16;            // keep-alive connections, >= 1
  std::chrono::milliseconds timeout{5000};   // per request, from its connect or send
};

struct LoadGenResult {
  std::uint64_t scheduled = 0;  // requests due (all of them, unless stop() cut the run)
  std::uint64_t sent = 0;       // written to a connection
  std::uint64_t completed = 0;  // answered (any status)
  std::uint64_t status_2xx = 0, status_4xx = 0, status_5xx = 0, status_other = 0;
  std::uint64_t errors_connect = 0;  // the connection could not be opened
  std::uint64_t errors_timeout = 0;  // no answer within `timeout`
  std::uint64_t errors_io = 0;       // the connection broke (reset, EOF, bad HTTP)
  std::uint64_t connections_opened = 0;
  bool stopped = false;  // stop() ended the run before every request finished
  // Microseconds. latency: from the time a request was due to its answer; service: from its
  // actual send to its answer. Answered requests only.
  metrics::Histogram latency_us;
  metrics::Histogram service_us;
  double elapsed_ms = 0;     // from the first due time to the last answer or error
  double achieved_rate = 0;  // completed per second of elapsed_ms

  std::uint64_t errors() const { return errors_connect + errors_timeout + errors_io; }
};

class LoadGen {
 public:
  explicit LoadGen(LoadGenOptions options);  // throws std::invalid_argument on bad options
  ~LoadGen();                                // stop()
  LoadGen(const LoadGen&) = delete;
  LoadGen& operator=(const LoadGen&) = delete;

  void start();
  // Ends the run now (what is not yet answered is dropped); wait() then returns the result.
  void stop();
  // Joins the run (its natural end, or stop()) and returns what it measured.
  LoadGenResult wait();
  // start() and wait().
  static LoadGenResult run(LoadGenOptions options);

  struct Progress {
    std::uint64_t sent, completed, errors;
  };
  Progress progress() const;
  bool done() const { return done_.load(std::memory_order_acquire); }
  const LoadGenOptions& options() const { return options_; }

 private:
  struct Impl;
  LoadGenOptions options_;
  std::unique_ptr<Impl> impl_;
  std::thread thread_;
  std::atomic<bool> done_{false};
};

}  // namespace nodelab::peers
