// nodelab-downstream: peers::Downstream as a process, for the Node twins of scenarios (and for
// tests): the DownstreamOptions as flags, one line `listening PORT` on stdout once it accepts,
// then it serves until SIGTERM, SIGINT or EOF on stdin (so it never outlives the parent that
// holds its stdin pipe; on Linux it also asks for SIGTERM when its parent dies).

#include <sys/prctl.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>
#include <exception>
#include <string>
#include <thread>

#include "peers/downstream.hpp"

namespace {

sigset_t stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  return set;
}

}  // namespace

int main(int argc, char** argv) {
  using nodelab::peers::Latency;
  nodelab::peers::DownstreamOptions o;
  CLI::App app{
      "nodelab-downstream: an HTTP/1.1 service on 127.0.0.1 (ephemeral port) whose requests are "
      "worked for a time drawn from a latency distribution, under a capacity with a FIFO queue. "
      "Prints `listening PORT`, then serves until SIGTERM/SIGINT or EOF on stdin. GET /__stats: "
      "the counters (JSON); POST /__reset: zero them, restart the fail-for window. Per request: "
      "?ms=N (work time), ?status=CODE, ?id=TEXT."};
  std::string latency = o.latency.to_string();
  bool ignore_disconnect = false;
  app.add_option("--latency", latency,
                 "fixed:MS, uniform:LO:HI, exponential:MEAN or lognormal:MEDIAN:P99 (ms)")
      ->capture_default_str();
  app.add_option("--capacity", o.capacity, "requests worked at once (0: unlimited)")
      ->capture_default_str();
  app.add_option("--queue-limit", o.queue_limit,
                 "requests waiting for capacity (0: unlimited); beyond it, 503 at once")
      ->capture_default_str();
  app.add_option("--error-rate", o.error_rate, "fraction answered 500 after their work (0..1)")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  app.add_option("--fail-for-ms", o.fail_for_ms,
                 "requests arriving in the first N ms (after start or /__reset) get 503")
      ->capture_default_str();
  app.add_option("--slow-start-ms", o.slow_start_ms,
                 "capacity ramps from 1 to --capacity over the first N ms")
      ->capture_default_str();
  app.add_flag("--ignore-disconnect", ignore_disconnect,
               "do not watch the socket: work for a departed client runs on (counted wasted)");
  app.add_option("--seed", o.seed, "seed of the latency and error-rate draws")
      ->capture_default_str();
  app.add_option("--max-connections", o.max_connections,
                 "connections open at once; more are closed at once")
      ->check(CLI::Range(1U, 1U << 20))
      ->capture_default_str();
  app.add_option("--arrival-log", o.arrival_log, "arrival times kept (the first N requests)")
      ->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "nodelab-downstream: %s\n", e.what());
    return 2;
  }
  std::string error;
  const auto parsed = Latency::parse(latency, error);
  if (!parsed) {
    std::fprintf(stderr, "nodelab-downstream: --latency: %s\n", error.c_str());
    return 2;
  }
  o.latency = *parsed;
  o.notice_disconnect = !ignore_disconnect;

  // SIGTERM/SIGINT are taken by sigwait below, in this thread only: block them before any
  // thread starts (threads inherit the mask).
  const sigset_t signals = stop_signals();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  const pid_t parent = ::getppid();
  ::prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (::getppid() != parent) return 0;  // the parent died before prctl

  nodelab::peers::raise_fd_limit();  // one descriptor per open connection
  nodelab::peers::Downstream downstream(o);
  try {
    downstream.start();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "nodelab-downstream: cannot listen: %s\n", e.what());
    return 1;
  }
  std::printf("listening %u\n", static_cast<unsigned>(downstream.port()));
  std::fflush(stdout);

  // EOF on stdin (the parent closed its end, or exited) stops us like SIGTERM does.
  std::thread stdin_watch([] {
    char buf[256];
    while (true) {
      const ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
      if (n == 0 || (n < 0 && errno != EINTR)) break;
    }
    ::kill(::getpid(), SIGTERM);
  });
  stdin_watch.detach();

  int sig = 0;
  sigwait(&signals, &sig);
  downstream.stop();
  return 0;
}
