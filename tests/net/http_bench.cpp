// nodelab-net-bench: requests per second of common/net's HTTP client (a keep-alive Agent)
// against a trivial server, to set beside Node's own client (tests/net/http_bench_node.js)
// against the same server. Not a test: it prints figures, the machine decides them.
//
//   nodelab-net-bench serve                 an HttpServer answering "ok"; prints its port
//   nodelab-net-bench client PORT N C [rec] N GETs, at most C sockets (maxSockets), all
//                                           issued at once; `rec` records every callback as a
//                                           lab run does (default: counts only)
// The client prints: requests, wall ms, req/s, CPU ms (user+sys of this process), req per
// CPU second, sockets created.

#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "net/http_client.hpp"
#include "net/http_server.hpp"
#include "runtime/runtime.hpp"

namespace {

using namespace nodelab;

double cpu_ms() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto ms = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) * 1e3 + static_cast<double>(t.tv_usec) / 1e3;
  };
  return ms(ru.ru_utime) + ms(ru.ru_stime);
}

int serve() {
  runtime::RuntimeOptions ro;
  ro.record_callbacks = false;
  runtime::Runtime rt(ro);
  net::ServerOptions so;
  so.max_connections = 4096;
  net::HttpServer server(
      rt, [](const auto&, const std::shared_ptr<net::ServerResponse>& res) { res->end("ok"); }, so);
  if (const int rc = server.listen(); rc != 0) {
    std::fprintf(stderr, "listen: %s\n", uv_strerror(rc));
    return 1;
  }
  std::printf("%u\n", server.port());
  std::fflush(stdout);
  rt.run([] {});
  return 0;
}

int client(std::uint16_t port, int n, std::size_t c, bool record) {
  runtime::RuntimeOptions ro;
  ro.record_callbacks = record;
  runtime::Runtime rt(ro);
  net::AgentOptions ao;
  ao.keep_alive = true;
  ao.max_sockets = c;
  net::Agent agent(rt, ao);
  int done = 0;
  int ok = 0;
  const double cpu0 = cpu_ms();
  const auto t0 = std::chrono::steady_clock::now();
  rt.run([&] {
    for (int i = 0; i < n; ++i) {
      net::RequestOptions o;
      o.port = port;
      o.agent = &agent;
      net::RequestHandlers h;
      h.data = [](std::string_view) {};
      h.end = [&] { ++ok; };
      h.error = [](const net::NetError& e) { std::fprintf(stderr, "%s\n", e.message.c_str()); };
      h.close = [&] {
        if (++done == n) agent.destroy();
      };
      net::request(rt, o, h);
    }
  });
  const double wall =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  const double cpu = cpu_ms() - cpu0;
  std::printf(
      "requests %d ok %d wall_ms %.1f req_per_s %.0f cpu_ms %.1f req_per_cpu_s %.0f "
      "sockets %llu\n",
      done, ok, wall, done / wall * 1e3, cpu, done / cpu * 1e3,
      static_cast<unsigned long long>(agent.stats().sockets_created));
  return ok == n ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "serve") return serve();
  if (mode == "client" && argc >= 5) {
    return client(static_cast<std::uint16_t>(std::atoi(argv[2])), std::atoi(argv[3]),
                  static_cast<std::size_t>(std::atoi(argv[4])),
                  argc > 5 && std::string(argv[5]) == "rec");
  }
  std::fprintf(stderr, "usage: nodelab-net-bench serve | client PORT N C [rec]\n");
  return 2;
}
