#include "runtime/port.hpp"

#include <mutex>
#include <vector>

namespace nodelab::runtime {

struct Port::Shared {
  struct Message {
    Task run;
    Nanos posted{0};
  };
  std::mutex mu;
  std::vector<Message> queue;  // guarded by mu
  bool closed = false;         // guarded by mu
  uv_async_t async{};
  Runtime* rt = nullptr;
  Site site = 0;
  CallbackKind kind = CallbackKind::message;
  // The handle's owner until its close callback: posters may still hold the state.
  std::shared_ptr<Shared> self;

  static void on_async(uv_async_t* a) {
    auto* s = static_cast<Shared*>(a->data);
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
  shared_->self = shared_;
  shared_->async.data = shared_.get();
  uv_async_init(rt.loop(), &shared_->async, Shared::on_async);
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
  uv_async_send(&shared_->async);
}

void Port::ref() {
  if (!shared_->closed) uv_ref(reinterpret_cast<uv_handle_t*>(&shared_->async));
}

void Port::unref() {
  if (!shared_->closed) uv_unref(reinterpret_cast<uv_handle_t*>(&shared_->async));
}

void Port::close() {
  {
    std::lock_guard lock(shared_->mu);
    if (shared_->closed) return;
    shared_->closed = true;
    shared_->queue.clear();
  }
  uv_close(reinterpret_cast<uv_handle_t*>(&shared_->async), [](uv_handle_t* h) {
    auto* s = static_cast<Shared*>(h->data);
    s->self.reset();  // may free s
  });
}

}  // namespace nodelab::runtime
