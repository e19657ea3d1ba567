// Node 20's EventEmitter (common/events/event_emitter.hpp, as labs/emitter/emitter.hpp uses
// it), util.inspect's quoting of a string (runtime/js_inspect.hpp), and the emitter ops run as
// scenarios.
// Every expected value was printed by node v20.20.2 for the JS quoted above the test
// (lib/events.js, docs/node-semantics.md §7); the scenario tests also run the twin on real node
// when it is on PATH.

#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "emitter/emitter.hpp"
#include "emitter/world.hpp"
#include "runtime/js_inspect.hpp"
#include "runtime/runtime.hpp"
#include "script/expect.hpp"
#include "script/interpreter.hpp"
#include "script/scenario.hpp"
#include "script/twin.hpp"
#include "support/scenario_runner.hpp"

using namespace nodelab;
using emitter::EmitArg;
using emitter::EventEmitter;
using emitter::FunctionRef;
using runtime::js_inspect_string;
using runtime::JsError;
using runtime::JsThrow;
using Lines = std::vector<std::string>;
using namespace std::chrono_literals;

namespace {

using testing::node_available;

// ---- the model, driven directly ----

// What the emitter handed to process.emitWarning, in order.
struct Warnings {
  std::vector<std::pair<std::string, std::string>> seen;
  EventEmitter::WarningSink sink() {
    return [this](std::string_view name, const std::string& message) {
      seen.emplace_back(std::string(name), message);
    };
  }
};

// A JS function object with a body.
FunctionRef fn(const std::string& id, runtime::Task body = {}) {
  return std::make_shared<emitter::Function>(emitter::Function{id, std::move(body), {}});
}

// A listener that appends `text` to `out`.
FunctionRef pusher(Lines& out, const std::string& text) {
  return fn(text, [&out, text] { out.push_back(text); });
}

// The error `f` throws as a JsThrow, or nothing.
std::optional<JsError> thrown(const std::function<void()>& f) {
  try {
    f();
  } catch (const JsThrow& t) {
    return t.error();
  }
  return std::nullopt;
}

// Node 20's MaxListenersExceededWarning message (lib/events.js _addListener), for `n`
// listeners of `event` and a limit printed as `max`.
std::string leak_warning(int n, const std::string& event, const std::string& max) {
  return "Possible EventEmitter memory leak detected. " + std::to_string(n) + " " + event +
         " listeners added to [EventEmitter]. MaxListeners is " + max +
         ". Use emitter.setMaxListeners() to increase limit";
}

// ---- scenarios, run with the emitter lab's registry ----

const script::OpRegistry& lab_ops() {
  static const script::OpRegistry registry = emitter::registry();
  return registry;
}

// A scenario run with the emitter lab's ops, its figures collected as the lab collects them.
using EmitterRun = testing::RunOutput;
EmitterRun run_emitter_yaml(const std::string& yaml) {
  testing::RunOptions o;
  o.inspect = [](script::Interpreter& interp, runtime::Runtime&, testing::RunOutput& out) {
    interp.extension<emitter::World>().collect(out.metrics);
  };
  const EmitterRun run = testing::run_yaml(yaml, lab_ops(), o);
  CHECK(run.loop_closed_cleanly);
  return run;
}
// The located load error as the lab prints it, the file name replaced by FILE; "" if it loaded.
std::string emitter_load_error(const std::string& yaml) {
  return testing::load_error(yaml, lab_ops());
}
std::string emitter_twin(const std::string& yaml) {
  return testing::twin_of(yaml, lab_ops());
}

using testing::NodeRun;
using testing::run_node;  // `node FILE.js`, stderr dropped

// node prints the lab's lines for the twin of `yaml`, and exits 1 exactly when the simulated
// process died.
void check_node_agrees(const std::string& yaml, const EmitterRun& lab) {
  if (!node_available()) {
    MESSAGE("node is not on PATH: parity check skipped");
    return;
  }
  const NodeRun node = run_node(emitter_twin(yaml));
  CHECK(node.lines == lab.lines);
  const bool died = lab.result.outcome == runtime::Outcome::uncaught_exception ||
                    lab.result.outcome == runtime::Outcome::unhandled_rejection;
  CHECK(node.exit_code == (died ? 1 : 0));
}

}  // namespace

// ==== the EventEmitter model ====

// node: e.on('x', a); e.once('x', o); e.prependListener('x', p); e.prependOnceListener('x', po);
//   e.emit('x'); e.emit('x')   -> po p a o p a, listenerCount 2
TEST_CASE("emitter.registration_order_with_prepend_once_and_prepend_once") {
  Warnings w;
  EventEmitter e(w.sink());
  Lines out;
  e.on("x", pusher(out, "a"));
  e.once("x", pusher(out, "o"));
  e.prepend_listener("x", pusher(out, "p"));
  e.prepend_once_listener("x", pusher(out, "po"));
  CHECK(e.listener_count("x") == 4);
  // prependListener inserts at index 0; emit calls the array in order, synchronously.
  CHECK(e.emit("x"));
  CHECK(out == Lines{"po", "p", "a", "o"});
  // Both once-wrappers removed themselves during the first emit.
  CHECK(e.listener_count("x") == 2);
  out.clear();
  CHECK(e.emit("x"));
  CHECK(out == Lines{"p", "a"});
  CHECK(e.event_names() == Lines{"x"});
  CHECK(w.seen.empty());
}

// node: e.once('x', () => { log('once'); e.emit('x') }); e.on('x', on); e.emit('x')
//   -> once on on, listenerCount 1
TEST_CASE("emitter.once_removes_itself_before_calling") {
  Warnings w;
  EventEmitter e(w.sink());
  Lines out;
  std::optional<std::size_t> count_inside;
  e.once("x", fn("once", [&] {
           out.push_back("once");
           count_inside = e.listener_count("x");
           e.emit("x");
         }));
  e.on("x", pusher(out, "on"));
  e.emit("x");
  // onceWrapper calls removeListener before the listener (lib/events.js _onceWrap): inside it
  // only `on` is left, so the re-entrant emit calls `on` and not the once listener again;
  // then the outer emit goes on to `on`.
  REQUIRE(count_inside.has_value());
  CHECK(*count_inside == 1);
  CHECK(out == Lines{"once", "on", "on"});
  CHECK(e.listener_count("x") == 1);
}

// node: e.on('x', () => { log('a'); if (depth++ === 0) e.emit('x') }); e.once('x', o);
//   e.emit('x')   -> a a o, listenerCount 1
TEST_CASE("emitter.once_wrapper_in_an_outer_snapshot_does_not_fire_twice") {
  Warnings w;
  EventEmitter e(w.sink());
  Lines out;
  int depth = 0;
  e.on("x", fn("a", [&] {
         out.push_back("a");
         if (depth++ == 0) e.emit("x");
       }));
  e.once("x", pusher(out, "o"));
  e.emit("x");
  // The inner emit fires the once-wrapper; the outer emit's copy still holds it, but its
  // `fired` flag makes the second call a no-op.
  CHECK(out == Lines{"a", "a", "o"});
  CHECK(e.listener_count("x") == 1);
}

// node (§7): a removes b and adds c; emit; emit   -> a b | a c
TEST_CASE("emitter.removal_during_emit_still_runs_addition_does_not") {
  Warnings w;
  EventEmitter e(w.sink());
  Lines out;
  const FunctionRef b = pusher(out, "b");
  e.on("x", fn("a", [&] {
         out.push_back("a");
         e.remove_listener("x", b);
         e.on("x", pusher(out, "c"));
       }));
  e.on("x", b);
  e.emit("x");
  // emit iterates arrayClone(handler) (lib/events.js emit): b, removed by a, still runs; c,
  // added by a, does not.
  CHECK(out == Lines{"a", "b"});
  out.clear();
  e.emit("x");
  CHECK(out == Lines{"a", "c"});
}

// node: e.on('x', () => { log('a'); e.removeAllListeners('x') }); e.once('x', o); e.on('x', c);
//   e.emit('x')   -> a o c, listenerCount 0
TEST_CASE("emitter.remove_all_during_emit_still_runs_the_copy") {
  Warnings w;
  EventEmitter e(w.sink());
  Lines out;
  e.on("x", fn("a", [&] {
         out.push_back("a");
         e.remove_all_listeners("x");
       }));
  e.once("x", pusher(out, "o"));
  e.on("x", pusher(out, "c"));
  e.emit("x");
  // The copy still holds the once-wrapper, which was removed but never fired: it runs.
  CHECK(out == Lines{"a", "o", "c"});
  CHECK(e.listener_count("x") == 0);
  CHECK(e.event_names().empty());
}

TEST_CASE("emitter.off_removes_the_last_occurrence") {
  Warnings w;
  EventEmitter e(w.sink());
  Lines out;
  const FunctionRef f = pusher(out, "f");
  const FunctionRef g = pusher(out, "g");

  SUBCASE("a once-wrapper of the function matches, and the last match wins") {
    // node: e.on('x', f); e.on('x', g); e.once('x', f); e.off('x', f)   -> [f, g]
    e.on("x", f);
    e.on("x", g);
    e.once("x", f);
    e.remove_listener("x", f);
    CHECK(e.listener_count("x") == 2);
    // removeListener scans from the end and matches `list[i].listener === fn`: it took the
    // once-wrapper, so what is left runs f then g, and nothing removes itself.
    e.emit("x");
    e.emit("x");
    CHECK(out == Lines{"f", "g", "f", "g"});
    CHECK(e.listener_count("x") == 2);
    // node: e.off('x', f) again -> [g]; again -> still [g]
    e.remove_listener("x", f);
    e.remove_listener("x", f);
    CHECK(e.listener_count("x") == 1);
  }
  SUBCASE("the plain function after a once-wrapper") {
    // node: e.once('x', f); e.on('x', f); e.off('x', f)   -> [wrapper(f)]
    e.once("x", f);
    e.on("x", f);
    e.remove_listener("x", f);
    CHECK(e.listener_count("x") == 1);
    // The wrapper is what is left: it runs f once and removes itself.
    e.emit("x");
    CHECK(out == Lines{"f"});
    CHECK(e.listener_count("x") == 0);
  }
  SUBCASE("a function that is not there, or an event that is not there") {
    e.on("x", f);
    e.remove_listener("x", g);
    e.remove_listener("nothing", f);
    CHECK(e.listener_count("x") == 1);
    CHECK(e.event_names() == Lines{"x"});
  }
}

// node: e.on('newListener', t => log(`new y=${e.listenerCount('y')} rl=...`));
//   e.on('removeListener', ...); const f = ...; e.on('y', f); e.on('y', g); e.off('y', f);
//   e.once('y', h); e.emit('y')
//   -> new(removeListener) count 0, new(y) 0, new(y) 1, rm(y) 1, new(y) 1, rm(y) 1; final 1
TEST_CASE("emitter.new_listener_before_the_add_remove_listener_after_the_removal") {
  Warnings w;
  EventEmitter e(w.sink());
  Lines out;
  auto counts = [&] {
    return "y=" + std::to_string(e.listener_count("y")) +
           " rl=" + std::to_string(e.listener_count("removeListener"));
  };
  e.on("newListener", fn("new", [&] { out.push_back("new " + counts()); }));
  e.on("removeListener", fn("rm", [&] { out.push_back("rm " + counts()); }));
  const FunctionRef f = fn("f");
  e.on("y", f);
  e.on("y", fn("g"));
  e.remove_listener("y", f);
  e.once("y", fn("h"));
  e.emit("y");
  // 'newListener' is emitted before the listener is added (count before); 'removeListener'
  // after it is removed (count after), once-wrappers included (lib/events.js _addListener,
  // removeListener). Adding the first 'newListener' listener emits nothing.
  CHECK(out == Lines{"new y=0 rl=0", "new y=0 rl=1", "new y=1 rl=1", "rm y=1 rl=1", "new y=1 rl=1",
                     "rm y=1 rl=1"});
  CHECK(e.listener_count("y") == 1);
}

TEST_CASE("emitter.remove_listener_is_not_emitted_when_the_last_event_goes") {
  Warnings w;
  Lines out;
  SUBCASE("the 'removeListener' listener itself, alone") {
    // node: const r = ...; e.on('removeListener', r); e.off('removeListener', r)
    //   -> r not called, eventNames() []
    EventEmitter e(w.sink());
    const FunctionRef r = pusher(out, "r");
    e.on("removeListener", r);
    e.remove_listener("removeListener", r);
    // `if (--this._eventsCount === 0) this._events = { __proto__: null }`: no emit.
    CHECK(out.empty());
    CHECK(e.event_names().empty());
  }
  SUBCASE("another event's only listener") {
    // node: e.on('removeListener', r); e.on('z', f); e.off('z', f)
    //   -> r called once, eventNames() ['removeListener']
    EventEmitter e(w.sink());
    e.on("removeListener", pusher(out, "r"));
    const FunctionRef f = fn("f");
    e.on("z", f);
    e.remove_listener("z", f);
    // 'removeListener' remains, so _eventsCount stays above 0 and the removal is announced.
    CHECK(out == Lines{"r"});
    CHECK(e.event_names() == Lines{"removeListener"});
  }
}

// node: for n of [a, b, c] e.on('x', () => probing && log(n));
//   e.on('removeListener', () => { probing = true; log('['); e.emit('x'); log(']'); ... });
//   e.removeAllListeners('x')   -> [ a b ] [ a ] [ ], eventNames() ['removeListener']
TEST_CASE("emitter.remove_all_listeners_of_an_event_is_lifo") {
  Warnings w;
  EventEmitter e(w.sink());
  Lines out;
  bool probing = false;
  for (const char* name : {"a", "b", "c"}) {
    const std::string n = name;
    e.on("x", fn(n, [&out, &probing, n] {
           if (probing) out.push_back(n);
         }));
  }
  e.on("removeListener", fn("probe", [&] {
         probing = true;
         out.push_back("[");
         e.emit("x");
         out.push_back("]");
         probing = false;
       }));
  e.remove_all_listeners("x");
  // removeAllListeners(type) calls removeListener for each, from the last (`// LIFO order`),
  // and each removal emits 'removeListener': emitting 'x' from there shows what is left.
  CHECK(out == Lines{"[", "a", "b", "]", "[", "a", "]", "[", "]"});
  CHECK(e.event_names() == Lines{"removeListener"});

  // An event with no listeners: nothing is removed, nothing emitted.
  out.clear();
  e.remove_all_listeners("nothing");
  CHECK(out.empty());
}

// node: e.on('b', b1); e.on('removeListener', r1); e.on('removeListener', r2 logging the counts
//   of b, a, c); e.on('a', a1); e.on('a', a2); e.on('c', c1); e.removeAllListeners()
//   -> r1 r2:b=0,a=2,c=1 r1 r2:b=0,a=1,c=1 r1 r2:b=0,a=0,c=1 r1 r2:b=0,a=0,c=0 r1, eventNames() []
TEST_CASE("emitter.remove_all_listeners_does_every_event_then_remove_listener") {
  Warnings w;
  EventEmitter e(w.sink());
  Lines out;
  e.on("b", fn("b1"));
  e.on("removeListener", pusher(out, "r1"));
  e.on("removeListener", fn("r2", [&] {
         out.push_back("r2:b=" + std::to_string(e.listener_count("b")) +
                       ",a=" + std::to_string(e.listener_count("a")) +
                       ",c=" + std::to_string(e.listener_count("c")));
       }));
  e.on("a", fn("a1"));
  e.on("a", fn("a2"));
  e.on("c", fn("c1"));
  e.remove_all_listeners();
  // Every key but 'removeListener' in Reflect.ownKeys order (here creation order: b, a, c),
  // each LIFO with a 'removeListener' per listener; then 'removeListener' itself, LIFO: r2
  // goes first and r1 hears it; r1 goes last, when _eventsCount drops to 0, unannounced.
  CHECK(out == Lines{"r1", "r2:b=0,a=2,c=1", "r1", "r2:b=0,a=1,c=1", "r1", "r2:b=0,a=0,c=1", "r1",
                     "r2:b=0,a=0,c=0", "r1"});
  CHECK(e.event_names().empty());
  CHECK(e.total_listeners() == 0);
}

// node: e.on('x', f); e.on('y', g); e.removeAllListeners('x') -> ['y']; e.removeAllListeners()
//   -> []
TEST_CASE("emitter.remove_all_listeners_without_a_remove_listener_listener") {
  Warnings w;
  EventEmitter e(w.sink());
  e.on("x", fn("f"));
  e.on("x", fn("f2"));
  e.on("y", fn("g"));
  CHECK(e.total_listeners() == 3);
  e.remove_all_listeners("x");
  CHECK(e.event_names() == Lines{"y"});
  e.remove_all_listeners();
  CHECK(e.event_names().empty());
}

// Regression: remove_all_listeners() walks the events in creation order, but Node walks
// Reflect.ownKeys(this._events), which lists array-index keys ('1', '2') first, in ascending
// order, then the other keys in creation order.
// node: e.on('removeListener', t => log(t)); e.on('data', f); e.on('2', f); e.on('1', f);
//   e.on('x', f); e.removeAllListeners()   -> 1 2 data x
TEST_CASE("emitter.remove_all_listeners_takes_index_keys_first") {
  Warnings w;
  EventEmitter e(w.sink());
  Lines out;
  e.on(
      "removeListener", fn("r", [&] {
        // Which event went: the one whose count dropped to 0.
        for (const char* ev : {"data", "2", "1", "x"}) {
          const std::string name = ev;
          if (e.listener_count(name) == 0 && std::find(out.begin(), out.end(), name) == out.end()) {
            out.push_back(name);
          }
        }
      }));
  for (const char* ev : {"data", "2", "1", "x"})
    e.on(ev, fn(ev));
  e.remove_all_listeners();
  CHECK(out == Lines{"1", "2", "data", "x"});
}

// ---- MaxListenersExceededWarning ----

// node: for (let i = 0; i < 25; i++) e.on('data', noop)   -> one warning:
//   "Possible EventEmitter memory leak detected. 11 data listeners added to [EventEmitter].
//    MaxListeners is 10. Use emitter.setMaxListeners() to increase limit" (w.count 11)
TEST_CASE("emitter.max_listeners_warns_at_the_eleventh_with_node_text") {
  Warnings w;
  EventEmitter e(w.sink());
  // defaultMaxListeners = 10 (lib/events.js).
  CHECK(e.max_listeners() == 10);
  const FunctionRef noop = fn("noop");
  for (int i = 0; i < 10; ++i)
    e.on("data", noop);
  // `existing.length > m`: ten listeners are fine.
  CHECK(w.seen.empty());
  e.on("data", noop);
  REQUIRE(w.seen.size() == 1);
  CHECK(w.seen[0].first == "MaxListenersExceededWarning");
  // The exact text node printed (process.on('warning', w => w.message)), character by
  // character.
  CHECK(w.seen[0].second ==
        "Possible EventEmitter memory leak detected. 11 data listeners added to [EventEmitter]. "
        "MaxListeners is 10. Use emitter.setMaxListeners() to increase limit");
  for (int i = 0; i < 14; ++i)
    e.on("data", noop);
  // `existing.warned = true`: once per array.
  CHECK(w.seen.size() == 1);
  CHECK(e.listener_count("data") == 25);
}

// node: for 11: e.prependOnceListener('my event', noop); for 11 each: e.on('a'), e.on('b')
//   -> "11 my event listeners ...", "11 a listeners ...", "11 b listeners ..."
TEST_CASE("emitter.max_listeners_counts_every_kind_of_listener_per_event") {
  Warnings w;
  EventEmitter e(w.sink());
  for (int i = 0; i < 11; ++i)
    e.prepend_once_listener("my event", fn("noop"));
  for (int i = 0; i < 11; ++i)
    e.on("a", fn("noop"));
  for (int i = 0; i < 11; ++i)
    e.on("b", fn("noop"));
  // Each event has its own array, so its own flag; String(type) goes into the text as is.
  REQUIRE(w.seen.size() == 3);
  CHECK(w.seen[0].second == leak_warning(11, "my event", "10"));
  CHECK(w.seen[1].second == leak_warning(11, "a", "10"));
  CHECK(w.seen[2].second == leak_warning(11, "b", "10"));
}

TEST_CASE("emitter.warning_once_per_array_and_again_after_collapsing_to_one") {
  Warnings w;
  EventEmitter e(w.sink());
  std::vector<FunctionRef> fs;
  for (int i = 0; i < 11; ++i) {
    fs.push_back(fn("f" + std::to_string(i)));
    e.on("data", fs.back());
  }
  REQUIRE(w.seen.size() == 1);

  SUBCASE("shrunk to one function, grown again: warns again") {
    // node: 11 added; off 10 of them; 10 more on   -> a second warning
    for (int i = 0; i < 10; ++i)
      e.remove_listener("data", fs[static_cast<std::size_t>(i)]);
    CHECK(e.listener_count("data") == 1);
    for (int i = 0; i < 10; ++i)
      e.on("data", fn("again"));
    // One listener is stored as the bare function: the array and its `warned` flag are gone,
    // and the next addition builds a fresh array.
    REQUIRE(w.seen.size() == 2);
    CHECK(w.seen[1].second == leak_warning(11, "data", "10"));
  }
  SUBCASE("shrunk to two, grown again: the same array, no second warning") {
    // node: 11 added; off 9 of them; 10 more on (12 in all)   -> no second warning
    for (int i = 0; i < 9; ++i)
      e.remove_listener("data", fs[static_cast<std::size_t>(i)]);
    CHECK(e.listener_count("data") == 2);
    for (int i = 0; i < 10; ++i)
      e.on("data", fn("again"));
    CHECK(e.listener_count("data") == 12);
    CHECK(w.seen.size() == 1);
  }
}

// node: e.setMaxListeners(1); e.on('data', noop); e.on('data', noop); e.off('data', noop);
//   e.on('data', noop)   -> two warnings, "2 data listeners ... MaxListeners is 1"
TEST_CASE("emitter.set_max_listeners_one_warns_on_each_regrowth") {
  Warnings w;
  EventEmitter e(w.sink());
  e.set_max_listeners(1);
  const FunctionRef noop = fn("noop");
  e.on("data", noop);
  e.on("data", noop);
  e.remove_listener("data", noop);
  e.on("data", noop);
  REQUIRE(w.seen.size() == 2);
  CHECK(w.seen[0].second == leak_warning(2, "data", "1"));
  CHECK(w.seen[1].second == leak_warning(2, "data", "1"));
}

TEST_CASE("emitter.max_listeners_zero_infinity_and_fractions") {
  Warnings w;
  EventEmitter e(w.sink());
  SUBCASE("0 never warns") {
    // node: e.setMaxListeners(0); 100 x e.on('data', noop)   -> no warning
    e.set_max_listeners(0);
    for (int i = 0; i < 100; ++i)
      e.on("data", fn("noop"));
    // `if (m > 0 && ...)`: 0 turns the check off.
    CHECK(w.seen.empty());
  }
  SUBCASE("Infinity never warns") {
    // node: e.setMaxListeners(Infinity); 100 x e.on('data', noop)   -> no warning
    e.set_max_listeners(std::numeric_limits<double>::infinity());
    for (int i = 0; i < 100; ++i)
      e.on("data", fn("noop"));
    CHECK(w.seen.empty());
  }
  SUBCASE("2.5 warns at 3") {
    // node: e.setMaxListeners(2.5); on x2 (quiet); on   -> "3 data listeners added to
    //   [EventEmitter]. MaxListeners is 2.5. ..."
    e.set_max_listeners(2.5);
    e.on("data", fn("noop"));
    e.on("data", fn("noop"));
    CHECK(w.seen.empty());
    e.on("data", fn("noop"));
    // 3 > 2.5; the limit is printed with String(m).
    REQUIRE(w.seen.size() == 1);
    CHECK(w.seen[0].second == leak_warning(3, "data", "2.5"));
  }
}

// ---- 'error' and emit's result ----

// node: new EE().emit('error', new Error('plain'))   -> throws it: name Error, no code
TEST_CASE("emitter.error_without_listener_throws_the_error_itself") {
  Warnings w;
  EventEmitter e(w.sink());
  e.on("data", fn("other"));
  const auto err = thrown([&] { e.emit("error", EmitArg{EmitArg::Kind::error, "plain"}); });
  REQUIRE(err.has_value());
  // `if (er instanceof Error) throw er; // Unhandled 'error' event`
  CHECK(err->name == "Error");
  CHECK(err->code.empty());
  CHECK(err->message == "plain");
  CHECK(err->headline() == "Error: plain");
}

TEST_CASE("emitter.error_non_error_value_is_err_unhandled_error") {
  Warnings w;
  EventEmitter e(w.sink());
  auto message_for = [&](std::optional<std::string> arg) {
    const EmitArg a = arg ? EmitArg{EmitArg::Kind::string, *arg} : EmitArg{};
    const auto err = thrown([&] { e.emit("error", a); });
    REQUIRE(err.has_value());
    // new ERR_UNHANDLED_ERROR(inspect(er)): an Error with that code.
    CHECK(err->name == "Error");
    CHECK(err->code == "ERR_UNHANDLED_ERROR");
    return err->message;
  };
  // node: emit('error', X) with no listener, e.message:
  CHECK(message_for("oops") == "Unhandled error. ('oops')");
  // util.inspect prefers single quotes, then double, then backticks.
  CHECK(message_for("it's") == "Unhandled error. (\"it's\")");
  CHECK(message_for("it's \"q\"") == "Unhandled error. (`it's \"q\"`)");
  CHECK(message_for("x\ny") == "Unhandled error. ('x\\ny')");
  CHECK(message_for("tab\there") == "Unhandled error. ('tab\\there')");
  // 82 characters with a newline: more than breakLength 80 - 4, so split after the newline.
  CHECK(message_for(std::string(80, 'a') + "\nb") ==
        "Unhandled error. ('" + std::string(80, 'a') + "\\n' +\n  'b')");
  // emit('error'): inspect(undefined) is 'undefined', which ERR_UNHANDLED_ERROR prints.
  CHECK(message_for(std::nullopt) == "Unhandled error. (undefined)");
  const auto err = thrown([&] { e.emit("error", EmitArg{EmitArg::Kind::string, "oops"}); });
  REQUIRE(err.has_value());
  // What node prints first on stderr when it is uncaught.
  CHECK(err->headline() == "Error [ERR_UNHANDLED_ERROR]: Unhandled error. ('oops')");
}

// node: e.on('error', ...); e.emit('error', 'oops') -> true; e.emit('error') -> true
TEST_CASE("emitter.error_with_a_listener_is_an_ordinary_event") {
  Warnings w;
  EventEmitter e(w.sink());
  Lines out;
  e.on("error", pusher(out, "handled"));
  bool returned = false;
  CHECK_NOTHROW(returned = e.emit("error", EmitArg{EmitArg::Kind::string, "oops"}));
  CHECK(returned);
  CHECK_NOTHROW(returned = e.emit("error", EmitArg{EmitArg::Kind::error, "boom"}));
  CHECK(returned);
  CHECK_NOTHROW(returned = e.emit("error"));
  CHECK(returned);
  CHECK(out == Lines{"handled", "handled", "handled"});
}

// node: new EE().emit('data') -> false; e.on('other', f); e.emit('data') -> false
TEST_CASE("emitter.emit_returns_whether_there_were_listeners") {
  Warnings w;
  EventEmitter e(w.sink());
  CHECK_FALSE(e.emit("data"));
  e.on("other", fn("f"));
  CHECK_FALSE(e.emit("data"));
  CHECK(e.emit("other"));
  // A once listener: true the first time, false once it has gone.
  e.once("one", fn("o"));
  CHECK(e.emit("one"));
  CHECK_FALSE(e.emit("one"));
}

TEST_CASE("emitter.a_throwing_listener_ends_the_emit") {
  Warnings w;
  EventEmitter e(w.sink());
  Lines out;
  SUBCASE("the rest of the listeners do not run") {
    // node: on a; on () => { b; throw new Error('boom') }; on c; emit   -> a b, throws boom,
    //   listenerCount 3
    e.on("x", pusher(out, "a"));
    e.on("x", fn("b", [&] {
           out.push_back("b");
           throw JsThrow(JsError{"Error", "", "boom"});
         }));
    e.on("x", pusher(out, "c"));
    const auto err = thrown([&] { e.emit("x"); });
    // emit has no try/catch around a listener call: the throw propagates to emit's caller.
    REQUIRE(err.has_value());
    CHECK(err->message == "boom");
    CHECK(out == Lines{"a", "b"});
    CHECK(e.listener_count("x") == 3);
  }
  SUBCASE("a throwing once listener is already removed") {
    // node: once () => { o; throw new Error('once boom') }; on c; emit   -> o, throws,
    //   listenerCount 1
    e.once("x", fn("o", [&] {
             out.push_back("o");
             throw JsThrow(JsError{"Error", "", "once boom"});
           }));
    e.on("x", pusher(out, "c"));
    const auto err = thrown([&] { e.emit("x"); });
    REQUIRE(err.has_value());
    CHECK(err->message == "once boom");
    CHECK(out == Lines{"o"});
    CHECK(e.listener_count("x") == 1);
  }
}

// The emitter owns its listeners: one that removes itself (or every listener) while it runs
// stays alive until the emit returns, as the running closure does in Node, and is freed then.
// node: e.on('x', function f() { e.off('x', f); log(f.name) }); e.emit('x'); e.emit('x')
//   -> f, then nothing (emit returns false)
TEST_CASE("emitter.a_listener_removing_itself_lives_until_the_emit_returns") {
  Warnings w;
  EventEmitter e(w.sink());
  Lines out;
  std::weak_ptr<emitter::Function> weak;
  SUBCASE("the only listener") {
    auto f = std::make_shared<emitter::Function>();
    weak = f;
    f->call = [&, raw = f.get()] {
      e.remove_all_listeners("x");
      out.push_back(raw->id.empty() ? "f" : raw->id);  // still alive here
      e.emit("x");                                     // a nested emit: nobody left
    };
    e.on("x", std::move(f));
    CHECK(e.emit("x"));
    CHECK_FALSE(e.emit("x"));
  }
  SUBCASE("in an array, through a once-wrapper") {
    auto f = std::make_shared<emitter::Function>();
    weak = f;
    f->call = [&, raw = f.get()] {
      e.remove_all_listeners();
      out.push_back(raw->id.empty() ? "f" : raw->id);
    };
    e.once("x", std::move(f));
    e.on("x", pusher(out, "b"));
    CHECK(e.emit("x"));
    CHECK(out == Lines{"f", "b"});  // the copy still calls b
    out = Lines{"f"};
  }
  CHECK(out == Lines{"f"});
  CHECK(weak.expired());  // freed once the outermost emit returned
  CHECK(e.total_listeners() == 0);
}

// The warning prints the emitter's constructor name: class Bus extends EventEmitter {}
// node: "... 2 x listeners added to [Bus]. MaxListeners is 1. ..."
TEST_CASE("emitter.max_listeners_warning_names_the_class") {
  Warnings w;
  EventEmitter e(w.sink(), "Bus");
  e.set_max_listeners(1);
  e.on("x", fn("a"));
  e.on("x", fn("b"));
  REQUIRE(w.seen.size() == 1);
  CHECK(w.seen[0].second ==
        "Possible EventEmitter memory leak detected. 2 x listeners added to [Bus]. "
        "MaxListeners is 1. Use emitter.setMaxListeners() to increase limit");
}

// ==== util.inspect of a string ====

// node: util.inspect(X) for each X below (lib/internal/util/inspect.js strEscape,
// formatPrimitive; breakLength 80).
TEST_CASE("emitter.js_inspect_string_quotes_like_util_inspect") {
  CHECK(js_inspect_string("oops") == "'oops'");
  CHECK(js_inspect_string("") == "''");
  // A single quote: double quotes, unescaped.
  CHECK(js_inspect_string("it's") == "\"it's\"");
  // Single and double quotes: backticks.
  CHECK(js_inspect_string("it's \"q\"") == "`it's \"q\"`");
  // All three (or `${`): back to single quotes, the single quote escaped.
  CHECK(js_inspect_string("a'b\"c`d") == "'a\\'b\"c`d'");
  CHECK(js_inspect_string("a'b\"c${d}") == "'a\\'b\"c${d}'");
  // A double quote or a backtick alone changes nothing.
  CHECK(js_inspect_string("say \"hi\"") == "'say \"hi\"'");
  CHECK(js_inspect_string("`x`") == "'`x`'");
}

TEST_CASE("emitter.js_inspect_string_escapes_control_characters") {
  // node: util.inspect('line1\nline2') -> 'line1\nline2'
  CHECK(js_inspect_string("line1\nline2") == "'line1\\nline2'");
  // node: util.inspect('\x7f\x01\x0b\t\\') -> '\x7F\x01\x0B\t\\'  (the meta table: named
  // escapes for \b \t \n \f \r, \xHH in capitals for the rest, \v included)
  CHECK(js_inspect_string("\x7f\x01\x0b\t\\") == "'\\x7F\\x01\\x0B\\t\\\\'");
  CHECK(js_inspect_string("\b\f\r") == "'\\b\\f\\r'");
  // Double-quoted: the single quote stays as is, a control character is still escaped.
  CHECK(js_inspect_string("it's\n") == "\"it's\\n\"");
}

TEST_CASE("emitter.js_inspect_string_splits_long_text_after_each_newline") {
  const std::string a80(80, 'a');
  // node: util.inspect('a'.repeat(80) + '\nb')
  //   -> 'aaaa...a\n' +
  //        'b'
  CHECK(js_inspect_string(a80 + "\nb") == "'" + a80 + "\\n' +\n  'b'");
  // The threshold: 76 characters stay whole, 77 are split (length > breakLength 80 - 4).
  // node: util.inspect('a'.repeat(74) + '\nb') has no ' +'; 'a'.repeat(75) + '\nb' has one.
  const std::string a74(74, 'a');
  const std::string a75(75, 'a');
  CHECK(js_inspect_string(a74 + "\nb") == "'" + a74 + "\\nb'");
  CHECK(js_inspect_string(a75 + "\nb") == "'" + a75 + "\\n' +\n  'b'");
  // No newline: one part however long.
  const std::string a100(100, 'a');
  CHECK(js_inspect_string(a100) == "'" + a100 + "'");
  // node: util.inspect('a'.repeat(80) + '\n') -> one part (split(/(?<=\n)/) makes no empty
  // trailing part)
  CHECK(js_inspect_string(a80 + "\n") == "'" + a80 + "\\n'");
  // node: util.inspect('a'.repeat(40) + '\n\n' + 'b'.repeat(40)) -> three parts, the middle one
  // '\n'
  const std::string a40(40, 'a');
  const std::string b40(40, 'b');
  CHECK(js_inspect_string(a40 + "\n\n" + b40) == "'" + a40 + "\\n' +\n  '\\n' +\n  '" + b40 + "'");
  // Each part picks its own quotes. node: util.inspect("it's\n" + 'x'.repeat(80) + '\n"q"')
  //   -> "it's\n" +
  //        'xxx...x\n' +
  //        '"q"'
  const std::string x80(80, 'x');
  CHECK(js_inspect_string("it's\n" + x80 + "\n\"q\"") ==
        "\"it's\\n\" +\n  '" + x80 + "\\n' +\n  '\"q\"'");
}

// Regression: js_inspect_string measures the text in UTF-8 bytes, but formatPrimitive compares the
// JavaScript string's length (UTF-16 code units) with 76: 70 'é' + '\nb' is 72 code units (142
// bytes), so node keeps it whole while the lab splits it.
// node: util.inspect('é'.repeat(70) + '\nb') -> 'ééé...é\nb'
TEST_CASE("emitter.js_inspect_string_counts_utf16_code_units") {
  std::string e70;
  for (int i = 0; i < 70; ++i)
    e70 += "\xC3\xA9";  // é
  CHECK(js_inspect_string(e70 + "\nb") == "'" + e70 + "\\nb'");
}

// Regression: strEscape escapes U+007F-U+009F (the C1 controls) as \xHH; js_inspect_string looks at
// bytes and escapes only 0x7F, so U+0085 and U+009F pass through unescaped.
// node: util.inspect('\u0085') -> '\x85'; util.inspect('x\u009fy') -> 'x\x9Fy';
//   util.inspect('\u00a0') -> ' ' (U+00A0 is not escaped)
TEST_CASE("emitter.js_inspect_string_escapes_c1_controls") {
  CHECK(js_inspect_string("\xC2\x85") == "'\\x85'");
  CHECK(js_inspect_string("x\xC2\x9Fy") == "'x\\x9Fy'");
  CHECK(js_inspect_string("\xC2\xA0") == "'\xC2\xA0'");
}

// ==== the emitter ops, as scenarios ====

TEST_CASE("emitter.twin_names_an_id_used_on_two_emitters_by_emitter") {
  const std::string yaml = R"(lab: emitter
main:
  - on: { emitter: bus, event: data, id: a, then: [ { log: bus a } ] }
  - on: { emitter: other, event: data, id: a, then: [ { log: other a } ] }
  - on: { emitter: bus, event: data, id: solo, then: [ { log: bus solo } ] }
  - emit: { emitter: bus, event: data }
  - emit: { emitter: other, event: data }
  - off: { emitter: bus, event: data, id: a }
  - emit: { emitter: bus, event: data }
  - emit: { emitter: other, event: data }
  - listenerCount: { emitter: bus, event: data }
  - listenerCount: { emitter: other, event: data }
)";
  const std::string twin = emitter_twin(yaml);
  // docs/scenario-format.md: L.<id> when the id is unique across emitters, else
  // L['<emitter>.<id>'].
  CHECK(twin.find("E.bus.on(\"data\", L[\"bus.a\"] = function () {") != std::string::npos);
  CHECK(twin.find("E.other.on(\"data\", L[\"other.a\"] = function () {") != std::string::npos);
  CHECK(twin.find("E.bus.on(\"data\", L.solo = function () {") != std::string::npos);
  CHECK(twin.find("E.bus.off(\"data\", L[\"bus.a\"]);") != std::string::npos);
  CHECK(twin.find("L.a ") == std::string::npos);
  const EmitterRun lab = run_emitter_yaml(yaml);
  CHECK(lab.result.outcome == runtime::Outcome::completed);
  // off removed bus's `a` only; other's `a` is another function.
  CHECK(lab.lines == Lines{"bus a", "bus solo", "other a", "bus solo", "other a",
                           "listenerCount(bus, data) = 1", "listenerCount(other, data) = 1"});
  check_node_agrees(yaml, lab);
}

TEST_CASE("emitter.names_the_twin_uses_itself_are_names_like_any") {
  // Issue 13 §7: emitter names and listener ids are any identifier the format allows
  // ([A-Za-z_$][A-Za-z0-9_$]*), including names the twin uses for itself (L, E,
  // EventEmitter, process, its loop variables), JavaScript reserved words and `__proto__`:
  // the twin keeps them as property names of tables without a prototype, never as variables.
  const std::string yaml = R"(lab: emitter
main:
  - on: { emitter: L, event: data, id: E, then: [ { log: L E } ] }
  - on: { emitter: E, event: data, id: L, then: [ { log: E L } ] }
  - on: { emitter: process, event: data, id: __proto__, then: [ { log: process __proto__ } ] }
  - on: { emitter: EventEmitter, event: data, id: class, then: [ { log: EventEmitter class } ] }
  - on: { emitter: __proto__, event: data, id: constructor, then: [ { log: __proto__ c } ] }
  - once: { emitter: i, event: data, id: runs, then: [ { log: i runs } ] }
  - on: { emitter: L, event: data, id: __h, then: [ { log: L __h } ] }
  - emit: { emitter: L, event: data }
  - emit: { emitter: E, event: data }
  - emit: { emitter: process, event: data }
  - emit: { emitter: EventEmitter, event: data }
  - emit: { emitter: __proto__, event: data }
  - emit: { emitter: i, event: data }
  - emit: { emitter: i, event: data }
  - off: { emitter: L, event: data, id: E }
  - off: { emitter: process, event: data, id: __proto__ }
  - removeAllListeners: { emitter: EventEmitter }
  - setMaxListeners: { emitter: E, n: 1 }
  - on: { emitter: E, event: data, id: e }
  - listenerCount: { emitter: L, event: data }
  - listenerCount: { emitter: E, event: data }
  - listenerCount: { emitter: process, event: data }
  - listenerCount: { emitter: EventEmitter, event: data }
)";
  CHECK(emitter_load_error(yaml) == "");
  const EmitterRun lab = run_emitter_yaml(yaml);
  CHECK(lab.result.outcome == runtime::Outcome::completed);
  CHECK(lab.lines ==
        Lines{"L E", "L __h", "E L", "process __proto__", "EventEmitter class", "__proto__ c",
              "i runs", "listenerCount(L, data) = 1", "listenerCount(E, data) = 2",
              "listenerCount(process, data) = 0", "listenerCount(EventEmitter, data) = 0",
              "warning: MaxListenersExceededWarning: Possible EventEmitter memory leak detected. "
              "2 data listeners added to [EventEmitter]. MaxListeners is 1. Use "
              "emitter.setMaxListeners() to increase limit"});
  check_node_agrees(yaml, lab);
}

TEST_CASE("emitter.listener_keys_of_ids_on_two_emitters_never_meet") {
  // Emitter `a` with id `b_c` and emitter `a_b` with id `c`, both ids also used on `z`: an
  // `<emitter>_<id>` key would name both `a_b_c`; `'<emitter>.<id>'` keys do not meet.
  const std::string yaml = R"(lab: emitter
main:
  - on: { emitter: a, event: x, id: b_c, then: [ { log: a b_c } ] }
  - on: { emitter: a_b, event: x, id: c, then: [ { log: a_b c } ] }
  - on: { emitter: z, event: x, id: b_c }
  - on: { emitter: z, event: x, id: c }
  - off: { emitter: a, event: x, id: b_c }
  - emit: { emitter: a, event: x }
  - emit: { emitter: a_b, event: x }
  - listenerCount: { emitter: a, event: x }
  - listenerCount: { emitter: a_b, event: x }
)";
  const EmitterRun lab = run_emitter_yaml(yaml);
  CHECK(lab.lines == Lines{"a_b c", "listenerCount(a, x) = 0", "listenerCount(a_b, x) = 1"});
  check_node_agrees(yaml, lab);
}

TEST_CASE("emitter.requests_on_an_emitter_named_like_the_blocks_locals") {
  // The requests block's twin has locals `count`, `i`, `listener`: an emitter may be named so.
  const std::string yaml = R"(lab: emitter
main: []
requests:
  count: 6
  payload_bytes: 16
  strategy: leak
  emitter: count
  event: listener
  emit_every: 0
  sample_every: 3
)";
  CHECK(emitter_load_error(yaml) == "");
  const EmitterRun lab = run_emitter_yaml(yaml);
  CHECK(lab.lines == Lines{"after 3 requests: 3 listeners", "after 6 requests: 6 listeners",
                           "requests done: 6 requests, 6 listeners still attached"});
  check_node_agrees(yaml, lab);
}

TEST_CASE("emitter.off_of_an_id_never_added_on_that_emitter_is_a_load_error") {
  // `b` is added, but to `other`: on `bus`, L.b would always be undefined.
  CHECK(emitter_load_error(R"(lab: emitter
main:
  - on: { emitter: bus, event: data, id: a }
  - on: { emitter: other, event: data, id: b }
  - off: { emitter: bus, event: data, id: b }
)") == "FILE:5:43: no op adds a listener with id 'b' to emitter 'bus'");
  // An id nobody adds, inside a callback: located all the same.
  CHECK(emitter_load_error(R"(lab: emitter
main:
  - setTimeout:
      then:
        - off: { emitter: bus, event: data, id: ghost }
)") == "FILE:5:49: no op adds a listener with id 'ghost' to emitter 'bus'");
  // The same file with the `on` present loads.
  CHECK(emitter_load_error(R"(lab: emitter
main:
  - on: { emitter: bus, event: data, id: b }
  - off: { emitter: bus, event: data, id: b }
)") == "");
}

TEST_CASE("emitter.off_before_its_on_ran_throws_type_error") {
  SUBCASE("uncaught in the main script: exit 1, nothing else runs") {
    const std::string yaml = R"(lab: emitter
main:
  - log: start
  - setTimeout: { ms: 1, then: [ { log: timer } ] }
  - nextTick: { then: [ { log: tick } ] }
  - off: { emitter: bus, event: data, id: late }
  - log: unreachable
  - on: { emitter: bus, event: data, id: late }
)";
    const EmitterRun lab = run_emitter_yaml(yaml);
    // bus.off('data', L.late) with L.late still undefined: checkListener throws
    // ERR_INVALID_ARG_TYPE (node printed the same name, code and message).
    CHECK(lab.result.outcome == runtime::Outcome::uncaught_exception);
    CHECK(lab.result.error.name == "TypeError");
    CHECK(lab.result.error.code == "ERR_INVALID_ARG_TYPE");
    CHECK(lab.result.error.message ==
          "The \"listener\" argument must be of type function. Received undefined");
    CHECK(lab.result.phase == runtime::Phase::main);
    // Uncaught in main: not even the queued nextTick runs (docs/scenario-format.md, `throw`).
    CHECK(lab.lines == Lines{"start"});
    check_node_agrees(yaml, lab);
  }
  SUBCASE("caught, then the on and off run") {
    const std::string yaml = R"(lab: emitter
main:
  - try:
      do: [ { off: { emitter: bus, event: data, id: late } } ]
      catch: [ { log: "caught: {error}" } ]
  - on: { emitter: bus, event: data, id: late, then: [ { log: late } ] }
  - off: { emitter: bus, event: data, id: late }
  - emit: { emitter: bus, event: data }
  - listenerCount: { emitter: bus, event: data }
)";
    const EmitterRun lab = run_emitter_yaml(yaml);
    CHECK(lab.result.outcome == runtime::Outcome::completed);
    CHECK(lab.lines ==
          Lines{"caught: The \"listener\" argument must be of type function. Received undefined",
                "listenerCount(bus, data) = 0"});
    check_node_agrees(yaml, lab);
  }
}

TEST_CASE("emitter.timer_emit_and_listener_work_interleave_as_node_prints") {
  const std::string yaml = R"(lab: emitter
main:
  - on:
      emitter: bus
      event: tick
      id: a
      then:
        - log: a
        - nextTick: { then: [ { log: nextTick from a } ] }
        - setImmediate:
            then:
              - log: immediate from a
              - nextTick: { then: [ { log: nextTick from immediate } ] }
  - on:
      emitter: bus
      event: tick
      id: b
      then:
        - log: b
        - promise: { then: [ { log: promise from b } ] }
  - setTimeout:
      ms: 1
      then:
        - log: timer 1
        - emit: { emitter: bus, event: tick }
        - log: timer 1 emit returned
  - setTimeout:
      ms: 1
      then:
        - log: timer 2
        - off: { emitter: bus, event: tick, id: a }
        - emit: { emitter: bus, event: tick }
  - block: { ms: 3 }
  - log: main done
)";
  const EmitterRun lab = run_emitter_yaml(yaml);
  CHECK(lab.result.outcome == runtime::Outcome::completed);
  // Listeners run inside emit, inside timer 1; what they queue drains after timer 1 (nextTick,
  // then the promise), before timer 2 (listOnTimeout runs runNextTicks between timers of a
  // list). Both immediates were queued before the check phase: a's (from timer 1) runs once,
  // followed by its own nextTick. Timer 2 emits after off(a): b only.
  CHECK(lab.lines == Lines{"main done", "timer 1", "a", "b", "timer 1 emit returned",
                           "nextTick from a", "promise from b", "timer 2", "b", "promise from b",
                           "immediate from a", "nextTick from immediate"});
  for (const auto& l : lab.logged) {
    if (l.text == "a" || l.text == "b") CHECK(l.phase == runtime::Phase::timers);
    if (l.text == "nextTick from a") CHECK(l.phase == runtime::Phase::next_tick);
    if (l.text == "promise from b") CHECK(l.phase == runtime::Phase::microtask);
    if (l.text == "immediate from a") CHECK(l.phase == runtime::Phase::check);
  }
  check_node_agrees(yaml, lab);
}

TEST_CASE("emitter.uncaught_unhandled_error_in_a_timer_ends_the_run") {
  const std::string yaml = R"(lab: emitter
main:
  - setTimeout:
      ms: 1
      then:
        - log: before
        - nextTick: { then: [ { log: tick } ] }
        - emit: { emitter: bus, event: error, arg: oops }
        - log: unreachable
  - setImmediate: { then: [ { log: immediate } ] }
)";
  const EmitterRun lab = run_emitter_yaml(yaml);
  CHECK(lab.result.outcome == runtime::Outcome::uncaught_exception);
  CHECK(lab.result.phase == runtime::Phase::timers);
  // node's stderr: "Error [ERR_UNHANDLED_ERROR]: Unhandled error. ('oops')"
  CHECK(lab.result.error.headline() == "Error [ERR_UNHANDLED_ERROR]: Unhandled error. ('oops')");
  // The immediate may or may not have run before the 1 ms timer (main-module timeout vs
  // immediate); the timer's own nextTick never runs, nor the rest of the timer.
  CHECK(lab.lines.size() >= 1);
  CHECK(lab.lines.back() == "before");
  if (node_available()) {
    const NodeRun node = run_node(emitter_twin(yaml));
    CHECK(node.exit_code == 1);
    REQUIRE_FALSE(node.lines.empty());
    CHECK(node.lines.back() == "before");
  }
}

TEST_CASE("emitter.max_listeners_warning_arrives_on_next_tick_in_a_scenario") {
  const std::string yaml = R"(lab: emitter
main:
  - setMaxListeners: { emitter: bus, n: 2.5 }
  - repeat:
      times: 3
      do: [ { on: { emitter: bus, event: data, id: l } } ]
  - log: added 3
  - nextTick: { then: [ { log: tick after the third on } ] }
)";
  const EmitterRun lab = run_emitter_yaml(yaml);
  const std::string warning =
      "warning: MaxListenersExceededWarning: " + leak_warning(3, "data", "2.5");
  // process.emitWarning queues the 'warning' event with process.nextTick
  // (lib/internal/process/warning.js): after the main script, before a nextTick queued later.
  CHECK(lab.lines == Lines{"added 3", warning, "tick after the third on"});
  REQUIRE(lab.logged.size() == 3);
  CHECK(lab.logged[1].phase == runtime::Phase::next_tick);
  check_node_agrees(yaml, lab);
}
