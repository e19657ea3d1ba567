#pragma once
// RAII for libuv (after uvw): handles, requests and the loop own their memory, and every init
// result is checked.
//
//   Handle<T>  owns one heap-allocated uv handle (uv_timer_t, uv_async_t, uv_tcp_t, ...).
//              make() initialises it and throws std::system_error (with uv_strerror) on
//              failure; init() returns the libuv code instead. close() calls uv_close; the
//              memory is freed by the close callback, after an optional `on_closed`. The
//              destructor closes a handle that is still open. Movable, not copyable.
//   Req<T, S>  a request (uv_write_t, uv_connect_t, uv_shutdown_t, uv_work_t, uv_fs_t) with
//              state S and a completion callback, owned by libuv while in flight and freed
//              after its callback ran. A Requests list held by the request's owner drops the
//              callbacks of the requests still in flight when the owner goes: no alive flags.
//   Loop       owns a uv_loop_t. close() (and the destructor) closes what is still open,
//              reporting each such handle on stderr as a leak, runs the loop until the close
//              callbacks ran, and checks uv_loop_close() == 0 in every build type; a leak or
//              a failed close counts in leak_count() and aborts unless set_on_leak(count).

#include <uv.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

namespace nodelab::uv {

// std::system_error for libuv's `rc` (a negated errno): "WHAT: uv_strerror(rc)".
std::system_error error(int rc, const char* what);
// Throws error(rc, what) when rc < 0.
inline void check(int rc, const char* what) {
  if (rc < 0) throw error(rc, what);
}

// The init function of each handle type.
inline int init_handle(uv_loop_t* l, uv_timer_t* h) {
  return uv_timer_init(l, h);
}
inline int init_handle(uv_loop_t* l, uv_check_t* h) {
  return uv_check_init(l, h);
}
inline int init_handle(uv_loop_t* l, uv_idle_t* h) {
  return uv_idle_init(l, h);
}
inline int init_handle(uv_loop_t* l, uv_prepare_t* h) {
  return uv_prepare_init(l, h);
}
inline int init_handle(uv_loop_t* l, uv_tcp_t* h) {
  return uv_tcp_init(l, h);
}
inline int init_handle(uv_loop_t* l, uv_pipe_t* h, int ipc) {
  return uv_pipe_init(l, h, ipc);
}
inline int init_handle(uv_loop_t* l, uv_async_t* h, uv_async_cb cb) {
  return uv_async_init(l, h, cb);
}
inline int init_handle(uv_loop_t* l, uv_signal_t* h) {
  return uv_signal_init(l, h);
}
// uv_spawn initialises the process handle even when it fails (then it must still be closed).
inline int init_handle(uv_loop_t* l, uv_process_t* h, const uv_process_options_t* o) {
  return uv_spawn(l, h, o);
}

template <class T>
class Handle {
  struct Box {
    T h{};  // first: a T* is a Box*
    void (*on_closed)(T*) = nullptr;
  };
  static_assert(std::is_standard_layout_v<Box>);

 public:
  Handle() noexcept = default;
  ~Handle() { close(); }
  Handle(Handle&& o) noexcept : box_(std::exchange(o.box_, nullptr)) {}
  Handle& operator=(Handle&& o) noexcept {
    if (this != &o) {
      close();
      box_ = std::exchange(o.box_, nullptr);
    }
    return *this;
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;

  // An initialised handle on `loop` (args: uv_pipe_init's ipc, uv_async_init's callback);
  // throws std::system_error when libuv refuses.
  template <class... A>
  [[nodiscard]] static Handle make(uv_loop_t* loop, A&&... args) {
    Handle h;
    check(h.init(loop, std::forward<A>(args)...), "uv handle init");
    return h;
  }
  // The same, reporting: 0, or libuv's error (the handle then stays empty).
  template <class... A>
  [[nodiscard]] int init(uv_loop_t* loop, A&&... args) {
    close();
    auto box = std::make_unique<Box>();
    const int rc = init_handle(loop, &box->h, std::forward<A>(args)...);
    box_ = box.release();
    if (rc != 0) {
      if constexpr (std::is_same_v<T, uv_process_t>) {
        close();  // registered with the loop all the same
      } else {
        delete std::exchange(box_, nullptr);
      }
    }
    return rc;
  }

  // uv_close; `on_closed` runs in the loop's close phase, just before the memory is freed.
  // The handle is empty from here on. Nothing happens if it is already empty.
  void close(void (*on_closed)(T*) = nullptr) noexcept {
    if (box_ == nullptr) return;
    Box* b = std::exchange(box_, nullptr);
    b->on_closed = on_closed;
    uv_close(reinterpret_cast<uv_handle_t*>(&b->h), [](uv_handle_t* h) {
      std::unique_ptr<Box> owned(reinterpret_cast<Box*>(h));
      if (owned->on_closed) owned->on_closed(&owned->h);
    });
  }

  T* get() const noexcept { return box_ ? &box_->h : nullptr; }
  T* operator->() const noexcept { return get(); }
  uv_handle_t* handle() const noexcept { return reinterpret_cast<uv_handle_t*>(get()); }
  uv_stream_t* stream() const noexcept { return reinterpret_cast<uv_stream_t*>(get()); }
  explicit operator bool() const noexcept { return box_ != nullptr; }

  // uv_ref / uv_unref; nothing once closed.
  void ref() const noexcept {
    if (box_ != nullptr) uv_ref(handle());
  }
  void unref() const noexcept {
    if (box_ != nullptr) uv_unref(handle());
  }

 private:
  Box* box_ = nullptr;
};

// ---------------------------------------------------------------------------------------
// Requests

class Requests;

class ReqBase {
 public:
  ReqBase(const ReqBase&) = delete;
  ReqBase& operator=(const ReqBase&) = delete;

 protected:
  explicit ReqBase(Requests* owner);
  virtual ~ReqBase();
  void detach() noexcept;
  virtual void orphan() noexcept = 0;

 private:
  friend class Requests;
  Requests* owner_ = nullptr;
  ReqBase* prev_ = nullptr;
  ReqBase* next_ = nullptr;
};

// The requests an object has in flight (loop thread only). When it is destroyed (or
// orphan_all() runs), those requests still complete, as libuv needs their memory until
// then, but their callbacks no longer run.
class Requests {
 public:
  Requests() = default;
  ~Requests() { orphan_all(); }
  Requests(const Requests&) = delete;
  Requests& operator=(const Requests&) = delete;

  void orphan_all() noexcept;
  std::size_t size() const noexcept { return size_; }

 private:
  friend class ReqBase;
  ReqBase* head_ = nullptr;
  std::size_t size_ = 0;
};

struct NoState {};

template <class T, class S = NoState>
class Req final : public ReqBase {
 public:
  using Done = std::function<void(S& state, int status)>;

  // A request of `owner` (may be null), its state built from `args`; `done` runs once libuv
  // completes it.
  template <class... A>
  [[nodiscard]] static std::unique_ptr<Req> make(Requests* owner, Done done, A&&... args) {
    return std::unique_ptr<Req>(new Req(owner, std::move(done), std::forward<A>(args)...));
  }

  // Hands `r` to libuv: `start(T*)` is the uv_* call, with Req::on_done (or on_fs for
  // uv_fs_t) as its callback. On success libuv owns the request (r is empty) and it frees
  // itself after its callback; on failure r keeps it and the callback never runs.
  template <class Start>
  [[nodiscard]] static int submit(std::unique_ptr<Req>& r, Start&& start) {
    r->req_.data = r.get();
    const int rc = std::forward<Start>(start)(&r->req_);
    if (rc == 0) (void)r.release();
    return rc;
  }

  // The request a libuv pointer belongs to (for a uv_work_t's work callback).
  static Req& of(T* req) noexcept { return *static_cast<Req*>(req->data); }

  static void on_done(T* req, int status) {
    std::unique_ptr<Req> self(&of(req));
    self->detach();
    if (self->done_) self->done_(self->state_, status);
  }
  static void on_fs(T* req) { on_done(req, static_cast<int>(req->result)); }

  T* get() noexcept { return &req_; }
  S& state() noexcept { return state_; }
  // uv_cancel: a threadpool request not yet started completes with UV_ECANCELED.
  int cancel() noexcept { return uv_cancel(reinterpret_cast<uv_req_t*>(&req_)); }

 private:
  template <class... A>
  Req(Requests* owner, Done done, A&&... args)
      : ReqBase(owner), state_{std::forward<A>(args)...}, done_(std::move(done)) {}
  void orphan() noexcept override { done_ = nullptr; }

  T req_{};
  S state_;
  Done done_;
};

// ---------------------------------------------------------------------------------------
// The loop

enum class OnLeak : std::uint8_t { abort, count };
// What a Loop does when it finds a leak: abort (the default) or only count it.
void set_on_leak(OnLeak policy) noexcept;
// Loops closed with a leak (or a failed uv_loop_close) so far in this process.
std::uint64_t leak_count() noexcept;
// The type names of the handles on `loop` that are not closing ("timer", "tcp", ...).
std::vector<std::string> open_handles(uv_loop_t* loop);

class Loop {
 public:
  Loop();   // uv_loop_init; throws std::system_error
  ~Loop();  // close() unless it ran
  Loop(const Loop&) = delete;
  Loop& operator=(const Loop&) = delete;

  uv_loop_t* get() noexcept { return &loop_; }
  const uv_loop_t* get() const noexcept { return &loop_; }

  // Closes every handle still open (each one a leak), runs the loop until the close callbacks
  // ran and the requests in flight completed, then uv_loop_close(). 0 when nothing leaked;
  // otherwise reported on stderr and to the leak policy, and UV_EBUSY (or uv_loop_close's
  // error). Idempotent.
  int close();

 private:
  uv_loop_t loop_{};
  bool closed_ = false;
  int close_result_ = 0;
};

}  // namespace nodelab::uv
