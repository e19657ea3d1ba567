#pragma once
// Node 20's streams, exactly: Readable, Writable, Duplex and Transform with the accounting of
// lib/internal/streams/{readable,writable,transform,destroy,pipeline}.js (v20.20.2), on the
// shared runtime's nextTick queue.
//
//   producer ──write()──► [ Writable: length += len ] ──_write()──► sink
//                           length < highWaterMark ?  true : false (+ needDrain)
//                           onwrite: length -= writelen; afterWrite (nextTick if the
//                           callback was synchronous): 'drain' only if needDrain and
//                           length == 0
//
//   _read() ──push()──► [ Readable: length += len ] ──'data' / read()──► consumer
//                         push() returns !ended && (length < hwm || length == 0);
//                         kReading stays set until push(): one _read outstanding;
//                         maybeReadMore (nextTick) reads while length < hwm
//
// One class models all four kinds: a Readable has a ReadableState, a Writable a
// WritableState, a Duplex both; a Transform is a Duplex whose _write is transform.js's. The
// names of the states' fields are Node's (highWaterMark, needDrain, awaitDrainWriters...), so
// the C++ maps back onto the JavaScript line by line. A stream is an EventEmitter, the one of
// common/events/event_emitter.hpp ('data', 'drain', 'error', 'close', ...): emit() calls a
// copy of an array, an 'error' without a listener throws (an uncaught exception, as in Node),
// and an 11th listener of one event warns MaxListenersExceededWarning ([Readable],
// [Writable], [Duplex], [Transform]).

#include <cstdint>
#include <cstdlib>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "events/event_emitter.hpp"
#include "runtime/js_error.hpp"
#include "runtime/runtime.hpp"

namespace nodelab::streams {

using runtime::JsError;
using MaybeError = std::optional<JsError>;

// Node 20's defaults (lib/internal/streams/state.js).
inline constexpr std::size_t kDefaultHighWaterMarkBytes = 16 * 1024;
inline constexpr std::size_t kDefaultHighWaterMarkObjects = 16;

// An ArrayBuffer's bytes, shared by the Chunks that view them. The count is not atomic:
// chunks are made, copied and dropped on the loop thread only (a threadpool read fills the
// bytes of a chunk the loop holds; libuv's queue orders the two), so a chunk costs no locked
// instruction per copy on the per-chunk path.
class SharedBytes {
 public:
  SharedBytes() = default;
  static SharedBytes make(std::size_t n);  // uninitialised
  SharedBytes(const SharedBytes& o) noexcept : block_(o.block_) {
    if (block_) ++block_->refs;
  }
  SharedBytes(SharedBytes&& o) noexcept : block_(std::exchange(o.block_, nullptr)) {}
  SharedBytes& operator=(SharedBytes o) noexcept {
    std::swap(block_, o.block_);
    return *this;
  }
  ~SharedBytes() {
    if (block_ && --block_->refs == 0) std::free(block_);
  }
  char* get() const { return block_ ? reinterpret_cast<char*>(block_ + 1) : nullptr; }
  explicit operator bool() const { return block_ != nullptr; }

 private:
  struct alignas(16) Block {  // the bytes follow it, in the same allocation
    std::size_t refs;
  };
  Block* block_ = nullptr;
};

// A Buffer (bytes shared by slices, as Node's FastBuffer views share an ArrayBuffer) or, in
// objectMode, an object that counts as 1 whatever its size.
struct Chunk {
  SharedBytes bytes;
  std::size_t offset = 0;
  std::size_t length = 0;  // bytes (objects: the payload's size, for throughput only)

  // Buffer.alloc(n, fill): every byte written.
  static Chunk alloc(std::size_t n, char fill = 0);
  // Buffer.allocUnsafe(n): uninitialised, for a buffer about to be overwritten (a read).
  static Chunk alloc_unsafe(std::size_t n);
  char* data() const { return bytes ? bytes.get() + offset : nullptr; }
  Chunk slice(std::size_t from, std::size_t n) const { return {bytes, offset + from, n}; }
};

using Callback = std::function<void(const MaybeError&)>;

// An event's arguments: 'data' has a chunk, 'error' an error, 'pipe'/'unpipe' a stream.
class Stream;
struct EventArgs {
  const Chunk* chunk = nullptr;
  const JsError* error = nullptr;
  Stream* other = nullptr;
};

// What emit('error', args) throws with no 'error' listener: the error, or ERR_UNHANDLED_ERROR.
JsError error_to_throw(const EventArgs& a);

// A listener; on() returns it, and removeListener takes it back (its identity is its address).
// What on(), once() and prependListener() return and removeListener() takes: which listener,
// not ownership of it (the emitter owns it). A pipe keeps the ids of its listeners in a state
// those same listeners capture; an owning id there would be a cycle that nothing frees.
class ListenerId {
 public:
  ListenerId() = default;
  explicit ListenerId(const events::ListenerRef<EventArgs>& fn) : fn_(fn), set_(true) {}
  explicit operator bool() const { return set_; }  // one was added (it may be removed since)
  events::ListenerRef<EventArgs> lock() const { return fn_.lock(); }

 private:
  std::weak_ptr<events::Listener<EventArgs>> fn_;
  bool set_ = false;
};
using StreamEmitter = events::EventEmitter<EventArgs>;

struct StreamOptions {
  bool readable = false;
  bool writable = false;
  bool object_mode = false;                             // both sides (objectMode)
  std::optional<std::size_t> high_water_mark;           // both sides unless overridden
  std::optional<std::size_t> readable_high_water_mark;  // Duplex/Transform
  std::optional<std::size_t> writable_high_water_mark;
  bool transform = false;
  bool allow_half_open = true;
  // The constructor name warnings print; empty: Readable, Writable, Duplex or Transform.
  std::string class_name;
};

// What one stream measured during a run.
struct StreamStats {
  std::size_t writable_length_peak = 0;
  std::size_t readable_length_peak = 0;
  std::uint64_t writes = 0;
  std::uint64_t write_false = 0;  // write() returned false
  std::uint64_t drains = 0;       // 'drain' emitted
  std::uint64_t pushes = 0;
  std::uint64_t push_false = 0;     // push() returned false
  std::uint64_t reads = 0;          // _read() calls
  std::uint64_t pauses = 0;         // pause() that changed flowing to false
  std::uint64_t bytes_written = 0;  // handed to _write/_writev (the sink's throughput)
  std::uint64_t writevs = 0;        // _writev calls with more than one chunk (clearBuffer's)
  std::uint64_t writev_chunks = 0;  // the chunks they carried
  runtime::Nanos paused_time{0};    // time spent paused after having flowed
  runtime::Nanos paused_since{-1};
};

class Stream : public std::enable_shared_from_this<Stream> {
 public:
  // Hooks: what a subclass would implement. Each may be empty where Node has a default.
  // _read(size): call push() now or later.
  std::function<void(Stream&, std::size_t)> read_impl;
  // _write(chunk, cb)
  std::function<void(Stream&, const Chunk&, Callback)> write_impl;
  // _writev(chunks, cb): if set, clearBuffer hands every buffered chunk to it at once (as
  // net.Socket's does); a stream with only _writev gets each write as a one-chunk _writev.
  std::function<void(Stream&, std::span<const Chunk>, Callback)> writev_impl;
  // Transform's _transform(chunk, cb(err, out)): `out` nullopt pushes nothing.
  std::function<void(Stream&, const Chunk&, std::function<void(MaybeError, std::optional<Chunk>)>)>
      transform_impl;
  // _final(cb) (Writable; Transform has its own, which calls _flush = push(null)).
  std::function<void(Stream&, Callback)> final_impl;
  // _destroy(err, cb): release resources (a fd, a handle).
  std::function<void(Stream&, const MaybeError&, Callback)> destroy_hook;

  static std::shared_ptr<Stream> make(runtime::Runtime& rt, std::string name, StreamOptions o);
  Stream(runtime::Runtime& rt, std::string name, StreamOptions o);
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;

  const std::string& name() const { return name_; }
  runtime::Runtime& rt() { return rt_; }

  // ---- EventEmitter (Readable's on() and removeListener() overrides on top) ----
  ListenerId on(std::string_view event, std::function<void(const EventArgs&)> fn);
  ListenerId once(std::string_view event, std::function<void(const EventArgs&)> fn);
  ListenerId prepend_listener(std::string_view event, std::function<void(const EventArgs&)> fn);
  // Readable.prototype.removeListener: for 'readable', updateReadableListening on a nextTick.
  void remove_listener(std::string_view event, const ListenerId& id);
  bool emit(std::string_view event, const EventArgs& args = {}) {
    return emitter_.emit(event, args);
  }
  std::size_t listener_count(std::string_view event) const {
    return emitter_.listener_count(event);
  }
  void set_max_listeners(double n) { emitter_.set_max_listeners(n); }
  StreamEmitter& emitter() { return emitter_; }

  // ---- Writable ----
  bool write(Chunk chunk, Callback cb = {});
  void end(Callback cb = {});
  // cork(): buffer every write until as many uncork()s (or end()), then flush them together.
  void cork();
  void uncork();
  std::uint32_t writable_corked() const { return w_ ? w_->corked : 0; }
  bool writable() const;
  std::size_t writable_length() const { return w_ ? w_->length : 0; }
  std::size_t writable_high_water_mark() const { return w_ ? w_->high_water_mark : 0; }
  // The writableNeedDrain getter: false once destroyed or ending.
  bool writable_need_drain() const { return w_ && !w_->destroyed && !w_->ending && w_->need_drain; }
  bool writable_finished() const { return w_ && w_->finished; }
  bool writable_ended() const { return w_ && w_->ending; }

  // ---- Readable ----
  // push(chunk); nullopt is push(null).
  bool push(std::optional<Chunk> chunk);
  // read([n]): nullopt n is read() (NaN).
  std::optional<Chunk> read(std::optional<std::size_t> n = std::nullopt);
  void resume();
  void pause();
  Stream& pipe(Stream& dest, bool end = true);
  void unpipe(Stream* dest = nullptr);
  bool readable() const;
  std::size_t readable_length() const { return r_ ? r_->length : 0; }
  std::size_t readable_high_water_mark() const { return r_ ? r_->high_water_mark : 0; }
  // readableFlowing: null (nullopt), true or false.
  std::optional<bool> readable_flowing() const;
  bool readable_ended() const { return r_ && r_->end_emitted; }

  // ---- both ----
  void destroy(MaybeError err = std::nullopt, Callback cb = {});
  bool destroyed() const;
  bool closed() const;  // 'close' emitted

  // ---- how eos() and pipeline() read a stream (lib/internal/streams/utils.js) ----
  // isReadableFinished / isWritableFinished: 'end' emitted ('finish'), or, not strict, ended
  // with nothing left buffered; false once errored (writableFinished wins over errored).
  bool is_readable_finished(bool strict) const;
  bool is_writable_finished(bool strict) const;
  // isReadable / isWritable: nullopt for a stream without that side (`readable` is not a
  // boolean), false once destroyed or done.
  std::optional<bool> is_readable() const;
  std::optional<bool> is_writable() const;
  bool is_destroyed() const;   // isDestroyed
  bool is_closed() const;      // state.closed: set when _destroy calls back, before 'close'
  MaybeError errored() const;  // isWritableErrored || isReadableErrored
  bool error_emitted() const;  // wState.errorEmitted || rState.errorEmitted
  bool readable_state_ended() const { return r_ && r_->ended; }  // push(null) seen
  std::int64_t pending_cb() const { return w_ ? w_->pendingcb : 0; }
  bool object_mode() const { return object_mode_; }
  bool is_readable_side() const { return r_ != nullptr; }
  bool is_writable_side() const { return w_ != nullptr; }

  StreamStats stats;
  // Called after every change of writableLength or readableLength (both up and down), for a
  // series that must see each value, not only those at the moments someone samples.
  std::function<void(const Stream&)> length_observer;

  // Drops every hook, listener and held callback. A JavaScript stream left holding its own
  // callback (a Transform's kCallback, a pending write) is a cycle the GC collects; here the
  // owner breaks it when the run is over.
  void dispose();

 private:
  struct BufferedWrite {
    Chunk chunk;
    Callback callback;
  };
  struct WritableState {
    std::size_t high_water_mark = 0;
    std::size_t length = 0;
    bool writing = false, sync = true, need_drain = false, ending = false, ended = false;
    bool finished = false, final_called = false, prefinished = false, destroyed = false;
    bool error_emitted = false, close_emitted = false, closed = false, buffer_processing = false;
    bool after_write_pending = false, expect_write_cb = false;
    bool all_noop = true;  // kAllNoop: no buffered write has a callback
    std::uint32_t corked = 0;
    MaybeError errored;
    std::deque<BufferedWrite> buffered;
    std::size_t writelen = 0;
    Callback writecb;
    std::int64_t pendingcb = 0;
    std::vector<Callback> on_finished;
  };
  struct ReadableState {
    std::size_t high_water_mark = 0;
    std::size_t length = 0;
    std::deque<Chunk> buffer;
    std::vector<Stream*> pipes;
    bool has_flowing = false, flowing = false, ended = false, end_emitted = false;
    bool reading = false, sync = true, need_readable = false, emitted_readable = false;
    bool readable_listening = false, resume_scheduled = false, error_emitted = false;
    bool close_emitted = false, closed = false, destroyed = false, multi_await_drain = false;
    bool reading_more = false, data_emitted = false, has_paused = false, paused = false;
    bool data_listening = false;
    MaybeError errored;
    // awaitDrainWriters: one writer (multi_await_drain false) or a set of them.
    std::vector<Stream*> await_drain_writers;
    bool await_drain_single_set = false;
  };

  // writable.js
  bool write_or_buffer(Chunk chunk, Callback cb);
  void do_write(std::size_t len, std::span<const Chunk> chunks, bool writev, Callback cb);
  void reset_buffer();
  void onwrite(const MaybeError& er);
  void onwrite_error(const MaybeError& er, const Callback& cb);
  void after_write(std::uint64_t count, const Callback& cb);
  void error_buffer();
  void clear_buffer();
  bool need_finish() const;
  void prefinish();
  void on_finish(const MaybeError& err);
  void finish_maybe(bool sync);
  void finish();
  void call_finished_callbacks(const MaybeError& err);
  // readable.js
  bool readable_add_chunk(std::optional<Chunk> chunk);
  bool can_push_more() const;
  void add_chunk(Chunk chunk);
  std::size_t how_much_to_read(std::optional<std::size_t> n) const;
  Chunk from_list(std::size_t n);
  void on_eof_chunk();
  void emit_readable();
  void emit_readable_();
  void maybe_read_more();
  void maybe_read_more_();
  void flow();
  void resume_();
  void end_readable();
  void end_readable_nt();
  void clear_await_drain();
  void on_data_listener_added();
  void readable_listener_added(std::string_view event);  // Readable.prototype.on's part
  void update_readable_listening();
  void track_lengths();
  // destroy.js
  void destroy_internal(const MaybeError& err, Callback cb);
  void emit_error_nt(const JsError& err);
  void emit_close_nt();
  void error_or_destroy(const JsError& err, bool sync);
  // transform.js
  void transform_write(const Chunk& chunk);
  void transform_done(MaybeError err, std::optional<Chunk> val);
  void transform_final(Callback cb);

  void next_tick(std::function<void(Stream&)> fn);

  runtime::Runtime& rt_;
  std::string name_;
  bool object_mode_ = false;
  bool allow_half_open_ = true;
  bool transform_ = false;
  std::unique_ptr<WritableState> w_;
  std::unique_ptr<ReadableState> r_;
  StreamEmitter emitter_;
  bool in_remove_listener_ = false;   // remove_listener() queues its own tick for 'readable'
  Callback transform_callback_;       // kCallback: the _write callback held back by a full side
  std::size_t transform_length_ = 0;  // rState.length when the outstanding _write began
};

using StreamRef = std::shared_ptr<Stream>;

// eos(stream, { readable, writable }, callback) (lib/internal/streams/end-of-stream.js, the
// `finished` of node:stream): calls back once, with the error, or when the sides it watches
// are done. A stream that will emit 'close' (autoDestroy, every stream here) and whose sides
// are exactly the watched ones is done at 'close'; otherwise at 'finish'/'end' (a Transform
// watched as a writable only is done at 'finish': its readable side may never end). Returns
// the cleanup that removes its listeners.
std::function<void()> eos(const StreamRef& stream, bool readable, bool writable,
                          std::function<void(const MaybeError&)> callback);

// stream.pipeline(streams..., callback) (lib/internal/streams/pipeline.js): pipes each
// stream into the next (pipe()'s end: false, ending the next stage itself on 'end'), destroys
// every stage not yet done on the first error, and calls back once, on a nextTick, when every
// eos() has reported: the last stage is watched with { readable: false, writable: true }.
// Returns what the pipeline's listener on an AbortSignal does (pipelineImpl's `abort`,
// stream/promises' `{ signal }`): finishImpl(new AbortError()), destroying every stage not
// yet done with it; nothing once the pipeline has finished (finishImpl disposed the listener).
std::function<void()> pipeline(const std::vector<StreamRef>& streams,
                               std::function<void(const MaybeError&)> cb);

// new AbortError() (lib/internal/errors.js): name AbortError, code ABORT_ERR.
JsError abort_error();

// destroyImpl.destroyer(stream, err) (lib/internal/streams/destroy.js): nothing if the stream
// is destroyed; without an error, a stream not finished (isFinished: still readable or
// writable) is destroyed with an AbortError.
void destroyer(Stream& stream, MaybeError err);

// `for await (const chunk of stream)`: Readable.prototype[Symbol.asyncIterator] and
// readable.iterator({ destroyOnReturn }) (createAsyncIterator in lib/internal/streams/
// readable.js, v20). The generator registers a 'readable' listener and an eos(stream,
// { writable: false }); each step calls stream.read() (null once destroyed): a chunk is
// yielded, an error from eos thrown, eos's success (null) returns, otherwise it awaits a
// promise that the next 'readable' or eos resolves. Its finally destroys the stream
// (destroyer(stream, null): an AbortError unless it finished) on an error or, unless
// destroyOnReturn is false, always; else it removes its listeners. Microtask hops are V8's:
// `yield` is two (the yield's await of the chunk, then for-await's await of next()'s promise),
// a resumed `await new Promise(next)` one, the generator's return or throw one more,
// iter.return() (a break, a throw in the body) two.
enum class LoopExit : std::uint8_t { ended, broke, threw };
struct LoopStep {
  bool brk = false;   // `break` (iter.return(), then the loop exits)
  MaybeError thrown;  // the body threw (iter.return(), then the loop rethrows it)
};
struct ForAwaitOptions {
  bool destroy_on_return = true;
  runtime::Site site = 0;
};
// `body(chunk, step)` is the loop body; it calls `step` once, when the body is done (at once,
// or after its own awaits): an empty LoopStep asks for the next chunk. `done` runs where the
// statement after the loop runs: with the error when the loop threw.
using ForAwaitBody = std::function<void(const Chunk&, std::function<void(LoopStep)>)>;
using ForAwaitDone = std::function<void(LoopExit, const MaybeError&)>;
void for_await(const StreamRef& stream, ForAwaitOptions options, ForAwaitBody body,
               ForAwaitDone done);

// ERR_STREAM_PREMATURE_CLOSE, as Node builds it.
JsError premature_close();

}  // namespace nodelab::streams
