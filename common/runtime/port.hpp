#pragma once
// The loop side of a MessagePort (src/node_messaging.cc): other threads post messages into a
// mutex-guarded queue and wake the loop with uv_async_send; MessagePort::OnMessage then
// delivers them in the poll phase, each through MakeCallback, so nextTicks and microtasks
// drain after every message. ref()/unref() are port.ref()/port.unref(): whether a port
// waiting for messages keeps the process alive (an open port is ref'd, as a port with a
// 'message' listener is).

#include <memory>

#include "runtime/runtime.hpp"

namespace nodelab::runtime {

class Port {
  struct Shared;

 public:
  // Opens a port on rt's loop; call on the loop thread. Deliveries are recorded as callbacks
  // of `kind` scheduled by `site`: MessagePort 'message' listeners by default, or `io` for a
  // lab's own libuv completions (a socket write's callback) delivered through MakeCallback.
  Port(Runtime& rt, Site site, CallbackKind kind = CallbackKind::message);
  ~Port();  // close()
  Port(const Port&) = delete;
  Port& operator=(const Port&) = delete;

  // Any thread. `message` runs on the loop; a message posted after close() is dropped, as a
  // message to a closed port is.
  void post(Task message);

  // The other end, for another thread to keep: it stays safe to post to after the Port is
  // closed and gone (the messages are dropped).
  class Sender {
   public:
    void post(Task message) const;

   private:
    friend class Port;
    explicit Sender(std::shared_ptr<Shared> s) : shared_(std::move(s)) {}
    std::shared_ptr<Shared> shared_;
  };
  Sender sender() const { return Sender(shared_); }

  // Loop thread.
  void ref();
  void unref();
  // Messages not yet delivered are dropped; the handle is freed by the loop.
  void close();

 private:
  std::shared_ptr<Shared> shared_;
};

}  // namespace nodelab::runtime
