#include "peers/downstream.hpp"

#include <sys/resource.h>
#include <sys/socket.h>

#include <boost/asio.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <deque>
#include <exception>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <system_error>
#include <utility>

namespace nodelab::peers {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;
using namespace asio::experimental::awaitable_operators;
using Clock = std::chrono::steady_clock;
using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

namespace {

constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);
constexpr double kMaxWorkMs = 3'600'000;            // one hour: the most a request is worked
constexpr std::size_t kWatchBufferMax = 64 * 1024;  // bytes read ahead while a request works
// The standard normal quantile of 0.99: a lognormal's p99 is exp(mu + z99 * sigma).
constexpr double kZ99 = 2.3263478740408408;

std::optional<double> parse_number(std::string_view s) {
  double v = 0;
  const auto* end = s.data() + s.size();
  const auto [p, ec] = std::from_chars(s.data(), end, v);
  if (ec != std::errc{} || p != end || !std::isfinite(v)) return std::nullopt;
  return v;
}

std::string number_text(double v) {
  char buf[64];
  const auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return ec == std::errc{} ? std::string(buf, p) : std::string("?");
}

// The peer closed (FIN read as EOF, or a reset), looked at without consuming anything.
bool peer_gone(tcp::socket& s) {
  char c = 0;
  const ssize_t n = ::recv(s.native_handle(), &c, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n == 0) return true;
  return n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR;
}

void count_status(DownstreamStats& s, unsigned status, int delta) {
  std::uint64_t& counter = status >= 200 && status < 300   ? s.status_2xx
                           : status >= 400 && status < 500 ? s.status_4xx
                           : status >= 500 && status < 600 ? s.status_5xx
                                                           : s.status_other;
  counter += static_cast<std::uint64_t>(static_cast<std::int64_t>(delta));
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// application/x-www-form-urlencoded decoding: '+' is a space, %XX a byte (kept as is when
// malformed).
std::string url_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 &&
               hex_value(s[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::pair<std::string_view, std::string_view> split_target(std::string_view target) {
  const std::size_t q = target.find('?');
  if (q == std::string_view::npos) return {target, {}};
  return {target.substr(0, q), target.substr(q + 1)};
}

// The decoded value of the first `key=...` of a query string.
std::optional<std::string> query_param(std::string_view query, std::string_view key) {
  while (!query.empty()) {
    const std::size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    const std::size_t eq = pair.find('=');
    if (url_decode(pair.substr(0, eq)) == key) {
      return eq == std::string_view::npos ? std::string() : url_decode(pair.substr(eq + 1));
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return std::nullopt;
}

}  // namespace

std::optional<Latency> Latency::parse(std::string_view text, std::string& error) {
  std::vector<std::string_view> parts;
  for (std::size_t start = 0;;) {
    const std::size_t colon = text.find(':', start);
    parts.push_back(text.substr(start, colon == std::string_view::npos ? colon : colon - start));
    if (colon == std::string_view::npos) break;
    start = colon + 1;
  }
  const std::string_view kind = parts[0];
  std::vector<double> v;
  for (std::size_t i = 1; i < parts.size(); ++i) {
    const auto n = parse_number(parts[i]);
    if (!n || *n < 0 || *n > kMaxWorkMs) {
      error = "'" + std::string(parts[i]) + "' is not a number of milliseconds in [0, 3600000]";
      return std::nullopt;
    }
    v.push_back(*n);
  }
  const auto want = [&](std::size_t n, const char* form) {
    if (v.size() == n) return true;
    error = "expected " + std::string(form) + ", got '" + std::string(text) + "'";
    return false;
  };
  if (kind == "fixed") {
    if (!want(1, "fixed:MS")) return std::nullopt;
    return fixed(v[0]);
  }
  if (kind == "uniform") {
    if (!want(2, "uniform:LO:HI")) return std::nullopt;
    if (v[0] > v[1]) {
      error = "uniform:LO:HI needs LO <= HI";
      return std::nullopt;
    }
    return uniform(v[0], v[1]);
  }
  if (kind == "exponential" || kind == "exp") {
    if (!want(1, "exponential:MEAN")) return std::nullopt;
    return exponential(v[0]);
  }
  if (kind == "lognormal") {
    if (!want(2, "lognormal:MEDIAN:P99")) return std::nullopt;
    if (v[0] <= 0 || v[1] < v[0]) {
      error = "lognormal:MEDIAN:P99 needs 0 < MEDIAN <= P99";
      return std::nullopt;
    }
    return lognormal(v[0], v[1]);
  }
  error = "unknown latency '" + std::string(text) +
          "' (fixed:MS, uniform:LO:HI, exponential:MEAN, lognormal:MEDIAN:P99)";
  return std::nullopt;
}

std::string Latency::to_string() const {
  switch (kind) {
    case Kind::fixed:
      return "fixed:" + number_text(a);
    case Kind::uniform:
      return "uniform:" + number_text(a) + ":" + number_text(b);
    case Kind::exponential:
      return "exponential:" + number_text(a);
    case Kind::lognormal:
      return "lognormal:" + number_text(a) + ":" + number_text(b);
  }
  return "?";
}

double LatencySampler::next() {
  const Latency& l = latency_;
  double ms = 0;
  switch (l.kind) {
    case Latency::Kind::fixed:
      ms = l.a;
      break;
    case Latency::Kind::uniform:
      ms = l.a == l.b ? l.a : std::uniform_real_distribution<double>(l.a, l.b)(rng_);
      break;
    case Latency::Kind::exponential:
      ms = l.a <= 0 ? 0 : std::exponential_distribution<double>(1.0 / l.a)(rng_);
      break;
    case Latency::Kind::lognormal: {
      const double log_median = std::log(l.a);
      const double sigma = (std::log(l.b) - log_median) / kZ99;
      ms = sigma <= 0 ? l.a : std::lognormal_distribution<double>(log_median, sigma)(rng_);
      break;
    }
  }
  return std::clamp(ms, 0.0, kMaxWorkMs);
}

struct Downstream::Impl {
  explicit Impl(const DownstreamOptions& o)
      : opt(o), latency(o.latency, o.seed), error_rng(o.seed ^ 0x9e3779b97f4a7c15ULL) {}

  // A request's claim on capacity: it holds a slot (in_flight) or waits in the FIFO queue.
  struct Ticket {
    Impl* self;
    asio::steady_timer wake;
    bool holding = false;
    bool queued = false;
    Ticket(Impl* s, const asio::any_io_executor& ex)
        : self(s), wake(ex, Clock::time_point::max()) {}
    Ticket(const Ticket&) = delete;
    Ticket& operator=(const Ticket&) = delete;
    ~Ticket() { release(); }
    void release() {
      if (self->stopping) return;
      if (queued) {
        std::erase(self->queue, this);
        queued = false;
        self->update([](DownstreamStats& s) { --s.queued; });
      }
      if (holding) {
        holding = false;
        --self->in_flight;
        self->update([](DownstreamStats& s) { --s.in_flight; });
        self->pump();
      }
    }
  };

  DownstreamOptions opt;
  std::unique_ptr<asio::io_context> io;
  std::optional<tcp::acceptor> acceptor;
  std::optional<asio::steady_timer> ramp;

  // The server thread's own state.
  bool stopping = false;
  std::uint64_t in_flight = 0;
  std::uint64_t open = 0;
  std::deque<Ticket*> queue;
  LatencySampler latency;
  std::mt19937_64 error_rng;

  // Shared with the threads that read stats or reset.
  mutable std::mutex mu;
  DownstreamStats st;            // its arrivals_ms stays empty: see `arrivals`
  std::vector<double> arrivals;  // the first opt.arrival_log arrival times
  Clock::time_point epoch = Clock::now();

  template <class F>
  void update(F&& f) {
    const std::lock_guard lock(mu);
    f(st);
  }

  DownstreamStats snapshot(bool with_arrivals) const {
    const std::lock_guard lock(mu);
    DownstreamStats s = st;
    if (with_arrivals) s.arrivals_ms = arrivals;
    s.uptime_ms = std::chrono::duration<double, std::milli>(Clock::now() - epoch).count();
    return s;
  }

  double elapsed_ms() const {
    const std::lock_guard lock(mu);
    return std::chrono::duration<double, std::milli>(Clock::now() - epoch).count();
  }

  // The capacity now: unlimited (0), or ramping from 1 to `capacity` over slow_start_ms.
  std::uint64_t capacity_now() const {
    if (opt.capacity == 0) return 0;
    if (opt.slow_start_ms == 0 || opt.capacity == 1) return opt.capacity;
    const double t = elapsed_ms();
    if (t >= opt.slow_start_ms) return opt.capacity;
    return 1 + static_cast<std::uint64_t>(static_cast<double>(opt.capacity - 1) * t /
                                          opt.slow_start_ms);
  }

  // Grants free capacity to the queue's head, in arrival order.
  void pump() {
    const std::uint64_t cap = capacity_now();
    while (!queue.empty() && (cap == 0 || in_flight < cap)) {
      Ticket* t = queue.front();
      queue.pop_front();
      t->queued = false;
      t->holding = true;
      ++in_flight;
      update([](DownstreamStats& s) {
        --s.queued;
        ++s.in_flight;
        s.in_flight_peak = std::max(s.in_flight_peak, s.in_flight);
      });
      t->wake.cancel();
    }
  }

  // During slow start, capacity grows with time: wake the queue at each step.
  void arm_ramp() {
    if (!ramp || opt.capacity <= 1 || opt.slow_start_ms == 0) return;
    const double left = opt.slow_start_ms - elapsed_ms();
    if (left <= 0) return;
    const double step = std::max(1.0, static_cast<double>(opt.slow_start_ms) / (opt.capacity - 1));
    ramp->expires_after(std::chrono::microseconds(static_cast<std::int64_t>(step * 1000)));
    ramp->async_wait([this](boost::system::error_code ec) {
      if (ec || stopping) return;
      pump();
      arm_ramp();
    });
  }

  void reset_counters() {
    {
      const std::lock_guard lock(mu);
      DownstreamStats fresh;
      fresh.connections_open = st.connections_open;
      fresh.in_flight = fresh.in_flight_peak = st.in_flight;
      fresh.queued = fresh.queued_peak = st.queued;
      st = fresh;
      arrivals.clear();
      epoch = Clock::now();
    }
    if (io) {
      asio::post(*io, [this] {
        if (stopping) return;
        pump();
        arm_ramp();
      });
    }
  }

  asio::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, sock] = co_await acceptor->async_accept(tuple_awaitable);
      if (stopping || ec == asio::error::operation_aborted) co_return;
      if (ec) {
        // Out of descriptors (EMFILE) or a connection reset before accept: pause, go on.
        asio::steady_timer pause(*io, std::chrono::milliseconds(10));
        co_await pause.async_wait(tuple_awaitable);
        continue;
      }
      if (open >= opt.max_connections) {
        boost::system::error_code ignored;
        sock.close(ignored);
        update([](DownstreamStats& s) { ++s.connections_refused; });
        continue;
      }
      ++open;
      update([](DownstreamStats& s) {
        ++s.connections;
        ++s.connections_open;
      });
      asio::co_spawn(*io, session(std::move(sock)), [](const std::exception_ptr&) {});
    }
  }

  // Reads ahead on the socket while a request waits or works: returns when the client is gone
  // (EOF or an error), sets `gone`. Bytes of a pipelined next request stay in `buf`.
  static asio::awaitable<void> watch(tcp::socket& s, beast::flat_buffer& buf, bool& gone) {
    for (;;) {
      if (buf.size() >= kWatchBufferMax) {
        // Enough read ahead: stop watching, wait to be cancelled when the work ends.
        asio::steady_timer idle(s.get_executor(), Clock::time_point::max());
        co_await idle.async_wait(tuple_awaitable);
        co_return;
      }
      auto [ec, n] = co_await s.async_read_some(buf.prepare(4096), tuple_awaitable);
      buf.commit(n);
      if (ec == asio::error::operation_aborted) co_return;
      if (ec) {
        gone = true;
        co_return;
      }
    }
  }

  // Waits for capacity (unless the ticket already holds it), then works `ms`; sets `done`.
  static asio::awaitable<void> work(Ticket& t, double ms, bool& done) {
    if (!t.holding) {
      co_await t.wake.async_wait(tuple_awaitable);
      if (!t.holding) co_return;  // cancelled while queued
    }
    asio::steady_timer timer(t.wake.get_executor(),
                             std::chrono::microseconds(static_cast<std::int64_t>(ms * 1000)));
    auto [ec] = co_await timer.async_wait(tuple_awaitable);
    if (!ec) done = true;
  }

  // What a session writes back, and what to count once it is written.
  struct Reply {
    Response res;
    bool work = false;  // a worked request: counted completed (or wasted) after the write
  };

  Response make(const Request& req, http::status status, std::string body) {
    Response res{status, req.version()};
    res.set(http::field::server, "nodelab-downstream");
    res.set(http::field::content_type, "application/json");
    res.body() = std::move(body);
    return res;
  }

  // nullopt: nothing to write (the client is gone; already counted).
  asio::awaitable<std::optional<Reply>> handle(tcp::socket& s, beast::flat_buffer& buf,
                                               const Request& req) {
    const auto [path, query] = split_target(std::string_view(req.target()));
    if (path == "/__stats") {
      const bool with_arrivals = query_param(query, "arrivals").value_or("1") != "0";
      co_return Reply{make(req, http::status::ok, stats_json(snapshot(with_arrivals))), false};
    }
    if (path == "/__reset") {
      if (req.method() != http::verb::post) {
        co_return Reply{make(req, http::status::method_not_allowed, R"({"error":"POST"})"), false};
      }
      reset_counters();
      co_return Reply{make(req, http::status::ok, R"({"reset":true})"), false};
    }

    // A work request: its arrival, its draws (always both, so the sequences stay aligned with
    // the arrival order whatever the overrides), then its overrides.
    double arrived = 0;
    {
      const std::lock_guard lock(mu);
      arrived = std::chrono::duration<double, std::milli>(Clock::now() - epoch).count();
      ++st.requests;
      if (arrivals.size() < opt.arrival_log) arrivals.push_back(arrived);
    }
    double ms = latency.next();
    const bool error = std::uniform_real_distribution<double>(0, 1)(error_rng) < opt.error_rate;
    unsigned status = arrived < opt.fail_for_ms ? 503 : error ? 500 : 200;
    std::string id;
    std::string bad;
    if (const auto v = query_param(query, "ms")) {
      const auto n = parse_number(*v);
      if (n && *n >= 0 && *n <= kMaxWorkMs) {
        ms = *n;
      } else {
        bad = "ms=" + *v + " is not a number of milliseconds in [0, 3600000]";
      }
    }
    if (const auto v = query_param(query, "status")) {
      const auto n = parse_number(*v);
      if (n && *n >= 200 && *n <= 599 && *n == std::floor(*n)) {
        status = static_cast<unsigned>(*n);
      } else {
        bad = "status=" + *v + " is not an HTTP status in [200, 599]";
      }
    }
    if (const auto v = query_param(query, "id")) id = v->substr(0, 256);
    if (!bad.empty()) {
      update([](DownstreamStats& st2) { ++st2.invalid; });
      co_return Reply{make(req, http::status::bad_request, nlohmann::json{{"error", bad}}.dump()),
                      false};
    }

    // Admission: run now, wait in the FIFO queue, or (queue full) 503 at once.
    pump();
    Ticket ticket(this, s.get_executor());
    const std::uint64_t cap = capacity_now();
    if (cap == 0 || (queue.empty() && in_flight < cap)) {
      ticket.holding = true;
      ++in_flight;
      update([](DownstreamStats& st2) {
        ++st2.in_flight;
        st2.in_flight_peak = std::max(st2.in_flight_peak, st2.in_flight);
      });
    } else if (opt.queue_limit != 0 && queue.size() >= opt.queue_limit) {
      update([](DownstreamStats& st2) { ++st2.rejected; });
      Response res = make(req, http::status::service_unavailable,
                          nlohmann::json{{"id", id}, {"status", 503}, {"rejected", true}}.dump());
      if (!id.empty()) res.set("x-request-id", id);
      co_return Reply{std::move(res), false};
    } else {
      ticket.queued = true;
      queue.push_back(&ticket);
      update([](DownstreamStats& st2) {
        ++st2.queued;
        st2.queued_peak = std::max(st2.queued_peak, st2.queued);
      });
    }

    bool done = false;
    bool gone = false;
    if (opt.notice_disconnect) {
      co_await (work(ticket, ms, done) || watch(s, buf, gone));
    } else {
      co_await work(ticket, ms, done);
    }
    ticket.release();
    if (!done) {
      update([](DownstreamStats& st2) { ++st2.cancelled; });
      co_return std::nullopt;
    }
    if (gone || peer_gone(s)) {
      update([](DownstreamStats& st2) { ++st2.wasted; });
      co_return std::nullopt;
    }
    nlohmann::json body{{"id", id}, {"status", status}, {"ms", ms}};
    Response res = make(req, static_cast<http::status>(status), body.dump());
    if (!id.empty()) res.set("x-request-id", id);
    co_return Reply{std::move(res), true};
  }

  asio::awaitable<void> session(tcp::socket s) {
    struct Open {
      Impl* self;
      ~Open() {
        if (self->stopping) return;
        --self->open;
        self->update([](DownstreamStats& st2) { --st2.connections_open; });
      }
    } open_guard{this};
    boost::system::error_code ignored;
    s.set_option(tcp::no_delay(true), ignored);
    beast::flat_buffer buf;
    for (;;) {
      http::request_parser<http::string_body> parser;
      parser.body_limit(1 << 20);
      auto [ec, n] = co_await http::async_read(s, buf, parser, tuple_awaitable);
      if (ec) break;  // EOF between requests, a reset, or not HTTP: close
      const Request& req = parser.get();
      const bool keep = req.keep_alive();
      std::optional<Reply> reply = co_await handle(s, buf, req);
      if (!reply) break;
      reply->res.keep_alive(keep);
      reply->res.prepare_payload();
      // Counted before the write, so a client that has its answer finds it counted; a write
      // that fails moves it to `wasted`.
      const unsigned status = reply->res.result_int();
      if (reply->work) {
        update([&](DownstreamStats& st2) {
          ++st2.completed;
          count_status(st2, status, 1);
        });
      }
      auto [wec, wn] = co_await http::async_write(s, reply->res, tuple_awaitable);
      if (reply->work && wec) {
        update([&](DownstreamStats& st2) {
          --st2.completed;
          count_status(st2, status, -1);
          ++st2.wasted;
        });
      }
      if (wec || !keep) break;
    }
    s.shutdown(tcp::socket::shutdown_send, ignored);
    s.close(ignored);
  }
};

Downstream::Downstream(DownstreamOptions options)
    : options_(options), impl_(std::make_unique<Impl>(options)) {}

Downstream::~Downstream() {
  stop();
}

void Downstream::start() {
  if (thread_.joinable()) return;
  Impl& m = *impl_;
  m.stopping = false;
  m.io = std::make_unique<asio::io_context>(1);
  m.acceptor.emplace(*m.io);
  const tcp::endpoint ep(asio::ip::make_address_v4("127.0.0.1"), 0);
  m.acceptor->open(ep.protocol());
  m.acceptor->set_option(tcp::acceptor::reuse_address(true));
  m.acceptor->bind(ep);
  m.acceptor->listen(asio::socket_base::max_listen_connections);
  port_ = m.acceptor->local_endpoint().port();
  m.ramp.emplace(*m.io);
  {
    const std::lock_guard lock(m.mu);
    m.epoch = Clock::now();
  }
  asio::co_spawn(*m.io, m.accept_loop(), [](const std::exception_ptr& e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& x) {
      std::fprintf(stderr, "nodelab-downstream: accept loop failed: %s\n", x.what());
    }
  });
  m.arm_ramp();
  thread_ = std::thread([&m] { m.io->run(); });
}

void Downstream::stop() {
  if (!thread_.joinable()) return;
  Impl& m = *impl_;
  asio::post(*m.io, [&m] {
    m.stopping = true;
    m.io->stop();
  });
  thread_.join();
  // Each coroutine's frame (its socket, its ticket) goes with the io_context; `stopping` tells
  // their destructors to leave the shared state alone.
  m.acceptor.reset();
  m.ramp.reset();
  m.io.reset();
  m.queue.clear();
  m.in_flight = 0;
  m.open = 0;
}

DownstreamStats Downstream::stats(bool with_arrivals) const {
  return impl_->snapshot(with_arrivals);
}

void Downstream::reset() {
  impl_->reset_counters();
}

std::string stats_json(const DownstreamStats& s) {
  nlohmann::json j{{"connections", s.connections},
                   {"connectionsOpen", s.connections_open},
                   {"connectionsRefused", s.connections_refused},
                   {"requests", s.requests},
                   {"completed", s.completed},
                   {"status2xx", s.status_2xx},
                   {"status4xx", s.status_4xx},
                   {"status5xx", s.status_5xx},
                   {"statusOther", s.status_other},
                   {"inFlight", s.in_flight},
                   {"inFlightPeak", s.in_flight_peak},
                   {"queued", s.queued},
                   {"queuedPeak", s.queued_peak},
                   {"cancelled", s.cancelled},
                   {"wasted", s.wasted},
                   {"rejected", s.rejected},
                   {"invalid", s.invalid},
                   {"uptimeMs", s.uptime_ms},
                   {"arrivalsMs", s.arrivals_ms}};
  return j.dump();
}

DownstreamStats stats_from_json(std::string_view text) {
  const auto j = nlohmann::json::parse(text);
  DownstreamStats s;
  const auto u = [&](const char* key) { return j.value(key, std::uint64_t{0}); };
  s.connections = u("connections");
  s.connections_open = u("connectionsOpen");
  s.connections_refused = u("connectionsRefused");
  s.requests = u("requests");
  s.completed = u("completed");
  s.status_2xx = u("status2xx");
  s.status_4xx = u("status4xx");
  s.status_5xx = u("status5xx");
  s.status_other = u("statusOther");
  s.in_flight = u("inFlight");
  s.in_flight_peak = u("inFlightPeak");
  s.queued = u("queued");
  s.queued_peak = u("queuedPeak");
  s.cancelled = u("cancelled");
  s.wasted = u("wasted");
  s.rejected = u("rejected");
  s.invalid = u("invalid");
  s.uptime_ms = j.value("uptimeMs", 0.0);
  s.arrivals_ms = j.value("arrivalsMs", std::vector<double>{});
  return s;
}

DownstreamStats fetch_stats(std::uint16_t port) {
  asio::io_context io;
  tcp::socket sock(io);
  boost::system::error_code ec;
  sock.connect({asio::ip::address_v4::loopback(), port}, ec);
  if (ec) throw std::runtime_error("cannot reach the service: " + ec.message());
  http::request<http::empty_body> req{http::verb::get, "/__stats", 11};
  req.set(http::field::host, "127.0.0.1");
  req.keep_alive(false);
  http::write(sock, req, ec);
  beast::flat_buffer buf;
  http::response<http::string_body> res;
  if (!ec) http::read(sock, buf, res, ec);
  if (ec || res.result_int() != 200) {
    throw std::runtime_error("no stats from the service" + (ec ? ": " + ec.message() : ""));
  }
  return stats_from_json(res.body());
}

std::string downstream_executable() {
  std::error_code ec;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return "nodelab-downstream";
  return (self.parent_path() / "nodelab-downstream").string();
}

void raise_fd_limit() {
  rlimit r{};
  if (::getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
    r.rlim_cur = r.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &r);
  }
}

}  // namespace nodelab::peers
