// The streams lab's model of Node 20's streams (labs/streams/stream.hpp), driven through its
// C++ API on the runtime. Every expected value was printed by node v20.20.2 for the JS quoted
// above the test (docs/node-semantics.md §6); the scenario files under scenarios/streams/ are also
// run against their twins on real node by the parity tests.

#include <doctest/doctest.h>

#include <chrono>
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

// new Writable({highWaterMark, write(c, e, cb) { setImmediate(cb) }}) (or a sync cb).
StreamRef make_writable(Runtime& rt, std::size_t hwm, bool sync = false, bool object = false) {
  StreamOptions o;
  o.writable = true;
  o.high_water_mark = hwm;
  o.object_mode = object;
  auto w = Stream::make(rt, "w", o);
  w->write_impl = [sync](Stream& s, const Chunk&, Callback cb) {
    if (sync) {
      cb(std::nullopt);
    } else {
      s.rt().set_immediate([cb] { cb(std::nullopt); }, 0);
    }
  };
  return w;
}

// new Readable({highWaterMark, read() { this.push(Buffer.alloc(chunk)) }}), `total` chunks.
StreamRef make_readable(Runtime& rt, std::size_t hwm, std::size_t chunk, int total) {
  StreamOptions o;
  o.readable = true;
  o.high_water_mark = hwm;
  auto r = Stream::make(rt, "r", o);
  auto pushed = std::make_shared<int>(0);
  r->read_impl = [chunk, total, pushed](Stream& s, std::size_t) {
    if (total >= 0 && *pushed == total) {
      s.push(std::nullopt);
      return;
    }
    ++*pushed;
    s.push(Chunk::alloc(chunk));
  };
  return r;
}

}  // namespace

TEST_CASE("streams.default_high_water_marks") {
  Runtime rt;
  StreamOptions bytes;
  bytes.writable = true;
  StreamOptions objects = bytes;
  objects.object_mode = true;
  // Writable hwm = 16384 | objectMode hwm = 16 (Node 20; Node 22 raised bytes to 64 KiB).
  CHECK(Stream::make(rt, "b", bytes)->writable_high_water_mark() == 16384);
  CHECK(Stream::make(rt, "o", objects)->writable_high_water_mark() == 16);
  CHECK(rt.shutdown() == 0);
}

// for (i = 1..5) w.write(Buffer.alloc(4))  (hwm 10, _write completes via setImmediate)
//   -> true true false false false, then one 'drain' with writableLength 0
TEST_CASE("streams.write_returns_false_at_hwm_and_drains_once") {
  runtime::Watchdog wd(20s);
  Runtime rt;
  std::vector<bool> rets;
  int drains = 0;
  std::size_t length_at_drain = 99;
  StreamRef w;
  rt.run([&] {
    w = make_writable(rt, 10);
    w->on("drain", [&](const EventArgs&) {
      ++drains;
      length_at_drain = w->writable_length();
    });
    for (int i = 0; i < 5; ++i)
      rets.push_back(w->write(Chunk::alloc(4)));
  });
  CHECK(rets == std::vector<bool>{true, true, false, false, false});
  // 'drain' waits for the buffer to be empty, not merely below the mark.
  CHECK(drains == 1);
  CHECK(length_at_drain == 0);
  CHECK(w->stats.writable_length_peak == 20);
  w.reset();
  CHECK(rt.shutdown() == 0);
}

// sync _write, 100-byte chunk, hwm 1 -> true (the sync callback already took it off length).
// hwm 0 with async _write, first write -> false.
TEST_CASE("streams.sync_write_callback_returns_true_for_a_large_chunk") {
  Runtime rt;
  bool sync_ret = false, zero_ret = true;
  rt.run([&] {
    sync_ret = make_writable(rt, 1, true)->write(Chunk::alloc(100));
    zero_ret = make_writable(rt, 0)->write(Chunk::alloc(1));
  });
  CHECK(sync_ret);
  CHECK_FALSE(zero_ret);
  CHECK(rt.shutdown() == 0);
}

// objectMode: write #15 -> true, write #16 -> false, whatever the objects' sizes.
TEST_CASE("streams.object_mode_counts_objects") {
  Runtime rt;
  std::vector<bool> rets;
  rt.run([&] {
    auto w = make_writable(rt, 16, false, true);
    for (int i = 0; i < 16; ++i)
      rets.push_back(w->write(Chunk::alloc(1000)));
  });
  CHECK(rets[14]);
  CHECK_FALSE(rets[15]);
  CHECK(rt.shutdown() == 0);
}

// The pump: 100 x 4 B into hwm 16, continue on 'drain' -> 25 false returns and 25 drains.
TEST_CASE("streams.pump_100_writes_25_false_25_drains") {
  runtime::Watchdog wd(20s);
  Runtime rt;
  int falses = 0, drains = 0, i = 0;
  bool finished = false;
  rt.run([&] {
    auto w = make_writable(rt, 16);
    auto step = std::make_shared<std::function<void()>>();
    std::weak_ptr<Stream> ww = w;
    *step = [&, ww] {
      auto s = ww.lock();
      while (i < 100) {
        ++i;
        if (!s->write(Chunk::alloc(4))) {
          ++falses;
          return;
        }
      }
      s->end();
    };
    w->on("drain", [&, step](const EventArgs&) {
      ++drains;
      (*step)();
    });
    w->on("finish", [&](const EventArgs&) { finished = true; });
    (*step)();
  });
  CHECK(falses == 25);
  CHECK(drains == 25);
  CHECK(finished);
  CHECK(rt.shutdown() == 0);
}

// hwm 10, _read pushes 4 bytes synchronously, one 'readable' listener that never reads:
// _read #1 -> true (4), #2 -> true (8), #3 -> false (12), then nothing.
TEST_CASE("streams.push_false_at_hwm_and_one_read_outstanding") {
  runtime::Watchdog wd(20s);
  Runtime rt;
  StreamRef r;
  std::size_t reads_before_consumer = 99;
  rt.run([&] {
    r = make_readable(rt, 10, 4, -1);
    std::weak_ptr<Stream> wr = r;
    // Nothing calls _read until the stream has a consumer.
    reads_before_consumer = r->stats.reads;
    r->on("readable", [](const EventArgs&) {});
  });
  CHECK(reads_before_consumer == 0);
  CHECK(r->stats.reads == 3);
  CHECK(r->stats.push_false == 1);
  CHECK(r->readable_length() == 12);
  r.reset();
  CHECK(rt.shutdown() == 0);
}

// pipe: 20 chunks x 4 B, dest hwm 8 -> src.pause() 10 times, dest 'drain' 9 times, max dest
// buffer 8 B.
TEST_CASE("streams.pipe_pauses_on_false_and_resumes_on_drain") {
  runtime::Watchdog wd(20s);
  Runtime rt;
  StreamRef src, dest;
  bool finished = false;
  rt.run([&] {
    src = make_readable(rt, 16384, 4, 20);
    dest = make_writable(rt, 8);
    dest->on("finish", [&](const EventArgs&) { finished = true; });
    src->pipe(*dest);
  });
  CHECK(src->stats.pauses == 10);
  CHECK(dest->stats.drains == 9);
  CHECK(dest->stats.writable_length_peak == 8);
  CHECK(finished);
  src.reset();
  dest.reset();
  CHECK(rt.shutdown() == 0);
}

// pipe + dest error: dest.destroyed=true src.destroyed=false src.readableFlowing=false
TEST_CASE("streams.pipe_does_not_destroy_the_source_when_dest_fails") {
  runtime::Watchdog wd(20s);
  Runtime rt;
  StreamRef src, dest;
  std::string error;
  rt.run([&] {
    src = make_readable(rt, 16384, 4, 20);
    dest = make_writable(rt, 8);
    dest->write_impl = [](Stream& s, const Chunk&, Callback cb) {
      s.rt().set_immediate([cb] { cb(JsError{"Error", "", "sink failed"}); }, 0);
    };
    dest->on("error", [&](const EventArgs& a) { error = a.error->message; });
    src->pipe(*dest);
  });
  CHECK(error == "sink failed");
  CHECK(dest->destroyed());
  CHECK_FALSE(src->destroyed());
  CHECK(src->readable_flowing() == std::optional<bool>(false));
  src.reset();
  dest.reset();
  CHECK(rt.shutdown() == 0);
}

// pipeline cb: err=sink failed src.destroyed=true mid.destroyed=true dest.destroyed=true,
// and the callback runs exactly once.
TEST_CASE("streams.pipeline_destroys_every_stage_and_calls_back_once") {
  runtime::Watchdog wd(20s);
  Runtime rt;
  std::vector<StreamRef> s;
  int calls = 0;
  std::string error;
  bool all_destroyed = false;
  rt.run([&] {
    s.push_back(make_readable(rt, 16384, 4, 20));
    StreamOptions t;
    t.transform = true;
    t.high_water_mark = 8;
    s.push_back(Stream::make(rt, "mid", t));
    s.push_back(make_writable(rt, 8));
    s[2]->write_impl = [](Stream& st, const Chunk&, Callback cb) {
      st.rt().set_immediate([cb] { cb(JsError{"Error", "", "sink failed"}); }, 0);
    };
    pipeline(s, [&](const MaybeError& err) {
      ++calls;
      error = err ? err->message : "";
      all_destroyed = s[0]->destroyed() && s[1]->destroyed() && s[2]->destroyed();
    });
  });
  CHECK(calls == 1);
  CHECK(error == "sink failed");
  CHECK(all_destroyed);
  for (auto& st : s)
    st->dispose();  // a Transform may hold its own callback: a cycle
  s.clear();
  CHECK(rt.shutdown() == 0);
}

// pipeline success: err=undefined, dest finished before cb=true
TEST_CASE("streams.pipeline_success_calls_back_after_finish") {
  runtime::Watchdog wd(20s);
  Runtime rt;
  std::vector<StreamRef> s;
  bool finished_first = false;
  int calls = 0;
  bool had_error = true;
  rt.run([&] {
    s.push_back(make_readable(rt, 16, 4, 50));
    StreamOptions t;
    t.transform = true;
    s.push_back(Stream::make(rt, "mid", t));
    s.push_back(make_writable(rt, 8));
    pipeline(s, [&](const MaybeError& err) {
      ++calls;
      had_error = err.has_value();
      finished_first = s[2]->writable_finished();
    });
  });
  CHECK(calls == 1);
  CHECK_FALSE(had_error);
  CHECK(finished_first);
  CHECK(s[2]->stats.bytes_written == 200);
  for (auto& st : s)
    st->dispose();  // a Transform may hold its own callback: a cycle
  s.clear();
  CHECK(rt.shutdown() == 0);
}

// pause() then on('data'): no data until resume(); readableFlowing false, then true.
TEST_CASE("streams.data_listener_does_not_start_a_paused_stream") {
  runtime::Watchdog wd(20s);
  Runtime rt;
  StreamRef r;
  int data_before = -1, data_after = 0;
  rt.run([&] {
    r = make_readable(rt, 16384, 1, 3);
    r->pause();
    r->on("data", [&](const EventArgs&) { ++data_after; });
    rt.set_timeout(
        5,
        [&] {
          data_before = data_after;
          r->resume();
        },
        0);
  });
  CHECK(data_before == 0);
  CHECK(data_after == 3);
  CHECK(r->readable_flowing() == std::optional<bool>(true));
  r.reset();
  CHECK(rt.shutdown() == 0);
}

// const w = new Writable({ highWaterMark: 100,
//   write(c, e, cb) { calls.push('write ' + c.length); setImmediate(cb); },
//   writev(cs, cb) { calls.push('writev ' + cs.length + ' len ' + w.writableLength);
//                    setImmediate(cb); } });
// w.write(Buffer.alloc(1), () => done.push('a')); ... alloc(2) 'b', alloc(3) (no callback),
// alloc(4) 'd'; w.cork(); w.write(Buffer.alloc(5), () => done.push('e')); w.end();
// node: corked 1 len 15, after end corked 0,
//       {"calls":["write 1","writev 4 len 14"],"done":["a","b","d","e"],"pending":0}
TEST_CASE("streams.writev_flushes_the_buffer_in_one_call_and_end_uncorks") {
  Runtime rt;
  StreamOptions o;
  o.writable = true;
  o.high_water_mark = 100;
  auto w = Stream::make(rt, "w", o);
  std::vector<std::string> calls, done;
  w->write_impl = [&calls](Stream& s, const Chunk& c, Callback cb) {
    calls.push_back("write " + std::to_string(c.length));
    s.rt().set_immediate([cb] { cb(std::nullopt); }, 0);
  };
  w->writev_impl = [&calls](Stream& s, std::span<const Chunk> cs, Callback cb) {
    calls.push_back("writev " + std::to_string(cs.size()) + " len " +
                    std::to_string(s.writable_length()));
    s.rt().set_immediate([cb] { cb(std::nullopt); }, 0);
  };
  auto note = [&done](std::string what) {
    return [&done, what](const MaybeError& e) {
      CHECK_FALSE(e);
      done.push_back(what);
    };
  };
  bool finished = false;
  std::size_t corked = 0, length = 0, corked_after_end = 1;
  rt.run([&] {
    w->on("finish", [&](const EventArgs&) {
      finished = true;
      CHECK(done.size() == 4);  // every write's callback ran before 'finish'
    });
    w->write(Chunk::alloc(1), note("a"));
    w->write(Chunk::alloc(2), note("b"));
    w->write(Chunk::alloc(3));
    w->write(Chunk::alloc(4), note("d"));
    w->cork();
    w->write(Chunk::alloc(5), note("e"));
    corked = w->writable_corked();
    length = w->writable_length();
    w->end();
    corked_after_end = w->writable_corked();
  });
  CHECK(corked == 1);
  CHECK(length == 15);
  CHECK(corked_after_end == 0);
  CHECK(calls == std::vector<std::string>{"write 1", "writev 4 len 14"});
  CHECK(done == std::vector<std::string>{"a", "b", "d", "e"});
  CHECK(finished);
  w->dispose();
  w.reset();
  CHECK(rt.shutdown() == 0);
}

// A stream is an EventEmitter (common/events/event_emitter.hpp):
//   const r = new Readable({ read() {} }); const w = new Writable({ write(c, e, cb) { cb(); } });
//   const d = new Duplex({ read() {}, write(c, e, cb) { cb(); } });
//   for (const s of [r, w, d]) for (let i = 0; i < 11; i++) s.on('drain', () => {});
//   console.log('sync'); try { r.emit('error', 'x') } catch (e) { console.log(e.code, e.message) }
// node: sync, ERR_UNHANDLED_ERROR Unhandled error. ('x') -- here (undefined): the lab's
// emit('error') carries no string; then the warnings, on nextTick:
//   MaxListenersExceededWarning: Possible EventEmitter memory leak detected. 11 drain
//   listeners added to [Readable]. MaxListeners is 10. Use emitter.setMaxListeners() to
//   increase limit   (then [Writable], [Duplex])
TEST_CASE("streams.max_listeners_warning_names_the_stream_class") {
  Runtime rt;
  StreamOptions ro, wo, dox, tox;
  ro.readable = true;
  wo.writable = true;
  dox.readable = dox.writable = true;
  tox.transform = true;
  auto r = Stream::make(rt, "r", ro);
  auto w = Stream::make(rt, "w", wo);
  auto d = Stream::make(rt, "d", dox);
  auto t = Stream::make(rt, "t", tox);
  t->set_max_listeners(11);
  std::string unhandled;
  rt.run([&] {
    for (const auto& s : {r, w, d, t}) {
      for (int i = 0; i < 11; ++i)
        s->on("drain", [](const EventArgs&) {});
    }
    rt.log("sync");
    try {
      r->emit("error");
    } catch (const runtime::JsThrow& e) {
      unhandled = e.error().code + " " + e.error().message;
    }
  });
  auto warning = [](const std::string& cls) {
    return "warning: MaxListenersExceededWarning: Possible EventEmitter memory leak detected. "
           "11 drain listeners added to [" +
           cls + "]. MaxListeners is 10. Use emitter.setMaxListeners() to increase limit";
  };
  CHECK(testing::log_texts(rt) == std::vector<std::string>{"sync", warning("Readable"),
                                                           warning("Writable"), warning("Duplex")});
  CHECK(unhandled == "ERR_UNHANDLED_ERROR Unhandled error. (undefined)");
  for (const auto& s : {r, w, d, t})
    s->dispose();
  CHECK(rt.shutdown() == 0);
}

// A once('data') listener that is the only one: removed before it runs, and the flow no
// longer counts it (data_listening), as Readable's removeListener override does.
TEST_CASE("streams.once_listener_removes_itself_before_running") {
  Runtime rt;
  auto r = make_readable(rt, 16, 4, 2);
  std::size_t during = 99;
  rt.run([&] { r->once("data", [&](const EventArgs&) { during = r->listener_count("data"); }); });
  CHECK(during == 0);
  CHECK(r->listener_count("data") == 0);
  r->dispose();
  CHECK(rt.shutdown() == 0);
}

// const t = new Transform({ transform(c, e, cb) { cb(null, c) } });
// finished(t, { readable: false, writable: true }, cb) after t.write(4 bytes); t.end():
// cb at 'finish', with t's output unread and t not destroyed; { readable: true, writable:
// true } (finished's default) waits for 'end' too, so it never calls back.
TEST_CASE("streams.eos_of_a_transform_watched_as_a_writable_reports_at_finish") {
  runtime::Watchdog wd(20s);
  Runtime rt;
  StreamRef t;
  int writable_calls = 0, both_calls = 0;
  bool destroyed_at_callback = true;
  std::size_t unread_at_callback = 0;
  rt.run([&] {
    StreamOptions o;
    o.transform = true;
    t = Stream::make(rt, "t", o);
    eos(t, false, true, [&](const MaybeError& err) {
      CHECK_FALSE(err.has_value());
      ++writable_calls;
      destroyed_at_callback = t->destroyed();
      unread_at_callback = t->readable_length();
    });
    eos(t, true, true, [&](const MaybeError&) { ++both_calls; });
    t->write(Chunk::alloc(4));
    t->end();
  });
  CHECK(writable_calls == 1);
  CHECK_FALSE(destroyed_at_callback);
  CHECK(unread_at_callback == 4);
  CHECK(both_calls == 0);
  CHECK(t->writable_finished());
  t->dispose();
  t.reset();
  CHECK(rt.shutdown() == 0);
}

// r.once('readable', () => { n++; r.read() }): _read runs with no read() of ours, the
// listener fires once, and readableFlowing is back to null a tick after it removed itself.
TEST_CASE("streams.once_readable_reads_and_resets_the_mode_after_it_fires") {
  runtime::Watchdog wd(20s);
  Runtime rt;
  StreamRef r;
  int fired = 0;
  std::optional<bool> flowing_in_listener, flowing_after;
  rt.run([&] {
    r = make_readable(rt, 16384, 4, 2);
    r->once("readable", [&](const EventArgs&) {
      ++fired;
      r->read();
      flowing_in_listener = r->readable_flowing();
      rt.next_tick([&] { flowing_after = r->readable_flowing(); }, 0);
    });
  });
  CHECK(fired == 1);
  CHECK(r->stats.reads >= 1);
  CHECK(flowing_in_listener == std::optional<bool>(false));
  CHECK_FALSE(flowing_after.has_value());
  r->dispose();
  r.reset();
  CHECK(rt.shutdown() == 0);
}
