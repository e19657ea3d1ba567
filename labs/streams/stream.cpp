// Node 20's stream accounting (see stream.hpp). Each function names the Node function it
// follows; comments say where Node's behaviour is surprising.

#include "streams/stream.hpp"

#include <algorithm>
#include <new>

namespace nodelab::streams {

namespace {

JsError err_stream_destroyed(std::string_view method) {
  return {"Error", "ERR_STREAM_DESTROYED",
          "Cannot call " + std::string(method) + " after a stream was destroyed"};
}
JsError err_write_after_end() {
  return {"Error", "ERR_STREAM_WRITE_AFTER_END", "write after end"};
}
JsError err_push_after_eof() {
  return {"Error", "ERR_STREAM_PUSH_AFTER_EOF", "stream.push() after EOF"};
}

}  // namespace

JsError premature_close() {
  return {"Error", "ERR_STREAM_PREMATURE_CLOSE", "Premature close"};
}

Chunk Chunk::alloc(std::size_t n, char fill) {
  Chunk c = alloc_unsafe(n);
  std::fill_n(c.bytes.get(), n, fill);
  return c;
}

SharedBytes SharedBytes::make(std::size_t n) {
  SharedBytes b;
  void* p = std::malloc(sizeof(Block) + n);
  if (p == nullptr) throw std::bad_alloc();
  b.block_ = static_cast<Block*>(p);
  b.block_->refs = 1;
  return b;
}

Chunk Chunk::alloc_unsafe(std::size_t n) {
  return {SharedBytes::make(n), 0, n};
}

std::shared_ptr<Stream> Stream::make(runtime::Runtime& rt, std::string name, StreamOptions o) {
  return std::make_shared<Stream>(rt, std::move(name), o);
}

Stream::Stream(runtime::Runtime& rt, std::string name, StreamOptions o)
    : rt_(rt),
      name_(std::move(name)),
      object_mode_(o.object_mode),
      allow_half_open_(o.allow_half_open),
      transform_(o.transform),
      emitter_([&rt](std::string_view warning, const std::string& message) {
        rt.emit_warning(warning, message);
      }) {
  // The constructor name a MaxListenersExceededWarning prints.
  if (!o.class_name.empty()) {
    emitter_.set_class_name(std::move(o.class_name));
  } else {
    emitter_.set_class_name(o.transform                ? "Transform"
                            : o.readable && o.writable ? "Duplex"
                            : o.readable               ? "Readable"
                                                       : "Writable");
  }
  // Readable.prototype.removeListener, which a once-wrapper's removal goes through too: a
  // 'data' array emptied stops counting as a listener for the flow; any 'readable' removal
  // queues updateReadableListening (a nextTick, so a once('readable') listener can add
  // itself again before it runs).
  emitter_.set_remove_hook([this](std::string_view event) {
    if (!r_) return;
    if (event == "readable") {
      if (!in_remove_listener_) next_tick([](Stream& s) { s.update_readable_listening(); });
    } else if (event == "data" && emitter_.listener_count("data") == 0) {
      r_->data_listening = false;
    }
  });
  const std::size_t def = o.object_mode ? kDefaultHighWaterMarkObjects : kDefaultHighWaterMarkBytes;
  if (o.writable || o.transform) {
    w_ = std::make_unique<WritableState>();
    w_->high_water_mark = o.writable_high_water_mark.value_or(o.high_water_mark.value_or(def));
  }
  if (o.readable || o.transform) {
    r_ = std::make_unique<ReadableState>();
    r_->high_water_mark = o.readable_high_water_mark.value_or(o.high_water_mark.value_or(def));
    // transform.js: `this._readableState.sync = false`.
    if (o.transform) r_->sync = false;
  }
  // A Transform's _final is transform.js's final() (flush, then push(null)); it runs from
  // prefinish(), as Writable's does for any stream with a _final.
}

void Stream::dispose() {
  read_impl = nullptr;
  write_impl = nullptr;
  writev_impl = nullptr;
  transform_impl = nullptr;
  final_impl = nullptr;
  destroy_hook = nullptr;
  length_observer = nullptr;
  transform_callback_ = nullptr;
  emitter_.remove_all_listeners();
  if (w_) {
    w_->writecb = nullptr;
    w_->buffered.clear();
    w_->on_finished.clear();
  }
  if (r_) {
    r_->buffer.clear();
    r_->pipes.clear();
    r_->await_drain_writers.clear();
  }
}

void Stream::next_tick(std::function<void(Stream&)> fn) {
  auto self = shared_from_this();
  rt_.next_tick([self, fn = std::move(fn)] { fn(*self); }, 0);
}

void Stream::track_lengths() {
  if (w_) stats.writable_length_peak = std::max(stats.writable_length_peak, w_->length);
  if (r_) stats.readable_length_peak = std::max(stats.readable_length_peak, r_->length);
  if (length_observer) length_observer(*this);
}

// ---------------------------------------------------------------------------------------
// EventEmitter: common/events/event_emitter.hpp, with Readable's on() override.

JsError error_to_throw(const EventArgs& a) {
  return a.error != nullptr ? *a.error : events::err_unhandled_error("undefined");
}

namespace {
events::ListenerRef<EventArgs> listener(std::function<void(const EventArgs&)> fn) {
  return std::make_shared<events::Listener<EventArgs>>(events::Listener<EventArgs>{std::move(fn)});
}
}  // namespace

// Readable.prototype.on: a 'data' listener starts the flow (unless paused), a 'readable'
// listener takes over from it.
ListenerId Stream::on(std::string_view event, std::function<void(const EventArgs&)> fn) {
  const auto l = listener(std::move(fn));
  emitter_.on(event, l);
  readable_listener_added(event);
  return ListenerId(l);
}

// EventEmitter.prototype.once adds its wrapper through this.on, so Readable's override runs
// for once('data') and once('readable') exactly as for on().
ListenerId Stream::once(std::string_view event, std::function<void(const EventArgs&)> fn) {
  const auto l = listener(std::move(fn));
  emitter_.once(event, l);
  readable_listener_added(event);
  return ListenerId(l);
}

void Stream::readable_listener_added(std::string_view event) {
  if (!r_) return;
  ReadableState& st = *r_;
  if (event == "data") {
    on_data_listener_added();
  } else if (event == "readable" && !st.end_emitted && !st.readable_listening) {
    st.readable_listening = st.need_readable = st.has_flowing = true;
    st.flowing = st.emitted_readable = false;
    if (st.length) {
      emit_readable();
    } else if (!st.reading) {
      next_tick([](Stream& s) { s.read(0); });  // nReadingNextTick
    }
  }
}

void Stream::remove_listener(std::string_view event, const ListenerId& id) {
  // A listener already removed (and freed) is not in the array: nothing is removed, but
  // Readable.prototype.removeListener still queues updateReadableListening for 'readable'.
  in_remove_listener_ = true;
  if (const auto fn = id.lock()) emitter_.remove_listener(event, fn);
  in_remove_listener_ = false;
  if (r_ && event == "readable") next_tick([](Stream& s) { s.update_readable_listening(); });
}

// updateReadableListening: after a 'readable' listener went, the stream flows again if it
// has 'data' listeners (or a resume() is pending), else falls back to readableFlowing null.
void Stream::update_readable_listening() {
  ReadableState& st = *r_;
  st.readable_listening = listener_count("readable") > 0;
  if (st.has_paused && !st.paused && st.resume_scheduled) {
    // flowing must be true now, or the scheduled resume_ will not flow.
    st.has_flowing = st.flowing = true;
  } else if (st.data_listening) {
    resume();
  } else if (!st.readable_listening) {
    st.has_flowing = st.flowing = false;
  }
}

ListenerId Stream::prepend_listener(std::string_view event,
                                    std::function<void(const EventArgs&)> fn) {
  const auto l = listener(std::move(fn));
  emitter_.prepend_listener(event, l);
  return ListenerId(l);
}

// ---------------------------------------------------------------------------------------
// Writable (lib/internal/streams/writable.js)

bool Stream::writable() const {
  // The `writable` getter.
  return w_ && !w_->destroyed && !w_->errored && !w_->ending && !w_->ended;
}

bool Stream::write(Chunk chunk, Callback cb) {
  WritableState& st = *w_;
  ++stats.writes;
  // _write(): after end() or destroy() the callback gets the error on a nextTick and the
  // stream errors (errorOrDestroy(..., sync = true)); write() returns false.
  if (st.ending || st.destroyed) {
    const JsError err = st.ending ? err_write_after_end() : err_stream_destroyed("write");
    if (cb) rt_.next_tick([cb, err] { cb(err); }, 0);
    error_or_destroy(err, true);
    ++stats.write_false;
    return false;
  }
  ++st.pendingcb;
  const bool ret = write_or_buffer(std::move(chunk), std::move(cb));
  if (!ret) ++stats.write_false;
  return ret;
}

bool Stream::write_or_buffer(Chunk chunk, Callback cb) {
  WritableState& st = *w_;
  const std::size_t len = object_mode_ ? 1 : chunk.length;
  st.length += len;
  track_lengths();
  if (st.writing || st.corked || st.errored) {
    if (cb) st.all_noop = false;
    st.buffered.push_back({std::move(chunk), std::move(cb)});
  } else {
    // writeOrBuffer: write() has already turned a destroyed stream away, so doWrite's own
    // destroyed check never fires here.
    do_write(len, {&chunk, 1}, false, std::move(cb));
  }
  // The return value is computed after _write: a synchronous callback has already taken
  // the chunk off `length`.
  const bool ret = st.length < st.high_water_mark || st.length == 0;
  if (!ret) st.need_drain = true;
  return ret && !st.destroyed && !st.errored;
}

// doWrite: one chunk to _write or, from clearBuffer, every buffered chunk to _writev.
void Stream::do_write(std::size_t len, std::span<const Chunk> chunks, bool writev, Callback cb) {
  WritableState& st = *w_;
  st.writelen = len;
  st.writecb = std::move(cb);
  st.writing = st.sync = st.expect_write_cb = true;
  if (st.destroyed) {
    onwrite(err_stream_destroyed("write"));
  } else {
    for (const Chunk& c : chunks)
      stats.bytes_written += c.length;
    auto onwrite_cb = [self = shared_from_this()](const MaybeError& e) { self->onwrite(e); };
    if (writev) {
      ++stats.writevs;
      stats.writev_chunks += chunks.size();
      writev_impl(*this, chunks, std::move(onwrite_cb));
    } else if (transform_) {
      transform_write(chunks.front());
    } else if (write_impl) {
      write_impl(*this, chunks.front(), std::move(onwrite_cb));
    } else if (writev_impl) {
      // Writable.prototype._write: this._writev([{ chunk, encoding }], cb).
      writev_impl(*this, chunks, std::move(onwrite_cb));
    } else {
      onwrite(std::nullopt);
    }
  }
  st.sync = false;
}

void Stream::onwrite_error(const MaybeError& er, const Callback& cb) {
  --w_->pendingcb;
  if (cb) cb(er);
  error_buffer();
  error_or_destroy(*er, false);
}

void Stream::onwrite(const MaybeError& er) {
  WritableState& st = *w_;
  if (!st.expect_write_cb) {
    error_or_destroy({"Error", "ERR_MULTIPLE_CALLBACK", "Callback called multiple times"}, false);
    return;
  }
  const bool sync = st.sync;
  Callback cb = std::move(st.writecb);
  st.writecb = nullptr;
  st.writing = st.expect_write_cb = false;
  st.length -= st.writelen;
  st.writelen = 0;
  if (length_observer) length_observer(*this);

  if (er) {
    if (!st.errored) st.errored = er;
    if (r_ && !r_->errored) r_->errored = er;
    if (sync) {
      next_tick([er, cb](Stream& s) { s.onwrite_error(er, cb); });
    } else {
      onwrite_error(er, cb);
    }
    return;
  }
  if (!st.buffered.empty()) clear_buffer();
  if (sync) {
    // v20.20.2 reads `(state[kState] & kDestroyed !== 0)`, which JavaScript parses as
    // `state[kState] & true`, i.e. the kObjectMode bit: in objectMode a synchronous write
    // always defers afterWrite to a nextTick. Reproduced as Node has it.
    const bool need_drain = st.need_drain && st.length == 0;
    const bool need_tick = need_drain || object_mode_ || static_cast<bool>(cb);
    if (!cb) {
      if (!st.after_write_pending && need_tick) {
        next_tick([](Stream& s) { s.after_write(1, nullptr); });
        st.after_write_pending = true;
      } else {
        --st.pendingcb;
        if (st.ending) finish_maybe(true);
      }
    } else if (need_tick) {
      // Every callback here is a distinct closure, so afterWriteTickInfo.cb === cb never
      // holds and each gets its own tick.
      next_tick([cb](Stream& s) { s.after_write(1, cb); });
      st.after_write_pending = true;
    }
  } else {
    after_write(1, cb);
  }
}

void Stream::after_write(std::uint64_t count, const Callback& cb) {
  WritableState& st = *w_;
  st.after_write_pending = false;
  // 'drain' only when the buffer is completely empty, after a write() returned false.
  const bool need_drain = st.need_drain && !st.ending && !st.destroyed && st.length == 0;
  if (need_drain) {
    st.need_drain = false;
    ++stats.drains;
    emit("drain");
  }
  while (count-- > 0) {
    --st.pendingcb;
    if (cb) cb(std::nullopt);
  }
  if (st.destroyed) error_buffer();
  if (st.ending) finish_maybe(true);
}

void Stream::error_buffer() {
  WritableState& st = *w_;
  if (st.writing) return;
  const JsError err = st.errored.value_or(err_stream_destroyed("write"));
  while (!st.buffered.empty()) {
    BufferedWrite b = std::move(st.buffered.front());
    st.buffered.pop_front();
    st.length -= object_mode_ ? 1 : b.chunk.length;
    if (length_observer) length_observer(*this);
    if (b.callback) b.callback(err);
  }
  call_finished_callbacks(st.errored.value_or(err_stream_destroyed("end")));
  reset_buffer();
}

void Stream::reset_buffer() {
  w_->buffered.clear();
  w_->all_noop = true;
}

void Stream::clear_buffer() {
  WritableState& st = *w_;
  if (st.destroyed || st.buffer_processing || st.corked || st.buffered.empty()) return;
  st.buffer_processing = true;
  const std::size_t n = st.buffered.size();
  if (n > 1 && writev_impl) {
    // Every buffered chunk in one _writev of length state.length; one onwrite for all, so
    // pendingcb counts them as one from here, and the callback calls each write's own.
    st.pendingcb -= static_cast<std::int64_t>(n) - 1;
    std::vector<Chunk> chunks;
    chunks.reserve(n);
    std::vector<Callback> callbacks;
    for (BufferedWrite& b : st.buffered) {
      chunks.push_back(std::move(b.chunk));
      if (b.callback) callbacks.push_back(std::move(b.callback));
    }
    Callback all;
    if (!st.all_noop) {
      all = [callbacks = std::move(callbacks)](const MaybeError& e) {
        for (const Callback& c : callbacks)
          c(e);
      };
    }
    reset_buffer();
    do_write(st.length, chunks, true, std::move(all));
  } else {
    // One buffered chunk at a time while _write completes synchronously.
    do {
      BufferedWrite b = std::move(st.buffered.front());
      st.buffered.pop_front();
      do_write(object_mode_ ? 1 : b.chunk.length, {&b.chunk, 1}, false, std::move(b.callback));
    } while (!st.buffered.empty() && !st.writing);
    if (st.buffered.empty()) st.all_noop = true;  // resetBuffer once every entry is out
  }
  st.buffer_processing = false;
}

void Stream::cork() {
  ++w_->corked;
}

void Stream::uncork() {
  WritableState& st = *w_;
  if (st.corked == 0) return;
  --st.corked;
  if (!st.writing) clear_buffer();
}

void Stream::end(Callback cb) {
  WritableState& st = *w_;
  MaybeError err;
  // .end() fully uncorks.
  if (st.corked) {
    st.corked = 1;
    uncork();
  }
  if (!st.ending && !st.errored) {
    st.ending = true;
    finish_maybe(true);
    st.ended = true;
  } else if (st.finished) {
    err = JsError{"Error", "ERR_STREAM_ALREADY_FINISHED",
                  "Cannot call end after a stream was finished"};
  } else if (st.destroyed) {
    err = err_stream_destroyed("end");
  }
  if (cb) {
    if (err) {
      rt_.next_tick([cb, err] { cb(err); }, 0);
    } else if (st.errored) {
      rt_.next_tick([cb, e = st.errored] { cb(e); }, 0);
    } else if (st.finished) {
      rt_.next_tick([cb] { cb(std::nullopt); }, 0);
    } else {
      st.on_finished.push_back(std::move(cb));
    }
  }
}

bool Stream::need_finish() const {
  const WritableState& st = *w_;
  return st.ending && !st.destroyed && !st.finished && !st.writing && !st.error_emitted &&
         !st.close_emitted && !st.errored && st.buffered.empty() && st.length == 0;
}

void Stream::on_finish(const MaybeError& err) {
  WritableState& st = *w_;
  if (st.prefinished) {
    error_or_destroy(
        err.value_or(JsError{"Error", "ERR_MULTIPLE_CALLBACK", "Callback called multiple times"}),
        false);
    return;
  }
  --st.pendingcb;
  if (err) {
    call_finished_callbacks(err);
    error_or_destroy(*err, st.sync);
  } else if (need_finish()) {
    st.prefinished = true;
    emit("prefinish");
    ++st.pendingcb;
    next_tick([](Stream& s) { s.finish(); });
  }
}

void Stream::prefinish() {
  WritableState& st = *w_;
  if (st.prefinished || st.final_called) return;
  const bool has_final = transform_ || static_cast<bool>(final_impl);
  if (has_final && !st.destroyed) {
    st.final_called = st.sync = true;
    ++st.pendingcb;
    auto done = [self = shared_from_this()](const MaybeError& e) { self->on_finish(e); };
    if (transform_) {
      transform_final(done);
    } else {
      final_impl(*this, done);
    }
    st.sync = false;
  } else {
    st.final_called = st.prefinished = true;
    emit("prefinish");
  }
}

void Stream::finish_maybe(bool sync) {
  WritableState& st = *w_;
  if (!need_finish()) return;
  prefinish();
  if (st.pendingcb != 0) return;
  if (sync) {
    ++st.pendingcb;
    next_tick([](Stream& s) {
      if (s.need_finish()) {
        s.finish();
      } else {
        --s.w_->pendingcb;
      }
    });
  } else if (need_finish()) {
    ++st.pendingcb;
    finish();
  }
}

void Stream::finish() {
  WritableState& st = *w_;
  --st.pendingcb;
  st.finished = true;
  call_finished_callbacks(std::nullopt);
  emit("finish");
  // autoDestroy: a Duplex waits for its readable side to have ended.
  if (!r_ || r_->end_emitted) destroy();
}

void Stream::call_finished_callbacks(const MaybeError& err) {
  auto cbs = std::move(w_->on_finished);
  w_->on_finished.clear();
  for (auto& cb : cbs)
    cb(err);
}

// ---------------------------------------------------------------------------------------
// Readable (lib/internal/streams/readable.js)

bool Stream::readable() const {
  return r_ && !r_->destroyed && !r_->error_emitted && !r_->end_emitted;
}

std::optional<bool> Stream::readable_flowing() const {
  if (!r_ || !r_->has_flowing) return std::nullopt;
  return r_->flowing;
}

bool Stream::push(std::optional<Chunk> chunk) {
  ++stats.pushes;
  const bool ret = readable_add_chunk(std::move(chunk));
  if (!ret) ++stats.push_false;
  return ret;
}

bool Stream::can_push_more() const {
  return !r_->ended && (r_->length < r_->high_water_mark || r_->length == 0);
}

bool Stream::readable_add_chunk(std::optional<Chunk> chunk) {
  ReadableState& st = *r_;
  if (!chunk) {
    st.reading = false;
    on_eof_chunk();
    return false;
  }
  if (!object_mode_ && chunk->length == 0) {
    st.reading = false;
    maybe_read_more();
    return can_push_more();
  }
  if (st.ended) {
    error_or_destroy(err_push_after_eof(), false);
    return false;
  }
  if (st.destroyed || st.errored) return false;
  st.reading = false;
  add_chunk(std::move(*chunk));
  return can_push_more();
}

void Stream::clear_await_drain() {
  r_->await_drain_writers.clear();
}

void Stream::add_chunk(Chunk chunk) {
  ReadableState& st = *r_;
  if (st.flowing && !st.sync && st.data_listening && st.length == 0) {
    // Flowing with an empty buffer: the chunk goes straight to 'data', never buffered.
    clear_await_drain();
    st.data_emitted = true;
    EventArgs a;
    a.chunk = &chunk;
    emit("data", a);
  } else {
    st.length += object_mode_ ? 1 : chunk.length;
    st.buffer.push_back(std::move(chunk));
    track_lengths();
    if (st.need_readable) emit_readable();
  }
  maybe_read_more();
}

std::size_t Stream::how_much_to_read(std::optional<std::size_t> n) const {
  const ReadableState& st = *r_;
  if ((n && *n == 0) || (st.length == 0 && st.ended)) return 0;
  if (object_mode_) return 1;
  if (!n) {
    if (st.flowing && st.length) return st.buffer.front().length;
    return st.length;
  }
  if (*n <= st.length) return *n;
  return st.ended ? st.length : 0;
}

Chunk Stream::from_list(std::size_t n) {
  ReadableState& st = *r_;
  if (object_mode_) {
    Chunk c = std::move(st.buffer.front());
    st.buffer.pop_front();
    return c;
  }
  if (n >= st.length) {
    if (st.buffer.size() == 1) {
      Chunk c = std::move(st.buffer.front());
      st.buffer.pop_front();
      return c;
    }
    Chunk out = Chunk::alloc_unsafe(st.length);
    std::size_t at = 0;
    for (const Chunk& c : st.buffer) {
      std::copy_n(c.data(), c.length, out.data() + at);
      at += c.length;
    }
    st.buffer.clear();
    return out;
  }
  Chunk& first = st.buffer.front();
  if (n < first.length) {
    Chunk out = first.slice(0, n);
    first = first.slice(n, first.length - n);
    return out;
  }
  if (n == first.length) {
    Chunk c = std::move(first);
    st.buffer.pop_front();
    return c;
  }
  Chunk out = Chunk::alloc_unsafe(n);
  std::size_t at = 0;
  while (at < n) {
    Chunk& c = st.buffer.front();
    const std::size_t take = std::min(c.length, n - at);
    std::copy_n(c.data(), take, out.data() + at);
    at += take;
    if (take == c.length) {
      st.buffer.pop_front();
    } else {
      c = c.slice(take, c.length - take);
    }
  }
  return out;
}

std::optional<Chunk> Stream::read(std::optional<std::size_t> n) {
  ReadableState& st = *r_;
  const std::optional<std::size_t> n_orig = n;
  if (n && *n > st.high_water_mark) {
    // computeNewHighWaterMark: the next power of two.
    std::size_t h = 1;
    while (h < *n)
      h <<= 1;
    st.high_water_mark = h;
  }
  if (!n || *n != 0) st.emitted_readable = false;

  if (n && *n == 0 && st.need_readable &&
      ((st.high_water_mark != 0 ? st.length >= st.high_water_mark : st.length > 0) || st.ended)) {
    if (st.length == 0 && st.ended) {
      end_readable();
    } else {
      emit_readable();
    }
    return std::nullopt;
  }

  std::size_t want = how_much_to_read(n);
  if (want == 0 && st.ended) {
    if (st.length == 0) end_readable();
    return std::nullopt;
  }

  bool do_read = st.need_readable;
  if (st.length == 0 || st.length - want < st.high_water_mark) do_read = true;
  if (st.ended || st.reading || st.destroyed || st.errored) {
    do_read = false;
  } else if (do_read) {
    st.reading = st.sync = true;
    if (st.length == 0) st.need_readable = true;
    ++stats.reads;
    try {
      if (transform_) {
        // Transform.prototype._read: release the held-back _write callback.
        if (transform_callback_) {
          Callback cb = std::move(transform_callback_);
          transform_callback_ = nullptr;
          cb(std::nullopt);
        }
      } else if (read_impl) {
        read_impl(*this, st.high_water_mark);
      }
    } catch (const runtime::JsThrow& t) {
      error_or_destroy(t.error(), false);
    }
    st.sync = false;
    if (!st.reading) want = how_much_to_read(n_orig);
  }

  std::optional<Chunk> ret;
  if (want > 0 && st.length > 0) ret = from_list(want);

  if (!ret) {
    if (st.length <= st.high_water_mark) st.need_readable = true;
    want = 0;
  } else {
    st.length -= want;
    if (length_observer) length_observer(*this);
    clear_await_drain();
  }
  if (st.length == 0) {
    if (!st.ended) st.need_readable = true;
    const bool same = n_orig.has_value() && *n_orig == want;
    if (!same && st.ended) end_readable();
  }
  if (ret && !st.error_emitted && !st.close_emitted) {
    st.data_emitted = true;
    EventArgs a;
    a.chunk = &*ret;
    emit("data", a);
  }
  return ret;
}

void Stream::on_eof_chunk() {
  ReadableState& st = *r_;
  if (st.ended) return;
  st.ended = true;
  if (st.sync) {
    emit_readable();
  } else {
    st.need_readable = false;
    st.emitted_readable = true;
    emit_readable_();
  }
}

void Stream::emit_readable() {
  r_->need_readable = false;
  if (!r_->emitted_readable) {
    r_->emitted_readable = true;
    next_tick([](Stream& s) { s.emit_readable_(); });
  }
}

void Stream::emit_readable_() {
  ReadableState& st = *r_;
  if (!st.destroyed && !st.errored && (st.length || st.ended)) {
    emit("readable");
    st.emitted_readable = false;
  }
  if (!st.flowing && !st.ended && st.length <= st.high_water_mark) st.need_readable = true;
  flow();
}

void Stream::maybe_read_more() {
  if (!r_->reading_more) {
    r_->reading_more = true;
    next_tick([](Stream& s) { s.maybe_read_more_(); });
  }
}

void Stream::maybe_read_more_() {
  ReadableState& st = *r_;
  while (!st.reading && !st.ended &&
         (st.length < st.high_water_mark || (st.flowing && st.length == 0))) {
    const std::size_t len = st.length;
    read(0);
    if (len == st.length) break;
  }
  st.reading_more = false;
}

void Stream::flow() {
  while (r_->flowing && read().has_value()) {
  }
}

void Stream::on_data_listener_added() {
  ReadableState& st = *r_;
  st.data_listening = true;
  if (listener_count("readable") > 0) st.readable_listening = true;
  // An explicitly paused stream (flowing === false) is not started by a 'data' listener.
  if (!(st.has_flowing && !st.flowing)) resume();
}

void Stream::resume() {
  ReadableState& st = *r_;
  if (!st.flowing) {
    st.has_flowing = true;
    st.flowing = !st.readable_listening;
    if (!st.resume_scheduled) {
      st.resume_scheduled = true;
      next_tick([](Stream& s) { s.resume_(); });
    }
  }
  st.has_paused = true;
  st.paused = false;
  if (stats.paused_since.count() >= 0) {
    stats.paused_time += runtime::hrtime() - stats.paused_since;
    stats.paused_since = runtime::Nanos(-1);
  }
}

void Stream::resume_() {
  ReadableState& st = *r_;
  if (!st.reading) read(0);
  st.resume_scheduled = false;
  emit("resume");
  flow();
  if (st.flowing && !st.reading) read(0);
}

void Stream::pause() {
  ReadableState& st = *r_;
  if (!(st.has_flowing && !st.flowing)) {
    st.has_flowing = true;
    st.flowing = false;
    ++stats.pauses;
    if (stats.paused_since.count() < 0) stats.paused_since = runtime::hrtime();
    emit("pause");
  }
  st.has_paused = st.paused = true;
}

void Stream::end_readable() {
  if (!r_->end_emitted) {
    r_->ended = true;
    next_tick([](Stream& s) { s.end_readable_nt(); });
  }
}

void Stream::end_readable_nt() {
  ReadableState& st = *r_;
  if (st.errored || st.close_emitted || st.end_emitted || st.length != 0) return;
  st.end_emitted = true;
  emit("end");
  if (w_ && writable() && !allow_half_open_) {
    next_tick([](Stream& s) {
      if (s.writable() && !s.w_->ending && !s.destroyed()) s.end();
    });
  } else if (!w_ || w_->finished) {
    destroy();  // autoDestroy
  }
}

// pipe() (Readable.prototype.pipe): the source writes each 'data' chunk to dest; a false
// return pauses the source until every awaited writer has emitted 'drain'. When dest errors,
// the source is unpiped (and paused) but NOT destroyed.
Stream& Stream::pipe(Stream& dest_ref, bool do_end) {
  auto src = shared_from_this();
  auto dest = dest_ref.shared_from_this();
  ReadableState& st = *r_;
  if (st.pipes.size() == 1 && !st.multi_await_drain) st.multi_await_drain = true;
  st.pipes.push_back(dest.get());

  struct PipeState {
    ListenerId on_end, on_unpipe, on_drain, on_error, on_close, on_finish, on_data;
    bool end_is_unpipe = false;
    bool cleaned_up = false;
  };
  auto ps = std::make_shared<PipeState>();
  std::weak_ptr<Stream> wsrc = src, wdest = dest;

  auto unpipe = [wsrc, wdest] {
    auto s = wsrc.lock();
    auto d = wdest.lock();
    if (s && d) s->unpipe(d.get());
  };
  auto make_on_drain = [wsrc, wdest] {
    return [wsrc, wdest](const EventArgs&) {
      auto s = wsrc.lock();
      auto d = wdest.lock();
      if (!s || !d) return;
      auto& w = s->r_->await_drain_writers;
      w.erase(std::remove(w.begin(), w.end(), d.get()), w.end());
      if (w.empty() && s->r_->data_listening) s->resume();
    };
  };
  auto cleanup = [wsrc, wdest, ps, make_on_drain] {
    auto s = wsrc.lock();
    auto d = wdest.lock();
    if (!s || !d) return;
    d->remove_listener("close", ps->on_close);
    d->remove_listener("finish", ps->on_finish);
    if (ps->on_drain) d->remove_listener("drain", ps->on_drain);
    d->remove_listener("error", ps->on_error);
    d->remove_listener("unpipe", ps->on_unpipe);
    s->remove_listener("end", ps->on_end);
    s->remove_listener("data", ps->on_data);
    ps->cleaned_up = true;
    if (ps->on_drain && !s->r_->await_drain_writers.empty() && (!d->w_ || d->w_->need_drain)) {
      make_on_drain()(EventArgs{});
    }
  };
  auto pause = [wsrc, wdest, ps, make_on_drain] {
    auto s = wsrc.lock();
    auto d = wdest.lock();
    if (!s || !d) return;
    if (!ps->cleaned_up) {
      auto& w = s->r_->await_drain_writers;
      if (s->r_->pipes.size() == 1 && s->r_->pipes[0] == d.get()) {
        w.assign(1, d.get());
        s->r_->multi_await_drain = false;
      } else if (s->r_->pipes.size() > 1 && std::find(s->r_->pipes.begin(), s->r_->pipes.end(),
                                                      d.get()) != s->r_->pipes.end()) {
        if (std::find(w.begin(), w.end(), d.get()) == w.end()) w.push_back(d.get());
      }
      s->pause();
    }
    if (!ps->on_drain) ps->on_drain = d->on("drain", make_on_drain());
  };

  if (do_end) {
    auto on_end = [wdest](const EventArgs&) {
      if (auto d = wdest.lock()) d->end();
    };
    if (st.end_emitted) {
      rt_.next_tick([on_end] { on_end(EventArgs{}); }, 0);
    } else {
      ps->on_end = once("end", on_end);
    }
  } else {
    ps->end_is_unpipe = true;
    if (st.end_emitted) {
      rt_.next_tick(unpipe, 0);
    } else {
      ps->on_end = once("end", [unpipe](const EventArgs&) { unpipe(); });
    }
  }
  ps->on_unpipe = dest->on("unpipe", [wsrc, ps, cleanup](const EventArgs& a) {
    auto s = wsrc.lock();
    if (s && a.other == s.get() && !ps->cleaned_up) cleanup();
  });
  ps->on_data = on("data", [wdest, pause](const EventArgs& a) {
    auto d = wdest.lock();
    if (d && !d->write(*a.chunk)) pause();
  });
  ps->on_error = dest->prepend_listener("error", [wdest, ps, unpipe](const EventArgs& a) {
    auto d = wdest.lock();
    if (!d) return;
    unpipe();
    d->remove_listener("error", ps->on_error);
    if (d->listener_count("error") == 0) {
      const bool emitted = d->w_ ? d->w_->error_emitted : d->r_->error_emitted;
      if (!emitted) {
        d->error_or_destroy(*a.error, false);
      } else {
        d->emit("error", a);
      }
    }
  });
  ps->on_close = dest->once("close", [wdest, ps, unpipe](const EventArgs&) {
    if (auto d = wdest.lock()) d->remove_listener("finish", ps->on_finish);
    unpipe();
  });
  ps->on_finish = dest->once("finish", [wdest, ps, unpipe](const EventArgs&) {
    if (auto d = wdest.lock()) d->remove_listener("close", ps->on_close);
    unpipe();
  });
  EventArgs pa;
  pa.other = this;
  dest->emit("pipe", pa);
  // dest.writableNeedDrain, the getter: false once dest is ending or destroyed, so a source
  // piped into such a dest is resumed (its writes then fail), where the raw needDrain flag
  // would leave it paused.
  if (dest->writable_need_drain()) {
    pause();
  } else if (!st.flowing) {
    resume();
  }
  return *dest;
}

void Stream::unpipe(Stream* dest) {
  ReadableState& st = *r_;
  if (st.pipes.empty()) return;
  auto self = shared_from_this();
  EventArgs a;
  a.other = this;
  if (dest == nullptr) {
    auto dests = st.pipes;
    st.pipes.clear();
    pause();
    for (Stream* d : dests)
      d->emit("unpipe", a);
    return;
  }
  auto it = std::find(st.pipes.begin(), st.pipes.end(), dest);
  if (it == st.pipes.end()) return;
  st.pipes.erase(it);
  if (st.pipes.empty()) pause();
  dest->emit("unpipe", a);
}

// ---------------------------------------------------------------------------------------
// destroy (lib/internal/streams/destroy.js)

bool Stream::destroyed() const {
  if (w_ && r_) return w_->destroyed && r_->destroyed;
  return w_ ? w_->destroyed : r_->destroyed;
}

bool Stream::closed() const {
  return w_ ? w_->close_emitted : r_->close_emitted;
}

void Stream::destroy(MaybeError err, Callback cb) {
  // Writable.prototype.destroy (Duplex's too): chunks still buffered (corked, or queued behind
  // a write) and end() callbacks are failed by errorBuffer on a nextTick, ahead of 'close'. With
  // a write in flight errorBuffer waits: afterWrite calls it again once that write completes.
  if (w_ && !w_->destroyed && (!w_->buffered.empty() || !w_->on_finished.empty())) {
    next_tick([](Stream& s) { s.error_buffer(); });
  }
  if ((w_ && w_->destroyed) || (r_ && r_->destroyed)) {
    if (cb) cb(std::nullopt);
    return;
  }
  if (err) {
    if (w_ && !w_->errored) w_->errored = err;
    if (r_ && !r_->errored) r_->errored = err;
  }
  if (w_) w_->destroyed = true;
  if (r_) r_->destroyed = true;
  if (stats.paused_since.count() >= 0) {
    stats.paused_time += runtime::hrtime() - stats.paused_since;
    stats.paused_since = runtime::Nanos(-1);
  }
  destroy_internal(err, std::move(cb));
}

void Stream::destroy_internal(const MaybeError& err, Callback cb) {
  auto called = std::make_shared<bool>(false);
  auto on_destroy = [self = shared_from_this(), called, cb](const MaybeError& e) {
    if (*called) return;
    *called = true;
    if (e) {
      if (self->w_ && !self->w_->errored) self->w_->errored = e;
      if (self->r_ && !self->r_->errored) self->r_->errored = e;
    }
    if (self->w_) self->w_->closed = true;
    if (self->r_) self->r_->closed = true;
    if (cb) cb(e);
    if (e) {
      self->next_tick([e](Stream& s) {
        s.emit_error_nt(*e);
        s.emit_close_nt();
      });
    } else {
      self->next_tick([](Stream& s) { s.emit_close_nt(); });
    }
  };
  try {
    if (destroy_hook) {
      destroy_hook(*this, err, on_destroy);
    } else {
      on_destroy(err);
    }
  } catch (const runtime::JsThrow& t) {
    on_destroy(t.error());
  }
}

void Stream::emit_close_nt() {
  if (w_) w_->close_emitted = true;
  if (r_) r_->close_emitted = true;
  emit("close");
}

void Stream::emit_error_nt(const JsError& err) {
  if ((w_ && w_->error_emitted) || (r_ && r_->error_emitted)) return;
  if (w_) w_->error_emitted = true;
  if (r_) r_->error_emitted = true;
  EventArgs a;
  a.error = &err;
  emit("error", a);
}

void Stream::error_or_destroy(const JsError& err, bool sync) {
  if ((w_ && w_->destroyed) || (r_ && r_->destroyed)) return;
  // Every stream here has autoDestroy (Node's default): an error destroys it.
  (void)sync;
  destroy(err);
}

// ---------------------------------------------------------------------------------------
// Transform (lib/internal/streams/transform.js)

void Stream::transform_write(const Chunk& chunk) {
  // transform.js's _write captures rState.length; one _write is outstanding at a time (the
  // Writable holds the next until onwrite), so the stream can keep it.
  transform_length_ = r_->length;
  auto done = [self = shared_from_this()](MaybeError err, std::optional<Chunk> val) {
    self->transform_done(std::move(err), std::move(val));
  };
  if (transform_impl) {
    transform_impl(*this, chunk, std::move(done));
  } else {
    done(std::nullopt, chunk);  // PassThrough
  }
}

// The _transform callback. transform.js's `callback` is the Writable's onwrite.
void Stream::transform_done(MaybeError err, std::optional<Chunk> val) {
  if (err) {
    onwrite(err);
    return;
  }
  const std::size_t length = transform_length_;
  if (val) push(std::move(*val));
  if (r_->ended) {
    next_tick([](Stream& s) { s.onwrite(std::nullopt); });
  } else if (w_->ended || length == r_->length || r_->length < r_->high_water_mark) {
    onwrite(std::nullopt);
  } else {
    // The readable side is full: hold the callback until _read asks for more. This is
    // where a Transform stops taking writes, and its writable buffer starts to fill.
    transform_callback_ = [self = shared_from_this()](const MaybeError& e) { self->onwrite(e); };
  }
}

void Stream::transform_final(Callback cb) {
  // final(): no _flush here, so push(null) then cb().
  push(std::nullopt);
  cb(std::nullopt);
}

// ---------------------------------------------------------------------------------------
// utils.js, end-of-stream.js and pipeline.js (lib/internal/streams/)

bool Stream::is_readable_finished(bool strict) const {
  if (!r_ || r_->errored) return false;
  return r_->end_emitted || (!strict && r_->ended && r_->length == 0);
}

bool Stream::is_writable_finished(bool strict) const {
  if (!w_) return false;
  if (w_->finished) return true;  // stream.writableFinished
  if (w_->errored) return false;
  return !strict && w_->ended && w_->length == 0;
}

bool Stream::is_destroyed() const {
  return destroyed() || (w_ ? w_->destroyed : r_->destroyed);
}

std::optional<bool> Stream::is_readable() const {
  if (!r_) return std::nullopt;
  if (is_destroyed()) return false;
  // isReadableFinished(stream) with strict undefined: 'end' emitted.
  return readable() && !(!r_->errored && r_->end_emitted);
}

std::optional<bool> Stream::is_writable() const {
  if (!w_) return std::nullopt;
  if (is_destroyed()) return false;
  // stream.writable already excludes an ending stream (isWritableEnded).
  return writable();
}

bool Stream::is_closed() const {
  return (w_ && w_->closed) || (r_ && r_->closed);
}

MaybeError Stream::errored() const {
  if (w_ && w_->errored) return w_->errored;
  if (r_ && r_->errored) return r_->errored;
  return std::nullopt;
}

bool Stream::error_emitted() const {
  return (w_ && w_->error_emitted) || (r_ && r_->error_emitted);
}

std::function<void()> eos(const StreamRef& stream, bool readable, bool writable,
                          std::function<void(const MaybeError&)> callback) {
  struct State {
    std::function<void(const MaybeError&)> callback;  // once(callback); emptied by cleanup
    bool will_emit_close = false, writable_finished = false, readable_finished = false;
    bool closed = false;
    ListenerId on_end, on_finish, on_error, on_close;
    void call(const MaybeError& e) {
      if (!callback) return;
      auto cb = std::move(callback);
      callback = nullptr;
      cb(e);
    }
  };
  auto st = std::make_shared<State>();
  st->callback = std::move(callback);
  std::weak_ptr<Stream> ws = stream;
  Stream& s = *stream;

  // willEmitClose: autoDestroy and emitClose (always, here), not closed yet, and the watched
  // sides are exactly the stream's.
  st->will_emit_close =
      !s.is_closed() && s.is_readable_side() == readable && s.is_writable_side() == writable;
  st->writable_finished = s.is_writable_finished(false);
  st->readable_finished = s.is_readable_finished(false);

  auto onfinish = [st, ws, readable](const EventArgs&) {
    auto self = ws.lock();
    if (!self) return;
    st->writable_finished = true;
    if (self->destroyed()) st->will_emit_close = false;
    if (st->will_emit_close && (!self->readable() || readable)) return;
    if (!readable || st->readable_finished) st->call(std::nullopt);
  };
  auto onend = [st, ws, writable](const EventArgs&) {
    auto self = ws.lock();
    if (!self) return;
    st->readable_finished = true;
    if (self->destroyed()) st->will_emit_close = false;
    if (st->will_emit_close && (!self->writable() || writable)) return;
    if (!writable || st->writable_finished) st->call(std::nullopt);
  };
  auto onclose = [st, ws, readable, writable] {
    auto self = ws.lock();
    if (!self) return;
    st->closed = true;
    if (const MaybeError e = self->errored()) return st->call(e);
    if (readable && !st->readable_finished && self->is_readable_side() &&
        !self->is_readable_finished(false)) {
      return st->call(premature_close());
    }
    if (writable && !st->writable_finished && !self->is_writable_finished(false)) {
      return st->call(premature_close());
    }
    st->call(std::nullopt);
  };
  auto onclosed = [st, ws] {
    auto self = ws.lock();
    if (!self) return;
    st->closed = true;
    st->call(self->errored());
  };

  st->on_end = s.on("end", onend);
  st->on_finish = s.on("finish", onfinish);
  st->on_error = s.on("error", [st](const EventArgs& a) { st->call(*a.error); });
  st->on_close = s.on("close", [onclose](const EventArgs&) { onclose(); });

  runtime::Runtime& rt = s.rt();
  if (s.is_closed()) {
    rt.next_tick(onclose, 0);
  } else if (s.error_emitted()) {
    if (!st->will_emit_close) rt.next_tick(onclosed, 0);
  } else if (!readable && (!st->will_emit_close || s.is_readable().value_or(false)) &&
             (st->writable_finished || s.is_writable() == std::optional<bool>(false)) &&
             s.pending_cb() == 0) {
    rt.next_tick(onclosed, 0);
  } else if (!writable && (!st->will_emit_close || s.is_writable().value_or(false)) &&
             (st->readable_finished || s.is_readable() == std::optional<bool>(false))) {
    rt.next_tick(onclosed, 0);
  }

  return [st, ws] {
    st->callback = nullptr;
    auto self = ws.lock();
    if (!self) return;
    self->remove_listener("finish", st->on_finish);
    self->remove_listener("end", st->on_end);
    self->remove_listener("error", st->on_error);
    self->remove_listener("close", st->on_close);
  };
}

std::function<void()> pipeline(const std::vector<StreamRef>& streams,
                               std::function<void(const MaybeError&)> cb) {
  struct State {
    MaybeError error;
    bool abort_disposed = false;  // finishImpl ran: disposable[SymbolDispose]()
    int finish_count = 0;
    std::deque<std::function<void(const MaybeError&)>> destroys;
    std::vector<std::function<void()>> last_stream_cleanup;
    std::function<void(const MaybeError&)> callback;  // once(callback)
    runtime::Runtime* rt = nullptr;
  };
  auto ps = std::make_shared<State>();
  ps->callback = std::move(cb);
  ps->rt = &streams.front()->rt();

  auto finish_impl = [ps](const MaybeError& err, bool final) {
    if (err && (!ps->error || ps->error->code == "ERR_STREAM_PREMATURE_CLOSE")) ps->error = err;
    if (!ps->error && !final) return;
    while (!ps->destroys.empty()) {
      auto d = std::move(ps->destroys.front());
      ps->destroys.pop_front();
      d(ps->error);
    }
    ps->abort_disposed = true;
    if (final) {
      if (!ps->error) {
        auto cleanups = std::move(ps->last_stream_cleanup);
        ps->last_stream_cleanup.clear();
        for (auto& c : cleanups)
          c();
      }
      auto e = ps->error;
      ps->rt->next_tick(
          [ps, e] {
            if (!ps->callback) return;
            auto callback = std::move(ps->callback);
            ps->callback = nullptr;
            callback(e);
          },
          0);
    }
  };
  auto finish = std::make_shared<std::function<void(const MaybeError&)>>(
      [ps, finish_impl](const MaybeError& err) { finish_impl(err, --ps->finish_count == 0); });
  auto call_finish = [finish](const MaybeError& err) { (*finish)(err); };

  const std::size_t n = streams.size();
  for (std::size_t i = 0; i < n; ++i) {
    const StreamRef& stream = streams[i];
    const bool reading = i + 1 < n;
    const bool writing = i > 0;
    const bool is_last = i + 1 == n;
    std::weak_ptr<Stream> ws = stream;

    // destroyer(): a stream whose eos() reported without an error, or that closed, is left
    // alone; any other is destroyed with the pipeline's error.
    auto finished = std::make_shared<bool>(false);
    stream->on("close", [finished](const EventArgs&) { *finished = true; });
    auto cleanup = eos(stream, reading, writing,
                       [finished](const MaybeError& err) { *finished = !err.has_value(); });
    ps->destroys.push_back([ws, finished](const MaybeError& err) {
      if (*finished) return;
      *finished = true;
      auto st = ws.lock();
      if (!st || st->is_destroyed()) return;  // destroyImpl.destroyer
      st->destroy(err.value_or(err_stream_destroyed("pipe")));
    });
    if (is_last && stream->is_readable().value_or(false))
      ps->last_stream_cleanup.push_back(cleanup);

    // onError: errors after pipe()'s work is done still finish the pipeline.
    const ListenerId on_error = stream->on("error", [call_finish](const EventArgs& a) {
      if (a.error->name != "AbortError" && a.error->code != "ERR_STREAM_PREMATURE_CLOSE") {
        call_finish(*a.error);
      }
    });
    if (is_last && stream->is_readable().value_or(false)) {
      ps->last_stream_cleanup.push_back([ws, on_error] {
        if (auto st = ws.lock()) st->remove_listener("error", on_error);
      });
    }

    if (i == 0) continue;
    // pipe(src, dst, finish, { end: true })
    const StreamRef& src = streams[i - 1];
    const StreamRef& dst = stream;
    ps->finish_count += 2;
    auto ended = std::make_shared<bool>(false);
    dst->on("close", [ended, call_finish](const EventArgs&) {
      // The destination closed before the source completed.
      if (!*ended) call_finish(premature_close());
    });
    src->pipe(*dst, false);
    std::weak_ptr<Stream> wdst = dst;
    auto end_fn = [ended, wdst] {
      *ended = true;
      if (auto d = wdst.lock()) d->end();
    };
    if (src->is_readable_finished(true)) {
      ps->rt->next_tick(end_fn, 0);
    } else {
      src->once("end", [end_fn](const EventArgs&) { end_fn(); });
    }
    std::weak_ptr<Stream> wsrc = src;
    eos(src, true, false, [wsrc, call_finish](const MaybeError& err) {
      auto s = wsrc.lock();
      if (s && err && err->code == "ERR_STREAM_PREMATURE_CLOSE" && s->readable_state_ended() &&
          !s->errored() && !s->error_emitted()) {
        // Some readables emit 'close' before 'end': wait for it.
        s->once("end", [call_finish](const EventArgs&) { call_finish(std::nullopt); });
        s->once("error", [call_finish](const EventArgs& a) { call_finish(*a.error); });
      } else {
        call_finish(err);
      }
    });
    auto dst_cleanup = eos(dst, false, true, call_finish);
    if (is_last && dst->is_readable().value_or(false))
      ps->last_stream_cleanup.push_back(dst_cleanup);
  }
  // abort(): finishImpl(new AbortError(undefined, { cause: outerSignal.reason })), while the
  // listener addAbortListener added is still there.
  return [ps, finish_impl] {
    if (ps->abort_disposed) return;
    finish_impl(abort_error(), false);
  };
}

JsError abort_error() {
  return JsError{"AbortError", "ABORT_ERR", "The operation was aborted"};
}

void destroyer(Stream& stream, MaybeError err) {
  if (stream.is_destroyed()) return;
  // isFinished(stream): destroyed, or neither readable nor writable any more.
  const bool finished =
      !stream.is_readable().value_or(false) && !stream.is_writable().value_or(false);
  if (!err && !finished) err = abort_error();
  stream.destroy(std::move(err));
}

// ---------------------------------------------------------------------------------------
// createAsyncIterator (lib/internal/streams/readable.js)

namespace {

struct AsyncIter : std::enable_shared_from_this<AsyncIter> {
  StreamRef stream;
  ForAwaitOptions o;
  ForAwaitBody body;
  ForAwaitDone done;
  std::function<void()> callback;  // `callback`: nop (empty) or the pending promise's resolve
  // `error`: undefined (nothing yet), null (eos reported success) or an error.
  enum class Err : std::uint8_t { undefined, null, error } err = Err::undefined;
  MaybeError error;
  ListenerId on_readable;
  std::function<void()> cleanup;

  void hop(std::function<void()> fn) {
    stream->rt().enqueue_microtask(std::move(fn), o.site, runtime::CallbackKind::await_resume);
  }
  void call_callback() {  // callback(); callback = nop;
    auto cb = std::move(callback);
    callback = nullptr;
    if (cb) cb();
  }
  void start() {
    auto self = shared_from_this();
    // stream.on('readable', next): `this === stream`, so it calls the pending resolve.
    on_readable = stream->on("readable", [self](const EventArgs&) { self->call_callback(); });
    // eos's callback holds the generator weakly: the iterator holds eos's cleanup, and the
    // 'readable' listener (the stream's) keeps the generator alive while it runs.
    cleanup =
        eos(stream, stream->is_readable_side(), false, [w = weak_from_this()](const MaybeError& e) {
          auto it = w.lock();
          if (!it) return;
          if (e) {
            if (it->err != Err::error) it->error = e;  // aggregateTwoErrors keeps the first
            it->err = Err::error;
          } else {
            it->err = Err::null;
            it->error.reset();
          }
          it->call_callback();
        });
    step();
  }
  // One pass of the generator's `while (true)`, from where it resumed.
  void step() {
    auto self = shared_from_this();
    std::optional<Chunk> chunk;
    if (!stream->destroyed()) chunk = stream->read();
    if (chunk) {
      // yield chunk: the yield's Await, then for-await's Await of next()'s promise.
      hop([self, c = std::move(*chunk)] {
        self->hop([self, c] { self->body(c, [self](LoopStep s) { self->after_body(s); }); });
      });
      return;
    }
    if (err == Err::error) {  // throw error: catch rethrows, finally, the promise rejects
      finally_block();
      hop([self] { self->done(LoopExit::threw, self->error); });
      return;
    }
    if (err == Err::null) {  // return: finally, the promise resolves { done: true }
      finally_block();
      hop([self] { self->done(LoopExit::ended, std::nullopt); });
      return;
    }
    // await new Promise(next): `callback = resolve`; the await resumes one hop after it.
    // The listeners hold the generator (as its closures do in JavaScript); the pending resolve
    // does not, so a loop still waiting when the run ends is freed with its stream.
    callback = [w = weak_from_this()] {
      if (auto it = w.lock()) it->hop([it] { it->step(); });
    };
  }
  void after_body(LoopStep s) {
    auto self = shared_from_this();
    if (!s.brk && !s.thrown) {
      step();  // next(): the generator resumes at its yield, synchronously
      return;
    }
    // AsyncIteratorClose: iter.return() resumes the yield with a return completion (its
    // Await is one hop), the finally runs, and for-await awaits return()'s promise.
    hop([self, s] {
      self->finally_block();
      self->hop([self, s] {
        if (s.thrown) {
          self->done(LoopExit::threw, s.thrown);
        } else {
          self->done(LoopExit::broke, std::nullopt);
        }
      });
    });
  }
  void finally_block() {
    // (error || destroyOnReturn !== false) && (error === undefined || autoDestroy): every
    // stream here has autoDestroy.
    if (err == Err::error || o.destroy_on_return) {
      destroyer(*stream, std::nullopt);
    } else {
      stream->remove_listener("readable", on_readable);
      if (cleanup) cleanup();
    }
  }
};

}  // namespace

void for_await(const StreamRef& stream, ForAwaitOptions options, ForAwaitBody body,
               ForAwaitDone done) {
  auto it = std::make_shared<AsyncIter>();
  it->stream = stream;
  it->o = options;
  it->body = std::move(body);
  it->done = std::move(done);
  it->start();
}

}  // namespace nodelab::streams
