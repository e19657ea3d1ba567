#pragma once
// A blocking HTTP/1.1 client for the peers tests (Boost.Beast, one connection).

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <functional>
#include <string>
#include <thread>

namespace nodelab::peers::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;
using Response = http::response<http::string_body>;

class Client {
 public:
  explicit Client(std::uint16_t port) : socket_(io_) {
    socket_.connect(tcp::endpoint(asio::ip::make_address_v4("127.0.0.1"), port));
  }
  // Sends a request without waiting for its answer.
  void send(const std::string& target, http::verb verb = http::verb::get, bool close = false) {
    http::request<http::empty_body> req{verb, target, 11};
    req.set(http::field::host, "127.0.0.1");
    req.keep_alive(!close);
    http::write(socket_, req);
  }
  Response receive() {
    Response res;
    http::read(socket_, buffer_, res);
    return res;
  }
  Response get(const std::string& target) {
    send(target);
    return receive();
  }
  // True when the server closed the connection (a read sees EOF or a reset).
  bool closed_by_server() {
    char c = 0;
    boost::system::error_code ec;
    socket_.read_some(asio::buffer(&c, 1), ec);
    return static_cast<bool>(ec);
  }
  void close() {
    boost::system::error_code ignored;
    socket_.close(ignored);
  }

 private:
  asio::io_context io_;
  tcp::socket socket_;
  beast::flat_buffer buffer_;
};

// Waits for `pred` (polling); false after 60 s (a failure, never a timing assertion).
inline bool eventually(const std::function<bool()>& pred) {
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!pred()) {
    if (std::chrono::steady_clock::now() > give_up) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

}  // namespace nodelab::peers::test
