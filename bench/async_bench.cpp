// Benchmarks of the async lab's I/O (labs/async/calls.cpp on common/net, against
// common/peers' Downstream):
//   BM_Async_FanOut/limit:{1,16,unbounded}  256 calls to a service answering at once
//                                           (fixed:0, capacity 32), through p-limit(K) or not
//   BM_Async_KeepAlive/client:lab           500 sequential keep-alive GETs by the lab's client
//   BM_Async_KeepAlive/client:node          the same 500 by node's http client (a node process,
//                                           timed by itself), against the same Downstream
//   BM_Async_Combinator/C/inputs:N/S/impl:lab   Promise.C (all, allSettled, race, any) over N
//                                           inputs already fulfilled (S = resolved) or pending
//                                           then fulfilled (S = later), on the lab's
//                                           PromiseEngine, drained to completion; ns per input
//   BM_Async_Combinator/C/inputs:N/S/impl:node  the same shapes in one node process that times
//                                           itself (warm-up batches first)
//   BM_Async_LoadGen/target:node-http       the highest constant rate node's http server serves
//                                           under peers::LoadGen (a rate search)
//   BM_Async_LoadGen/target:downstream      the same search against the Asio Downstream at
//                                           fixed:0 (the nodelab-downstream process)
//
//   build/bin/bench-async --benchmark_repetitions=3 --benchmark_report_aggregates_only=true
//       --benchmark_filter='FanOut|KeepAlive|Combinator'   (one command line)
//   build/bin/bench-async --benchmark_filter=LoadGen     (one search per target; steps on stderr)

#include <benchmark/benchmark.h>
#include <uv.h>

#include <boost/asio.hpp>

#include <sched.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcntl.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <functional>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "async/io_world.hpp"
#include "async/ops.hpp"
#include "metrics/metric_set.hpp"
#include "peers/downstream.hpp"
#include "peers/loadgen.hpp"
#include "runtime/promise.hpp"
#include "runtime/runtime.hpp"
#include "script/interpreter.hpp"
#include "script/scenario.hpp"

namespace {

using namespace nodelab;

std::string fan_out_yaml(std::int64_t limit) {
  return "lab: async\n"
         "downstream:\n  api: { latency: \"fixed:0\", capacity: 32 }\n"
         "main:\n  - calls: { service: api, count: 256, form: all, limit: " +
         std::to_string(limit) + " }\n";
}

// One run of a scenario text; its io metrics.
metrics::MetricSet run_text(const std::string& yaml, const script::OpRegistry& registry) {
  const script::Scenario s = script::parse_scenario(yaml, "bench.yaml", registry);
  runtime::RuntimeOptions options;
  options.record_callbacks = false;
  runtime::Runtime rt(options);
  metrics::MetricSet m;
  {
    script::Interpreter interp(s, rt);
    interp.run();
    interp.extension<async::IoWorld>().collect(m);
  }
  rt.shutdown();
  return m;
}

void BM_Async_FanOut(benchmark::State& state) {
  const auto registry = async::registry();
  const std::string yaml = fan_out_yaml(state.range(0));
  double ds_in_flight = 0, client_in_flight = 0, p99 = 0;
  for (auto _ : state) {
    const auto m = run_text(yaml, registry);
    ds_in_flight = m.get("downstream.inFlightPeak").value_or(0);
    client_in_flight = m.get("requests.inFlightPeak").value_or(0);
    p99 = m.get("latency.p99_ms").value_or(0);
  }
  state.SetItemsProcessed(state.iterations() * 256);
  state.counters["downstream_in_flight_peak"] = ds_in_flight;
  state.counters["client_in_flight_peak"] = client_in_flight;
  state.counters["p99_ms"] = p99;
}

constexpr int kKeepAliveCalls = 500;

void BM_Async_KeepAlive_Lab(benchmark::State& state) {
  const auto registry = async::registry();
  const std::string yaml =
      "lab: async\ndownstream:\n  api: { latency: \"fixed:0\" }\n"
      "main:\n  - calls: { service: api, count: " +
      std::to_string(kKeepAliveCalls) + ", form: sequential }\n";
  double sockets = 0;
  for (auto _ : state) {
    const auto m = run_text(yaml, registry);
    sockets = m.get("agent.socketsCreated").value_or(0);
  }
  state.SetItemsProcessed(state.iterations() * kKeepAliveCalls);
  state.counters["sockets"] = sockets;
}

// node's http.globalAgent (keepAlive) doing the same sequential GETs against a Downstream in
// this process; node times itself (process start excluded) and prints the milliseconds.
void BM_Async_KeepAlive_Node(benchmark::State& state) {
  peers::DownstreamOptions o;
  o.latency = peers::Latency::fixed(0);
  peers::Downstream ds(o);
  ds.start();
  const std::string script =
      "const http=require('http');const port=+process.argv[1],n=+process.argv[2];"
      "const get=()=>new Promise((ok,ko)=>http.get({host:'127.0.0.1',port,path:'/'},r=>{"
      "r.resume();r.on('end',ok)}).on('error',ko));"
      "(async()=>{const t=process.hrtime.bigint();for(let i=0;i<n;i++)await get();"
      "console.log(Number(process.hrtime.bigint()-t)/1e6)})()";
  const std::string cmd = "node -e \"" + script + "\" " + std::to_string(ds.port()) + " " +
                          std::to_string(kKeepAliveCalls) + " 2>/dev/null";
  for (auto _ : state) {
    FILE* p = ::popen(cmd.c_str(), "r");
    double ms = -1;
    if (p == nullptr || std::fscanf(p, "%lf", &ms) != 1) ms = -1;
    if (p != nullptr) ::pclose(p);
    if (ms < 0) {
      state.SkipWithError("node did not run");
      break;
    }
    state.SetIterationTime(ms / 1000.0);
  }
  state.SetItemsProcessed(state.iterations() * kKeepAliveCalls);
  ds.stop();
}

// ---- a child process (node, nodelab-downstream), spawned without a shell; its stdout read ----

extern "C" char** environ;

class Child {
 public:
  // PROGRAM ARGS... ($PATH searched); stdout piped to us, stderr inherited; stdin from
  // /dev/null, or a pipe held open until the destructor (nodelab-downstream stops at its EOF).
  Child(const std::string& program, std::vector<std::string> args, bool stdin_pipe = false) {
    // O_CLOEXEC: no later child inherits these ends (dup2 onto 0 and 1 clears the flag there).
    int out[2], in[2] = {-1, -1};
    if (::pipe2(out, O_CLOEXEC) != 0) return;
    if (stdin_pipe && ::pipe2(in, O_CLOEXEC) != 0) {
      ::close(out[0]);
      ::close(out[1]);
      return;
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    if (stdin_pipe) {
      posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    } else {
      posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    }
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    args.insert(args.begin(), program);
    std::vector<char*> argv;
    for (auto& a : args)
      argv.push_back(a.data());
    argv.push_back(nullptr);
    if (posix_spawnp(&pid_, program.c_str(), &fa, nullptr, argv.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&fa);
    ::close(out[1]);
    out_ = ::fdopen(out[0], "r");
    if (stdin_pipe) {
      ::close(in[0]);
      stdin_ = in[1];
    }
  }
  ~Child() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
    if (out_ != nullptr) ::fclose(out_);
    if (stdin_ >= 0) ::close(stdin_);
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  pid_t pid() const { return pid_; }
  void signal(int sig) const {
    if (pid_ > 0) ::kill(pid_, sig);
  }

  // The next number the child printed, after `prefix` (whitespace-separated); nullopt at EOF
  // or on anything else.
  std::optional<double> next_number(const std::string& prefix = {}) {
    double v = 0;
    const std::string format = prefix.empty() ? " %lf" : " " + prefix + " %lf";
    if (pid_ <= 0 || out_ == nullptr || std::fscanf(out_, format.c_str(), &v) != 1) {
      return std::nullopt;
    }
    return v;
  }

 private:
  pid_t pid_ = -1;
  FILE* out_ = nullptr;
  int stdin_ = -1;
};

// node -e SCRIPT ARGS...
std::unique_ptr<Child> node_child(const std::string& script, std::vector<std::string> args) {
  args.insert(args.begin(), {"-e", script});
  return std::make_unique<Child>("node", std::move(args));
}

// ---- combinators: the lab's PromiseEngine against V8's, per input ----

using Combinator = runtime::PromiseEngine::Combinator;
constexpr int kCombinatorInputsPerBatch = 10'000;  // rounds x inputs, timed as one
constexpr int kNodeWarmupBatches = 30;
constexpr int kNodeBatches = 50;

// One batch: `rounds` calls of Promise.C over `n` inputs each, then the queue drained (node:
// until a setImmediate after them runs). resolved: the same n fulfilled promises every round
// (made before the clock starts); later: rounds x n pending promises made before the clock
// starts, fulfilled one by one after every call was made. Prints each batch's nanoseconds.
constexpr const char* kNodeCombinatorScript = R"JS(
const [kind, shape] = [process.argv[1], process.argv[2]];
const [n, rounds, warm, batches] = process.argv.slice(3).map(Number);
const C = Promise[kind];
const resolved = Array.from({length: n}, (_, i) => Promise.resolve(i));
const tick = () => new Promise((r) => setImmediate(r));
async function batch() {
  const inputs = [], resolvers = [];
  if (shape === 'later') {
    for (let r = 0; r < rounds; r++) {
      const a = [];
      for (let i = 0; i < n; i++) a.push(new Promise((res) => resolvers.push(res)));
      inputs.push(a);
    }
  }
  const t = process.hrtime.bigint();
  if (shape === 'resolved') {
    for (let r = 0; r < rounds; r++) C.call(Promise, resolved);
  } else {
    for (let r = 0; r < rounds; r++) C.call(Promise, inputs[r]);
    for (let i = 0; i < resolvers.length; i++) resolvers[i](i);
  }
  await tick();
  return Number(process.hrtime.bigint() - t);
}
(async () => {
  for (let i = 0; i < warm; i++) await batch();
  for (let i = 0; i < batches; i++) console.log(await batch());
})();
)JS";

struct CombinatorShape {
  Combinator c;
  int inputs;
  bool later;
};

void set_per_input(benchmark::State& state, double total_ns, const CombinatorShape& shape) {
  const double inputs = static_cast<double>(state.iterations()) * kCombinatorInputsPerBatch;
  state.SetItemsProcessed(static_cast<std::int64_t>(inputs));
  state.counters["ns_per_input"] = inputs > 0 ? total_ns / inputs : 0;
  state.counters["rounds"] = kCombinatorInputsPerBatch / shape.inputs;
}

void BM_Async_Combinator_Lab(benchmark::State& state, CombinatorShape shape) {
  const int rounds = kCombinatorInputsPerBatch / shape.inputs;
  double total_ns = 0;
  std::uint64_t reactions = 0;
  for (auto _ : state) {
    runtime::RuntimeOptions options;
    options.record_callbacks = false;
    runtime::Runtime rt(options);
    {
      runtime::PromiseEngine e(rt);
      std::vector<std::vector<runtime::JsValue>> inputs;
      std::vector<runtime::ResolvingFunctions> resolvers;
      if (shape.later) {
        for (int r = 0; r < rounds; ++r) {
          auto& a = inputs.emplace_back();
          for (int i = 0; i < shape.inputs; ++i) {
            runtime::PromiseRef p = e.create();
            resolvers.push_back(e.resolving_functions(p, 0));
            a.push_back(runtime::JsValue::of(p));
          }
        }
      } else {
        auto& a = inputs.emplace_back();
        for (int i = 0; i < shape.inputs; ++i) {
          a.push_back(runtime::JsValue::of(e.promise_resolve(runtime::JsValue::of_number(i), 0)));
        }
      }
      const auto t0 = std::chrono::steady_clock::now();
      rt.run([&] {
        for (int r = 0; r < rounds; ++r)
          e.combine(shape.c, inputs[shape.later ? r : 0], 0);
        for (std::size_t i = 0; i < resolvers.size(); ++i) {
          resolvers[i].resolve(runtime::JsValue::of_number(static_cast<double>(i)));
        }
      });
      const double ns =
          std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count();
      state.SetIterationTime(ns / 1e9);
      total_ns += ns;
      reactions = e.stats().reactions;
    }
    rt.shutdown();
  }
  set_per_input(state, total_ns, shape);
  state.counters["reactions"] = static_cast<double>(reactions);
}

void BM_Async_Combinator_Node(benchmark::State& state, CombinatorShape shape) {
  const int rounds = kCombinatorInputsPerBatch / shape.inputs;
  const auto node = node_child(
      kNodeCombinatorScript,
      {std::string(runtime::combinator_name(shape.c)), shape.later ? "later" : "resolved",
       std::to_string(shape.inputs), std::to_string(rounds), std::to_string(kNodeWarmupBatches),
       std::to_string(state.max_iterations)});
  double total_ns = 0;
  for (auto _ : state) {
    const auto ns = node->next_number();
    if (!ns) {
      state.SkipWithError("node did not run");
      break;
    }
    state.SetIterationTime(*ns / 1e9);
    total_ns += *ns;
  }
  set_per_input(state, total_ns, shape);
}

// ---- the load generator against node's http server and against a trivially fast target ----

constexpr std::chrono::milliseconds kLoadStep{2000};  // each rate runs this long
constexpr std::uint32_t kLoadConnections = 16;        // LoadGen's default
constexpr double kLoadP99BoundMs = 100;               // 5% of a step: a backlog shows above it
constexpr double kLoadFirstRate = 1000, kLoadMaxRate = 256'000;
constexpr int kLoadBisections = 3;

struct LoadStep {
  double rate = 0;
  peers::LoadGenResult r;
  double send_lag_max_ms = 0;  // the most the sender ran behind the schedule (1 ms polls)
  std::uint64_t served = 0;    // requests the server counted during the step
  double cpu_self = 0;         // this process's CPU time (the load generator's) over the wall time
  double cpu_server = -1;      // the server process's, likewise
  double wall_s = 0;           // the step, from LoadGen's start to its last answer
  bool pass = false;
};

// The server under load: where it listens, its own request count, its process (if another).
struct LoadTarget {
  std::uint16_t port = 0;
  std::function<std::uint64_t()> served;
  pid_t pid = -1;
  const char* name = "";
};

double cpu_seconds_self() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// utime + stime of another process (/proc/PID/stat fields 14 and 15, in clock ticks).
double cpu_seconds_of(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto paren = text.rfind(')');
  if (paren == std::string::npos) return 0;
  std::istringstream fields(text.substr(paren + 2));  // from field 3 (state) on
  std::string f;
  double utime = 0, stime = 0;
  for (int i = 3; i <= 15 && fields >> f; ++i) {
    if (i == 14) utime = std::stod(f);
    if (i == 15) stime = std::stod(f);
  }
  return (utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

LoadStep load_step(const LoadTarget& target, double rate) {
  peers::LoadGenOptions o;
  o.port = target.port;
  o.rate = rate;
  o.duration = kLoadStep;
  o.connections = kLoadConnections;
  peers::LoadGen g(o);
  LoadStep s;
  s.rate = rate;
  const std::uint64_t served0 = target.served();
  const double self0 = cpu_seconds_self();
  const double server0 = target.pid > 0 ? cpu_seconds_of(target.pid) : 0;
  const auto start = std::chrono::steady_clock::now();  // a little before LoadGen's own start
  g.start();
  while (!g.done()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    // The next request to send was due at sent / rate: how late is it now?
    const double elapsed_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    const auto sent = static_cast<double>(g.progress().sent);
    const double total = rate * static_cast<double>(kLoadStep.count()) / 1000.0;
    if (sent >= total) break;
    s.send_lag_max_ms = std::max(s.send_lag_max_ms, elapsed_ms - sent * 1000.0 / rate);
  }
  s.r = g.wait();
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  s.wall_s = wall;
  s.cpu_self = (cpu_seconds_self() - self0) / wall;
  if (target.pid > 0) s.cpu_server = (cpu_seconds_of(target.pid) - server0) / wall;
  s.served = target.served() - served0;
  const double p99_ms = static_cast<double>(s.r.latency_us.percentile(99)) / 1000.0;
  s.pass = s.r.errors() == 0 && s.r.completed == s.r.scheduled && s.r.completed > 0 &&
           s.served == s.r.completed && s.r.status_2xx == s.r.completed &&
           s.r.achieved_rate >= 0.95 * rate && p99_ms <= kLoadP99BoundMs;
  std::fprintf(stderr,
               "  %6.0f/s: %llu/%llu answered (%llu 2xx, the server counted %llu), %llu errors, "
               "%.0f/s achieved: %s\n",
               rate, static_cast<unsigned long long>(s.r.completed),
               static_cast<unsigned long long>(s.r.scheduled),
               static_cast<unsigned long long>(s.r.status_2xx),
               static_cast<unsigned long long>(s.served),
               static_cast<unsigned long long>(s.r.errors()), s.r.achieved_rate,
               s.pass ? "kept up" : "did not");
  std::fprintf(stderr,
               "           latency p50 %.2f p99 %.2f ms, service p99 %.2f ms, send lag max %.1f ms,"
               " cpu: bench %.0f%%",
               static_cast<double>(s.r.latency_us.percentile(50)) / 1000.0, p99_ms,
               static_cast<double>(s.r.service_us.percentile(99)) / 1000.0, s.send_lag_max_ms,
               s.cpu_self * 100);
  if (s.cpu_server >= 0) std::fprintf(stderr, ", server %.0f%%", s.cpu_server * 100);
  std::fprintf(stderr, "\n");
  return s;
}

// One core each: this process (the generator's thread is created by it and inherits the mask)
// on CPU 0, the server on CPU 1, so that whichever reaches 100 % of its core first is the
// bottleneck. On a machine with fewer than two CPUs nothing is pinned. Restores this thread's
// mask when it goes out of scope.
class Pinned {
 public:
  explicit Pinned(pid_t server) {
    if (::sysconf(_SC_NPROCESSORS_ONLN) < 2 || server <= 0) return;
    ::sched_getaffinity(0, sizeof saved_, &saved_);
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(1, &one);
    if (::sched_setaffinity(server, sizeof one, &one) != 0) return;
    CPU_ZERO(&one);
    CPU_SET(0, &one);
    active_ = ::sched_setaffinity(0, sizeof one, &one) == 0;
  }
  ~Pinned() {
    if (active_) ::sched_setaffinity(0, sizeof saved_, &saved_);
  }
  Pinned(const Pinned&) = delete;
  Pinned& operator=(const Pinned&) = delete;
  bool active() const { return active_; }

 private:
  cpu_set_t saved_{};
  bool active_ = false;
};

// Doubles the rate from kLoadFirstRate until a step fails, then bisects between the last pass
// and the first failure. Reports the highest passing step.
void load_search(benchmark::State& state, const LoadTarget& target) {
  const Pinned pinned(target.pid);
  std::fprintf(stderr, "%s\n",
               pinned.active() ? "pinned: the generator on CPU 0, the server on CPU 1"
                               : "not pinned (fewer than 2 CPUs, or no server process)");
  std::optional<LoadStep> best;
  double fail_rate = 0;
  double seconds = 0;
  for (auto _ : state) {
    std::fprintf(stderr, "LoadGen against %s (port %u), %u connections, %lld ms a step:\n",
                 target.name, target.port, kLoadConnections,
                 static_cast<long long>(kLoadStep.count()));
    best.reset();
    fail_rate = 0;
    double rate = kLoadFirstRate;
    for (; rate <= kLoadMaxRate; rate *= 2) {
      LoadStep s = load_step(target, rate);
      seconds += s.r.elapsed_ms / 1000.0;
      if (!s.pass) {
        fail_rate = rate;
        break;
      }
      best = s;
    }
    double lo = best ? best->rate : 0, hi = fail_rate;
    for (int i = 0; i < kLoadBisections && hi > 0 && lo > 0; ++i) {
      const double mid = std::round((lo + hi) / 2);
      LoadStep s = load_step(target, mid);
      seconds += s.r.elapsed_ms / 1000.0;
      if (s.pass) {
        best = s;
        lo = mid;
      } else {
        hi = mid;
      }
    }
    fail_rate = hi;
    state.SetIterationTime(seconds);
  }
  if (!best) {
    state.SkipWithError("no rate kept up");
    return;
  }
  state.counters["max_rate"] = best->rate;
  state.counters["first_failed_rate"] = fail_rate;  // 0: none failed up to kLoadMaxRate
  state.counters["achieved_rate"] = best->r.achieved_rate;
  state.counters["p99_ms"] = static_cast<double>(best->r.latency_us.percentile(99)) / 1000.0;
  state.counters["service_p99_ms"] =
      static_cast<double>(best->r.service_us.percentile(99)) / 1000.0;
  state.counters["send_lag_max_ms"] = best->send_lag_max_ms;
  // CPU time per answered request at that rate: the load generator's (this process) and the
  // server's, in microseconds.
  const double per_request_us = best->wall_s * 1e6 / static_cast<double>(best->r.completed);
  state.counters["loadgen_cpu_us_per_req"] = best->cpu_self * per_request_us;
  state.counters["server_cpu_us_per_req"] = best->cpu_server * per_request_us;
}

// Prints its port, then its request count at each SIGUSR2.
constexpr const char* kNodeServerScript =
    "let n=0;const s=require('http').createServer((q,r)=>{n++;r.end('ok')});"
    "process.on('SIGUSR2',()=>console.log(n));"
    "s.listen(0,'127.0.0.1',()=>console.log(s.address().port))";

void BM_Async_LoadGen_NodeHttp(benchmark::State& state) {
  const auto node = node_child(kNodeServerScript, {});
  const auto port = node->next_number();
  if (!port) {
    state.SkipWithError("node did not start");
    return;
  }
  LoadTarget target;
  target.port = static_cast<std::uint16_t>(*port);
  target.pid = node->pid();
  target.name = "node's http server";
  target.served = [&node] {
    node->signal(SIGUSR2);
    return static_cast<std::uint64_t>(node->next_number().value_or(-1));
  };
  load_search(state, target);
}

// The Downstream as a process of its own (nodelab-downstream, next to this executable), so
// that this process's CPU time is the load generator's alone.
void BM_Async_LoadGen_Downstream(benchmark::State& state) {
  Child ds(peers::downstream_executable(), {"--latency", "fixed:0"}, true);
  const auto port = ds.next_number("listening");
  if (!port) {
    state.SkipWithError(
        "nodelab-downstream did not start (cmake --build build --target "
        "nodelab-downstream)");
    return;
  }
  LoadTarget target;
  target.port = static_cast<std::uint16_t>(*port);
  target.pid = ds.pid();
  target.name = "nodelab-downstream --latency fixed:0";
  target.served = [p = target.port]() -> std::uint64_t {
    try {
      return peers::fetch_stats(p).requests;
    } catch (const std::exception&) {
      return 0;  // unreadable: the step fails its count check
    }
  };
  load_search(state, target);
}

void register_all() {
  benchmark::AddCustomContext("libuv", uv_version_string());
  const std::pair<const char*, std::int64_t> limits[] = {{"1", 1}, {"16", 16}, {"unbounded", 0}};
  for (const auto& [name, limit] : limits) {
    benchmark::RegisterBenchmark((std::string("BM_Async_FanOut/limit:") + name).c_str(),
                                 BM_Async_FanOut)
        ->Arg(limit)
        ->UseRealTime()
        ->Unit(benchmark::kMillisecond);
  }
  benchmark::RegisterBenchmark("BM_Async_KeepAlive/client:lab", BM_Async_KeepAlive_Lab)
      ->UseRealTime()
      ->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("BM_Async_KeepAlive/client:node", BM_Async_KeepAlive_Node)
      ->UseManualTime()
      ->Unit(benchmark::kMillisecond);
  const Combinator combinators[] = {Combinator::all, Combinator::all_settled, Combinator::race,
                                    Combinator::any};
  for (const Combinator c : combinators) {
    for (const int n : {10, 1000}) {
      for (const bool later : {false, true}) {
        const CombinatorShape shape{c, n, later};
        const std::string name = "BM_Async_Combinator/" + std::string(runtime::combinator_name(c)) +
                                 "/inputs:" + std::to_string(n) + (later ? "/later" : "/resolved") +
                                 "/impl:";
        benchmark::RegisterBenchmark((name + "lab").c_str(), BM_Async_Combinator_Lab, shape)
            ->UseManualTime()
            ->Unit(benchmark::kMicrosecond);
        benchmark::RegisterBenchmark((name + "node").c_str(), BM_Async_Combinator_Node, shape)
            ->Iterations(kNodeBatches)
            ->UseManualTime()
            ->Unit(benchmark::kMicrosecond);
      }
    }
  }
  benchmark::RegisterBenchmark("BM_Async_LoadGen/target:node-http", BM_Async_LoadGen_NodeHttp)
      ->Iterations(1)
      ->UseManualTime()
      ->Unit(benchmark::kSecond);
  benchmark::RegisterBenchmark("BM_Async_LoadGen/target:downstream", BM_Async_LoadGen_Downstream)
      ->Iterations(1)
      ->UseManualTime()
      ->Unit(benchmark::kSecond);
}

}  // namespace

int main(int argc, char** argv) {
  register_all();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
