#include "peers/asio_side.hpp"

#include <fmt/format.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/multiple_exceptions.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <stdexcept>
#include <string_view>

namespace nodelab::peers::asio_side {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::use_awaitable;
using asio::ip::tcp;
using Clock = std::chrono::steady_clock;

std::size_t Outcome::count(ChildEnd e) const {
  std::size_t n = 0;
  for (const Child& c : children)
    n += c.end == e ? 1 : 0;
  return n;
}

const char* pattern_name(Pattern p) {
  switch (p) {
    case Pattern::race_timeout:
      return "call || timer";
    case Pattern::all_fail_fast:
      return "call && call";
    case Pattern::group_one_error:
      return "parallel_group wait_for_one_error";
  }
  return "?";
}

const char* end_name(ChildEnd e) {
  switch (e) {
    case ChildEnd::ok:
      return "ok";
    case ChildEnd::failed:
      return "failed";
    case ChildEnd::cancelled:
      return "cancelled";
  }
  return "?";
}

namespace {

std::string describe(const std::exception_ptr& ep) {
  if (!ep) return "ok";
  try {
    std::rethrow_exception(ep);
  } catch (const asio::multiple_exceptions& m) {
    return "multiple_exceptions (first: " + describe(m.first_exception()) + ")";
  } catch (const boost::system::system_error& e) {
    if (e.code() == asio::error::operation_aborted) return "operation aborted";
    return e.code().message();
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "unknown exception";
  }
}

// One GET on a connection of its own. Cancelled (the group's cancellation reaches every
// pending Asio operation through the coroutine's cancellation slot), it ends with
// operation_aborted, and the stream's destructor closes the socket: the downstream sees EOF.
asio::awaitable<void> call(Child& c, std::uint16_t port) {
  beast::tcp_stream stream(co_await asio::this_coro::executor);
  try {
    co_await stream.async_connect(tcp::endpoint(asio::ip::address_v4::loopback(), port),
                                  use_awaitable);
    http::request<http::empty_body> req{http::verb::get, c.path, 11};
    req.set(http::field::host, "127.0.0.1");
    co_await http::async_write(stream, req, use_awaitable);
    beast::flat_buffer buffer;
    http::response<http::string_body> res;
    co_await http::async_read(stream, buffer, res, use_awaitable);
    c.status = static_cast<int>(res.result_int());
  } catch (const boost::system::system_error& e) {
    const bool aborted = e.code() == asio::error::operation_aborted;
    c.end = aborted ? ChildEnd::cancelled : ChildEnd::failed;
    c.error = aborted ? "operation aborted" : e.code().message();
    throw;
  }
  if (c.status >= 400) {
    c.end = ChildEnd::failed;
    c.error = fmt::format("status {} from {}", c.status, c.path);
    throw std::runtime_error(c.error);
  }
  c.end = ChildEnd::ok;
}

asio::awaitable<void> sleep(std::chrono::milliseconds ms) {
  asio::steady_timer t(co_await asio::this_coro::executor, ms);
  co_await t.async_wait(use_awaitable);
}

asio::awaitable<void> caller(const Options& o, Outcome& out) {
  using namespace asio::experimental::awaitable_operators;
  auto& kids = out.children;
  switch (o.pattern) {
    case Pattern::race_timeout: {
      // The timer is the second operand: when it wins, the call is cancelled and awaited.
      const auto won = co_await (call(kids.at(0), o.port) || sleep(o.timeout));
      out.caller_saw = won.index() == 0 ? "ok" : "timeout";
      co_return;
    }
    case Pattern::all_fail_fast: {
      asio::awaitable<void> all = call(kids.at(0), o.port);
      for (std::size_t i = 1; i < kids.size(); ++i)
        all = std::move(all) && call(kids[i], o.port);
      co_await std::move(all);
      out.caller_saw = "ok";
      co_return;
    }
    case Pattern::group_one_error: {
      auto ex = co_await asio::this_coro::executor;
      using Op = decltype(asio::co_spawn(ex, call(kids[0], o.port), asio::deferred));
      std::vector<Op> ops;
      ops.reserve(kids.size());
      for (Child& c : kids)
        ops.push_back(asio::co_spawn(ex, call(c, o.port), asio::deferred));
      auto [order, errors] =
          co_await asio::experimental::make_parallel_group(std::move(ops))
              .async_wait(asio::experimental::wait_for_one_error(), use_awaitable);
      // The first child to complete with an error, by completion order.
      for (std::size_t i : order) {
        if (errors[i]) std::rethrow_exception(errors[i]);
      }
      out.caller_saw = "ok";
      co_return;
    }
  }
}

}  // namespace

Outcome run(const Options& o) {
  Outcome out;
  for (const std::string& p : o.paths)
    out.children.push_back(Child{p, ChildEnd::ok, 0, {}});
  if (out.children.empty()) throw std::invalid_argument("asio_side::run: no calls");
  asio::io_context io;
  const auto start = Clock::now();
  asio::co_spawn(io, caller(o, out), [&out](const std::exception_ptr& ep) {
    if (!ep) return;
    out.caller_failed = true;
    out.caller_saw = describe(ep);
  });
  io.run();
  // The innermost exception the caller can reach (multiple_exceptions nest: "... (first: X))").
  std::string_view innermost = out.caller_saw;
  while (innermost.ends_with(')'))
    innermost.remove_suffix(1);
  out.failure_hidden = out.caller_failed && out.count(ChildEnd::failed) > 0 &&
                       innermost.ends_with("operation aborted");
  out.elapsed_ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  return out;
}

}  // namespace nodelab::peers::asio_side
