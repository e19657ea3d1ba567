// asio_side: Boost.Asio's awaitable operators and parallel group against a real Downstream.
// The failing call answers at once and the others are held (?ms=600000) until cancelled, so
// which child decides is fixed by the mechanism, never by speed.

#include "peers/asio_side.hpp"

#include <doctest/doctest.h>

#include "peers/downstream.hpp"
#include "peers/http_client.hpp"

namespace side = nodelab::peers::asio_side;
using nodelab::peers::Downstream;
using nodelab::peers::test::eventually;

namespace {

constexpr const char* kHold = "/work?ms=600000";
constexpr const char* kFail = "/work?ms=0&status=503";

}  // namespace

TEST_CASE("async.asio_side.race_cancels_and_awaits_the_loser") {
  Downstream ds;
  ds.start();
  const side::Outcome o =
      side::run({ds.port(), side::Pattern::race_timeout, {kHold}, std::chrono::milliseconds(20)});
  CHECK_FALSE(o.caller_failed);
  CHECK(o.caller_saw == "timeout");
  // run() returned only once the loser had finished: it was cancelled, not left running.
  REQUIRE(o.children.size() == 1);
  CHECK(o.children[0].end == side::ChildEnd::cancelled);
  // Its connection closed, so the downstream stopped the work: nothing wasted.
  CHECK(eventually([&] { return ds.stats(false).cancelled == 1; }));
  CHECK(ds.stats(false).wasted == 0);
  CHECK(ds.stats(false).completed == 0);
}

TEST_CASE("async.asio_side.race_won_by_the_call") {
  Downstream ds;
  ds.start();
  const side::Outcome o = side::run(
      {ds.port(), side::Pattern::race_timeout, {"/work?ms=0"}, std::chrono::milliseconds(600000)});
  CHECK(o.caller_saw == "ok");
  CHECK(o.children[0].end == side::ChildEnd::ok);
  CHECK(o.children[0].status == 200);
}

TEST_CASE("async.asio_side.and_hides_the_failure_behind_the_siblings_cancellation") {
  Downstream ds;
  ds.start();
  // The held call is the FIRST operand: && throws multiple_exceptions holding its exception,
  // the cancellation, not the 503 that caused it.
  const side::Outcome o = side::run({ds.port(), side::Pattern::all_fail_fast, {kHold, kFail}, {}});
  CHECK(o.caller_failed);
  CHECK(o.caller_saw == "multiple_exceptions (first: operation aborted)");
  CHECK(o.failure_hidden);
  CHECK(o.children[0].end == side::ChildEnd::cancelled);
  CHECK(o.children[1].end == side::ChildEnd::failed);
  CHECK(o.children[1].status == 503);
  CHECK(eventually([&] { return ds.stats(false).cancelled == 1; }));

  // Swapped, the failure is the first operand's and the caller sees it.
  const side::Outcome swapped =
      side::run({ds.port(), side::Pattern::all_fail_fast, {kFail, kHold}, {}});
  CHECK(swapped.caller_saw ==
        std::string("multiple_exceptions (first: status 503 from ") + kFail + ")");
  CHECK(swapped.count(side::ChildEnd::cancelled) == 1);
  CHECK_FALSE(swapped.failure_hidden);
}

TEST_CASE("async.asio_side.parallel_group_cancels_every_sibling_and_reports_the_first_error") {
  Downstream ds;
  ds.start();
  const side::Outcome o =
      side::run({ds.port(), side::Pattern::group_one_error, {kHold, kFail, kHold}, {}});
  CHECK(o.caller_failed);
  CHECK(o.caller_saw == std::string("status 503 from ") + kFail);
  CHECK_FALSE(o.failure_hidden);
  CHECK(o.count(side::ChildEnd::cancelled) == 2);
  CHECK(o.count(side::ChildEnd::failed) == 1);
  CHECK(eventually([&] { return ds.stats(false).cancelled == 2; }));
  CHECK(ds.stats(false).wasted == 0);
}

TEST_CASE("async.asio_side.refused_connection_is_a_child_failure") {
  std::uint16_t port = 0;
  {
    Downstream ds;
    ds.start();
    port = ds.port();
  }  // stopped: nothing listens there now (the kernel does not reuse it at once)
  const side::Outcome o = side::run({port, side::Pattern::group_one_error, {"/work"}, {}});
  CHECK(o.caller_failed);
  CHECK(o.children[0].end == side::ChildEnd::failed);
  CHECK_FALSE(o.children[0].error.empty());
}
