#include "peers/loadgen.hpp"

#include <algorithm>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cmath>
#include <deque>
#include <exception>
#include <optional>
#include <stdexcept>
#include <vector>

namespace nodelab::peers {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);
constexpr auto kSchedulerTick = std::chrono::microseconds(50);

std::uint64_t micros(Clock::duration d) {
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(d).count();
  return us < 0 ? 0 : static_cast<std::uint64_t>(us);
}

}  // namespace

struct LoadGen::Impl {
  LoadGenOptions opt;
  std::uint64_t total = 0;
  asio::io_context io{1};
  tcp::endpoint endpoint;

  // The io thread's own state.
  Clock::time_point start;
  Clock::time_point last_end;
  std::deque<Clock::time_point> pending;  // due times of requests waiting for a connection
  std::vector<asio::steady_timer*> idle;  // workers waiting for a request
  bool scheduling_done = false;
  std::uint64_t finished = 0;  // answered or failed
  LoadGenResult result;

  // Read from other threads.
  std::atomic<std::uint64_t> sent{0}, completed{0}, errors{0};

  // A connection's request in progress, for the deadline sweeper: one timer for all of them
  // rather than one set and cancelled per request (a timer queue update, often a
  // timerfd_settime, and a cancelled handler to run, each time).
  struct Slot {
    tcp::socket* sock = nullptr;  // while a request is in progress on it
    Clock::time_point deadline = Clock::time_point::max();
    bool timed_out = false;
  };
  std::deque<Slot> slots;  // one per worker (a deque: stable addresses)
  std::optional<asio::steady_timer> sweep_timer;

  explicit Impl(LoadGenOptions o) : opt(std::move(o)) {}

  void wake_idle(std::size_t n) {
    while (n-- > 0 && !idle.empty()) {
      idle.back()->cancel();
      idle.pop_back();
    }
  }

  bool all_done() const { return scheduling_done && finished == total; }

  void finish_one(Clock::time_point now) {
    ++finished;
    last_end = now;
    if (all_done()) {
      wake_idle(idle.size());
      if (sweep_timer) sweep_timer->cancel();
    }
  }

  // Closes the socket of every request past its deadline (its pending operation then fails
  // and the worker counts a timeout), every tenth of the timeout (at most 100 ms): a request
  // times out between `timeout` and 1.1 x `timeout` after its connect or send.
  asio::awaitable<void> sweep() {
    const auto period = std::min<Clock::duration>(opt.timeout / 10, std::chrono::milliseconds(100));
    while (!all_done()) {
      sweep_timer->expires_after(period);
      co_await sweep_timer->async_wait(tuple_awaitable);
      const Clock::time_point now = Clock::now();
      for (Slot& s : slots) {
        if (s.sock != nullptr && now >= s.deadline) {
          s.timed_out = true;
          boost::system::error_code ignored;
          s.sock->close(ignored);
        }
      }
    }
  }

  // Request i is due at start + i / rate; those already due are queued in one go.
  asio::awaitable<void> schedule() {
    asio::steady_timer timer(io);
    const double ns_per_request = 1e9 / opt.rate;
    for (std::uint64_t i = 0; i < total;) {
      const Clock::time_point now = Clock::now();
      std::size_t added = 0;
      for (; i < total; ++i) {
        const auto due = start + std::chrono::nanoseconds(static_cast<std::int64_t>(
                                     std::llround(static_cast<double>(i) * ns_per_request)));
        if (due > now) {
          // At most one wake-up per kSchedulerTick: at 100 000 requests/s one per request would
          // re-arm the timer (a timerfd_settime) every 10 us, a fifth of the generator's CPU.
          // A request is then sent up to one tick after it was due, which its latency (from
          // the due time) includes.
          timer.expires_at(std::max(due, now + kSchedulerTick));
          break;
        }
        pending.push_back(due);
        ++added;
      }
      result.scheduled += added;
      wake_idle(added);
      if (i < total) co_await timer.async_wait(tuple_awaitable);
    }
    scheduling_done = true;
    if (all_done()) {
      wake_idle(idle.size());
      if (sweep_timer) sweep_timer->cancel();
    }
  }

  // One keep-alive connection: takes the oldest due request, sends it, reads the answer.
  asio::awaitable<void> worker(Slot& slot) {
    std::optional<tcp::socket> sock;
    beast::flat_buffer buf;
    asio::steady_timer idle_timer(io);
    http::request<http::empty_body> req{http::verb::get, opt.path, 11};
    req.set(http::field::host, opt.host + ":" + std::to_string(opt.port));
    req.set(http::field::user_agent, "nodelab-loadgen");
    req.keep_alive(true);

    const auto drop = [&] {
      slot.sock = nullptr;
      boost::system::error_code ignored;
      if (sock) sock->close(ignored);
      sock.reset();
      buf.clear();
    };

    for (;;) {
      if (pending.empty()) {
        if (all_done()) break;
        idle_timer.expires_at(Clock::time_point::max());
        idle.push_back(&idle_timer);
        co_await idle_timer.async_wait(tuple_awaitable);
        continue;
      }
      const Clock::time_point due = pending.front();
      pending.pop_front();

      // The sweeper closes the socket at the deadline; the operation in progress then fails.
      slot.timed_out = false;
      slot.deadline = Clock::now() + opt.timeout;

      if (!sock) {
        sock.emplace(io);
        slot.sock = &*sock;
        auto [ec] = co_await sock->async_connect(endpoint, tuple_awaitable);
        if (ec) {
          ++(slot.timed_out ? result.errors_timeout : result.errors_connect);
          errors.fetch_add(1, std::memory_order_relaxed);
          drop();
          finish_one(Clock::now());
          continue;
        }
        ++result.connections_opened;
        boost::system::error_code ignored;
        sock->set_option(tcp::no_delay(true), ignored);
      }
      slot.sock = &*sock;

      const Clock::time_point sent_at = Clock::now();
      ++result.sent;
      sent.fetch_add(1, std::memory_order_relaxed);
      auto [wec, wn] = co_await http::async_write(*sock, req, tuple_awaitable);
      http::response<http::string_body> res;
      boost::system::error_code rec = wec;
      if (!wec && buf.size() == 0) {
        // Wait for the answer before reading: a read straight after the write would find
        // nothing yet (one wasted recv per request).
        auto [ec] = co_await sock->async_wait(tcp::socket::wait_read, tuple_awaitable);
        rec = ec;
      }
      if (!rec) {
        auto [ec, n] = co_await http::async_read(*sock, buf, res, tuple_awaitable);
        rec = ec;
      }
      slot.deadline = Clock::time_point::max();
      const Clock::time_point now = Clock::now();
      if (rec) {
        ++(slot.timed_out ? result.errors_timeout : result.errors_io);
        errors.fetch_add(1, std::memory_order_relaxed);
        drop();
        finish_one(now);
        continue;
      }
      ++result.completed;
      completed.fetch_add(1, std::memory_order_relaxed);
      const unsigned status = res.result_int();
      ++(status >= 200 && status < 300   ? result.status_2xx
         : status >= 400 && status < 500 ? result.status_4xx
         : status >= 500 && status < 600 ? result.status_5xx
                                         : result.status_other);
      result.latency_us.record(micros(now - due));
      result.service_us.record(micros(now - sent_at));
      if (!res.keep_alive()) drop();
      finish_one(now);
    }
    drop();
  }
};

LoadGen::LoadGen(LoadGenOptions options) : options_(std::move(options)) {
  if (!(options_.rate > 0) || !std::isfinite(options_.rate)) {
    throw std::invalid_argument("LoadGen: rate must be a positive number of requests per second");
  }
  if (options_.connections == 0) throw std::invalid_argument("LoadGen: connections must be >= 1");
  if (options_.port == 0) throw std::invalid_argument("LoadGen: no port");
  if (options_.timeout.count() <= 0) throw std::invalid_argument("LoadGen: timeout must be > 0");
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(options_.host, ec);
  if (ec) throw std::invalid_argument("LoadGen: host must be a numeric address: " + options_.host);
  impl_ = std::make_unique<Impl>(options_);
  impl_->endpoint = tcp::endpoint(address, options_.port);
  impl_->total =
      options_.requests != 0
          ? options_.requests
          : static_cast<std::uint64_t>(std::llround(
                options_.rate * static_cast<double>(options_.duration.count()) / 1000.0));
}

LoadGen::~LoadGen() {
  stop();
}

void LoadGen::start() {
  if (thread_.joinable() || done()) return;
  Impl& m = *impl_;
  m.start = m.last_end = Clock::now();
  const auto on_error = [](const std::exception_ptr&) {};
  asio::co_spawn(m.io, m.schedule(), on_error);
  m.sweep_timer.emplace(m.io);
  asio::co_spawn(m.io, m.sweep(), on_error);
  for (std::uint32_t i = 0; i < options_.connections; ++i) {
    asio::co_spawn(m.io, m.worker(m.slots.emplace_back()), on_error);
  }
  thread_ = std::thread([this, &m] {
    m.io.run();
    done_.store(true, std::memory_order_release);
  });
}

void LoadGen::stop() {
  if (!thread_.joinable()) return;
  if (!done()) {
    asio::post(impl_->io, [this] {
      impl_->result.stopped = impl_->finished < impl_->total;
      impl_->io.stop();
    });
  }
  thread_.join();
}

LoadGenResult LoadGen::wait() {
  if (thread_.joinable()) thread_.join();
  LoadGenResult r = impl_->result;
  r.elapsed_ms = std::chrono::duration<double, std::milli>(impl_->last_end - impl_->start).count();
  r.achieved_rate = r.elapsed_ms > 0 ? static_cast<double>(r.completed) * 1000.0 / r.elapsed_ms : 0;
  return r;
}

LoadGen::Progress LoadGen::progress() const {
  return {impl_->sent.load(std::memory_order_relaxed),
          impl_->completed.load(std::memory_order_relaxed),
          impl_->errors.load(std::memory_order_relaxed)};
}

LoadGenResult LoadGen::run(LoadGenOptions options) {
  LoadGen g(std::move(options));
  g.start();
  return g.wait();
}

}  // namespace nodelab::peers
