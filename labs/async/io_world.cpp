#include "async/io_world.hpp"

#include <fmt/format.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <thread>

#include "embed/async_twin.hpp"
#include "runtime/js_number.hpp"

extern char** environ;

namespace nodelab::async {

namespace {

std::string number_text(double v) {
  return runtime::js_number_to_string(v);
}

}  // namespace

std::vector<std::string> downstream_args(const peers::DownstreamOptions& o) {
  std::vector<std::string> a = {"--latency", o.latency.to_string()};
  a.insert(a.end(), {"--capacity", std::to_string(o.capacity)});
  a.insert(a.end(), {"--queue-limit", std::to_string(o.queue_limit)});
  a.insert(a.end(), {"--error-rate", number_text(o.error_rate)});
  a.insert(a.end(), {"--fail-for-ms", std::to_string(o.fail_for_ms)});
  a.insert(a.end(), {"--slow-start-ms", std::to_string(o.slow_start_ms)});
  a.insert(a.end(), {"--seed", std::to_string(o.seed)});
  a.insert(a.end(), {"--max-connections", std::to_string(o.max_connections)});
  if (!o.notice_disconnect) a.emplace_back("--ignore-disconnect");
  return a;
}

Service::Service(const ServiceSpec& spec) : spec_(spec) {
  if (!spec_.process) {
    thread_ = std::make_unique<peers::Downstream>(spec_.options);
    thread_->start();
    port_ = thread_->port();
    started_ = runtime::hrtime();
    return;
  }
  // nodelab-downstream: stdin is our pipe (EOF stops it), stdout tells us its port.
  int in[2], out[2];
  if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0) {
    throw std::runtime_error("pipe failed");
  }
  const std::string exe = peers::downstream_executable();
  std::vector<std::string> args = {exe};
  for (auto& s : downstream_args(spec_.options))
    args.push_back(std::move(s));
  std::vector<char*> argv;
  for (auto& s : args)
    argv.push_back(s.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, in[0], STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&fa, out[1], STDOUT_FILENO);
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, exe.c_str(), &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  ::close(in[0]);
  ::close(out[1]);
  if (rc != 0) {
    ::close(in[1]);
    ::close(out[0]);
    throw std::runtime_error(fmt::format("cannot start {}: {}", exe, std::strerror(rc)));
  }
  pid_ = pid;
  stdin_fd_ = in[1];
  std::string line;
  char c = 0;
  while (::read(out[0], &c, 1) == 1 && c != '\n')
    line.push_back(c);
  ::close(out[0]);
  unsigned port = 0;
  if (std::sscanf(line.c_str(), "listening %u", &port) != 1 || port == 0 || port > 65535) {
    stop();
    throw std::runtime_error(fmt::format("{} did not start (said '{}')", exe, line));
  }
  port_ = static_cast<std::uint16_t>(port);
  started_ = runtime::hrtime();
}

Service::~Service() {
  stop();
}

void Service::stop() {
  if (thread_) thread_->stop();
  if (pid_ > 0) {
    ::close(stdin_fd_);  // EOF: it stops
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }
}

peers::DownstreamStats Service::stats(bool with_arrivals) const {
  if (thread_) return thread_->stats(with_arrivals);
  if (pid_ <= 0) return {};
  return peers::fetch_stats(port_);
}

IoWorld::IoWorld(script::Interpreter& interp) : interp_(interp) {
  const auto& blocks = interp.scenario().blocks;
  const auto it = blocks.find("downstream");
  if (it == blocks.end()) return;
  peers::raise_fd_limit();  // the client's sockets, and a service in a thread's
  const auto& specs = std::any_cast<const std::shared_ptr<ServiceSpecs>&>(it->second);
  for (const auto& s : specs->services)
    services_.push_back(std::make_unique<Service>(s));
}

IoWorld::~IoWorld() {
  agents_.clear();
  global_agent_.reset();
  for (auto& s : services_)
    s->stop();
}

Service& IoWorld::service(const std::string& name) {
  for (auto& s : services_) {
    if (s->spec().name == name) return *s;
  }
  throw std::logic_error("no service " + name);  // the loader checked every name
}

net::Agent& IoWorld::global_agent() {
  if (!global_agent_)
    global_agent_ = std::make_unique<net::Agent>(rt(), net::AgentOptions::global());
  return *global_agent_;
}

net::Agent& IoWorld::own_agent(const net::AgentOptions& o) {
  agents_.push_back(std::make_unique<net::Agent>(rt(), o));
  return *agents_.back();
}

const std::vector<metrics::MetricInfo>& IoWorld::metric_table() {
  static const std::vector<metrics::MetricInfo> table = {
      {"calls.count", "",
       "calls made by the calls ops (a call: one logical request, retries included)"},
      {"calls.fulfilled", "", "calls whose promise fulfilled"},
      {"calls.rejected", "", "calls whose promise rejected"},
      {"calls.total_ms", "ms",
       "the calls ops' durations, from their start to their last call settling"},
      {"requests.sent", "", "HTTP requests sent (every attempt)"},
      {"requests.inFlightPeak", "", "most HTTP requests outstanding at once in the client"},
      {"latency.p50_ms", "ms", "call latency, median, from the call's intended start"},
      {"latency.p99_ms", "ms", "call latency, 99th percentile, from the call's intended start"},
      {"latency.max_ms", "ms", "the slowest call, from its intended start"},
      {"throughput.rps", "", "calls settled per second of the calls ops' time"},
      {"agent.queueWait.p50_ms", "ms", "time from http.request() to 'socket', median"},
      {"agent.queueWait.max_ms", "ms", "time from http.request() to 'socket', the longest"},
      {"agent.queuePeak", "", "the longest an agent's per-origin queue (requests[name]) got"},
      {"agent.socketsCreated", "", "connections the agents made"},
      {"agent.reuses", "", "requests given a kept-alive free socket"},
      {"agent.handoffs", "", "queued requests given a socket another request freed"},
      {"limiter.queuePeak", "", "the most calls waiting in a concurrency limiter"},
      {"wasted.lateResponses", "",
       "responses the downstream completed after their caller had given up"},
      {"wasted.heldAtGiveUp", "",
       "requests still running (sockets and buffers held) when a caller gave up"},
      {"retries.count", "", "retries made (attempts after a call's first)"},
      {"retries.delay.p50_ms", "ms", "the delay before a retry, median"},
      {"retries.delay.max_ms", "ms", "the delay before a retry, the longest"},
      {"retries.recovery_ms", "ms",
       "from the end of the downstream's outage to the last call's success"},
      {"downstream.requests", "", "requests the downstream services received"},
      {"downstream.completed", "", "requests they worked to the end and answered"},
      {"downstream.inFlightPeak", "",
       "most requests a service worked at once (its capacity bounds it)"},
      {"downstream.queuedPeak", "", "most requests waiting for a service's capacity"},
      {"downstream.cancelled", "",
       "requests whose client disconnected while they waited or worked"},
      {"downstream.wasted", "", "requests worked to the end for a client that had gone"},
      {"downstream.rejected", "", "requests refused at once: the queue was full"},
      {"downstream.connectionsRefused", "",
       "connections closed as soon as accepted: max_connections were open"},
      {"downstream.status5xx", "", "requests answered with a 5xx status"},
      {"asio.ok", "", "asioCalls children that got their response"},
      {"asio.failed", "", "asioCalls children that failed (an error status, a connection error)"},
      {"asio.cancelled", "",
       "asioCalls children cancelled by their operator (a lost ||, a sibling's error)"},
      {"asio.callerFailed", "", "asioCalls runs whose co_await threw"},
      {"asio.failureHidden", "",
       "of those, runs whose caught exception was a sibling's cancellation (operation aborted, "
       "first in multiple_exceptions) while a call had failed"},
      {"asio.elapsed_ms", "ms", "asioCalls runs' time, each until every child had finished"},
      {"downstream.outageRequests", "", "requests that arrived during a service's fail_for window"},
  };
  return table;
}

void IoWorld::collect(metrics::MetricSet& out) {
  // The loop has ended, but a service notices a departed client on its own thread: give it
  // up to 2 s to finish or cancel what it still holds, so its counters are final.
  for (auto& s : services_) {
    for (int i = 0; i < 400; ++i) {
      const auto st = s->stats(false);
      if (st.in_flight == 0 && st.queued == 0) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  if (!services_.empty()) {
    std::uint64_t req = 0, done = 0, infl = 0, q = 0, canc = 0, wast = 0, rej = 0, s5 = 0,
                  outage = 0, refused = 0;
    for (auto& s : services_) {
      const auto st = s->stats();
      req += st.requests;
      done += st.completed;
      infl = std::max(infl, st.in_flight_peak);
      q = std::max(q, st.queued_peak);
      canc += st.cancelled;
      wast += st.wasted;
      rej += st.rejected;
      s5 += st.status_5xx;
      refused += st.connections_refused;
      const double window = s->spec().options.fail_for_ms;
      for (double a : st.arrivals_ms)
        if (a < window) ++outage;
    }
    out.set("downstream.requests", static_cast<double>(req));
    out.set("downstream.completed", static_cast<double>(done));
    out.set("downstream.inFlightPeak", static_cast<double>(infl));
    out.set("downstream.queuedPeak", static_cast<double>(q));
    out.set("downstream.cancelled", static_cast<double>(canc));
    out.set("downstream.wasted", static_cast<double>(wast));
    out.set("downstream.rejected", static_cast<double>(rej));
    out.set("downstream.status5xx", static_cast<double>(s5));
    out.set("downstream.connectionsRefused", static_cast<double>(refused));
    out.set("downstream.outageRequests", static_cast<double>(outage));
  }
  if (asio.ran) {
    out.set("asio.ok", static_cast<double>(asio.ok));
    out.set("asio.failed", static_cast<double>(asio.failed));
    out.set("asio.cancelled", static_cast<double>(asio.cancelled));
    out.set("asio.callerFailed", static_cast<double>(asio.caller_failed));
    out.set("asio.failureHidden", static_cast<double>(asio.failure_hidden));
    out.set("asio.elapsed_ms", asio.elapsed_ms);
  }
  if (!stats.ran) return;
  const auto ms = [](const metrics::Histogram& h, double p) -> std::optional<double> {
    if (h.empty()) return std::nullopt;
    return static_cast<double>(h.percentile(p)) / 1000.0;
  };
  out.set("calls.count", static_cast<double>(stats.calls));
  out.set("calls.fulfilled", static_cast<double>(stats.fulfilled));
  out.set("calls.rejected", static_cast<double>(stats.rejected));
  out.set("calls.total_ms", stats.total_ms);
  out.set("requests.sent", static_cast<double>(stats.requests));
  out.set("requests.inFlightPeak", static_cast<double>(stats.in_flight_peak));
  out.set("latency.p50_ms", ms(stats.latency_us, 50));
  out.set("latency.p99_ms", ms(stats.latency_us, 99));
  out.set("latency.max_ms", ms(stats.latency_us, 100));
  out.set("throughput.rps",
          stats.total_ms > 0
              ? std::optional<double>(static_cast<double>(stats.fulfilled + stats.rejected) *
                                      1000.0 / stats.total_ms)
              : std::nullopt);
  out.set("agent.queueWait.p50_ms", ms(stats.agent_wait_us, 50));
  out.set("agent.queueWait.max_ms", ms(stats.agent_wait_us, 100));
  std::uint64_t created = 0, reuses = 0, handoffs = 0, qpeak = 0;
  const auto add = [&](const net::Agent& a) {
    const auto s = a.stats();
    created += s.sockets_created;
    reuses += s.reuses;
    handoffs += s.handoffs;
    qpeak = std::max<std::uint64_t>(qpeak, s.queue_peak);
  };
  if (global_agent_) add(*global_agent_);
  for (const auto& a : agents_)
    add(*a);
  out.set("agent.queuePeak", static_cast<double>(qpeak));
  out.set("agent.socketsCreated", static_cast<double>(created));
  out.set("agent.reuses", static_cast<double>(reuses));
  out.set("agent.handoffs", static_cast<double>(handoffs));
  out.set("limiter.queuePeak", static_cast<double>(stats.limiter_queue_peak));
  out.set("wasted.lateResponses", static_cast<double>(stats.late));
  out.set("wasted.heldAtGiveUp", static_cast<double>(stats.held_at_give_up));
  out.set("retries.count", static_cast<double>(stats.retries));
  out.set("retries.delay.p50_ms", ms(stats.retry_delay_us, 50));
  out.set("retries.delay.max_ms", ms(stats.retry_delay_us, 100));
  out.set("retries.recovery_ms", stats.recovery_ms);
}

void use_io_twin(script::TwinWriter& w) {
  w.require("http", "const http = require('http');");
  w.helper("__io", embed::async_twin::io_js);
}

}  // namespace nodelab::async
