// common/net: the HTTP client (http.request, ClientRequest, http.Agent) and server on the
// runtime's loop, against an HttpServer on the same loop and against a real node server in
// another process. Every assertion is an order, a count or a bound the mechanism guarantees.

#include <doctest/doctest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "net/http_client.hpp"
#include "net/http_server.hpp"
#include "runtime/runtime.hpp"
#include "support/runtime_helpers.hpp"

extern char** environ;

namespace {

using namespace nodelab;
using namespace std::chrono_literals;
using net::AgentOptions;
using net::IncomingMessage;
using net::NetError;
using net::RequestHandlers;
using net::RequestOptions;

// `node -e SCRIPT` whose first stdout line is a port; killed (SIGTERM) and reaped at the end.
class NodeServer {
 public:
  explicit NodeServer(const std::string& script) {
    int fds[2];
    REQUIRE(pipe(fds) == 0);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    posix_spawn_file_actions_addclose(&fa, fds[0]);
    std::string e = "-e";
    std::string node = "node";
    std::string code = script;
    char* argv[] = {node.data(), e.data(), code.data(), nullptr};
    const int rc = posix_spawnp(&pid_, "node", &fa, nullptr, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    REQUIRE(rc == 0);
    std::string line;
    char c = 0;
    while (read(fds[0], &c, 1) == 1 && c != '\n')
      line += c;
    close(fds[0]);
    port_ = static_cast<std::uint16_t>(std::atoi(line.c_str()));
    REQUIRE(port_ != 0);
  }
  ~NodeServer() {
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
  }
  NodeServer(const NodeServer&) = delete;
  NodeServer& operator=(const NodeServer&) = delete;
  std::uint16_t port() const { return port_; }

 private:
  pid_t pid_ = 0;
  std::uint16_t port_ = 0;
};

constexpr const char* kNodeOk =
    "require('http').createServer((q,s)=>s.end('ok')).listen(0,'127.0.0.1',"
    "function(){console.log(this.address().port)})";

// A server on the loop answering "ok" to everything.
net::RequestListener ok_handler() {
  return [](const auto&, const std::shared_ptr<net::ServerResponse>& res) { res->end("ok"); };
}

// Handlers that log every event into `log` and collect the body.
RequestHandlers logging(std::vector<std::string>& log, std::string& body) {
  RequestHandlers h;
  h.socket = [&log] { log.push_back("socket"); };
  h.response = [&log](const IncomingMessage& m) {
    log.push_back("response " + std::to_string(m.status_code));
  };
  h.data = [&body](std::string_view c) { body += c; };
  h.end = [&log] { log.push_back("end"); };
  h.aborted = [&log] { log.push_back("aborted"); };
  h.timeout = [&log] { log.push_back("timeout"); };
  h.error = [&log](const NetError& e) { log.push_back("error " + e.code + " " + e.message); };
  h.close = [&log] { log.push_back("close"); };
  return h;
}

}  // namespace

TEST_CASE("net: a GET to an HttpServer on the same loop gets its status and body") {
  runtime::Runtime rt;
  std::vector<std::string> log;
  std::string body;
  {
    net::HttpServer server(rt, ok_handler());
    REQUIRE(server.listen() == 0);
    std::shared_ptr<net::ClientRequest> req;
    bool server_closed = false;
    rt.run([&] {
      RequestOptions o;
      o.port = server.port();
      auto h = logging(log, body);
      h.close = [&] {
        log.push_back("close");
        server.close([&] { server_closed = true; });
      };
      req = net::request(rt, o, h);
    });
    CHECK(server_closed);
    CHECK(server.stats().requests == 1);
    REQUIRE(req->response());
    CHECK(net::header(req->response()->headers, "content-length") == "2");
    CHECK(req->timing().ttfb().count() > 0);
    CHECK(req->timing().connect_time().count() > 0);
  }
  CHECK(log == std::vector<std::string>{"socket", "response 200", "end", "close"});
  CHECK(body == "ok");
  CHECK(rt.shutdown() == 0);
}

TEST_CASE("net: a GET to a node server in another process") {
  NodeServer node(kNodeOk);
  runtime::Runtime rt;
  std::vector<std::string> log;
  std::string body;
  rt.run([&] {
    RequestOptions o;
    o.port = node.port();
    net::request(rt, o, logging(log, body));
  });
  CHECK(log == std::vector<std::string>{"socket", "response 200", "end", "close"});
  CHECK(body == "ok");
  CHECK(rt.shutdown() == 0);
}

TEST_CASE("net: keep-alive: three sequential requests through an Agent share one socket") {
  runtime::Runtime rt;
  net::HttpServer server(rt, ok_handler());
  REQUIRE(server.listen() == 0);
  net::Agent agent(rt, AgentOptions::global());
  std::vector<std::uint64_t> sockets;
  std::vector<bool> reused;
  std::string bodies;
  std::function<void(int)> next = [&](int left) {
    RequestOptions o;
    o.port = server.port();
    o.agent = &agent;
    auto req = std::make_shared<std::shared_ptr<net::ClientRequest>>();
    RequestHandlers h;
    h.data = [&](std::string_view c) { bodies += c; };
    h.close = [&, req, left] {
      sockets.push_back((*req)->socket_id());
      reused.push_back((*req)->reused_socket());
      // The socket is freed on the nextTick after 'close' (emitFreeNT): the next request
      // goes out from a later macrotask.
      if (left > 1) {
        rt.set_immediate([&, left] { next(left - 1); }, 0);
      } else {
        rt.set_immediate([&] { server.close(); }, 0);
      }
    };
    *req = net::request(rt, o, h);
  };
  rt.run([&] { next(3); });
  const auto s = agent.stats();
  CHECK(s.sockets_created == 1);
  CHECK(s.reuses == 2);
  CHECK(sockets.size() == 3);
  CHECK(sockets[0] == sockets[1]);
  CHECK(sockets[1] == sockets[2]);
  CHECK(reused == std::vector<bool>{false, true, true});
  CHECK(bodies == "okokok");
  CHECK(server.stats().connections == 1);
  CHECK(server.stats().reused == 2);
  CHECK(rt.shutdown() == 0);
}

TEST_CASE("net: maxSockets 2 with 5 concurrent requests: 2 sockets, 3 queued, served FIFO") {
  runtime::Runtime rt;
  net::HttpServer server(rt, ok_handler());
  REQUIRE(server.listen() == 0);
  AgentOptions ao;
  ao.keep_alive = true;
  ao.max_sockets = 2;
  net::Agent agent(rt, ao);
  std::vector<std::shared_ptr<net::ClientRequest>> reqs;
  std::vector<int> socket_order;
  std::vector<int> end_order;
  int closed = 0;
  rt.run([&] {
    for (int i = 0; i < 5; ++i) {
      RequestOptions o;
      o.port = server.port();
      o.agent = &agent;
      RequestHandlers h;
      h.socket = [&, i] { socket_order.push_back(i); };
      h.end = [&, i] { end_order.push_back(i); };
      h.close = [&] {
        if (++closed == 5) server.close();
      };
      reqs.push_back(net::request(rt, o, h));
    }
    CHECK(agent.stats().queue_length == 3);
  });
  const auto s = agent.stats();
  CHECK(s.sockets_created == 2);
  CHECK(s.queue_peak == 3);
  CHECK(s.queued == 3);
  CHECK(s.handoffs == 3);
  CHECK(closed == 5);
  CHECK(socket_order == std::vector<int>{0, 1, 2, 3, 4});
  for (int i = 0; i < 5; ++i) {
    CAPTURE(i);
    CHECK(reqs[i]->queued() == (i >= 2));
    CHECK(reqs[i]->response()->status_code == 200);
  }
  // A queued request got its socket only once an earlier request had ended.
  for (int i = 2; i < 5; ++i) {
    CAPTURE(i);
    CHECK(reqs[i]->timing().agent_wait().count() > 0);
    CHECK(reqs[i]->timing().socket > reqs[i - 2]->timing().end);
    CHECK(reqs[i]->timing().agent_wait() > reqs[i - 2]->timing().end - reqs[i]->timing().created);
  }
  CHECK(server.stats().connections == 2);
  CHECK(rt.shutdown() == 0);
}

TEST_CASE("net: abort mid-request: AbortError, the socket is destroyed, the server sees it") {
  runtime::Runtime rt;
  net::AbortController controller;
  std::vector<std::string> server_log;
  net::HttpServer server(rt, [&](const std::shared_ptr<net::ServerRequest>& q,
                                 const std::shared_ptr<net::ServerResponse>& r) {
    server_log.push_back("request " + q->url);
    q->on.aborted = [&] { server_log.push_back("aborted"); };
    r->on.close = [&, r] {
      server_log.push_back(r->finished() ? "close finished" : "close unfinished");
      server.close();
    };
    // Never answers; the client gives up.
    rt.set_immediate([&] { controller.abort(); }, 0);
  });
  REQUIRE(server.listen() == 0);
  net::Agent agent(rt, AgentOptions::global());
  std::vector<std::string> log;
  std::string body;
  NetError err;
  std::shared_ptr<net::ClientRequest> req;
  rt.run([&] {
    RequestOptions o;
    o.port = server.port();
    o.path = "/slow";
    o.agent = &agent;
    o.signal = controller.signal();
    auto h = logging(log, body);
    h.error = [&](const NetError& e) {
      err = e;
      log.push_back("error");
    };
    req = net::request(rt, o, h);
  });
  CHECK(log == std::vector<std::string>{"socket", "error", "close"});
  CHECK(err.name == "AbortError");
  CHECK(err.code == "ABORT_ERR");
  CHECK(err.message == "The operation was aborted");
  CHECK(req->destroyed());
  CHECK_FALSE(req->response());
  const auto s = agent.stats();
  CHECK(s.free_sockets == 0);  // destroyed, not returned to the pool
  CHECK(s.active_sockets == 0);
  CHECK(server_log == std::vector<std::string>{"request /slow", "aborted", "close unfinished"});
  CHECK(server.stats().aborted == 1);
  CHECK(rt.shutdown() == 0);
}

TEST_CASE("net: ECONNREFUSED on a closed port") {
  runtime::Runtime rt;
  std::uint16_t port = 0;
  {
    net::HttpServer probe(rt, ok_handler());
    REQUIRE(probe.listen() == 0);
    port = probe.port();
  }  // closed: nothing listens there now
  std::vector<std::string> log;
  std::string body;
  NetError err;
  rt.run([&] {
    RequestOptions o;
    o.port = port;
    auto h = logging(log, body);
    h.error = [&](const NetError& e) {
      err = e;
      log.push_back("error");
    };
    net::request(rt, o, h);
  });
  CHECK(log == std::vector<std::string>{"socket", "error", "close"});
  CHECK(err.code == "ECONNREFUSED");
  CHECK(err.syscall == "connect");
  CHECK(err.message == "connect ECONNREFUSED 127.0.0.1:" + std::to_string(port));
  CHECK(rt.shutdown() == 0);
}

TEST_CASE("net: the server closes before answering: ECONNRESET 'socket hang up'") {
  runtime::Runtime rt;
  net::HttpServer server(rt, [&](const auto&, const std::shared_ptr<net::ServerResponse>& r) {
    r->destroy();
    server.close();
  });
  REQUIRE(server.listen() == 0);
  net::Agent agent(rt, AgentOptions::global());
  std::vector<std::string> log;
  std::string body;
  rt.run([&] {
    RequestOptions o;
    o.port = server.port();
    o.agent = &agent;
    net::request(rt, o, logging(log, body));
  });
  CHECK(log == std::vector<std::string>{"socket", "error ECONNRESET socket hang up", "close"});
  CHECK(agent.stats().active_sockets == 0);
  CHECK(rt.shutdown() == 0);
}

TEST_CASE("net: the timeout option emits 'timeout' and the request goes on") {
  runtime::Runtime rt;
  net::HttpServer server(rt, [&](const auto&, const std::shared_ptr<net::ServerResponse>& r) {
    // Answers after 200 ms; the client's 20 ms idle timeout is due well before.
    rt.set_timeout(
        200, [r] { r->end("late"); }, 0);
  });
  REQUIRE(server.listen() == 0);
  std::vector<std::string> log;
  std::string body;
  rt.run([&] {
    RequestOptions o;
    o.port = server.port();
    o.timeout = 20ms;
    auto h = logging(log, body);
    h.close = [&] {
      log.push_back("close");
      server.close();
    };
    net::request(rt, o, h);
  });
  CAPTURE(fmt::format("{}", fmt::join(log, ",")));
  CHECK(log == std::vector<std::string>{"socket", "timeout", "response 200", "end", "close"});
  CHECK(body == "late");
  CHECK(rt.shutdown() == 0);
}

TEST_CASE("net: an idle keep-alive socket in the pool does not keep the loop alive") {
  NodeServer node(kNodeOk);  // keeps idle connections 5 s (keepAliveTimeout)
  runtime::Runtime rt;
  {
    net::Agent agent(rt, AgentOptions::global());
    std::string body;
    rt.run([&] {
      RequestOptions o;
      o.port = node.port();
      o.agent = &agent;
      RequestHandlers h;
      h.data = [&](std::string_view c) { body += c; };
      net::request(rt, o, h);
    });
    CHECK(body == "ok");
    // run() returned with the socket still pooled: the server had not closed it.
    CHECK(agent.stats().free_sockets == 1);
    CHECK(agent.stats().sockets_created == 1);
  }
  CHECK(rt.shutdown() == 0);
}

TEST_CASE("net: a request body reaches the server, and a run that dies leaves nothing open") {
  runtime::Runtime rt;
  std::string got;
  net::HttpServer server(rt, [&](const std::shared_ptr<net::ServerRequest>& q,
                                 const std::shared_ptr<net::ServerResponse>& r) {
    q->on.data = [&](std::string_view c) { got += c; };
    q->on.end = [&, r] {
      r->write_head(201, {{"X-Echo", "1"}});
      r->write("echo:");
      r->end(got);
    };
  });
  REQUIRE(server.listen() == 0);
  net::Agent agent(rt, AgentOptions::global());
  std::string body;
  int status = 0;
  const auto result = rt.run([&] {
    RequestOptions o;
    o.port = server.port();
    o.method = "POST";
    o.agent = &agent;
    o.body = "hello";
    RequestHandlers h;
    h.response = [&](const IncomingMessage& m) { status = m.status_code; };
    h.data = [&](std::string_view c) { body += c; };
    h.end = [] { throw runtime::JsThrow({"Error", "", "stop here"}); };
    net::request(rt, o, h);
  });
  CHECK(result.outcome == runtime::Outcome::uncaught_exception);
  CHECK(got == "hello");
  CHECK(status == 201);
  CHECK(body == "echo:hello");
  // The server still listens and the client's socket is open: shutdown closes them.
  CHECK(server.listening());
  CHECK(rt.shutdown() == 0);
}

TEST_CASE("net: a request aborted while queued in the agent errors when a socket frees up") {
  runtime::Runtime rt;
  net::HttpServer server(rt, [&](const auto&, const std::shared_ptr<net::ServerResponse>& r) {
    rt.set_timeout(
        100, [r] { r->end("ok"); }, 0);
  });
  REQUIRE(server.listen() == 0);
  AgentOptions ao;
  ao.keep_alive = true;
  ao.max_sockets = 1;
  net::Agent agent(rt, ao);
  net::AbortController controller;
  std::vector<std::string> log;
  rt.run([&] {
    auto make = [&](const std::string& name, net::AbortSignal signal) {
      RequestOptions o;
      o.port = server.port();
      o.agent = &agent;
      o.signal = std::move(signal);
      RequestHandlers h;
      h.socket = [&, name] { log.push_back(name + " socket"); };
      h.end = [&, name] { log.push_back(name + " end"); };
      h.error = [&, name](const NetError& e) { log.push_back(name + " error " + e.name); };
      h.close = [&, name] {
        log.push_back(name + " close");
        if (name == "C") server.close();
      };
      net::request(rt, o, h);
    };
    make("A", {});
    make("B", controller.signal());
    make("C", {});
    // Due before the server's 100 ms answer to A, which starts once A has arrived.
    rt.set_timeout(
        10,
        [&] {
          log.push_back("abort B");
          controller.abort();
        },
        0);
  });
  CAPTURE(fmt::format("{}", fmt::join(log, ",")));
  // Node's onSocketNT: B keeps its place until A's socket is free, then passes it to C.
  CHECK(log == std::vector<std::string>{"A socket", "abort B", "A end", "A close",
                                        "B error AbortError", "B close", "C socket", "C end",
                                        "C close"});
  CHECK(agent.stats().sockets_created == 1);
  CHECK(agent.stats().handoffs == 2);
  CHECK(agent.stats().queue_peak == 2);
  CHECK(rt.shutdown() == 0);
}

TEST_CASE("net: a server over maxConnections drops the extra connection") {
  runtime::Runtime rt;
  net::ServerOptions so;
  so.max_connections = 1;
  std::vector<std::shared_ptr<net::ServerResponse>> held;
  int ok = 0;
  int hang_ups = 0;
  int closed = 0;
  // The kept connection is answered once the dropped one has failed, whichever comes first.
  auto maybe_answer = [&] {
    if (hang_ups == 0) return;
    for (auto& r : std::exchange(held, {}))
      r->end("ok");
  };
  net::HttpServer server(
      rt,
      [&](const auto&, const std::shared_ptr<net::ServerResponse>& r) {
        held.push_back(r);
        maybe_answer();
      },
      so);
  REQUIRE(server.listen() == 0);
  rt.run([&] {
    for (int i = 0; i < 2; ++i) {
      RequestOptions o;
      o.port = server.port();
      RequestHandlers h;
      h.end = [&] { ++ok; };
      h.error = [&](const NetError& e) {
        // Reset or hung up, or, if the reset came before the request was written, EPIPE.
        if (e.code == "ECONNRESET" || e.code == "EPIPE") ++hang_ups;
        maybe_answer();
      };
      h.close = [&] {
        if (++closed == 2) server.close();
      };
      net::request(rt, o, h);
    }
  });
  CHECK(ok == 1);
  CHECK(hang_ups == 1);
  CHECK(server.stats().rejected == 1);
  CHECK(server.stats().connections == 1);
  CHECK(server.stats().requests == 1);
  CHECK(rt.shutdown() == 0);
}

TEST_CASE("net: each event runs where Node runs it: poll, nextTick, timers, close") {
  runtime::Runtime rt;
  net::HttpServer server(rt, [&](const auto&, const std::shared_ptr<net::ServerResponse>& r) {
    rt.set_timeout(
        100, [r] { r->end("ok"); }, 0);
  });
  REQUIRE(server.listen() == 0);
  rt.run([&] {
    RequestOptions o;
    o.port = server.port();
    o.timeout = 10ms;  // due long before the 100 ms answer
    RequestHandlers h;
    h.socket = testing::logger(rt, "socket");
    h.timeout = testing::logger(rt, "timeout");
    h.response = [&](const IncomingMessage&) {
      rt.log("response");
      rt.next_tick(testing::logger(rt, "tick after response"), 0);
    };
    h.data = [&](std::string_view) { rt.log("data"); };
    h.end = testing::logger(rt, "end");
    h.close = [&] {
      rt.log("close");
      server.close();
    };
    net::request(rt, o, h);
  });
  using runtime::Phase;
  auto phase_of = [&](const std::string& text) {
    const auto* rec = testing::logged_by(rt, text);
    REQUIRE(rec != nullptr);
    return rec->phase;
  };
  CHECK(testing::log_texts(rt) == std::vector<std::string>{"socket", "timeout", "response",
                                                           "tick after response", "data", "end",
                                                           "close"});
  CHECK(phase_of("socket") == Phase::next_tick);  // onSocketNT
  CHECK(phase_of("timeout") == Phase::timers);
  CHECK(phase_of("response") == Phase::poll);  // in the read that parsed the header
  CHECK(phase_of("tick after response") == Phase::next_tick);
  CHECK(phase_of("data") == Phase::next_tick);  // resume_ then flow()
  CHECK(phase_of("end") == Phase::next_tick);   // endReadableNT
  CHECK(phase_of("close") == Phase::close);     // agent: false: the socket's close callback
  // The ticks ran in the drain of the poll callback that read the response.
  const auto* response = testing::logged_by(rt, "response");
  CHECK(testing::logged_by(rt, "end")->drained_by == response->id);
  CHECK(rt.shutdown() == 0);
}

TEST_CASE("net: scheduling lifo reuses the socket freed last, fifo the one freed first") {
  for (const auto scheduling : {AgentOptions::Scheduling::lifo, AgentOptions::Scheduling::fifo}) {
    CAPTURE(static_cast<int>(scheduling));
    runtime::Runtime rt;
    net::HttpServer server(rt, ok_handler());
    REQUIRE(server.listen() == 0);
    AgentOptions ao;
    ao.keep_alive = true;
    ao.scheduling = scheduling;
    net::Agent agent(rt, ao);
    std::vector<std::uint64_t> freed;  // socket ids, in the order their requests closed
    std::uint64_t third = 0;
    // Outlives the main script: the callbacks call it later.
    std::function<void(std::function<void(std::uint64_t)>)> make =
        [&](std::function<void(std::uint64_t)> on_closed) {
          RequestOptions o;
          o.port = server.port();
          o.agent = &agent;
          auto req = std::make_shared<std::shared_ptr<net::ClientRequest>>();
          RequestHandlers h;
          h.close = [req, on_closed] { on_closed((*req)->socket_id()); };
          *req = net::request(rt, o, h);
        };
    rt.run([&] {
      for (int i = 0; i < 2; ++i) {
        make([&](std::uint64_t id) {
          freed.push_back(id);
          if (freed.size() < 2) return;
          // Both sockets are pooled once this tick's 'free' has run: ask from a macrotask.
          rt.set_immediate(
              [&] {
                make([&](std::uint64_t id3) {
                  third = id3;
                  server.close();
                });
              },
              0);
        });
      }
    });
    REQUIRE(freed.size() == 2);
    CHECK(freed[0] != freed[1]);
    CHECK(third == (scheduling == AgentOptions::Scheduling::lifo ? freed[1] : freed[0]));
    CHECK(agent.stats().sockets_created == 2);
    CHECK(agent.stats().reuses == 1);
    CHECK(rt.shutdown() == 0);
  }
}
