// The promise engine (runtime/promise.hpp) through its C++ API. Each expected order was
// printed by node v20.20.2 for the JS quoted above the test; `ticks(n)` is
//   let p = Promise.resolve(); for (let i = 1; i <= n; i++) p = p.then(() => log('t' + i));
// (tick i runs i hops after the code that started it), called last, so a line logged at hop k
// comes just before tk.

#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <vector>

#include "runtime/promise.hpp"
#include "runtime/runtime.hpp"
#include "support/runtime_helpers.hpp"

using namespace nodelab;
using runtime::JsValue;
using runtime::PromiseEngine;
using runtime::PromiseRef;
using runtime::PromiseState;
using runtime::Runtime;
using namespace std::chrono_literals;
using Lines = std::vector<std::string>;

namespace {

void ticks(PromiseEngine& e, int n) {
  PromiseRef p = e.promise_resolve(JsValue(), 0);
  for (int i = 1; i <= n; ++i) {
    p = e.then(
        p,
        [&e, i](const JsValue&) {
          e.rt().log("t" + std::to_string(i));
          return JsValue();
        },
        {}, 0);
  }
}

runtime::Handler logs(Runtime& rt, std::string text) {
  return [&rt, text](const JsValue& v) {
    rt.log(text + " " + runtime::show(v));
    return JsValue();
  };
}

}  // namespace

// const a = Promise.resolve(1);
// new Promise(r => r(a)).then(() => log('new Promise(r=>r(p))'));
// Promise.resolve(a).then(() => log('Promise.resolve(p)')); ticks(4);
// -> Promise.resolve(p) t1 t2 new Promise(r=>r(p)) t3 t4
TEST_CASE("promise.resolving_with_a_native_promise_costs_two_hops") {
  runtime::Watchdog wd(20s);
  Runtime rt;
  PromiseEngine e(rt);
  const auto result = rt.run([&] {
    PromiseRef a = e.promise_resolve(JsValue::of_number(1), 0);
    PromiseRef outer = e.create();
    e.resolving_functions(outer, 0).resolve(JsValue::of(a));
    e.then(outer, logs(rt, "new Promise(r=>r(p))"), {}, 0);
    PromiseRef same = e.promise_resolve(JsValue::of(a), 0);
    CHECK(same == a);  // Promise.resolve(nativePromise) returns it as is
    e.then(same, logs(rt, "Promise.resolve(p)"), {}, 0);
    ticks(e, 4);
  });
  CHECK(result.outcome == runtime::Outcome::completed);
  CHECK(testing::log_texts(rt) ==
        Lines{"Promise.resolve(p) 1", "t1", "t2", "new Promise(r=>r(p)) 1", "t3", "t4"});
  CHECK(e.stats().thenable_jobs == 1);
}

// a.finally(() => log('finally body')).then(() => log('after finally'));
// a.then(() => log('then')).then(() => log('after then')); ticks(5);
// -> finally body, then, t1, after then, t2, t3, after finally, t4, t5
TEST_CASE("promise.finally_settles_three_hops_after_the_original") {
  runtime::Watchdog wd(20s);
  Runtime rt;
  PromiseEngine e(rt);
  PromiseRef fin;
  rt.run([&] {
    PromiseRef a = e.promise_resolve(JsValue::of_number(1), 0);
    fin = e.finally(
        a,
        [&] {
          rt.log("finally body");
          return JsValue();
        },
        0);
    e.then(fin, logs(rt, "after finally"), {}, 0);
    e.then(e.then(a, logs(rt, "then"), {}, 0), logs(rt, "after then"), {}, 0);
    ticks(e, 5);
  });
  CHECK(testing::log_texts(rt) == Lines{"finally body", "then 1", "t1", "after then undefined",
                                        "t2", "t3", "after finally 1", "t4", "t5"});
  CHECK(fin->settle_hop() == 3);
}

// const a = Promise.resolve(1), b = Promise.reject(new Error('b'));
// Promise.all([a, 2]).then(...); Promise.allSettled([a, b]).then(...);
// Promise.race([a, b]).then(...); Promise.any([b, a]).then(...);
// Promise.all([a, b]).catch(...); Promise.any([b]).catch(...); Promise.all([]).then(...);
// ticks(3) -> all empty, t1, all 1,2, allSettled 2, race 1, any 1, all rejected b,
//             any rejected All promises were rejected 1, t2, t3
TEST_CASE("promise.combinators_settle_one_hop_after_their_deciding_input") {
  runtime::Watchdog wd(20s);
  Runtime rt;
  PromiseEngine e(rt);
  using C = PromiseEngine::Combinator;
  std::vector<PromiseRef> made;
  const auto result = rt.run([&] {
    PromiseRef a = e.promise_resolve(JsValue::of_number(1), 0);
    PromiseRef b = e.promise_reject(JsValue::error("Error", "b"));
    const JsValue va = JsValue::of(a), vb = JsValue::of(b);
    made.push_back(e.combine(C::all, {va, JsValue::of_number(2)}, 0));
    e.then(made.back(), logs(rt, "all"), {}, 0);
    made.push_back(e.combine(C::all_settled, {va, vb}, 0));
    e.then(made.back(), logs(rt, "allSettled"), {}, 0);
    made.push_back(e.combine(C::race, {va, vb}, 0));
    e.then(made.back(), logs(rt, "race"), {}, 0);
    made.push_back(e.combine(C::any, {vb, va}, 0));
    e.then(made.back(), logs(rt, "any"), {}, 0);
    e.catch_(e.combine(C::all, {va, vb}, 0), logs(rt, "all rejected"), 0);
    e.catch_(e.combine(C::any, {vb}, 0), logs(rt, "any rejected"), 0);
    made.push_back(e.combine(C::all, {}, 0));
    e.then(made.back(), logs(rt, "all empty"), {}, 0);
    ticks(e, 3);
  });
  // b was handled synchronously by the combinators: no unhandled rejection.
  CHECK(result.outcome == runtime::Outcome::completed);
  CHECK(testing::log_texts(rt) ==
        Lines{"all empty []", "t1", "all [1, 2]",
              "allSettled [{ status: 'fulfilled', value: 1 }, { status: 'rejected', reason: "
              "Error: b }]",
              "race 1", "any 1", "all rejected Error: b",
              "any rejected AggregateError: All promises were rejected [Error: b]", "t2", "t3"});
  CHECK(made[0]->settle_hop() == 1);
  CHECK(made[4]->settle_hop() == 0);  // Promise.all([]) fulfills synchronously
}

// (async () => { const v = await { then(r) { log('thenable.then'); r(7); } }; log(...) })();
// (async () => { const v = await a; log('await native ' + v); })(); ticks(3)
// -> thenable.then, await native 1, t1, await thenable 7, t2, t3
TEST_CASE("promise.await_a_native_promise_is_one_hop_a_thenable_two") {
  runtime::Watchdog wd(20s);
  Runtime rt;
  PromiseEngine e(rt);
  rt.run([&] {
    PromiseRef a = e.promise_resolve(JsValue::of_number(1), 0);
    auto t = std::make_shared<runtime::Thenable>();
    t->then = [&](const runtime::ResolvingFunctions& f) {
      rt.log("thenable.then");
      f.resolve(JsValue::of_number(7));
    };
    e.await(
        JsValue::of(t), [&](bool, const JsValue& v) { rt.log("await thenable " + show(v)); }, 0);
    e.await(
        JsValue::of(a), [&](bool, const JsValue& v) { rt.log("await native " + show(v)); }, 0);
    ticks(e, 3);
  });
  CHECK(testing::log_texts(rt) ==
        Lines{"thenable.then", "await native 1", "t1", "await thenable 7", "t2", "t3"});
}

// Promise.reject(new Error('x')) with no handler: V8 reports it; node (throw mode) dies with
// the reason once the drain ends.
TEST_CASE("promise.rejection_without_handler_is_reported_and_late_handler_revokes_it") {
  runtime::Watchdog wd(20s);
  {
    Runtime rt;
    PromiseEngine e(rt);
    const auto result = rt.run([&] { e.promise_reject(JsValue::error("Error", "x")); });
    CHECK(result.outcome == runtime::Outcome::unhandled_rejection);
    CHECK(result.error.message == "x");
    CHECK(e.stats().unhandled == 1);
  }
  {
    // const p = Promise.reject(new Error('x')); Promise.resolve().then(() => p.catch(() => {}));
    // -> node exits 0: the handler came within the same drain (handledRejection).
    Runtime rt;
    PromiseEngine e(rt);
    const auto result = rt.run([&] {
      PromiseRef p = e.promise_reject(JsValue::error("Error", "x"));
      e.then(
          e.promise_resolve(JsValue(), 0),
          [&e, p](const JsValue&) {
            e.catch_(
                p, [](const JsValue&) { return JsValue(); }, 0);
            return JsValue();
          },
          {}, 0);
    });
    CHECK(result.outcome == runtime::Outcome::completed);
    CHECK(e.stats().handled_late == 1);
  }
  {
    // Promise.reject(42): a non-Error reason; node dies with an UnhandledPromiseRejection
    // (ERR_UNHANDLED_REJECTION) naming it (tests/runtime/rejections_test.cpp).
    Runtime rt;
    PromiseEngine e(rt);
    const auto result = rt.run([&] { e.promise_reject(JsValue::of_number(42)); });
    CHECK(result.outcome == runtime::Outcome::unhandled_rejection);
    CHECK(result.error.code == "ERR_UNHANDLED_REJECTION");
    CHECK(result.error.message.ends_with("The promise rejected with the reason \"42\"."));
  }
}

// const p = new Promise(r => r(p)): TypeError: Chaining cycle detected for promise #<Promise>
TEST_CASE("promise.resolving_with_itself_rejects_with_a_type_error") {
  runtime::Watchdog wd(20s);
  Runtime rt;
  PromiseEngine e(rt);
  PromiseRef p;
  rt.run([&] {
    p = e.create();
    e.catch_(p, logs(rt, "caught"), 0);
    e.resolving_functions(p, 0).resolve(JsValue::of(p));
  });
  CHECK(testing::log_texts(rt) ==
        Lines{"caught TypeError: Chaining cycle detected for promise #<Promise>"});
}

// A handler's throw rejects the derived promise; a handler returning a promise adopts it
// (two hops more); the resolve functions work once.
// Promise.resolve().then(() => { throw new Error('h') }).catch(e => log('caught ' + e.message));
// Promise.resolve().then(() => Promise.resolve(2)).then(v => log('adopted ' + v)); ticks(5)
// -> t1 caught h t2 t3 adopted 2 t4 t5
TEST_CASE("promise.handler_throw_rejects_and_returned_promise_is_adopted") {
  runtime::Watchdog wd(20s);
  Runtime rt;
  PromiseEngine e(rt);
  rt.run([&] {
    PromiseRef r = e.promise_resolve(JsValue(), 0);
    e.catch_(e.then(
                 r, [](const JsValue&) -> JsValue { testing::js_throw("h"); }, {}, 0),
             logs(rt, "caught"), 0);
    e.then(e.then(
               r,
               [&e](const JsValue&) {
                 return JsValue::of(e.promise_resolve(JsValue::of_number(2), 0));
               },
               {}, 0),
           logs(rt, "adopted"), {}, 0);
    PromiseRef once = e.create();
    auto f = e.resolving_functions(once, 0);
    f.resolve(JsValue::of_number(1));
    f.reject(JsValue::error("Error", "late"));  // ignored: already resolved
    CHECK(once->state() == PromiseState::fulfilled);
    ticks(e, 5);
  });
  CHECK(testing::log_texts(rt) ==
        Lines{"t1", "caught Error: h", "t2", "t3", "adopted 2", "t4", "t5"});
}

TEST_CASE("promise.show_is_the_twin_display_rule") {
  CHECK(show(JsValue()) == "undefined");
  CHECK(show(JsValue::of_number(1.5)) == "1.5");
  CHECK(show(JsValue::of_string("a")) == "a");
  CHECK(show(JsValue::array({JsValue::of_string("a"), JsValue::of_number(2)})) == "['a', 2]");
  JsValue abort = JsValue::error("AbortError", "The operation was aborted", "ABORT_ERR");
  abort.cause = std::make_shared<JsValue>(JsValue::error("Error", "why"));
  CHECK(show(abort) == "AbortError [ABORT_ERR]: The operation was aborted (cause: Error: why)");
  CHECK(show(JsValue::settled(false, JsValue::of_string("r"))) ==
        "{ status: 'rejected', reason: 'r' }");
  CHECK(JsValue::of_number(42).message_text() == "undefined");
}
