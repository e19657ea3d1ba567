#pragma once
// The far end of a real transport: a reader outside the modelled Node process, on its own
// thread, built on Boost.Asio. It reads what the loop writes (from a TCP connection it
// accepted on 127.0.0.1, or from the read end of an OS pipe) at a configured rate, so the
// backpressure the loop sees comes from the kernel's socket or pipe buffer, as in production.
//
// Thread safety: the peer's thread owns every Asio object once start() returns; the loop
// thread reads only the atomics below, and stop() (io_context::stop is thread-safe) then
// joins. What the peer reports to the loop goes through a runtime::Port::Sender.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <thread>

namespace nodelab::streams {

class Peer {
 public:
  enum class Kind : std::uint8_t { tcp, pipe };
  // `rate`: bytes per second the peer reads (0: as fast as it can). `on_eof` runs on the
  // peer's thread when the writer closed (with the bytes received); it must only post.
  struct Options {
    Kind kind = Kind::tcp;
    std::uint64_t rate = 0;
    std::size_t read_size = 64 * 1024;
    int pipe_read_fd = -1;  // Kind::pipe: the read end, owned by the peer from now on
    std::function<void(std::uint64_t received)> on_eof;
  };

  explicit Peer(Options o);  // tcp: binds 127.0.0.1:0 and listens; does not start the thread
  ~Peer();                   // stop() and join
  Peer(const Peer&) = delete;
  Peer& operator=(const Peer&) = delete;

  std::uint16_t port() const { return port_; }  // tcp: the ephemeral port
  void start();
  void stop();
  std::uint64_t received() const { return received_.load(std::memory_order_relaxed); }
  bool finished() const { return finished_.load(std::memory_order_acquire); }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::uint16_t port_ = 0;
  std::atomic<std::uint64_t> received_{0};
  std::atomic<bool> finished_{false};
  std::thread thread_;
};

}  // namespace nodelab::streams
