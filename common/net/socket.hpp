#pragma once
// A TCP connection on the runtime's loop, as net.Socket is one over Node's TCPWrap
// (lib/net.js, src/stream_base.cc, src/connection_wrap.cc). The HTTP client and server of
// common/net are built on it; a lab rarely needs it directly.
//
// What each libuv completion becomes, as Node delivers it (every JS-visible step runs through
// Runtime::io_callback: recorded, then the nextTick/microtask drain):
//
//   uv_tcp_connect done   poll   afterConnect: handlers.connect(), or destroy(err) on failure
//   uv_read_start data    poll   onStreamRead: handlers.data(bytes)
//   uv_read_start EOF     poll   onStreamRead pushes null; 'end' comes on process.nextTick
//                                (endReadableNT): handlers.eof() there
//   uv_read_start error   poll   destroy(err): 'error' on process.nextTick (emitErrorCloseNT)
//   idle timer            timers socket._onTimeout: handlers.timeout() (does not destroy)
//   uv_close done         close  'close': handlers.close(had_error)
//
// destroy(err) is net.Socket#destroy: reading stops, the handle is closed with uv_close, the
// error (if any) is emitted on process.nextTick and 'close' comes in the close phase. The
// memory of the handle and of this object is released in the close callback. A Socket holds
// itself alive while its handle is open (Node's handle keeps its JS object); every open one is
// also listed per runtime, so Runtime::shutdown() closes what a dead or stopped run left open
// (force_close: no JS runs) and uv_loop_close() returns 0.
//
// The idle timeout (socket.setTimeout) is a uv_timer_t of its own, unref'd as Node's socket
// timeouts are (setUnrefTimeout), restarted by every read and write (_unrefActive).

#include <uv.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "net/error.hpp"
#include "runtime/runtime.hpp"
#include "runtime/uv.hpp"

namespace nodelab::net {

// Something that owns libuv handles and can close them without running JS, when the runtime
// shuts down with them still open.
class Closable {
 public:
  virtual ~Closable() = default;
  virtual void force_close() noexcept = 0;
};
// The open closables of `rt`: track() on open, untrack() once closed. The first track()
// on a runtime registers a Runtime::on_shutdown hook that force-closes what is left.
void track(runtime::Runtime& rt, Closable* c);
void untrack(runtime::Runtime& rt, Closable* c);

class Socket : public std::enable_shared_from_this<Socket>, public Closable {
  struct Private {};

 public:
  struct Handlers {
    std::function<void()> connect;               // 'connect'
    std::function<void(std::string_view)> data;  // 'data', one chunk per read
    std::function<void()> eof;                   // 'end' (the peer's FIN)
    std::function<void(const NetError&)> error;  // 'error'
    std::function<void()> timeout;               // 'timeout'
    std::function<void(bool had_error)> close;   // 'close'
  };

  // net.connect({host, port}): `host` is an IPv4 literal ("localhost" is 127.0.0.1). A
  // failure to even start (a bad address) is reported like a failed connect.
  static std::shared_ptr<Socket> connect(runtime::Runtime& rt, const std::string& host,
                                         std::uint16_t port, runtime::Site site);
  // A connection accepted on `server` (a listening uv_tcp_t); null when uv_accept fails.
  static std::shared_ptr<Socket> accept(runtime::Runtime& rt, uv_stream_t* server,
                                        runtime::Site site);

  Socket(Private, runtime::Runtime& rt, runtime::Site site);
  ~Socket();
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;

  Handlers on;

  // Queued while connecting, then uv_try_write, the rest through uv_write.
  void write(std::string bytes);
  // socket.end() then destroy once the writes are flushed (destroySoon).
  void end();
  // net.Socket#destroy(err): JS context only (it schedules a nextTick for the error).
  void destroy(std::optional<NetError> err = std::nullopt);
  // Closes without running JS (runtime shutdown, an owner going away); handlers are dropped.
  void force_close() noexcept override;
  // socket.setTimeout(ms): 0 turns it off.
  void set_timeout(std::chrono::milliseconds ms);
  std::chrono::milliseconds timeout() const { return timeout_; }
  void ref();    // socket.ref(): an open socket keeps the loop alive
  void unref();  // socket.unref(): it does not

  bool connecting() const { return connecting_; }
  bool destroyed() const { return destroyed_; }
  // socket.writable: open, not destroyed, our side not ended.
  bool writable() const { return !destroyed_ && !ended_; }
  bool had_error() const { return had_error_; }
  void mark_error() { had_error_ = true; }  // socket._hadError = true
  bool referenced() const { return ref_; }
  std::uint64_t id() const { return id_; }
  std::uint16_t remote_port() const { return remote_port_; }
  std::uint16_t local_port() const;
  runtime::Runtime& rt() { return rt_; }
  std::uint64_t bytes_read() const { return bytes_read_; }
  std::uint64_t bytes_written() const { return bytes_written_; }
  // Bytes handed to uv_write whose completion has not come yet (socket.writableLength).
  std::size_t write_queue_size() const { return write_queue_; }

 private:
  void start_reading();
  void touch();  // restart the idle timer
  void on_connected(int status);
  void on_read(ssize_t nread, const uv_buf_t* buf);
  void on_write_done(std::size_t bytes, int status);
  void close_handle();
  static void on_closed(uv_tcp_t* h);
  static void on_timer(uv_timer_t* t);

  runtime::Runtime& rt_;
  runtime::Site site_;
  std::uint64_t id_;
  uv::Handle<uv_tcp_t> tcp_;
  uv::Handle<uv_timer_t> timer_;
  uv::Requests requests_;
  std::shared_ptr<Socket> self_;  // set while the handle is open
  std::string host_;
  std::uint16_t remote_port_ = 0;
  std::string pending_;  // written while connecting
  std::chrono::milliseconds timeout_{0};
  std::size_t write_queue_ = 0;
  std::uint64_t bytes_read_ = 0;
  std::uint64_t bytes_written_ = 0;
  bool connecting_ = false;
  bool destroyed_ = false;
  bool ended_ = false;
  bool ending_ = false;  // end(): destroy once the write queue drains
  bool had_error_ = false;
  bool ref_ = true;
  bool silent_ = false;  // force_close: the close callback runs no JS
  bool tracked_ = false;
};

}  // namespace nodelab::net
