#pragma once
// A Writable over a real libuv stream (uv_tcp_t or uv_pipe_t), as net.Socket is one over
// Node's LibuvStreamWrap (lib/net.js, lib/internal/stream_base_commons.js, src/stream_base.cc):
//
//   _write(chunk, cb): uv_try_write first (StreamBase::Write does DoTryWrite); if the kernel
//     took all of it, cb() runs synchronously (req.async === false); otherwise the rest goes
//     to uv_write and cb runs when libuv reports the write done, as an I/O callback in the
//     poll phase, through MakeCallback (here: a runtime::Port, which delivers exactly so).
//   _writev(chunks, cb): the same with every buffered chunk in one uv_try_write / uv_write,
//     which the Writable uses when more than one chunk waits (clearBuffer).
//   _final(cb): uv_shutdown, cb when it completes (the peer reads EOF).
//   _destroy(err, cb): uv_close; the handle's memory is freed in its close callback.
//
// While a write is in flight its bytes are in libuv's write queue (write_queue_size) and in
// the Writable's `length`: what socket.writableLength reports.

#include <uv.h>

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "runtime/port.hpp"
#include "runtime/uv.hpp"
#include "streams/stream.hpp"

namespace nodelab::streams {

class UvSink {
 public:
  enum class Kind : std::uint8_t { tcp, pipe };
  UvSink(runtime::Runtime& rt, Kind kind, runtime::Site site);
  ~UvSink();  // closes the handle if it is still open
  UvSink(const UvSink&) = delete;
  UvSink& operator=(const UvSink&) = delete;

  // tcp: connect to 127.0.0.1:port; `on_connect` runs as a poll-phase callback.
  int connect(std::uint16_t port, std::function<void(int status)> on_connect);
  // pipe: adopt the write end of an OS pipe.
  int open_pipe(int fd);

  // Turns `s` into the socket: its _write, _final and _destroy use this handle.
  void attach(Stream& s);

  bool open() const { return tcp_ || pipe_; }
  void close();
  std::size_t write_queue_peak() const { return write_queue_peak_; }
  std::uint64_t sync_writes() const { return sync_writes_; }
  std::uint64_t async_writes() const { return async_writes_; }
  // The port that delivers completions (and a peer's report) to the loop. It keeps the loop
  // alive only while something is owed: hold() before waiting, release() once delivered.
  runtime::Port& port() { return port_; }
  void hold();
  void release();

 private:
  uv_stream_t* stream() const { return kind_ == Kind::tcp ? tcp_.stream() : pipe_.stream(); }
  void write_chunks(std::span<const Chunk> chunks, Callback cb);
  void deliver(std::function<void()> fn);  // loop thread, from a libuv request's callback

  runtime::Port port_;
  Kind kind_;
  uv::Handle<uv_tcp_t> tcp_;    // kind tcp, until closed
  uv::Handle<uv_pipe_t> pipe_;  // kind pipe, until closed
  std::size_t write_queue_peak_ = 0;
  std::uint64_t sync_writes_ = 0;
  std::uint64_t async_writes_ = 0;
  int holds_ = 0;
  // Connects, writes and shutdowns in flight: their callbacks are dropped once the sink is
  // gone (the requests still complete, with UV_ECANCELED, when the handle closes).
  uv::Requests requests_;
};

}  // namespace nodelab::streams
