#include "streams/transport.hpp"

#include <fmt/format.h>

#include <boost/container/small_vector.hpp>

#include <vector>

namespace nodelab::streams {

namespace {

JsError uv_error(const char* syscall, int status) {
  // Node's ErrnoException: "write EPIPE", code EPIPE.
  return {"Error", uv_err_name(status), fmt::format("{} {}", syscall, uv_err_name(status))};
}

}  // namespace

UvSink::UvSink(runtime::Runtime& rt, Kind kind, runtime::Site site)
    : port_(rt, site, runtime::CallbackKind::io), kind_(kind) {
  port_.unref();
  if (kind == Kind::tcp) {
    tcp_ = uv::Handle<uv_tcp_t>::make(rt.loop());
  } else {
    pipe_ = uv::Handle<uv_pipe_t>::make(rt.loop(), 0);
  }
}

UvSink::~UvSink() {
  requests_.orphan_all();
  close();
  port_.close();
}

void UvSink::hold() {
  if (holds_++ == 0) port_.ref();
}

void UvSink::release() {
  if (holds_ > 0 && --holds_ == 0) port_.unref();
}

void UvSink::close() {
  tcp_.close();
  pipe_.close();
}

// A request's completion reaches the loop as Node's does: a poll-phase callback through
// MakeCallback (the port); the hold taken when the request was made is released first.
void UvSink::deliver(std::function<void()> fn) {
  port_.post([this, fn = std::move(fn)] {
    release();
    fn();
  });
}

int UvSink::connect(std::uint16_t port, std::function<void(int)> on_connect) {
  using Connect = uv::Req<uv_connect_t, std::function<void(int)>>;
  if (!tcp_) return UV_EINVAL;
  sockaddr_in addr{};
  if (const int rc = uv_ip4_addr("127.0.0.1", port, &addr); rc != 0) return rc;
  auto r = Connect::make(
      &requests_,
      [this](std::function<void(int)>& cb, int status) {
        deliver([cb = std::move(cb), status] { cb(status); });
      },
      std::move(on_connect));
  hold();
  const int rc = Connect::submit(r, [&](uv_connect_t* req) {
    return uv_tcp_connect(req, tcp_.get(), reinterpret_cast<const sockaddr*>(&addr),
                          Connect::on_done);
  });
  if (rc != 0) release();
  return rc;
}

int UvSink::open_pipe(int fd) {
  if (!pipe_) return UV_EINVAL;
  return uv_pipe_open(pipe_.get(), fd);
}

void UvSink::write_chunks(std::span<const Chunk> chunks, Callback cb) {
  struct WriteState {
    std::vector<Chunk> chunks;  // keeps the bytes alive until libuv is done with them
    Callback cb;
  };
  using Write = uv::Req<uv_write_t, WriteState>;
  if (!open()) {
    cb(JsError{"Error", "EPIPE", "write EPIPE"});
    return;
  }
  // One buffer per chunk; a single chunk (every _write) allocates nothing.
  auto bufs_of = [](std::span<const Chunk> cs) {
    boost::container::small_vector<uv_buf_t, 1> bufs;
    bufs.reserve(cs.size());
    for (const Chunk& c : cs)
      bufs.push_back(uv_buf_init(c.data(), static_cast<unsigned>(c.length)));
    return bufs;
  };
  std::size_t total = 0;
  for (const Chunk& c : chunks)
    total += c.length;
  auto bufs = bufs_of(chunks);
  const int n = uv_try_write(stream(), bufs.data(), static_cast<unsigned>(bufs.size()));
  if (n >= 0 && static_cast<std::size_t>(n) == total) {
    ++sync_writes_;
    cb(std::nullopt);  // the kernel took it all: a synchronous completion
    return;
  }
  if (n < 0 && n != UV_EAGAIN) {
    cb(uv_error("write", n));
    return;
  }
  // What the kernel did not take: the chunks after the first `n` bytes.
  auto w = Write::make(&requests_, [this](WriteState& ws, int status) {
    deliver([cb = std::move(ws.cb), status] {
      cb(status == 0 ? MaybeError() : MaybeError(uv_error("write", status)));
    });
  });
  WriteState& ws = w->state();
  std::size_t skip = n > 0 ? static_cast<std::size_t>(n) : 0;
  for (const Chunk& c : chunks) {
    if (skip >= c.length) {
      skip -= c.length;
      continue;
    }
    ws.chunks.push_back(c.slice(skip, c.length - skip));
    skip = 0;
  }
  ws.cb = std::move(cb);
  bufs = bufs_of(ws.chunks);
  ++async_writes_;
  hold();
  const int rc = Write::submit(w, [&](uv_write_t* req) {
    return uv_write(req, stream(), bufs.data(), static_cast<unsigned>(bufs.size()), Write::on_done);
  });
  if (rc != 0) {
    release();
    auto failed = std::move(ws.cb);
    w.reset();
    failed(uv_error("write", rc));
    return;
  }
  write_queue_peak_ = std::max(write_queue_peak_, stream()->write_queue_size);
}

void UvSink::attach(Stream& s) {
  // net.Socket has both: _write (writeGeneric) and _writev (writevGeneric, a uv_try_write
  // of every buffer, then uv_write of the rest, as StreamBase::Writev does).
  s.write_impl = [this](Stream&, const Chunk& chunk, Callback cb) {
    write_chunks({&chunk, 1}, std::move(cb));
  };
  s.writev_impl = [this](Stream&, std::span<const Chunk> chunks, Callback cb) {
    write_chunks(chunks, std::move(cb));
  };
  s.final_impl = [this](Stream&, Callback cb) {
    using Shutdown = uv::Req<uv_shutdown_t, Callback>;
    // shutdown(2) is for sockets: a pipe's write end signals EOF when it is closed (destroy).
    if (!open() || kind_ == Kind::pipe) {
      cb(std::nullopt);
      return;
    }
    auto r = Shutdown::make(
        &requests_,
        [this](Callback& done, int status) {
          deliver([done = std::move(done), status] {
            // A peer that already left (ENOTCONN) is not the writer's failure.
            done(status == 0 || status == UV_ENOTCONN ? MaybeError()
                                                      : MaybeError(uv_error("shutdown", status)));
          });
        },
        std::move(cb));
    hold();
    const int rc = Shutdown::submit(
        r, [this](uv_shutdown_t* req) { return uv_shutdown(req, stream(), Shutdown::on_done); });
    if (rc != 0) {
      release();
      auto failed = std::move(r->state());
      r.reset();
      failed(std::nullopt);
    }
  };
  s.destroy_hook = [this](Stream&, const MaybeError& err, Callback cb) {
    close();
    cb(err);
  };
}

}  // namespace nodelab::streams
