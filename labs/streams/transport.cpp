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

struct UvSink::Handle {
  union {
    uv_tcp_t tcp;
    uv_pipe_t pipe;
  } u{};
  Kind kind = Kind::tcp;
  uv_handle_t* handle() { return reinterpret_cast<uv_handle_t*>(&u); }
};

UvSink::UvSink(runtime::Runtime& rt, Kind kind, runtime::Site site)
    : port_(rt, site, runtime::CallbackKind::io), alive_(std::make_shared<bool>(true)) {
  port_.unref();
  handle_ = new Handle;
  handle_->kind = kind;
  if (kind == Kind::tcp) {
    uv_tcp_init(rt.loop(), &handle_->u.tcp);
  } else {
    uv_pipe_init(rt.loop(), &handle_->u.pipe, 0);
  }
  handle_->handle()->data = handle_;
}

UvSink::~UvSink() {
  *alive_ = false;
  close();
  port_.close();
}

uv_stream_t* UvSink::stream() const {
  return reinterpret_cast<uv_stream_t*>(&handle_->u);
}

void UvSink::hold() {
  if (holds_++ == 0) port_.ref();
}

void UvSink::release() {
  if (holds_ > 0 && --holds_ == 0) port_.unref();
}

void UvSink::close() {
  if (handle_ == nullptr || closing_) return;
  closing_ = true;
  uv_close(handle_->handle(), [](uv_handle_t* h) { delete static_cast<Handle*>(h->data); });
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
  struct Req {
    uv_connect_t req{};
    std::function<void(int)> cb;
    UvSink* sink = nullptr;
    std::shared_ptr<bool> alive;
  };
  sockaddr_in addr{};
  uv_ip4_addr("127.0.0.1", port, &addr);
  auto* r = new Req;
  r->cb = std::move(on_connect);
  r->sink = this;
  r->alive = alive_;
  r->req.data = r;
  hold();
  const int rc =
      uv_tcp_connect(&r->req, &handle_->u.tcp, reinterpret_cast<const sockaddr*>(&addr),
                     [](uv_connect_t* req, int status) {
                       auto* rq = static_cast<Req*>(req->data);
                       if (*rq->alive) {
                         rq->sink->deliver([cb = std::move(rq->cb), status] { cb(status); });
                       }
                       delete rq;
                     });
  if (rc != 0) {
    release();
    delete r;
  }
  return rc;
}

int UvSink::open_pipe(int fd) {
  return uv_pipe_open(&handle_->u.pipe, fd);
}

void UvSink::write_chunks(std::span<const Chunk> chunks, Callback cb) {
  struct WriteReq {
    uv_write_t req{};
    std::vector<Chunk> chunks;  // keeps the bytes alive until libuv is done with them
    Callback cb;
    UvSink* sink = nullptr;
    std::shared_ptr<bool> alive;
  };
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
  auto* w = new WriteReq;
  std::size_t skip = n > 0 ? static_cast<std::size_t>(n) : 0;
  for (const Chunk& c : chunks) {
    if (skip >= c.length) {
      skip -= c.length;
      continue;
    }
    w->chunks.push_back(c.slice(skip, c.length - skip));
    skip = 0;
  }
  w->cb = std::move(cb);
  w->sink = this;
  w->alive = alive_;
  w->req.data = w;
  bufs = bufs_of(w->chunks);
  ++async_writes_;
  hold();
  const int rc =
      uv_write(&w->req, stream(), bufs.data(), static_cast<unsigned>(bufs.size()),
               [](uv_write_t* req, int status) {
                 auto* wr = static_cast<WriteReq*>(req->data);
                 if (*wr->alive) {
                   wr->sink->deliver([cb = std::move(wr->cb), status] {
                     cb(status == 0 ? MaybeError() : MaybeError(uv_error("write", status)));
                   });
                 }
                 delete wr;
               });
  if (rc != 0) {
    release();
    auto failed = std::move(w->cb);
    delete w;
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
    struct ShutdownReq {
      uv_shutdown_t req{};
      Callback cb;
      UvSink* sink = nullptr;
      std::shared_ptr<bool> alive;
    };
    // shutdown(2) is for sockets: a pipe's write end signals EOF when it is closed (destroy).
    if (!open() || handle_->kind == Kind::pipe) {
      cb(std::nullopt);
      return;
    }
    auto* r = new ShutdownReq;
    r->cb = std::move(cb);
    r->sink = this;
    r->alive = alive_;
    r->req.data = r;
    hold();
    const int rc = uv_shutdown(&r->req, stream(), [](uv_shutdown_t* req, int status) {
      auto* rq = static_cast<ShutdownReq*>(req->data);
      if (*rq->alive) {
        rq->sink->deliver([cb = std::move(rq->cb), status] {
          // A peer that already left (ENOTCONN) is not the writer's failure.
          cb(status == 0 || status == UV_ENOTCONN ? MaybeError()
                                                  : MaybeError(uv_error("shutdown", status)));
        });
      }
      delete rq;
    });
    if (rc != 0) {
      release();
      auto failed = std::move(r->cb);
      delete r;
      failed(std::nullopt);
    }
  };
  s.destroy_hook = [this](Stream&, const MaybeError& err, Callback cb) {
    close();
    cb(err);
  };
}

}  // namespace nodelab::streams
