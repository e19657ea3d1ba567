#include "runtime/port.hpp"

#include <mutex>
#include <vector>

namespace nodelab::runtime {

struct Port::Shared : std::enable_shared_from_this<Port::Shared> {
  struct Message {
    Task run;
    Nanos posted{0};
  };
  std::mutex mu;
  std::vector<Message> queue;  // guarded by mu
  bool closed = false;         // guarded by mu
  // Closed (and so never signalled again) before `closed` is read as false by anyone else;
  // the loop frees it, so posters may outlive it.
  uv::Handle<uv_async_t> async;
  Runtime* rt = nullptr;
  Site site = 0;
  CallbackKind kind = CallbackKind::message;

  static void on_async(uv_async_t* a) {
    // A handler may close and drop the Port: the state lives until the batch is done.
    const std::shared_ptr<Shared> s = static_cast<Shared*>(a->data)->shared_from_this();
    std::vector<Message> batch;
    {
      std::lock_guard lock(s->mu);
      batch.swap(s->queue);
    }
    for (auto& m : batch) {
      // `closed` is written only on this thread: no lock needed to read it here.
      if (s->closed || s->rt->dead()) return;  // a handler closed the port, or the process died
      s->rt->deliver_message(s->site, s->kind, m.posted, m.run);
    }
  }
};

Port::Port(Runtime& rt, Site site, CallbackKind kind) : shared_(std::make_shared<Shared>()) {
  shared_->rt = &rt;
  shared_->site = site;
  shared_->kind = kind;
  shared_->async = uv::Handle<uv_async_t>::make(rt.loop(), Shared::on_async);
  shared_->async->data = shared_.get();
}

Port::~Port() {
  close();
}

void Port::post(Task message) {
  sender().post(std::move(message));
}

void Port::Sender::post(Task message) const {
  std::lock_guard lock(shared_->mu);
  if (shared_->closed) return;
  shared_->queue.push_back({std::move(message), hrtime()});
  uv_async_send(shared_->async.get());
}

void Port::ref() {
  if (!shared_->closed) shared_->async.ref();
}

void Port::unref() {
  if (!shared_->closed) shared_->async.unref();
}

void Port::close() {
  {
    std::lock_guard lock(shared_->mu);
    if (shared_->closed) return;
    shared_->closed = true;
    shared_->queue.clear();
  }
  shared_->async.close();
}

}  // namespace nodelab::runtime
