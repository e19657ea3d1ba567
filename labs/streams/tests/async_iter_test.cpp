// `for await` over a Readable (streams::for_await, createAsyncIterator) and pipeline()'s abort
// (stream/promises' `{ signal }`), driven through the model's C++ API. The expected values
// are what node v20.20.2 printed for the JavaScript quoted above each test; the scenarios
// for-await-* and pipeline-promise-abort are also run against their twins by the parity tests.

#include <doctest/doctest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "runtime/runtime.hpp"
#include "streams/stream.hpp"
#include "support/runtime_helpers.hpp"

using namespace nodelab;
using namespace nodelab::streams;
using namespace std::chrono_literals;
using runtime::Runtime;

namespace {

// new Readable({ objectMode: true, highWaterMark: hwm, read() { this.push({}) } }), `total`
// objects then push(null) (total < 0: endless); counts its _read calls.
StreamRef make_objects(Runtime& rt, std::size_t hwm, int total, std::shared_ptr<int> reads) {
  StreamOptions o;
  o.readable = true;
  o.object_mode = true;
  o.high_water_mark = hwm;
  auto r = Stream::make(rt, "r", o);
  auto pushed = std::make_shared<int>(0);
  r->read_impl = [total, pushed, reads](Stream& s, std::size_t) {
    ++*reads;
    if (total >= 0 && *pushed == total) {
      s.push(std::nullopt);
      return;
    }
    ++*pushed;
    s.push(Chunk::alloc(4));
  };
  return r;
}

// A chain of microtasks counting hops (`t`), as `Promise.resolve().then(tick)` re-queued by
// each tick; a new chain stops the old one.
struct HopCounter {
  Runtime& rt;
  int t = 0;
  int generation = 0;
  void start() {
    const int g = ++generation;
    t = 0;
    tick_later(g);
  }
  void tick_later(int g) {
    rt.enqueue_microtask(
        [this, g] {
          if (g != generation) return;
          ++t;
          if (t < 200) tick_later(g);
        },
        0, runtime::CallbackKind::promise);
  }
};

}  // namespace

// const r = new Readable({ objectMode: true, highWaterMark: 4, read() {} });
// r.push({}) x3; later: start(); for await (const c of r) { log t; n++; start(); if (n === 2)
// break; } log t   ->  body t=2, body t=2, after break t=2, then 'close' (destroyed)
TEST_CASE("streams.for_await_hops_are_v8s_two_per_yield_and_two_per_break") {
  runtime::Watchdog wd(20s);
  Runtime rt;
  HopCounter hops{rt};
  std::vector<int> at;
  int exit_t = -1;
  LoopExit how = LoopExit::threw;
  bool closed_at_exit = true;
  StreamRef r;
  rt.run([&] {
    StreamOptions o;
    o.readable = true;
    o.object_mode = true;
    o.high_water_mark = 4;
    r = Stream::make(rt, "r", o);
    r->read_impl = [](Stream&, std::size_t) {};
    for (int i = 0; i < 3; ++i)
      r->push(Chunk::alloc(1));
    rt.set_timeout(
        5,
        [&] {
          hops.start();
          for_await(
              r, {},
              [&](const Chunk&, std::function<void(LoopStep)> step) {
                at.push_back(hops.t);
                hops.start();
                step(LoopStep{at.size() == 2, std::nullopt});
              },
              [&](LoopExit e, const MaybeError&) {
                exit_t = hops.t;
                how = e;
                closed_at_exit = r->closed();
                ++hops.generation;
              });
        },
        0);
  });
  CHECK(at == std::vector<int>{2, 2});
  CHECK(exit_t == 2);
  CHECK(how == LoopExit::broke);
  CHECK_FALSE(closed_at_exit);  // 'close' is a nextTick after the loop's exit
  CHECK(r->destroyed());
  CHECK(r->closed());
  r->dispose();
  CHECK(rt.shutdown() == 0);
}

// objectMode hwm 4, 12 objects, body awaits a 2 ms timer: each body sees at most 4 buffered,
// readableLength peaks at 5, 13 _read calls; the loop ends with the stream destroyed.
TEST_CASE("streams.for_await_with_a_slow_body_keeps_the_buffer_at_the_mark") {
  runtime::Watchdog wd(20s);
  Runtime rt;
  auto reads = std::make_shared<int>(0);
  StreamRef r;
  std::size_t body_max = 0;
  int chunks = 0;
  LoopExit how = LoopExit::threw;
  bool destroyed_at_exit = false;
  rt.run([&] {
    r = make_objects(rt, 4, 12, reads);
    for_await(
        r, {},
        [&](const Chunk&, std::function<void(LoopStep)> step) {
          ++chunks;
          body_max = std::max(body_max, r->readable_length());
          rt.set_timeout(
              2, [step] { step(LoopStep{}); }, 0);
        },
        [&](LoopExit e, const MaybeError&) {
          how = e;
          destroyed_at_exit = r->destroyed();
        });
  });
  CHECK(chunks == 12);
  CHECK(body_max == 4);
  CHECK(r->stats.readable_length_peak == 5);
  CHECK(*reads == 13);
  CHECK(how == LoopExit::ended);
  CHECK(destroyed_at_exit);
  r->dispose();
  CHECK(rt.shutdown() == 0);
}

// for await (const c of r) { if (++n === 3) break; } on an endless source: 'error'
// AbortError [ABORT_ERR] 'The operation was aborted', then 'close'; no _read after the break.
// With r.iterator({ destroyOnReturn: false }): not destroyed, no 'readable' listener left.
TEST_CASE("streams.for_await_break_destroys_unless_destroy_on_return_is_false") {
  runtime::Watchdog wd(20s);
  Runtime rt;
  auto reads = std::make_shared<int>(0);
  auto reads2 = std::make_shared<int>(0);
  StreamRef r, r2;
  std::vector<std::string> events;
  int reads_at_break = -1;
  rt.run([&] {
    r = make_objects(rt, 4, -1, reads);
    r->on("error", [&](const EventArgs& a) {
      events.push_back("error " + a.error->name + " " + a.error->code + " " + a.error->message);
    });
    r->on("close", [&](const EventArgs&) { events.push_back("close"); });
    auto n = std::make_shared<int>(0);
    for_await(
        r, {},
        [&, n](const Chunk&, std::function<void(LoopStep)> step) {
          step(LoopStep{++*n == 3, std::nullopt});
        },
        [&](LoopExit e, const MaybeError&) {
          CHECK(e == LoopExit::broke);
          reads_at_break = *reads;
          rt.set_timeout(
              5, [] {}, 0);  // time for a _read that must not come
        });
    r2 = make_objects(rt, 2, -1, reads2);
    ForAwaitOptions keep;
    keep.destroy_on_return = false;
    for_await(
        r2, keep,
        [](const Chunk&, std::function<void(LoopStep)> step) {
          step(LoopStep{true, {}});
        },
        [](LoopExit, const MaybeError&) {});
  });
  CHECK(events ==
        std::vector<std::string>{"error AbortError ABORT_ERR The operation was aborted", "close"});
  CHECK(r->destroyed());
  CHECK(*reads == reads_at_break);
  CHECK_FALSE(r2->destroyed());
  CHECK_FALSE(r2->closed());
  CHECK(r2->listener_count("readable") == 0);
  r->dispose();
  r2->dispose();
  CHECK(rt.shutdown() == 0);
}

// r.destroy(new Error('bad')) while the loop waits: the loop throws that error.
TEST_CASE("streams.for_await_throws_the_streams_error") {
  runtime::Watchdog wd(20s);
  Runtime rt;
  StreamRef r;
  std::string thrown;
  LoopExit how = LoopExit::ended;
  rt.run([&] {
    StreamOptions o;
    o.readable = true;
    r = Stream::make(rt, "r", o);
    r->read_impl = [](Stream&, std::size_t) {};
    r->on("error", [](const EventArgs&) {});
    for_await(
        r, {}, [](const Chunk&, std::function<void(LoopStep)> step) { step(LoopStep{}); },
        [&](LoopExit e, const MaybeError& err) {
          how = e;
          thrown = err ? err->message : "";
        });
    rt.set_timeout(
        2,
        [&] {
          r->destroy(JsError{"Error", "", "bad"});
        },
        0);
  });
  CHECK(how == LoopExit::threw);
  CHECK(thrown == "bad");
  r->dispose();
  CHECK(rt.shutdown() == 0);
}

// pipeline(src, mid, sink, { signal }), aborted once a short pipeline on the same signal
// resolved: every stage 'error'
// AbortError then 'close', src first; the callback (the promise's reject) once, with the
// AbortError. A second pipeline that finished before the abort is left alone.
TEST_CASE("streams.pipeline_abort_destroys_every_stage_with_an_abort_error") {
  runtime::Watchdog wd(20s);
  Runtime rt;
  std::vector<StreamRef> s, done;
  std::vector<std::string> events;
  std::vector<std::string> results;
  rt.run([&] {
    auto reads = std::make_shared<int>(0);
    StreamOptions ro;
    ro.readable = true;
    ro.high_water_mark = 8;
    s.push_back(Stream::make(rt, "src", ro));
    s[0]->read_impl = [](Stream& st, std::size_t) { st.push(Chunk::alloc(4)); };
    StreamOptions t;
    t.transform = true;
    t.high_water_mark = 8;
    s.push_back(Stream::make(rt, "mid", t));
    s[1]->transform_impl = [](Stream& st, const Chunk& c,
                              std::function<void(MaybeError, std::optional<Chunk>)> cb) {
      st.rt().set_immediate([cb, c] { cb(std::nullopt, c); }, 0);
    };
    StreamOptions wo;
    wo.writable = true;
    wo.high_water_mark = 8;
    s.push_back(Stream::make(rt, "sink", wo));
    s[2]->write_impl = [](Stream& st, const Chunk&, Callback cb) {
      st.rt().set_immediate([cb] { cb(std::nullopt); }, 0);
    };
    for (auto& st : s) {
      const std::string n = st->name();
      st->on("error", [&, n](const EventArgs& a) {
        events.push_back(n + " error " + a.error->name + " " + a.error->code);
      });
      st->on("close", [&, n](const EventArgs&) { events.push_back(n + " close"); });
    }
    auto abort = pipeline(
        s, [&](const MaybeError& err) { results.push_back(err ? err->headline() : "none"); });
    // A pipeline that finishes first: its abort listener is gone when the signal aborts.
    done.push_back(make_objects(rt, 4, 2, reads));
    StreamOptions sink_options;
    sink_options.writable = true;
    sink_options.object_mode = true;
    done.push_back(Stream::make(rt, "w", sink_options));
    done[1]->write_impl = [](Stream&, const Chunk&, Callback cb) { cb(std::nullopt); };
    auto abort_done = std::make_shared<std::function<void()>>();
    *abort_done = pipeline(done, [&, abort, abort_done](const MaybeError& err) {
      results.push_back(err ? err->headline() : "none");
      // ac.abort() once this one has settled: only the endless pipeline is still listening.
      rt.set_immediate(
          [abort, abort_done] {
            (*abort_done)();
            abort();
            abort();  // a signal aborts once; the listener is disposed anyway
          },
          0);
    });
  });
  CHECK(events == std::vector<std::string>{"src error AbortError ABORT_ERR", "src close",
                                           "mid error AbortError ABORT_ERR", "mid close",
                                           "sink error AbortError ABORT_ERR", "sink close"});
  CHECK(results ==
        std::vector<std::string>{"none", "AbortError [ABORT_ERR]: The operation was aborted"});
  CHECK_FALSE(done[0]->errored());
  for (auto& st : s)
    st->dispose();
  for (auto& st : done)
    st->dispose();
  CHECK(rt.shutdown() == 0);
}
