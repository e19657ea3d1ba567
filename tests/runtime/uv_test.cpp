// RAII for libuv (runtime/uv.hpp): the loop guard detects a leaked handle in every build type,
// the normal paths leave uv_loop_close() == 0, requests of a gone owner drop their callbacks;
// and the one process spawner (runtime/process.hpp, uv_spawn).

#include <doctest/doctest.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <system_error>
#include <thread>

#include "runtime/port.hpp"
#include "runtime/process.hpp"
#include "runtime/runtime.hpp"
#include "runtime/uv.hpp"
#include "support/runtime_helpers.hpp"

using namespace nodelab;
using namespace std::chrono_literals;

namespace {

// Counts leaks instead of aborting for the scope of a test.
struct CountLeaks {
  CountLeaks() { uv::set_on_leak(uv::OnLeak::count); }
  ~CountLeaks() { uv::set_on_leak(uv::OnLeak::abort); }
};

}  // namespace

TEST_CASE("uv.loop_guard_reports_a_leaked_handle") {
  CountLeaks counting;
  const std::uint64_t before = uv::leak_count();
  // A handle nobody closes: the guard names it, closes it, and fails the close.
  auto leaked = std::make_unique<uv_timer_t>();
  uv::Loop loop;
  REQUIRE(uv_timer_init(loop.get(), leaked.get()) == 0);
  CHECK(uv::open_handles(loop.get()) == std::vector<std::string>{"timer"});
  CHECK(loop.close() == UV_EBUSY);
  CHECK(uv::leak_count() == before + 1);
  CHECK(loop.close() == UV_EBUSY);  // idempotent: reported once
  CHECK(uv::leak_count() == before + 1);
}

TEST_CASE("uv.handles_closed_by_their_owners_leave_the_loop_clean") {
  CountLeaks counting;
  const std::uint64_t before = uv::leak_count();
  uv::Loop loop;
  bool closed = false;
  {
    auto timer = uv::Handle<uv_timer_t>::make(loop.get());
    auto async = uv::Handle<uv_async_t>::make(loop.get(), [](uv_async_t*) {});
    auto pipe = uv::Handle<uv_pipe_t>::make(loop.get(), 0);
    CHECK(uv::open_handles(loop.get()).size() == 3);
    timer->data = &closed;
    timer.close([](uv_timer_t* t) { *static_cast<bool*>(t->data) = true; });
    CHECK_FALSE(timer);
    auto moved = std::move(async);
    CHECK_FALSE(async);
    CHECK(moved);
  }  // the destructors close the rest
  CHECK(uv::open_handles(loop.get()).empty());
  CHECK(loop.close() == 0);
  CHECK(closed);
  CHECK(uv::leak_count() == before);
}

TEST_CASE("uv.check_throws_system_error_with_libuv_message") {
  try {
    uv::check(UV_EINVAL, "uv_thing_init");
    FAIL("no throw");
  } catch (const std::system_error& e) {
    CHECK(e.code().value() == EINVAL);
    CHECK(std::string(e.what()).find("uv_thing_init: invalid argument") != std::string::npos);
  }
  CHECK_NOTHROW(uv::check(0, "fine"));
}

TEST_CASE("uv.requests_of_a_gone_owner_complete_without_their_callback") {
  CountLeaks counting;
  const std::uint64_t before = uv::leak_count();
  uv::Loop loop;
  using Work = uv::Req<uv_work_t, int>;
  int called = 0;
  {
    uv::Requests owner;
    for (int i = 0; i < 3; ++i) {
      auto w = Work::make(
          &owner, [&called](int& n, int) { called += n; }, 1);
      REQUIRE(Work::submit(w, [&](uv_work_t* req) {
                return uv_queue_work(
                    loop.get(), req, [](uv_work_t*) { std::this_thread::sleep_for(5ms); },
                    Work::on_done);
              }) == 0);
      CHECK_FALSE(w);  // libuv has it
    }
    CHECK(owner.size() == 3);
  }                          // the owner goes before the loop runs
  CHECK(loop.close() == 0);  // the requests completed (and freed themselves)
  CHECK(called == 0);
  CHECK(uv::leak_count() == before);

  uv::Loop again;
  uv::Requests owner;
  auto w = Work::make(
      &owner, [&called](int& n, int status) { called += status == 0 ? n : 100; }, 7);
  REQUIRE(Work::submit(w, [&](uv_work_t* req) {
            return uv_queue_work(
                again.get(), req, [](uv_work_t*) {}, Work::on_done);
          }) == 0);
  CHECK(again.close() == 0);
  CHECK(called == 7);
  CHECK(owner.size() == 0);
}

TEST_CASE("uv.runtime_paths_leave_uv_loop_close_zero") {
  CountLeaks counting;
  const std::uint64_t before = uv::leak_count();
  runtime::Runtime rt;
  int port_messages = 0;
  runtime::RunResult result;
  {
    runtime::Watchdog wd(10s);  // a hang fails the run, not the binary
    result = rt.run([&] {
      rt.set_timeout(1, testing::logger(rt, "timeout"), 1);
      const runtime::TimerId tick = rt.set_interval(
          1, [] {}, 2);
      rt.set_immediate(testing::logger(rt, "immediate"), 3);
      rt.queue_threadpool(1ms, testing::logger(rt, "pool"), 4);
      rt.read_file("/proc/self/status", testing::logger(rt, "readFile"), 5);
      rt.close_handle(testing::logger(rt, "close"), 6);
      auto port = std::make_shared<runtime::Port>(rt, 7);
      port->post([&rt, &port_messages, port, tick] {
        ++port_messages;
        port->close();
        rt.set_timeout(
            20,
            [&rt, tick] {
              rt.log("later");
              rt.clear_timer(tick);
            },
            8);
      });
    });
  }
  CHECK(result.outcome == runtime::Outcome::completed);
  auto logs = testing::log_texts(rt);
  std::sort(logs.begin(), logs.end());
  CHECK(logs ==
        std::vector<std::string>{"close", "immediate", "later", "pool", "readFile", "timeout"});
  CHECK(port_messages == 1);
  CHECK(rt.shutdown() == 0);
  CHECK(uv::leak_count() == before);
}

TEST_CASE("process.run_captures_output_stdin_and_exit_code") {
  process::Options o;
  o.pipe_stdin = true;
  o.stdin_text = "hello\n";
  const auto r = process::run({"sh", "-c", "cat; echo oops >&2; exit 3"}, o);
  CHECK(r.spawn_error == 0);
  CHECK(r.out == "hello\n");
  CHECK(r.err == "oops\n");
  CHECK(r.exit_code == 3);
  CHECK(r.term_signal == 0);
  CHECK_FALSE(r.timed_out);
}

TEST_CASE("process.run_reports_a_missing_program") {
  const auto r = process::run({"/nonexistent/nodelab-no-such-program"});
  CHECK(r.spawn_error == UV_ENOENT);
  CHECK(r.exit_code == -1);
}

TEST_CASE("process.run_times_out_and_sends_signals") {
  process::Options o;
  o.timeout = 100ms;
  const auto slow = process::run({"sleep", "10"}, o);
  CHECK(slow.timed_out);
  CHECK(slow.term_signal == SIGKILL);
  CHECK(slow.elapsed < 5s);

  process::Options s;
  s.signal = SIGTERM;
  s.signal_after = 50ms;
  s.timeout = 10s;
  const auto term = process::run({"sleep", "10"}, s);
  CHECK_FALSE(term.timed_out);
  CHECK(term.term_signal == SIGTERM);
  CHECK(term.exit_code == -1);
  CHECK(term.signal_to_exit >= 0ms);
}
