// Unhandled rejections in Node 20's five --unhandled-rejections modes, the process events
// 'unhandledRejection' and 'rejectionHandled', and their warnings (lib/internal/process/
// promises.js), through the runtime's C++ API. Each expected order was printed by node
// v20.20.2 for the JS quoted above the test, run with the mode named there and a warning
// handler printing `'warning: ' + w.name + ': ' + w.message.split('\n')[0]`.

#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <vector>

#include "runtime/runtime.hpp"
#include "support/runtime_helpers.hpp"

using namespace nodelab;
using runtime::CallbackKind;
using runtime::JsError;
using runtime::Outcome;
using runtime::Phase;
using runtime::PromiseId;
using runtime::Runtime;
using runtime::RuntimeOptions;
using runtime::UnhandledRejections;
using namespace std::chrono_literals;
using namespace nodelab::testing;

namespace {

const std::string kWarningText =
    "warning: UnhandledPromiseRejectionWarning: Unhandled promise rejection. This error "
    "originated either by throwing inside of an async function without a catch block, or by "
    "rejecting a promise which was not handled with .catch(). To terminate the node process on "
    "unhandled promise rejection, use the CLI flag `--unhandled-rejections=strict` (see "
    "https://nodejs.org/api/cli.html#cli_unhandled_rejections_mode). (rejection id: ";

RuntimeOptions mode(UnhandledRejections m) {
  RuntimeOptions o;
  o.unhandled_rejections = m;
  return o;
}

// Promise.reject(reason): a promise rejected with no handler; its id.
PromiseId reject(Runtime& rt, JsError reason) {
  const PromiseId id = rt.new_promise_id();
  rt.promise_rejected_without_handler(id, std::move(reason));
  return id;
}

// p.catch(() => log(text)) on a promise already rejected: V8 reports the new handler at once
// and queues the reaction.
void catch_later(Runtime& rt, PromiseId p, std::string text) {
  rt.promise_handler_added_after_reject(p);
  promise(rt, logger(rt, std::move(text)));
}

// process.on('unhandledRejection', (e) => { log('unhandledRejection ' + e.message);
//   process.nextTick(() => log('tick from listener')); });
// process.on('rejectionHandled', () => log('rejectionHandled'));
// const a = Promise.reject(new Error('a'));
// Promise.resolve().then(() => { a.catch(() => log('a caught')); });
// const b = Promise.reject(new Error('b'));
// process.nextTick(() => log('tick'));
// setImmediate(() => { log('immediate'); b.catch(() => log('b caught late')); });
// log('main');
void listeners_and_two_rejections(Runtime& rt) {
  rt.on_unhandled_rejection(
      [&rt](const JsError& e, PromiseId) {
        rt.log("unhandledRejection " + e.message);
        rt.next_tick(logger(rt, "tick from listener"), 0);
      },
      0);
  rt.on_rejection_handled([&rt](PromiseId) { rt.log("rejectionHandled"); }, 0);
  const PromiseId a = reject(rt, JsError{"Error", "", "a"});
  promise(rt, [&rt, a] { catch_later(rt, a, "a caught"); });
  const PromiseId b = reject(rt, JsError{"Error", "", "b"});
  rt.next_tick(logger(rt, "tick"), 0);
  rt.set_immediate(
      [&rt, b] {
        rt.log("immediate");
        catch_later(rt, b, "b caught late");
      },
      0);
  rt.log("main");
}

}  // namespace

// node --unhandled-rejections=throw (and none: the same lines)
//   -> main tick "a caught" "unhandledRejection b" "tick from listener" immediate
//      "b caught late" rejectionHandled   (exit 0)
TEST_CASE("rejections.a_listener_handles_the_rejection_in_throw_mode") {
  for (const auto m : {UnhandledRejections::throw_, UnhandledRejections::none}) {
    CAPTURE(runtime::mode_name(m));
    runtime::Watchdog wd(20s);
    Runtime rt(mode(m));
    const auto result = rt.run([&] { listeners_and_two_rejections(rt); });
    CHECK(result.outcome == Outcome::completed);
    CHECK(result.exit_code == 0);
    // a's handler came in a later microtask of the same drain: before processPromiseRejections,
    // so no event. b was still unhandled at the check: the listener ran, after the whole drain;
    // its late handler (in a macrotask) made 'rejectionHandled' fire after the reaction ran.
    CHECK(log_texts(rt) == std::vector<std::string>{"main", "tick", "a caught",
                                                    "unhandledRejection b", "tick from listener",
                                                    "immediate", "b caught late",
                                                    "rejectionHandled"});
    const auto* listener = logged_by(rt, "unhandledRejection b");
    REQUIRE(listener != nullptr);
    CHECK(listener->kind == CallbackKind::process_event);
    CHECK(listener->phase == Phase::next_tick);
    const auto& s = rt.rejection_stats();
    CHECK(s.raised == 2);
    CHECK(s.handled_in_drain == 1);
    CHECK(s.unhandled == 1);
    CHECK(s.events == 1);
    CHECK(s.handled_late == 1);
    CHECK(s.rejection_handled_events == 1);
    CHECK(s.warnings == 0);
    CHECK(rt.shutdown() == 0);
  }
}

// node --unhandled-rejections=warn: the listener runs and the warnings follow (on nextTick,
// after the tick the listener queued); b's rejection id is 2 (a took 1, though handled in time)
TEST_CASE("rejections.warn_mode_warns_even_with_a_listener") {
  runtime::Watchdog wd(20s);
  Runtime rt(mode(UnhandledRejections::warn));
  const auto result = rt.run([&] { listeners_and_two_rejections(rt); });
  CHECK(result.outcome == Outcome::completed);
  CHECK(result.exit_code == 0);
  CHECK(log_texts(rt) ==
        std::vector<std::string>{
            "main", "tick", "a caught", "unhandledRejection b", "tick from listener",
            "warning: UnhandledPromiseRejectionWarning: Error: b", kWarningText + "2)", "immediate",
            "b caught late", "rejectionHandled"});
  CHECK(rt.rejection_stats().warnings == 2);
  CHECK(rt.shutdown() == 0);
}

// node --unhandled-rejections=strict: main tick "a caught" (exit 1): the uncaught exception comes
// before 'unhandledRejection', so the listener never runs
TEST_CASE("rejections.strict_mode_dies_before_the_listener") {
  runtime::Watchdog wd(20s);
  Runtime rt(mode(UnhandledRejections::strict));
  const auto result = rt.run([&] { listeners_and_two_rejections(rt); });
  CHECK(result.outcome == Outcome::unhandled_rejection);
  CHECK(result.error.message == "b");
  CHECK(log_texts(rt) == std::vector<std::string>{"main", "tick", "a caught"});
  CHECK(rt.rejection_stats().events == 0);
  CHECK(rt.process_exit_code() == 1);
  CHECK(rt.shutdown() == 0);
}

// process.on('warning', ...); const a = Promise.reject(42); const b = Promise.reject('text
// reason'); setTimeout(() => { log('timer'); a.catch(() => log('a caught late')); }, 0);
// log('main');
//   warn-with-error-code -> main, "...Warning: 42", "... (rejection id: 1)", "...Warning: text
//   reason", "... (rejection id: 2)", timer, "a caught late", "warning:
//   PromiseRejectionHandledWarning: Promise rejection was handled asynchronously (rejection id:
//   1)"   (exit 1; warn: the same lines, exit 0)
TEST_CASE("rejections.warn_modes_without_listeners_and_a_late_handler") {
  for (const auto m : {UnhandledRejections::warn, UnhandledRejections::warn_with_error_code}) {
    CAPTURE(runtime::mode_name(m));
    runtime::Watchdog wd(20s);
    Runtime rt(mode(m));
    const auto result = rt.run([&] {
      const PromiseId a = reject(rt, JsError{"", "", "42", false});
      reject(rt, JsError{"", "", "'text reason'", false});
      rt.set_timeout(
          0,
          [&rt, a] {
            rt.log("timer");
            catch_later(rt, a, "a caught late");
          },
          0);
      rt.log("main");
    });
    CHECK(result.outcome == Outcome::completed);
    CHECK(result.exit_code == (m == UnhandledRejections::warn ? 0 : 1));
    CHECK(log_texts(rt) ==
          std::vector<std::string>{
              "main", "warning: UnhandledPromiseRejectionWarning: 42", kWarningText + "1)",
              "warning: UnhandledPromiseRejectionWarning: text reason", kWarningText + "2)",
              "timer", "a caught late",
              "warning: PromiseRejectionHandledWarning: Promise rejection was handled "
              "asynchronously (rejection id: 1)"});
    CHECK(rt.rejection_stats().warnings == 5);
    CHECK(rt.shutdown() == 0);
  }
}

// node --unhandled-rejections=none: the same script -> main timer "a caught late" and the
// PromiseRejectionHandledWarning: 'none' silences only the unhandled warning
TEST_CASE("rejections.none_still_warns_of_a_rejection_handled_late") {
  runtime::Watchdog wd(20s);
  Runtime rt(mode(UnhandledRejections::none));
  const auto result = rt.run([&] {
    const PromiseId a = reject(rt, JsError{"", "", "42", false});
    rt.set_timeout(
        0,
        [&rt, a] {
          rt.log("timer");
          catch_later(rt, a, "a caught late");
        },
        0);
    rt.log("main");
  });
  CHECK(result.outcome == Outcome::completed);
  CHECK(log_texts(rt) == std::vector<std::string>{"main", "timer", "a caught late",
                                                  "warning: PromiseRejectionHandledWarning: "
                                                  "Promise rejection was handled asynchronously "
                                                  "(rejection id: 1)"});
  CHECK(rt.shutdown() == 0);
}

// node (throw): Promise.reject(42); log('main') -> main (exit 1), stderr:
//   UnhandledPromiseRejection: This error originated ... with the reason "42". { code:
//   'ERR_UNHANDLED_REJECTION' }
TEST_CASE("rejections.a_non_error_reason_dies_as_err_unhandled_rejection") {
  runtime::Watchdog wd(20s);
  Runtime rt;
  const auto result = rt.run([&] {
    reject(rt, JsError{"", "", "'x'", false});
    rt.log("main");
  });
  CHECK(result.outcome == Outcome::unhandled_rejection);
  CHECK(result.error.name == "UnhandledPromiseRejection");
  CHECK(result.error.code == "ERR_UNHANDLED_REJECTION");
  CHECK(result.error.message ==
        "This error originated either by throwing inside of an async function without a catch "
        "block, or by rejecting a promise which was not handled with .catch(). The promise "
        "rejected with the reason \"x\".");
  CHECK(log_texts(rt) == std::vector<std::string>{"main"});
  CHECK(rt.shutdown() == 0);
}

// node: process.on('unhandledRejection', () => { log('listener'); throw new Error('listener
//   threw'); }); Promise.reject(new Error('r')); process.nextTick(() => setImmediate(() =>
//   log('immediate (never runs)'))); log('main') -> main listener (exit 1)
TEST_CASE("rejections.a_throw_in_the_listener_is_an_uncaught_exception") {
  runtime::Watchdog wd(20s);
  Runtime rt(mode(UnhandledRejections::none));
  const auto result = rt.run([&] {
    rt.on_unhandled_rejection(
        [&rt](const JsError&, PromiseId) {
          rt.log("listener");
          js_throw("listener threw");
        },
        0);
    reject(rt, JsError{"Error", "", "r"});
    rt.next_tick([&rt] { rt.set_immediate(logger(rt, "immediate (never runs)"), 0); }, 0);
    rt.log("main");
  });
  CHECK(result.outcome == Outcome::uncaught_exception);
  CHECK(result.error.message == "listener threw");
  CHECK(log_texts(rt) == std::vector<std::string>{"main", "listener"});
  CHECK(rt.shutdown() == 0);
}

TEST_CASE("rejections.mode_names_round_trip") {
  for (const auto name : runtime::kUnhandledRejectionsModes) {
    const auto m = runtime::parse_unhandled_rejections(name);
    REQUIRE(m.has_value());
    CHECK(runtime::mode_name(*m) == name);
  }
  CHECK_FALSE(runtime::parse_unhandled_rejections("warn_with_error_code").has_value());
  CHECK_FALSE(runtime::parse_unhandled_rejections("").has_value());
}
