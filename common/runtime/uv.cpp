#include "runtime/uv.hpp"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace nodelab::uv {

std::system_error error(int rc, const char* what) {
  return std::system_error(std::error_code(-rc, std::generic_category()),
                           std::string(what) + ": " + uv_strerror(rc));
}

// ---------------------------------------------------------------------------------------
// Requests

ReqBase::ReqBase(Requests* owner) : owner_(owner) {
  if (owner_ == nullptr) return;
  next_ = owner_->head_;
  if (next_ != nullptr) next_->prev_ = this;
  owner_->head_ = this;
  ++owner_->size_;
}

ReqBase::~ReqBase() {
  detach();
}

void ReqBase::detach() noexcept {
  if (owner_ == nullptr) return;
  if (prev_ != nullptr) {
    prev_->next_ = next_;
  } else {
    owner_->head_ = next_;
  }
  if (next_ != nullptr) next_->prev_ = prev_;
  --owner_->size_;
  owner_ = nullptr;
  prev_ = next_ = nullptr;
}

void Requests::orphan_all() noexcept {
  while (head_ != nullptr) {
    ReqBase* r = head_;
    r->detach();
    r->orphan();
  }
}

// ---------------------------------------------------------------------------------------
// The loop

namespace {
std::atomic<OnLeak> g_on_leak{OnLeak::abort};
std::atomic<std::uint64_t> g_leaks{0};
}  // namespace

void set_on_leak(OnLeak policy) noexcept {
  g_on_leak.store(policy);
}

std::uint64_t leak_count() noexcept {
  return g_leaks.load();
}

std::vector<std::string> open_handles(uv_loop_t* loop) {
  std::vector<std::string> out;
  uv_walk(
      loop,
      [](uv_handle_t* h, void* arg) {
        if (uv_is_closing(h)) return;
        static_cast<std::vector<std::string>*>(arg)->emplace_back(
            uv_handle_type_name(uv_handle_get_type(h)));
      },
      &out);
  return out;
}

Loop::Loop() {
  check(uv_loop_init(&loop_), "uv_loop_init");
}

Loop::~Loop() {
  close();
}

int Loop::close() {
  if (closed_) return close_result_;
  closed_ = true;
  const std::vector<std::string> leaked = open_handles(&loop_);
  if (!leaked.empty()) {
    uv_walk(
        &loop_,
        [](uv_handle_t* h, void*) {
          if (!uv_is_closing(h)) uv_close(h, nullptr);
        },
        nullptr);
  }
  // Close callbacks, and the completions of requests still in flight. A uv_stop() that never
  // met a uv_run() makes the first return at once.
  while (uv_run(&loop_, UV_RUN_DEFAULT) != 0) {
  }
  const int rc = uv_loop_close(&loop_);
  close_result_ = rc != 0 ? rc : leaked.empty() ? 0 : UV_EBUSY;
  if (close_result_ == 0) return 0;

  std::string names;
  for (const auto& n : leaked)
    names += (names.empty() ? "" : ", ") + n;
  std::fprintf(stderr, "nodelab: libuv loop closed with %zu handle(s) still open%s%s%s\n",
               leaked.size(), names.empty() ? "" : " (", names.c_str(), names.empty() ? "" : ")");
  if (rc != 0) std::fprintf(stderr, "nodelab: uv_loop_close: %s\n", uv_strerror(rc));
  g_leaks.fetch_add(1);
  if (g_on_leak.load() == OnLeak::abort) std::abort();
  return close_result_;
}

}  // namespace nodelab::uv
