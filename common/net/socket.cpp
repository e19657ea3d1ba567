#include "net/socket.hpp"

#include <set>
#include <unordered_map>
#include <utility>
#include <vector>

namespace nodelab::net {

using runtime::CallbackKind;
using runtime::Phase;

// ---------------------------------------------------------------------------------------
// The open closables of each runtime (loop thread only).

namespace {

struct Tracked {
  std::set<Closable*> open;
  bool shutting_down = false;
};
thread_local std::unordered_map<runtime::Runtime*, Tracked> tracked;

std::uint64_t next_socket_id = 1;

}  // namespace

void track(runtime::Runtime& rt, Closable* c) {
  auto [it, inserted] = tracked.try_emplace(&rt);
  if (inserted) {
    runtime::Runtime* key = &rt;
    rt.on_shutdown([key] {
      auto found = tracked.find(key);
      if (found == tracked.end()) return;
      found->second.shutting_down = true;
      const std::vector<Closable*> left(found->second.open.begin(), found->second.open.end());
      for (Closable* x : left)
        x->force_close();
      tracked.erase(key);
    });
  }
  it->second.open.insert(c);
}

void untrack(runtime::Runtime& rt, Closable* c) {
  auto it = tracked.find(&rt);
  if (it == tracked.end() || it->second.shutting_down) return;
  it->second.open.erase(c);
}

// ---------------------------------------------------------------------------------------

Socket::Socket(Private, runtime::Runtime& rt, runtime::Site site)
    : rt_(rt), site_(site), id_(next_socket_id++) {}

Socket::~Socket() {
  // Only reached once the handle is closed (self_ holds us while it is open), or when it
  // never opened.
  requests_.orphan_all();
}

std::shared_ptr<Socket> Socket::connect(runtime::Runtime& rt, const std::string& host,
                                        std::uint16_t port, runtime::Site site) {
  auto s = std::make_shared<Socket>(Private{}, rt, site);
  s->host_ = host == "localhost" ? "127.0.0.1" : host;
  s->remote_port_ = port;
  s->connecting_ = true;
  if (const int rc = s->tcp_.init(rt.loop()); rc != 0) {
    // No handle: fail as a refused connect would, without a close callback to wait for.
    s->destroyed_ = true;
    s->connecting_ = false;
    s->had_error_ = true;
    const NetError err = uv_exception(rc, "connect", s->host_, port);
    rt.next_tick(
        [s, err] {
          if (s->on.error) s->on.error(err);
          if (s->on.close) s->on.close(true);
          s->on = {};
        },
        site);
    return s;
  }
  s->tcp_->data = s.get();
  s->self_ = s;
  s->tracked_ = true;
  track(rt, s.get());
  uv_tcp_nodelay(s->tcp_.get(), 1);  // Node's http sockets set noDelay
  sockaddr_in addr{};
  int rc = uv_ip4_addr(s->host_.c_str(), port, &addr);
  if (rc == 0) {
    using ConnectReq = uv::Req<uv_connect_t>;
    auto req = ConnectReq::make(
        &s->requests_, [raw = s.get()](uv::NoState&, int status) { raw->on_connected(status); });
    rc = ConnectReq::submit(req, [&](uv_connect_t* r) {
      return uv_tcp_connect(r, s->tcp_.get(), reinterpret_cast<const sockaddr*>(&addr),
                            &ConnectReq::on_done);
    });
  }
  if (rc != 0) {
    s->connecting_ = false;
    s->destroy(uv_exception(rc, "connect", s->host_, port));
  }
  return s;
}

std::shared_ptr<Socket> Socket::accept(runtime::Runtime& rt, uv_stream_t* server,
                                       runtime::Site site) {
  auto s = std::make_shared<Socket>(Private{}, rt, site);
  if (s->tcp_.init(rt.loop()) != 0) return nullptr;
  s->tcp_->data = s.get();
  s->self_ = s;
  s->tracked_ = true;
  track(rt, s.get());
  if (uv_accept(server, s->tcp_.stream()) != 0) {
    s->force_close();
    return nullptr;
  }
  uv_tcp_nodelay(s->tcp_.get(), 1);
  sockaddr_storage peer{};
  int len = sizeof peer;
  if (uv_tcp_getpeername(s->tcp_.get(), reinterpret_cast<sockaddr*>(&peer), &len) == 0 &&
      peer.ss_family == AF_INET)
    s->remote_port_ = ntohs(reinterpret_cast<const sockaddr_in*>(&peer)->sin_port);
  s->start_reading();
  return s;
}

std::uint16_t Socket::local_port() const {
  if (!tcp_) return 0;
  sockaddr_storage a{};
  int len = sizeof a;
  if (uv_tcp_getsockname(tcp_.get(), reinterpret_cast<sockaddr*>(&a), &len) != 0 ||
      a.ss_family != AF_INET)
    return 0;
  return ntohs(reinterpret_cast<const sockaddr_in*>(&a)->sin_port);
}

void Socket::on_connected(int status) {
  if (destroyed_) return;  // destroyed while connecting: the close callback reports it
  connecting_ = false;
  rt_.io_callback(Phase::poll, CallbackKind::io, site_, [&] {
    if (status < 0) {
      destroy(uv_exception(status, "connect", host_, remote_port_));
      return;
    }
    start_reading();
    if (!pending_.empty()) write(std::exchange(pending_, {}));
    if (on.connect) on.connect();
    if (ending_ && write_queue_ == 0) destroy();
  });
}

void Socket::start_reading() {
  uv_read_start(
      tcp_.stream(),
      [](uv_handle_t*, std::size_t, uv_buf_t* buf) {
        // Node reads into a 64 KiB allocation and shrinks it to what arrived (onStreamRead):
        // an idle socket holds no read buffer. Here one buffer per loop thread serves every
        // socket: libuv calls alloc then read for one stream at a time, and on_read hands the
        // bytes on synchronously (the parser copies what it keeps).
        static thread_local std::string shared(64 * 1024, '\0');
        *buf = uv_buf_init(shared.data(), static_cast<unsigned>(shared.size()));
      },
      [](uv_stream_t* st, ssize_t nread, const uv_buf_t* buf) {
        static_cast<Socket*>(st->data)->on_read(nread, buf);
      });
}

void Socket::on_read(ssize_t nread, const uv_buf_t* buf) {
  if (nread == 0 || destroyed_) return;
  if (nread > 0) {
    bytes_read_ += static_cast<std::uint64_t>(nread);
    touch();
    const std::string_view bytes(buf->base, static_cast<std::size_t>(nread));
    rt_.io_callback(Phase::poll, CallbackKind::io, site_, [&] {
      if (on.data) on.data(bytes);
    });
    return;
  }
  if (nread == UV_EOF) {
    uv_read_stop(tcp_.stream());
    rt_.io_callback(Phase::poll, CallbackKind::io, site_, [&] {
      // push(null): 'end' is emitted on process.nextTick (endReadableNT).
      rt_.next_tick(
          [self = shared_from_this()] {
            if (self->destroyed_) return;
            if (self->on.eof) {
              self->on.eof();
            } else {
              self->destroy();  // allowHalfOpen false: end, then destroy
            }
          },
          site_);
    });
    return;
  }
  rt_.io_callback(Phase::poll, CallbackKind::io, site_,
                  [&] { destroy(uv_exception(static_cast<int>(nread), "read")); });
}

void Socket::write(std::string bytes) {
  if (destroyed_ || bytes.empty()) return;
  if (connecting_) {
    pending_ += bytes;
    return;
  }
  touch();
  // StreamBase::Write: DoTryWrite first, the rest through uv_write.
  uv_buf_t b = uv_buf_init(bytes.data(), static_cast<unsigned>(bytes.size()));
  const int n = uv_try_write(tcp_.stream(), &b, 1);
  if (n > 0) {
    bytes_written_ += static_cast<std::uint64_t>(n);
    if (static_cast<std::size_t>(n) == bytes.size()) return;
    bytes.erase(0, static_cast<std::size_t>(n));
  } else if (n != UV_EAGAIN && n != UV_ENOSYS) {
    destroy(uv_exception(n, "write"));
    return;
  }
  struct WriteState {
    std::string data;
  };
  using WriteReq = uv::Req<uv_write_t, WriteState>;
  const std::size_t size = bytes.size();
  auto req = WriteReq::make(
      &requests_, [this, size](WriteState&, int status) { on_write_done(size, status); },
      WriteState{std::move(bytes)});
  const int rc = WriteReq::submit(req, [&](uv_write_t* w) {
    uv_buf_t wb = uv_buf_init(req->state().data.data(), static_cast<unsigned>(size));
    return uv_write(w, tcp_.stream(), &wb, 1, &WriteReq::on_done);
  });
  if (rc != 0) {
    destroy(uv_exception(rc, "write"));
    return;
  }
  write_queue_ += size;
}

void Socket::on_write_done(std::size_t bytes, int status) {
  write_queue_ -= bytes;
  if (status == UV_ECANCELED || destroyed_) return;
  if (status < 0) {
    rt_.io_callback(Phase::poll, CallbackKind::io, site_,
                    [&] { destroy(uv_exception(status, "write")); });
    return;
  }
  bytes_written_ += bytes;
  touch();
  if (ending_ && write_queue_ == 0) destroy();
}

void Socket::end() {
  if (destroyed_) return;
  ended_ = true;
  if (connecting_ || write_queue_ > 0) {
    ending_ = true;
    return;
  }
  destroy();
}

void Socket::destroy(std::optional<NetError> err) {
  if (destroyed_) return;
  destroyed_ = true;
  ended_ = true;
  connecting_ = false;
  pending_.clear();
  if (err) {
    had_error_ = true;
    // destroy(): emitErrorCloseNT on process.nextTick emits 'error'; 'close' waits for the
    // handle's close callback.
    rt_.next_tick(
        [self = shared_from_this(), e = std::move(*err)] {
          if (self->on.error) self->on.error(e);
        },
        site_);
  }
  close_handle();
}

void Socket::force_close() noexcept {
  silent_ = true;
  destroyed_ = true;
  ended_ = true;
  on = {};
  close_handle();
}

void Socket::close_handle() {
  timer_.close();
  if (!tcp_) return;
  uv_read_stop(tcp_.stream());
  tcp_.close(&Socket::on_closed);
}

void Socket::on_closed(uv_tcp_t* h) {
  // The last moment the handle exists: `self` keeps this object alive through the callback.
  std::shared_ptr<Socket> self = std::move(static_cast<Socket*>(h->data)->self_);
  if (!self) return;
  if (self->tracked_) {
    self->tracked_ = false;
    untrack(self->rt_, self.get());
  }
  if (!self->silent_) {
    self->rt_.io_callback(Phase::close, CallbackKind::close, self->site_, [&] {
      if (self->on.close) self->on.close(self->had_error_);
    });
  }
  self->on = {};  // listeners hold their owners: drop them with the socket
}

void Socket::set_timeout(std::chrono::milliseconds ms) {
  timeout_ = ms;
  if (ms.count() <= 0) {
    if (timer_) uv_timer_stop(timer_.get());
    return;
  }
  if (destroyed_) return;
  if (!timer_) {
    if (timer_.init(rt_.loop()) != 0) return;
    timer_->data = this;
    timer_.unref();
  }
  touch();
}

void Socket::touch() {
  if (!timer_ || timeout_.count() <= 0) return;
  uv_timer_start(timer_.get(), &Socket::on_timer, static_cast<std::uint64_t>(timeout_.count()), 0);
}

void Socket::on_timer(uv_timer_t* t) {
  auto* s = static_cast<Socket*>(t->data);
  if (s->destroyed_) return;
  const std::shared_ptr<Socket> self = s->shared_from_this();
  s->rt_.io_callback(Phase::timers, CallbackKind::timeout, s->site_, [&] {
    if (self->on.timeout) self->on.timeout();
  });
}

void Socket::ref() {
  ref_ = true;
  tcp_.ref();
}

void Socket::unref() {
  ref_ = false;
  tcp_.unref();
}

}  // namespace nodelab::net
