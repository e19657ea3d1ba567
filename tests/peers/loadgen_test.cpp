// peers::LoadGen against peers::Downstream: every due request is sent and answered at a modest
// rate; latency from the due time is never below the service time; a serial downstream makes
// the open-loop latency grow by a bound the arithmetic guarantees (coordinated omission is not
// hidden); connect errors, timeouts, stop() and bad options.

#include "peers/loadgen.hpp"

#include <doctest/doctest.h>

#include <boost/asio.hpp>
#include <stdexcept>

#include "peers/downstream.hpp"
#include "peers/http_client.hpp"

using nodelab::peers::Downstream;
using nodelab::peers::DownstreamOptions;
using nodelab::peers::Latency;
using nodelab::peers::LoadGen;
using nodelab::peers::LoadGenOptions;
using nodelab::peers::LoadGenResult;
using nodelab::peers::test::eventually;

TEST_CASE("peers.loadgen.sends_and_completes_every_request") {
  DownstreamOptions d;
  d.latency = Latency::fixed(1);
  Downstream ds(d);
  ds.start();
  LoadGenOptions o;
  o.port = ds.port();
  o.path = "/work?id=lg";
  o.rate = 200;
  o.requests = 100;
  o.connections = 4;
  o.timeout = std::chrono::seconds(60);
  const LoadGenResult r = LoadGen::run(o);
  CHECK(r.scheduled == 100);
  CHECK(r.sent == 100);
  CHECK(r.completed == 100);
  CHECK(r.status_2xx == 100);
  CHECK(r.errors() == 0);
  CHECK_FALSE(r.stopped);
  CHECK(r.connections_opened >= 1);
  CHECK(r.connections_opened <= 4);  // keep-alive: at most one per connection slot
  CHECK(r.latency_us.count() == 100);
  CHECK(r.service_us.count() == 100);
  // Each request: due <= sent, so its latency >= its service time; and the service time covers
  // the 1 ms of work.
  CHECK(r.service_us.min() >= 1000);
  for (const double p : {50.0, 99.0, 100.0}) {
    CAPTURE(p);
    CHECK(r.latency_us.percentile(p) >= r.service_us.percentile(p));
  }
  // The last request is due at 99 / 200 s.
  CHECK(r.elapsed_ms >= 495);
  CHECK(r.achieved_rate > 0);
  const auto s = ds.stats(false);
  CHECK(s.requests == 100);
  CHECK(s.completed == 100);
  CHECK(s.connections == r.connections_opened);
}

TEST_CASE("peers.loadgen.open_loop_latency_includes_the_queue") {
  // One request at a time, 20 ms each (50/s), asked for 100/s: request i completes no earlier
  // than (i + 1) * 20 ms after the start but was due at i * 10 ms, so its latency is at least
  // 20 + 10 i ms: 210 ms for the 20th, whatever the machine's speed.
  DownstreamOptions d;
  d.latency = Latency::fixed(20);
  d.capacity = 1;
  Downstream ds(d);
  ds.start();
  LoadGenOptions o;
  o.port = ds.port();
  o.rate = 100;
  o.requests = 20;
  o.connections = 4;
  o.timeout = std::chrono::seconds(60);
  const LoadGenResult r = LoadGen::run(o);
  CHECK(r.completed == 20);
  CHECK(r.latency_us.max() >= 210'000);
  CHECK(r.latency_us.max() >= r.service_us.max());
  CHECK(ds.stats(false).in_flight_peak == 1);
}

TEST_CASE("peers.loadgen.waiting_for_a_connection_counts") {
  // One connection, requests of 20 ms due every 5 ms: all but the first wait for the
  // connection, and the wait is in their latency (request i: >= 20 (i + 1) - 5 i ms).
  DownstreamOptions d;
  d.latency = Latency::fixed(20);
  Downstream ds(d);
  ds.start();
  LoadGenOptions o;
  o.port = ds.port();
  o.rate = 200;
  o.requests = 10;
  o.connections = 1;
  o.timeout = std::chrono::seconds(60);
  const LoadGenResult r = LoadGen::run(o);
  CHECK(r.completed == 10);
  CHECK(r.connections_opened == 1);
  CHECK(r.latency_us.max() >= 155'000);  // i = 9: 200 - 45 ms
  CHECK(ds.stats(false).in_flight_peak == 1);
}

TEST_CASE("peers.loadgen.connect_errors") {
  std::uint16_t port = 0;
  {
    boost::asio::io_context io;
    boost::asio::ip::tcp::acceptor a(
        io, {boost::asio::ip::make_address_v4("127.0.0.1"), 0});  // bound, then closed
    port = a.local_endpoint().port();
  }
  LoadGenOptions o;
  o.port = port;
  o.rate = 1000;
  o.requests = 5;
  o.connections = 2;
  const LoadGenResult r = LoadGen::run(o);
  CHECK(r.scheduled == 5);
  CHECK(r.completed == 0);
  CHECK(r.sent == 0);
  CHECK(r.errors_connect == 5);
  CHECK(r.latency_us.count() == 0);
}

TEST_CASE("peers.loadgen.timeouts_close_the_connection") {
  Downstream ds;
  ds.start();
  LoadGenOptions o;
  o.port = ds.port();
  o.path = "/?ms=600000";
  o.rate = 1000;
  o.requests = 2;
  o.connections = 2;
  o.timeout = std::chrono::milliseconds(100);
  const LoadGenResult r = LoadGen::run(o);
  CHECK(r.errors_timeout == 2);
  CHECK(r.completed == 0);
  // The downstream noticed both clients leave and cancelled their work.
  REQUIRE(eventually([&] { return ds.stats(false).cancelled == 2; }));
}

TEST_CASE("peers.loadgen.stop_ends_the_run") {
  Downstream ds;
  ds.start();
  LoadGenOptions o;
  o.port = ds.port();
  o.rate = 10;
  o.duration = std::chrono::seconds(600);
  LoadGen g(o);
  g.start();
  REQUIRE(eventually([&] { return g.progress().completed >= 1; }));
  CHECK_FALSE(g.done());
  g.stop();
  const LoadGenResult r = g.wait();
  CHECK(r.stopped);
  CHECK(r.completed >= 1);
  CHECK(r.scheduled < 6000);
  CHECK(g.done());
}

TEST_CASE("peers.loadgen.bad_options") {
  LoadGenOptions o;
  o.port = 1;
  o.rate = 0;
  CHECK_THROWS_AS(LoadGen{o}, std::invalid_argument);
  o.rate = 10;
  o.connections = 0;
  CHECK_THROWS_AS(LoadGen{o}, std::invalid_argument);
  o.connections = 1;
  o.host = "localhost";
  CHECK_THROWS_AS(LoadGen{o}, std::invalid_argument);
  o.host = "127.0.0.1";
  o.port = 0;
  CHECK_THROWS_AS(LoadGen{o}, std::invalid_argument);
}
