// peers::Downstream: the capacity and its FIFO queue, the queue limit, error_rate, the fail_for
// window, slow start, noticing (or not) a client that disconnects, the query overrides,
// /__stats and /__reset, keep-alive, the connection bound, and nodelab-downstream as a process.
// Every outcome asserted is a count or an ordering the mechanism guarantees: requests that must
// overlap are held open (?ms=600000) until the test has seen them, never timed.

#include "peers/downstream.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "peers/http_client.hpp"
#include "runtime/process.hpp"

using nodelab::peers::Downstream;
using nodelab::peers::DownstreamOptions;
using nodelab::peers::DownstreamStats;
using nodelab::peers::Latency;
using nodelab::peers::test::Client;
using nodelab::peers::test::eventually;

extern char** environ;

namespace {

constexpr const char* kHold = "/?ms=600000";  // work that lasts until the client leaves

DownstreamOptions opts() {
  DownstreamOptions o;
  o.latency = Latency::fixed(0);
  return o;
}

}  // namespace

TEST_CASE("peers.downstream.latency_parse") {
  std::string error;
  CHECK(Latency::parse("fixed:12.5", error)->a == 12.5);
  const auto u = Latency::parse("uniform:5:20", error);
  REQUIRE(u);
  CHECK(u->kind == Latency::Kind::uniform);
  CHECK(u->to_string() == "uniform:5:20");
  CHECK(Latency::parse("exp:3", error)->kind == Latency::Kind::exponential);
  CHECK(Latency::parse("lognormal:10:100", error)->b == 100);
  for (const char* bad : {"fixed", "fixed:x", "fixed:-1", "uniform:9:1", "lognormal:10:5",
                          "lognormal:0:5", "gamma:1", "fixed:1:2", ""}) {
    CAPTURE(bad);
    error.clear();
    CHECK_FALSE(Latency::parse(bad, error));
    CHECK_FALSE(error.empty());
  }
}

TEST_CASE("peers.downstream.latency_sampler") {
  using nodelab::peers::LatencySampler;
  // The quantiles of 100 000 seeded draws (the same every run: the seed is fixed).
  const auto quantiles = [](Latency l) {
    LatencySampler s(l, 7);
    std::vector<double> v(100'000);
    for (double& x : v)
      x = s.next();
    std::sort(v.begin(), v.end());
    return std::array<double, 4>{v.front(), v[v.size() / 2], v[v.size() * 99 / 100], v.back()};
  };
  const auto fixed = quantiles(Latency::fixed(7));
  CHECK(fixed[0] == 7);
  CHECK(fixed[3] == 7);
  const auto uni = quantiles(Latency::uniform(5, 15));
  CHECK(uni[0] >= 5);
  CHECK(uni[3] <= 15);
  CHECK(uni[1] == doctest::Approx(10).epsilon(0.02));
  const auto ex = quantiles(Latency::exponential(10));
  CHECK(ex[1] == doctest::Approx(10 * std::log(2.0)).epsilon(0.03));  // median = mean ln 2
  const auto logn = quantiles(Latency::lognormal(10, 100));
  CHECK(logn[1] == doctest::Approx(10).epsilon(0.03));
  CHECK(logn[2] == doctest::Approx(100).epsilon(0.05));
  // The same seed, the same sequence.
  LatencySampler a(Latency::exponential(3), 11), b(Latency::exponential(3), 11);
  for (int i = 0; i < 100; ++i)
    CHECK(a.next() == b.next());
}

TEST_CASE("peers.downstream.capacity_queues_in_fifo_order") {
  DownstreamOptions o = opts();
  o.capacity = 2;
  Downstream ds(o);
  ds.start();
  // Two requests hold both slots until their clients leave.
  Client h1(ds.port()), h2(ds.port());
  h1.send(kHold);
  h2.send(kHold);
  REQUIRE(eventually([&] { return ds.stats(false).in_flight == 2; }));
  // Four more must wait: capacity is full and stays full while h1 and h2 are connected.
  std::vector<std::unique_ptr<Client>> waiting;
  for (int i = 0; i < 4; ++i) {
    waiting.push_back(std::make_unique<Client>(ds.port()));
    waiting.back()->send("/?ms=20&id=w" + std::to_string(i));
    // One at a time, so their queue order is known.
    REQUIRE(
        eventually([&] { return ds.stats(false).queued == static_cast<std::uint64_t>(i + 1); }));
  }
  h1.close();
  h2.close();
  for (auto& c : waiting)
    CHECK(c->receive().result_int() == 200);
  REQUIRE(eventually([&] { return ds.stats(false).completed == 4; }));
  const DownstreamStats s = ds.stats();
  CHECK(s.in_flight_peak == 2);
  CHECK(s.queued_peak == 4);
  CHECK(s.cancelled == 2);
  CHECK(s.wasted == 0);
  CHECK(s.requests == 6);
  CHECK(s.requests == s.completed + s.cancelled + s.wasted + s.rejected + s.invalid);
  REQUIRE(s.arrivals_ms.size() == 6);
  for (std::size_t i = 1; i < s.arrivals_ms.size(); ++i)
    CHECK(s.arrivals_ms[i] >= s.arrivals_ms[i - 1]);
}

TEST_CASE("peers.downstream.queue_limit_rejects_with_503") {
  DownstreamOptions o = opts();
  o.capacity = 1;
  o.queue_limit = 1;
  Downstream ds(o);
  ds.start();
  Client hold(ds.port()), queued(ds.port()), extra(ds.port());
  hold.send(kHold);
  REQUIRE(eventually([&] { return ds.stats(false).in_flight == 1; }));
  queued.send("/?ms=0&id=q");
  REQUIRE(eventually([&] { return ds.stats(false).queued == 1; }));
  const auto r = extra.get("/?ms=0&id=x");
  CHECK(r.result_int() == 503);
  CHECK(r["x-request-id"] == "x");
  CHECK(ds.stats(false).rejected == 1);
  hold.close();
  const auto q = queued.receive();
  CHECK(q.result_int() == 200);
  CHECK(q["x-request-id"] == "q");
  const DownstreamStats s = ds.stats(false);
  CHECK(s.rejected == 1);
  CHECK(s.queued_peak == 1);
  CHECK(s.in_flight_peak == 1);
}

TEST_CASE("peers.downstream.error_rate") {
  SUBCASE("1.0 answers every request 500 after its work") {
    DownstreamOptions o = opts();
    o.error_rate = 1.0;
    Downstream ds(o);
    ds.start();
    Client c(ds.port());
    for (int i = 0; i < 5; ++i)
      CHECK(c.get("/?ms=1").result_int() == 500);
    const DownstreamStats s = ds.stats(false);
    CHECK(s.status_5xx == 5);
    CHECK(s.completed == 5);
  }
  SUBCASE("the same seed gives the same answers in the same order") {
    std::vector<unsigned> seen[2];
    for (auto& answers : seen) {
      DownstreamOptions o = opts();
      o.error_rate = 0.5;
      o.seed = 42;
      Downstream ds(o);
      ds.start();
      Client c(ds.port());
      for (int i = 0; i < 40; ++i)
        answers.push_back(c.get("/").result_int());
    }
    CHECK(seen[0] == seen[1]);
    const auto fives = std::count(seen[0].begin(), seen[0].end(), 500u);
    CHECK(fives > 0);  // 40 draws at 0.5: all 200 has probability 2^-40 (and the seed is fixed)
    CHECK(fives < 40);
  }
}

TEST_CASE("peers.downstream.fail_for_window") {
  SUBCASE("inside the window: 503 after the work") {
    DownstreamOptions o = opts();
    o.fail_for_ms = 600'000;
    Downstream ds(o);
    ds.start();
    Client c(ds.port());
    CHECK(c.get("/?ms=1").result_int() == 503);
    CHECK(c.get("/?ms=1&status=200").result_int() == 200);  // a scripted status wins
    CHECK(ds.stats(false).status_5xx == 1);
  }
  SUBCASE("after the window: 200; /__reset restarts it") {
    DownstreamOptions o = opts();
    o.fail_for_ms = 50;
    Downstream ds(o);
    ds.start();
    REQUIRE(eventually([&] { return ds.stats(false).uptime_ms >= 50; }));
    Client c(ds.port());
    CHECK(c.get("/").result_int() == 200);
    c.send("/__reset", boost::beast::http::verb::post);
    CHECK(c.receive().result_int() == 200);
    const unsigned status = c.get("/").result_int();
    const DownstreamStats s = ds.stats();
    REQUIRE(s.arrivals_ms.size() == 1);  // the reset cleared the first arrival
    CHECK(status == (s.arrivals_ms[0] < 50 ? 503u : 200u));
    CHECK(s.requests == 1);
  }
}

TEST_CASE("peers.downstream.slow_start") {
  SUBCASE("capacity is 1 at the start of the ramp") {
    DownstreamOptions o = opts();
    o.capacity = 4;
    o.slow_start_ms = 600'000;  // capacity 2 only after 200 s
    Downstream ds(o);
    ds.start();
    Client hold(ds.port()), second(ds.port());
    hold.send(kHold);
    REQUIRE(eventually([&] { return ds.stats(false).in_flight == 1; }));
    second.send("/?ms=0");
    REQUIRE(eventually([&] { return ds.stats(false).queued == 1; }));
    hold.close();
    CHECK(second.receive().result_int() == 200);
    CHECK(ds.stats(false).in_flight_peak == 1);
  }
  SUBCASE("full capacity once the ramp is over") {
    DownstreamOptions o = opts();
    o.capacity = 3;
    o.slow_start_ms = 30;
    Downstream ds(o);
    ds.start();
    REQUIRE(eventually([&] { return ds.stats(false).uptime_ms >= 30; }));
    Client a(ds.port()), b(ds.port()), c(ds.port());
    for (Client* x : {&a, &b, &c})
      x->send(kHold);
    REQUIRE(eventually([&] { return ds.stats(false).in_flight == 3; }));
    CHECK(ds.stats(false).queued_peak == 0);
  }
}

TEST_CASE("peers.downstream.notice_disconnect") {
  SUBCASE("true: the work of a client that left is cancelled") {
    Downstream ds(opts());
    ds.start();
    Client c(ds.port());
    c.send(kHold);
    REQUIRE(eventually([&] { return ds.stats(false).in_flight == 1; }));
    c.close();
    REQUIRE(eventually([&] { return ds.stats(false).cancelled == 1; }));
    const DownstreamStats s = ds.stats(false);
    CHECK(s.wasted == 0);
    CHECK(s.completed == 0);
    CHECK(s.in_flight == 0);
  }
  SUBCASE("true: a client that leaves while queued leaves the queue") {
    DownstreamOptions o = opts();
    o.capacity = 1;
    Downstream ds(o);
    ds.start();
    Client hold(ds.port()), q(ds.port());
    hold.send(kHold);
    REQUIRE(eventually([&] { return ds.stats(false).in_flight == 1; }));
    q.send("/?ms=0");
    REQUIRE(eventually([&] { return ds.stats(false).queued == 1; }));
    q.close();
    REQUIRE(eventually([&] { return ds.stats(false).queued == 0; }));
    CHECK(ds.stats(false).cancelled == 1);
    CHECK(ds.stats(false).in_flight == 1);  // the holder still works
  }
  SUBCASE("false: the work runs to its end and is wasted") {
    DownstreamOptions o = opts();
    o.notice_disconnect = false;
    Downstream ds(o);
    ds.start();
    Client c(ds.port());
    c.send("/?ms=1500");
    REQUIRE(eventually([&] { return ds.stats(false).in_flight == 1; }));
    c.close();
    REQUIRE(eventually([&] { return ds.stats(false).in_flight == 0; }));
    const DownstreamStats s = ds.stats(false);
    CHECK(s.wasted == 1);
    CHECK(s.cancelled == 0);
    CHECK(s.completed == 0);
  }
}

TEST_CASE("peers.downstream.query_overrides") {
  Downstream ds(opts());
  ds.start();
  Client c(ds.port());
  const auto r = c.get("/any/path?ms=2&status=404&id=req%207");
  CHECK(r.result_int() == 404);
  CHECK(r["x-request-id"] == "req 7");
  const auto body = nlohmann::json::parse(r.body());
  CHECK(body["id"] == "req 7");
  CHECK(body["status"] == 404);
  CHECK(body["ms"] == 2.0);
  for (const char* bad : {"/?ms=abc", "/?ms=-1", "/?status=99", "/?status=200.5"}) {
    CAPTURE(bad);
    CHECK(c.get(bad).result_int() == 400);
  }
  const DownstreamStats s = ds.stats(false);
  CHECK(s.invalid == 4);
  CHECK(s.status_4xx == 1);
  CHECK(s.requests == 5);
}

TEST_CASE("peers.downstream.stats_json_matches_stats") {
  DownstreamOptions o = opts();
  o.error_rate = 0.5;
  Downstream ds(o);
  ds.start();
  Client c(ds.port());
  for (int i = 0; i < 10; ++i)
    c.get("/?id=" + std::to_string(i));
  c.get("/?ms=x");
  const auto j = nlohmann::json::parse(c.get("/__stats").body());
  const DownstreamStats s = ds.stats();
  CHECK(j["requests"] == s.requests);
  CHECK(s.requests == 11);
  CHECK(j["completed"] == s.completed);
  CHECK(j["status2xx"] == s.status_2xx);
  CHECK(j["status5xx"] == s.status_5xx);
  CHECK(j["status4xx"] == s.status_4xx);
  CHECK(j["statusOther"] == s.status_other);
  CHECK(j["inFlight"] == s.in_flight);
  CHECK(j["inFlightPeak"] == s.in_flight_peak);
  CHECK(j["queued"] == s.queued);
  CHECK(j["queuedPeak"] == s.queued_peak);
  CHECK(j["cancelled"] == s.cancelled);
  CHECK(j["wasted"] == s.wasted);
  CHECK(j["rejected"] == s.rejected);
  CHECK(j["invalid"] == s.invalid);
  CHECK(j["connections"] == s.connections);
  CHECK(j["connectionsOpen"] == s.connections_open);
  CHECK(j["connectionsRefused"] == s.connections_refused);
  CHECK(j["arrivalsMs"].get<std::vector<double>>() == s.arrivals_ms);
  CHECK(j["uptimeMs"].get<double>() <= s.uptime_ms);
  CHECK(nlohmann::json::parse(c.get("/__stats?arrivals=0").body())["arrivalsMs"].empty());
  // /__stats is not a request.
  CHECK(ds.stats(false).requests == 11);
}

TEST_CASE("peers.downstream.reset") {
  Downstream ds(opts());
  ds.start();
  Client c(ds.port());
  c.get("/");
  c.get("/");
  CHECK(c.get("/__reset").result_int() == 405);  // GET is not a reset
  CHECK(ds.stats(false).requests == 2);
  c.send("/__reset", boost::beast::http::verb::post);
  CHECK(nlohmann::json::parse(c.receive().body())["reset"] == true);
  DownstreamStats s = ds.stats();
  CHECK(s.requests == 0);
  CHECK(s.completed == 0);
  CHECK(s.arrivals_ms.empty());
  CHECK(s.connections_open == 1);  // live figures survive a reset
  ds.reset();                      // the same from the owning thread
  CHECK(ds.stats(false).connections == 0);
}

TEST_CASE("peers.downstream.keep_alive_and_close") {
  Downstream ds(opts());
  ds.start();
  {
    Client c(ds.port());
    for (int i = 0; i < 3; ++i) {
      const auto r = c.get("/?id=" + std::to_string(i));
      CHECK(r.result_int() == 200);
      CHECK(r.keep_alive());
    }
  }
  DownstreamStats s = ds.stats(false);
  CHECK(s.connections == 1);
  CHECK(s.requests == 3);
  CHECK(s.completed == 3);
  Client c(ds.port());
  c.send("/", boost::beast::http::verb::get, /*close=*/true);
  const auto r = c.receive();
  CHECK_FALSE(r.keep_alive());
  CHECK(c.closed_by_server());
}

TEST_CASE("peers.downstream.max_connections") {
  DownstreamOptions o = opts();
  o.max_connections = 2;
  Downstream ds(o);
  ds.start();
  Client a(ds.port()), b(ds.port());
  REQUIRE(eventually([&] { return ds.stats(false).connections_open == 2; }));
  Client refused(ds.port());
  REQUIRE(eventually([&] { return ds.stats(false).connections_refused == 1; }));
  CHECK(refused.closed_by_server());
  a.close();
  REQUIRE(eventually([&] { return ds.stats(false).connections_open == 1; }));
  Client again(ds.port());
  CHECK(again.get("/").result_int() == 200);
  CHECK(ds.stats(false).connections == 3);
}

TEST_CASE("peers.downstream.stop_with_work_in_progress") {
  DownstreamOptions o = opts();
  o.capacity = 1;
  auto ds = std::make_unique<Downstream>(o);
  ds->start();
  Client a(ds->port()), b(ds->port());
  a.send(kHold);
  b.send(kHold);
  REQUIRE(eventually([&] { return ds->stats(false).queued == 1; }));
  ds->stop();
  CHECK(a.closed_by_server());
  CHECK(b.closed_by_server());
  ds->stop();  // idempotent
  ds.reset();  // and the destructor after it
}

namespace {

// nodelab-downstream spawned with pipes on stdin and stdout.
struct Child {
  pid_t pid = -1;
  int in = -1;   // our end of its stdin
  int out = -1;  // our end of its stdout

  explicit Child(std::vector<std::string> args) {
    int to_child[2], from_child[2];
    REQUIRE(::pipe2(to_child, O_CLOEXEC) == 0);
    REQUIRE(::pipe2(from_child, O_CLOEXEC) == 0);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, to_child[0], 0);
    posix_spawn_file_actions_adddup2(&fa, from_child[1], 1);
    args.insert(args.begin(), nodelab::peers::downstream_executable());
    std::vector<char*> argv;
    for (auto& a : args)
      argv.push_back(a.data());
    argv.push_back(nullptr);
    const int rc = posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    ::close(to_child[0]);
    ::close(from_child[1]);
    in = to_child[1];
    out = from_child[0];
    REQUIRE(rc == 0);
  }
  std::string read_line() {
    std::string line;
    char c = 0;
    while (::read(out, &c, 1) == 1 && c != '\n')
      line += c;
    return line;
  }
  // The exit status (waitpid's), or -1 when it did not exit within 60 s (then killed).
  int wait_exit() {
    for (int i = 0; i < 30'000; ++i) {
      int status = 0;
      if (::waitpid(pid, &status, WNOHANG) == pid) {
        pid = -1;
        return status;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return -1;
  }
  ~Child() {
    if (in >= 0) ::close(in);
    if (out >= 0) ::close(out);
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
  }
};

}  // namespace

TEST_CASE("peers.downstream.process") {
  SUBCASE("serves, and exits 0 when its stdin closes") {
    Child child({"--capacity", "2", "--latency", "fixed:1", "--error-rate", "1"});
    const std::string line = child.read_line();
    REQUIRE(line.rfind("listening ", 0) == 0);
    const auto port = static_cast<std::uint16_t>(std::stoi(line.substr(10)));
    {
      Client c(port);
      CHECK(c.get("/?id=p").result_int() == 500);
      const auto j = nlohmann::json::parse(c.get("/__stats").body());
      CHECK(j["requests"] == 1);
      CHECK(j["status5xx"] == 1);
    }
    ::close(child.in);
    child.in = -1;
    const int status = child.wait_exit();
    REQUIRE(status != -1);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    // Exactly one line on stdout.
    char extra = 0;
    CHECK(::read(child.out, &extra, 1) == 0);
  }
  SUBCASE("exits 0 on SIGTERM") {
    Child child({});
    REQUIRE(child.read_line().rfind("listening ", 0) == 0);
    ::kill(child.pid, SIGTERM);
    const int status = child.wait_exit();
    REQUIRE(status != -1);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
  }
  SUBCASE("bad flags: exit 2 with the reason") {
    const std::string exe = nodelab::peers::downstream_executable();
    for (const auto& [args, needle] : std::vector<std::pair<std::vector<std::string>, std::string>>{
             {{"--latency", "gamma:3"}, "unknown latency 'gamma:3'"},
             {{"--error-rate", "2"}, "--error-rate"},
             {{"--capacity", "many"}, "--capacity"},
             {{"--nope"}, "--nope"}}) {
      std::vector<std::string> argv{exe};
      argv.insert(argv.end(), args.begin(), args.end());
      nodelab::process::Options po;
      po.pipe_stdin = true;
      po.timeout = std::chrono::seconds(60);
      const auto r = nodelab::process::run(argv, po);
      CAPTURE(r.err);
      CHECK(r.exit_code == 2);
      CHECK(r.err.find(needle) != std::string::npos);
      CHECK(r.out.empty());
    }
  }
}

TEST_CASE("peers.downstream.stats_from_json_inverts_stats_json") {
  DownstreamStats s;
  std::uint64_t n = 1;
  for (std::uint64_t* f : {&s.connections, &s.connections_open, &s.connections_refused, &s.requests,
                           &s.completed, &s.status_2xx, &s.status_4xx, &s.status_5xx,
                           &s.status_other, &s.in_flight, &s.in_flight_peak, &s.queued,
                           &s.queued_peak, &s.cancelled, &s.wasted, &s.rejected, &s.invalid})
    *f = n++;  // every field different, so a swapped name shows
  s.uptime_ms = 12.5;
  s.arrivals_ms = {0.25, 3.0};
  const DownstreamStats t = nodelab::peers::stats_from_json(stats_json(s));
  CHECK(stats_json(t) == stats_json(s));
  CHECK(t.connections_refused == 3);
  CHECK(t.invalid == 17);
  CHECK(t.arrivals_ms == s.arrivals_ms);
  CHECK(nodelab::peers::stats_from_json("{}").requests == 0);
  CHECK_THROWS(nodelab::peers::stats_from_json("not json"));
}

TEST_CASE("peers.downstream.fetch_stats_reads_a_running_service") {
  Downstream ds(opts());
  ds.start();
  Client c(ds.port());
  c.get("/?id=1");
  c.get("/?id=2");
  const DownstreamStats s = nodelab::peers::fetch_stats(ds.port());
  CHECK(s.requests == 2);
  CHECK(s.completed == ds.stats(false).completed);
  ds.stop();
  CHECK_THROWS_AS(nodelab::peers::fetch_stats(ds.port()), std::runtime_error);
}
