#pragma once
// C++ beside Node: the same fan-out to a real downstream, written with Boost.Asio's C++20
// patterns instead of promises, to show where the two disagree.
//
//   pattern          Asio                                   Node counterpart
//   race_timeout     co_await (call(a) || timer(ms))       Promise.race([call(a), sleep(ms)])
//   all_fail_fast    co_await (call(a) && call(b) && ...)  Promise.all([call(a), call(b)])
//   group_one_error  make_parallel_group(calls...)          Promise.all over N calls
//                      .async_wait(wait_for_one_error())
//
// What differs (boost/asio/experimental/awaitable_operators.hpp, parallel_group.hpp, 1.81):
// - `||` cancels the losers AND waits for them to finish before it returns; Promise.race
//   settles at once and leaves the losers running, so their downstream work is wasted.
//   (In 1.81 `||` is wait_for_one_success: a child that fails first does not decide.)
// - `&&` and wait_for_one_error cancel the siblings at the first error; Promise.all rejects
//   at the first rejection and the siblings keep loading the downstream.
// - The error the caller sees: Promise.all rejects with the first rejection. `&&` rethrows
//   its first operand's exception, and when both operands failed (the cancelled sibling
//   reports operation_aborted too) throws `multiple_exceptions` holding the FIRST OPERAND's,
//   which may be the sibling's cancellation rather than the failure that caused it. A
//   parallel group returns every child's exception with the completion order, so the caller
//   can pick the first failure (order[0]).
//
// Cancelling a child closes its connection, so a downstream that watches its sockets sees
// the disconnect and stops the work. Everything here runs on its own io_context and thread;
// run() blocks until every child has finished.

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace nodelab::peers::asio_side {

enum class Pattern : std::uint8_t { race_timeout, all_fail_fast, group_one_error };

struct Options {
  std::uint16_t port = 0;  // the downstream on 127.0.0.1
  Pattern pattern = Pattern::race_timeout;
  std::vector<std::string> paths;        // one HTTP GET per child, e.g. "/work?ms=200&id=a"
  std::chrono::milliseconds timeout{0};  // race_timeout: the timer child
};

// How one child call ended.
enum class ChildEnd : std::uint8_t { ok, failed, cancelled };

struct Child {
  std::string path;
  ChildEnd end = ChildEnd::ok;
  int status = 0;     // the HTTP status when a response arrived
  std::string error;  // failed/cancelled: what the child threw
};

struct Outcome {
  // What the caller's co_await produced: "ok", "timeout", or the exception it caught,
  // e.g. "multiple_exceptions (first: operation aborted)" or "status 503 from /work?id=b".
  std::string caller_saw;
  bool caller_failed = false;
  // The caller caught a cancellation (a sibling's operation_aborted, first in
  // multiple_exceptions) although a child had failed: the failure that caused it is hidden.
  bool failure_hidden = false;
  std::vector<Child> children;
  double elapsed_ms = 0;  // from the first send until run() returned (every child finished)

  std::size_t count(ChildEnd e) const;
};

// Runs one pattern to the end on a fresh io_context (on the calling thread). Connection
// errors are children's failures, never exceptions out of run().
Outcome run(const Options& o);

const char* pattern_name(Pattern p);
const char* end_name(ChildEnd e);

}  // namespace nodelab::peers::asio_side
