#include "streams/peer.hpp"

#include <unistd.h>

#include <boost/asio.hpp>
#include <chrono>
#include <optional>
#include <vector>

namespace nodelab::streams {

namespace asio = boost::asio;
using asio::ip::tcp;

struct Peer::Impl {
  asio::io_context io;
  std::optional<tcp::acceptor> acceptor;
  std::optional<tcp::socket> socket;
  std::optional<asio::posix::stream_descriptor> pipe;
  asio::steady_timer timer{io};
  std::vector<char> buffer;
  Options options;
  Peer* owner = nullptr;
  std::chrono::steady_clock::time_point started;
  std::uint64_t total = 0;  // peer thread only

  template <class Stream>
  void read_loop(Stream& s) {
    s.async_read_some(
        asio::buffer(buffer), [this, &s](boost::system::error_code ec, std::size_t n) {
          if (n > 0) {
            total += n;
            owner->received_.store(total, std::memory_order_relaxed);
          }
          if (ec) {
            // EOF (the loop closed its end), or a reset: either way the writer is gone.
            finish();
            return;
          }
          if (options.rate == 0) {
            read_loop(s);
            return;
          }
          // Pace the reads: byte `total` is due at started + total / rate.
          const auto due =
              started + std::chrono::nanoseconds(static_cast<std::int64_t>(
                            static_cast<double>(total) * 1e9 / static_cast<double>(options.rate)));
          timer.expires_at(due);
          timer.async_wait([this, &s](boost::system::error_code) { read_loop(s); });
        });
  }

  void finish() {
    if (socket) {
      boost::system::error_code ignored;
      socket->close(ignored);
    }
    if (pipe) {
      boost::system::error_code ignored;
      pipe->close(ignored);
    }
    owner->finished_.store(true, std::memory_order_release);
    if (options.on_eof) options.on_eof(total);
  }
};

Peer::Peer(Options o) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(o);
  impl_->owner = this;
  impl_->buffer.resize(impl_->options.read_size);
  if (impl_->options.kind == Kind::tcp) {
    impl_->acceptor.emplace(impl_->io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    port_ = impl_->acceptor->local_endpoint().port();
  } else {
    impl_->pipe.emplace(impl_->io, impl_->options.pipe_read_fd);
  }
}

Peer::~Peer() {
  stop();
}

void Peer::start() {
  Impl* im = impl_.get();
  if (im->options.kind == Kind::tcp) {
    im->acceptor->async_accept([im](boost::system::error_code ec, tcp::socket s) {
      boost::system::error_code ignored;
      im->acceptor->close(ignored);  // one connection: the port is released at once
      if (ec) {
        im->finish();
        return;
      }
      im->socket.emplace(std::move(s));
      im->started = std::chrono::steady_clock::now();
      im->read_loop(*im->socket);
    });
  } else {
    im->started = std::chrono::steady_clock::now();
    im->read_loop(*im->pipe);
  }
  // The thread is created after every Asio object exists: creation orders the handover.
  thread_ = std::thread([im] { im->io.run(); });
}

void Peer::stop() {
  if (thread_.joinable()) {
    impl_->io.stop();
    thread_.join();
  }
}

}  // namespace nodelab::streams
